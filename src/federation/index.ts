// federation/: sign-in through an external identity provider. So far: the SAML 2.0 service
// provider's configuration, keys, request and replay records, the checks on an assertion, and the
// principal attributes (ABAC) it gives the session.
export {
  AWS_ACCESS_CONTROL_PREFIX,
  checkIdpOptions,
  CLOCK_SKEW_MS,
  DEFAULT_IDP_OPTIONS,
  FederationService,
  jitProfileOf,
  MAX_PRINCIPAL_ATTRIBUTES,
  principalAttributesOf,
  REQUEST_TTL_MS,
  samlRefused,
  type AssertionFacts,
  type BrowserFacts,
  type FederationStores,
  type SpIdentity,
  type SpKey,
  type SpKeySummary,
} from './federation-service.js';
export type { NameIdMatch, SamlIdpConfig, SamlIdpOptions, SamlRequestRecord, SamlSpKeyRecord, SamlStore } from './saml-store.js';
