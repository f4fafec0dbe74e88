// Reading a SAML Response posted to our ACS: refusals before any XML library sees it (DTDs,
// comments, more than one assertion), samlify's checks (schema, status, signature, issuer, time),
// and the facts federation/ checks, read only from the assertion the signature covers.

import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import samlify from 'samlify';
import type { IdentityProvider } from 'samlify/types/src/entity-idp.js';
import type { ServiceProvider } from 'samlify/types/src/entity-sp.js';
import { samlRefused, type AssertionFacts } from '../../federation/index.js';
import { isDomainError } from '../../shared/errors.js';
import { refusalOf } from './samlify.js';

const ASSERTION_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
const PROTOCOL_NS = 'urn:oasis:names:tc:SAML:2.0:protocol';
const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
const BEARER = 'urn:oasis:names:tc:SAML:2.0:cm:bearer';
const SUCCESS = 'urn:oasis:names:tc:SAML:2.0:status:Success';
const COMMENT_NODE = 8;
const PROCESSING_INSTRUCTION_NODE = 7;
const TEXT_NODE = 3;
const ELEMENT_NODE = 1;
/** More attributes than any IdP sends are not read at all. */
const MAX_ATTRIBUTES = 500;

/** A parse that never resolves anything: errors and warnings make the message malformed. */
function parseStrict(xml: string) {
  let failed = false;
  const onError = () => void (failed = true);
  const doc = new DOMParser({ errorHandler: { warning: onError, error: onError, fatalError: onError } }).parseFromString(xml, 'text/xml');
  if (failed || !doc?.documentElement) throw samlRefused('malformed', 'The response is not well-formed XML.');
  return doc;
}

const elementsOf = (root: Element | { getElementsByTagNameNS(ns: string, name: string): ArrayLike<Element> }, ns: string, name: string): Element[] =>
  Array.from(root.getElementsByTagNameNS(ns, name));
const childrenOf = (parent: Element, ns: string, name: string): Element[] =>
  kids(parent).filter((n): n is Element => n.nodeType === ELEMENT_NODE && (n as Element).namespaceURI === ns && (n as Element).localName === name);
const childOf = (parent: Element | undefined, ns: string, name: string): Element | undefined => (parent ? childrenOf(parent, ns, name)[0] : undefined);

/** xmldom gives text nodes no childNodes list at all. */
const kids = (node: Node): Node[] => (node.childNodes ? Array.from(node.childNodes as ArrayLike<Node>) : []);

/** Depth-first, without recursion: a deeply nested document must not overflow the stack. */
function walk(node: Node, visit: (n: Node) => void): void {
  const stack: Node[] = [node];
  while (stack.length > 0) {
    const n = stack.pop()!;
    visit(n);
    const children = kids(n);
    for (let i = children.length - 1; i >= 0; i--) stack.push(children[i]!);
  }
}

/** The text of an element that holds nothing but text: a comment or element inside it is refused. */
function textOf(el: Element | undefined): string | undefined {
  if (!el) return undefined;
  const parts = kids(el);
  if (parts.some((n) => n.nodeType !== TEXT_NODE)) throw samlRefused('malformed', 'An identifier in the assertion holds more than text.');
  return parts.map((n) => n.nodeValue ?? '').join('').trim();
}

function timeOf(el: Element | undefined, attribute: string): number | undefined {
  const value = el?.getAttribute(attribute);
  if (!value) return undefined;
  const ms = Date.parse(value);
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)$/.test(value) || Number.isNaN(ms)) throw samlRefused('malformed', 'A time in the assertion is not a valid dateTime.');
  return ms;
}

const attributeOf = (el: Element | undefined, name: string) => (el?.hasAttribute(name) ? el.getAttribute(name) ?? undefined : undefined);

/**
 * Refusals on the raw message, before samlify parses it: a DTD (external entities, entity
 * expansion), comments or processing instructions (the signature does not cover them, and they
 * split identifiers: `admin<!---->.evil`), a status other than Success, and anything but exactly one
 * plain Assertion.
 */
