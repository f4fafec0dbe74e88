// samlify 2, set up once: a schema validator (libxml2's xmllint in WebAssembly: no Java, no native
// build), the SP and IdP entities built from our configuration, and its error names mapped to ours.

import samlify from 'samlify';
import type { IdentityProvider } from 'samlify/types/src/entity-idp.js';
import type { ServiceProvider } from 'samlify/types/src/entity-sp.js';
import { samlRefused, type SpIdentity, type SpKey } from '../../federation/index.js';
import { invalidArgument, type DomainError } from '../../shared/errors.js';
import { validateSamlXml } from './schema-validator.js';

// Every inbound message is validated against the SAML schemas before anything reads it.
samlify.setSchemaValidator({ validate: validateSamlXml });

export const POST_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-POST';
const REDIRECT_BINDING = 'urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
/**
 * samlify's own time check, on the system clock, is turned off (a century either way): federation/
 * checks every time on the injected clock, with two minutes of skew, and tells "expired" from
 * "not valid yet", which samlify's single error cannot.
 */
const CLOCK_DRIFTS: [number, number] = [-100 * 365 * 86_400_000, 100 * 365 * 86_400_000];

/**
 * Our SP. AuthnRequests are signed when the IdP asks for it (samlify refuses a mismatch between the
 * two metadata); our metadata says we sign, since we can.
 */
export function spEntity(sp: SpIdentity, key: SpKey, idp?: IdentityProvider): ServiceProvider {
  return samlify.ServiceProvider({
    entityID: sp.entityId,
    authnRequestsSigned: idp ? idp.entityMeta.isWantAuthnRequestsSigned() : true,
    wantAssertionsSigned: true,
    wantMessageSigned: false,
    privateKey: key.privateKeyPem,
    // The current certificate first, then those not retired yet (an IdP may still hold one of them).
    signingCert: key.previousCertificatesPem?.length ? [key.certificatePem, ...key.previousCertificatesPem] : key.certificatePem,
    requestSignatureAlgorithm: RSA_SHA256,
    assertionConsumerService: [{ Binding: POST_BINDING, Location: sp.acsUrl }],
    nameIDFormat: ['urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified', 'urn:oasis:names:tc:SAML:1.1:nameid-format:emailAddress'],
    clockDrifts: CLOCK_DRIFTS,
  });
}

export function idpEntity(metadataXml: string): IdentityProvider {
  return samlify.IdentityProvider({ metadata: metadataXml });
}

/**
 * What an administrator's IdP metadata says, or an invalid_argument error: it must name an entity,
 * a signing certificate, and a single sign-on service with the HTTP-Redirect binding.
 */
export function readIdpMetadata(metadataXml: string): { entityId: string; ssoUrl: string } {
  const refuse = (why: string) => samlRefusedMetadata(why);
  if (/<!DOCTYPE|<!ENTITY/i.test(metadataXml)) throw refuse('it declares a DOCTYPE or entities');
  let idp: IdentityProvider;
  try {
    idp = idpEntity(metadataXml);
  } catch {
    throw refuse('it is not SAML 2.0 IdP metadata');
  }
  const entityId = idp.entityMeta.getEntityID();
  if (typeof entityId !== 'string' || !entityId) throw refuse('it names no entityID');
  const certificate: unknown = idp.entityMeta.getX509Certificate('signing');
  if (!certificate || (Array.isArray(certificate) && certificate.length === 0)) throw refuse('it holds no signing certificate');
  let ssoUrl: unknown;
  try {
    // A string for one binding; with several, an object keyed by binding.
    const found: unknown = idp.entityMeta.getSingleSignOnService(REDIRECT_BINDING);
    ssoUrl = typeof found === 'object' && found !== null ? (found as Record<string, unknown>)[REDIRECT_BINDING] : found;
  } catch {
    ssoUrl = undefined;
  }
  if (typeof ssoUrl !== 'string' || !ssoUrl) throw refuse('it has no SingleSignOnService with the HTTP-Redirect binding');
  return { entityId, ssoUrl };
}

const samlRefusedMetadata = (why: string): DomainError => invalidArgument('saml.invalid_metadata', `The IdP metadata cannot be used: ${why}.`);

/** samlify's error names, as the refusals users and the audit log see. */
export function refusalOf(err: unknown): DomainError {
  // A fault of the code, not of the message (a TypeError naming the function that failed): never
  // reported as a bad signature, which would send the administrator after the IdP's certificate.
  if (err instanceof TypeError || err instanceof ReferenceError) return samlRefused('invalid_response', 'The response could not be accepted.');
  const name = err instanceof Error ? err.message : String(err);
  if (/VALIDATE_XML|INVALID_XML|ERR_UNDEFINED_STATUS/.test(name)) return samlRefused('malformed', 'The response is not a valid SAML 2.0 message.');
  if (/ERR_FAILED_STATUS/.test(name)) return samlRefused('idp_refused', 'The identity provider did not sign you in.');
  if (/WRAPPING|multiple elements with the same value/i.test(name)) return samlRefused('wrapping', 'The response has a suspicious structure (signature wrapping).');
  // samlify's names, and xml-crypto's sentences ("invalid signature", "signature algorithm … is not supported").
  if (/SIGNATURE|CERTIFICATE|NO_SELECTED|digest|reference/i.test(name)) return samlRefused('signature_invalid', "The response's signature does not verify with the identity provider's certificate.");
  if (/UNMATCH_ISSUER/.test(name)) return samlRefused('issuer_mismatch', 'The assertion was issued by another identity provider.');
  if (/SUBJECT_UNCONFIRMED|EXPIRED_SESSION/.test(name)) return samlRefused('expired', 'The assertion has expired or is not valid yet.');
  return samlRefused('invalid_response', 'The response could not be accepted.');
}
