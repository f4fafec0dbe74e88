// credentials/: access keys, SigV4 verification, temporary role credentials and their revocation.
export { CredentialService, type IssuedAccessKey } from './credential-service.js';
export type { AccessKeyRecord, CredentialStore } from './credential-store.js';
export { RevocationService, type IssuedFor, type RevocationStores, type RevocationSubject } from './revocation-service.js';
export type { RevocationMark, RevocationStore } from './revocation-store.js';
export { canonicalRequest, parseAuthorization, signatureFor, verifySignature, type SignedRequest } from './sigv4.js';
export {
  TemporaryCredentialService,
  roleIdOf,
  rolePrincipalIdOf,
  type CallerPrincipal,
  type RoleCredentialRequest,
  type RoleCredentials,
  type RoleSession,
} from './temporary-credential-service.js';
