// provisioning/: SCIM 2.0 provisioning. So far: the bearer tokens an IdP authenticates with.
export {
  AUDITED_REFUSALS_PER_MINUTE,
  DEFAULT_SCIM_TOKEN_DAYS,
  MAX_ACTIVE_SCIM_TOKENS,
  MAX_SCIM_TOKEN_DAYS,
  SCIM_ADMIN_SOURCE,
  SCIM_PATH,
  ScimTokenService,
  isValidExpiryDays,
  scimTokenPrincipal,
  scimTokenStands,
  type AuthenticatedScimToken,
  type IssuedScimToken,
  type ScimTokenInfo,
  type ScimTokenStores,
} from './scim-token-service.js';
export type { ScimTokenRecord, ScimTokenStore } from './scim-token-store.js';
