// auth/: passwords, sign-in, portal sessions, MFA devices and sign-in protection.
export { AuthService, lockMsAfter, MAX_SESSIONS_PAGE, PASSKEYS_OFF, PORTAL_SOURCE, SIGNIN_SOURCE, type AuthStores, type MfaReset, type PortalSession, type SessionGrants, type SignedIn, type SignInResult } from './auth-service.js';
export { MfaService, networkOf, type MfaDeviceView, type MfaStores, type MfaUser, type ProofResult, type RelyingParty, type SecondFactorProof, type SecretSealer } from './mfa-service.js';
export { MAX_DEVICES_PER_USER, type MfaChallengePurpose, type MfaChallengeRecord, type MfaDeviceRecord, type MfaFlowRecord, type MfaFlowState, type MfaStore } from './mfa-store.js';
export type { AttemptState, AuthStore, PasswordRecord, SessionRecord, ThrottleState } from './auth-store.js';