export function precheck(xml: string): void {
  if (/<!DOCTYPE|<!ENTITY/i.test(xml)) throw samlRefused('dtd_refused', 'The response declares a DTD or entities, which SAML never needs.');
  const doc = parseStrict(xml);
  walk(doc.documentElement, (n) => {
    if (n.nodeType === COMMENT_NODE || n.nodeType === PROCESSING_INSTRUCTION_NODE) {
      throw samlRefused('comment_refused', 'The response holds XML comments or processing instructions, which its signature does not cover.');
    }
  });
  const root = doc.documentElement;
  if (root.namespaceURI !== PROTOCOL_NS || root.localName !== 'Response') throw samlRefused('malformed', 'The message is not a SAML Response.');
  // A refusal needs no signature to be believed: it signs nobody in.
  const status = childOf(childOf(root, PROTOCOL_NS, 'Status'), PROTOCOL_NS, 'StatusCode')?.getAttribute('Value');
  if (status !== SUCCESS) throw samlRefused('idp_refused', 'The identity provider did not sign you in.');
  if (elementsOf(doc, ASSERTION_NS, 'EncryptedAssertion').length > 0) throw samlRefused('encrypted_unsupported', 'Encrypted assertions are not supported yet.');
  if (elementsOf(doc, ASSERTION_NS, 'Assertion').length !== 1) throw samlRefused('assertion_count', 'The response must hold exactly one assertion.');
  const signatures = elementsOf(doc, DSIG_NS, 'Signature');
  if (signatures.length === 0) throw samlRefused('unsigned', 'The response and its assertion are not signed.');
  // SAML core §5.4.2: one signature on the Response and one on the Assertion at most, each with
  // exactly one Reference and at most two transforms. Anything more is only work for the verifier.
  if (signatures.length > 2) throw samlRefused('malformed', 'The response carries more signatures than SAML allows.');
  for (const signature of signatures) {
    const references = elementsOf(signature, DSIG_NS, 'Reference');
    if (references.length !== 1 || elementsOf(signature, DSIG_NS, 'Transform').length > 2) {
      throw samlRefused('malformed', 'A signature in the response does not have the single reference SAML requires.');
    }
  }
}

/**
 * Verify a Response with samlify and read the facts from the assertion its signature covers (never
 * from elsewhere in the document). Throws a DomainError (`saml.*`) on any refusal.
 */
export async function readResponse(sp: ServiceProvider, idp: IdentityProvider, samlResponse: string): Promise<AssertionFacts> {
  const xml = Buffer.from(samlResponse, 'base64').toString('utf8');
  precheck(xml);
  try {
    return await readVerified(sp, idp, xml, samlResponse);
  } catch (err) {
    // A signature that does not say its key is checked against the first certificate of the metadata
    // only (samlify). During a rollover the metadata lists two, and the IdP may sign with the other:
    // each other one is tried, named in a KeyInfo added to the signatures, which none of them covers.
    if (!(isDomainError(err) && err.code === 'saml.signature_invalid')) throw err;
    const certificates = signingCertificatesOf(idp);
    const signatures = elementsOf(parseStrict(xml), DSIG_NS, 'Signature');
    if (certificates.length < 2 || signatures.some((sig) => childOf(sig, DSIG_NS, 'KeyInfo'))) throw err;
    for (const certificate of certificates.slice(1)) {
      try {
        return await readVerified(sp, idp, withKeyInfo(xml, certificate));
      } catch (again) {
        if (!(isDomainError(again) && again.code === 'saml.signature_invalid')) throw again;
      }
    }
    throw err;
  }
}

/** The IdP's signing certificates, as its metadata lists them (base64 DER). */
function signingCertificatesOf(idp: IdentityProvider): string[] {
  const found = idp.entityMeta.getX509Certificate('signing') as string | string[] | undefined;
  return (Array.isArray(found) ? found.flat(Infinity as 1) : found === undefined ? [] : [found]).filter((c): c is string => typeof c === 'string' && c.trim() !== '');
}

/** The response with `certificate` as the KeyInfo of each of its signatures (outside what they sign). */
function withKeyInfo(xml: string, certificate: string): string {
  const doc = parseStrict(xml);
  for (const signature of elementsOf(doc, DSIG_NS, 'Signature')) {
    const value = childOf(signature, DSIG_NS, 'SignatureValue');
    if (!value) continue;
    const prefix = signature.prefix ? `${signature.prefix}:` : '';
    const keyInfo = doc.createElementNS(DSIG_NS, `${prefix}KeyInfo`);
    const data = doc.createElementNS(DSIG_NS, `${prefix}X509Data`);
    const cert = doc.createElementNS(DSIG_NS, `${prefix}X509Certificate`);
    cert.appendChild(doc.createTextNode(certificate.replace(/\s+/g, '')));
    data.appendChild(cert);
    keyInfo.appendChild(data);
    signature.insertBefore(keyInfo, value.nextSibling);
  }
  return new XMLSerializer().serializeToString(doc);
}

