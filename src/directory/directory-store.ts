// The port the directory module needs from the store.

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface DirectoryStore {}
