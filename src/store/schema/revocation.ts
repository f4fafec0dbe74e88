// Tables owned by the revocation part of the sign-in work.

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface RevocationTables {}
