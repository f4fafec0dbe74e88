// The port revocation needs from the store: "not valid before T for subject S".

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface RevocationStore {}
