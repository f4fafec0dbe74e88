// Tables owned by the auth part of the sign-in work.

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface AuthTables {}