async function readVerified(sp: ServiceProvider, idp: IdentityProvider, xml: string, samlResponse = Buffer.from(xml, 'utf8').toString('base64')): Promise<AssertionFacts> {
  try {
    await sp.parseLoginResponse(idp, 'post', { body: { SAMLResponse: samlResponse } });
  } catch (err) {
    throw isDomainError(err) ? err : refusalOf(err);
  }
  let signed: string | null;
  try {
    [, signed] = samlify.SamlLib.verifySignature(xml, { metadata: idp.entityMeta, signatureAlgorithm: idp.entitySetting.requestSignatureAlgorithm });
  } catch (err) {
    throw refusalOf(err);
  }
  if (!signed) throw samlRefused('unsigned', 'No signature covers the assertion.');
  const assertion = parseStrict(signed).documentElement;
  if (assertion.namespaceURI !== ASSERTION_NS || assertion.localName !== 'Assertion') throw samlRefused('unsigned', 'No signature covers the assertion.');
  const response = parseStrict(xml).documentElement;
  // The one assertion in the document must be the one the signature covers.
  const inDocument = elementsOf(response, ASSERTION_NS, 'Assertion')[0];
  if (!inDocument || inDocument.getAttribute('ID') !== assertion.getAttribute('ID')) throw samlRefused('wrapping', 'The signed assertion is not the one in the response (signature wrapping).');
  return factsOf(assertion, response);
}

function factsOf(assertion: Element, response: Element): AssertionFacts {
  const subject = childOf(assertion, ASSERTION_NS, 'Subject');
  const bearer = subject && childrenOf(subject, ASSERTION_NS, 'SubjectConfirmation').find((c) => c.getAttribute('Method') === BEARER);
  const confirmation = childOf(bearer, ASSERTION_NS, 'SubjectConfirmationData');
  const conditions = childOf(assertion, ASSERTION_NS, 'Conditions');
  const authn = childOf(assertion, ASSERTION_NS, 'AuthnStatement');
  const audienceRestrictions = (conditions ? childrenOf(conditions, ASSERTION_NS, 'AudienceRestriction') : []).map((r) =>
    childrenOf(r, ASSERTION_NS, 'Audience').map((a) => textOf(a) ?? ''),
  );
  if (!bearer) throw samlRefused('no_bearer', 'The assertion has no bearer subject confirmation.');
  // SAML profiles §4.1.4.2: a bearer assertion of the Web SSO profile holds at least one
  // AuthnStatement. One with none (attributes only) says nobody signed in.
  if (!authn) throw samlRefused('no_authn_statement', 'The assertion does not say that the user signed in (it has no AuthnStatement).');
  return {
    issuer: textOf(childOf(assertion, ASSERTION_NS, 'Issuer')) ?? '',
    assertionId: assertion.getAttribute('ID') ?? '',
    nameId: textOf(childOf(subject, ASSERTION_NS, 'NameID')) ?? '',
    audienceRestrictions,
    recipient: attributeOf(confirmation, 'Recipient'),
    inResponseTo: attributeOf(confirmation, 'InResponseTo'),
    subjectNotOnOrAfter: timeOf(confirmation, 'NotOnOrAfter'),
    notBefore: timeOf(conditions, 'NotBefore'),
    notOnOrAfter: timeOf(conditions, 'NotOnOrAfter'),
    sessionNotOnOrAfter: timeOf(authn, 'SessionNotOnOrAfter'),
    attributes: attributesOf(assertion),
    responseDestination: attributeOf(response, 'Destination'),
    responseInResponseTo: attributeOf(response, 'InResponseTo'),
  };
}


/**
 * The AttributeStatement's attributes, by Name: the text of each AttributeValue. A value holding
 * elements (a complex type) is left out, since nothing here could read it as one string.
 */
function attributesOf(assertion: Element): Record<string, string[]> {
  // No prototype: an attribute named "constructor" or "__proto__" is just a name.
  const result = Object.create(null) as Record<string, string[]>;
  for (const statement of childrenOf(assertion, ASSERTION_NS, 'AttributeStatement')) {
    for (const attribute of childrenOf(statement, ASSERTION_NS, 'Attribute')) {
      const name = attribute.getAttribute('Name');
      if (!name || (!Object.hasOwn(result, name) && Object.keys(result).length >= MAX_ATTRIBUTES)) continue;
      const values = childrenOf(attribute, ASSERTION_NS, 'AttributeValue')
        .filter((v) => kids(v).every((n) => n.nodeType === TEXT_NODE))
        .map((v) => kids(v).map((n) => n.nodeValue ?? '').join(''));
      (result[name] ??= []).push(...values);
    }
  }
  return result;
}
