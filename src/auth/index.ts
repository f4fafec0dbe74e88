// auth/: passwords, sign-in, portal sessions.
export { AuthService, type AuthStores } from './auth-service.js';
export type { AuthStore } from './auth-store.js';
