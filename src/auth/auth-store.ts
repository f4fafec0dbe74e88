// The port the auth module needs from the store: passwords and portal sessions.

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface AuthStore {}
