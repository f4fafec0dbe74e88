// The port the access module needs from the store.

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface AccessStore {}
