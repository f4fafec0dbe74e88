// federation/: sign-in through an external identity provider. So far: the SAML 2.0 service
// provider's configuration, keys, request and replay records, and the checks on an assertion.
export { CLOCK_SKEW_MS, FederationService, REQUEST_TTL_MS, samlRefused, type AssertionFacts, type FederationStores, type SpIdentity, type SpKey } from './federation-service.js';
export type { NameIdMatch, SamlIdpConfig, SamlRequestRecord, SamlSpKeyRecord, SamlStore } from './saml-store.js';
