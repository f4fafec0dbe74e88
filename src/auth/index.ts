// auth/: passwords, sign-in, portal sessions.
export { AuthService, PORTAL_SOURCE, SIGNIN_SOURCE, type AuthStores, type PortalSession, type SessionGrants, type SignInResult } from './auth-service.js';
export type { AuthStore, PasswordRecord, SessionRecord, ThrottleState } from './auth-store.js';
