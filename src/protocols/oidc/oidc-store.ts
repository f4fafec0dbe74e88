// The port the OAuth/OIDC core needs from the store.

// eslint-disable-next-line @typescript-eslint/no-empty-object-type
export interface OidcStore {}
