// credentials/: access keys, SigV4 verification; temporary credentials come with the sign-in issue.
export { CredentialService, type IssuedAccessKey } from './credential-service.js';
export type { AccessKeyRecord, CredentialStore } from './credential-store.js';
export { RevocationService, type RevocationStores, type RevocationSubject } from './revocation-service.js';
export type { RevocationStore } from './revocation-store.js';
export { canonicalRequest, parseAuthorization, signatureFor, verifySignature, type SignedRequest } from './sigv4.js';
