// Forged SAML, as an attacker would make it: a genuinely signed Response (xml-crypto, with a key the
// IdP metadata names: the attacker holds one real assertion, for their own user), then each classic
// forgery derived from it. Every one is refused with a page, audited, and signs nobody in. Then the
// IdP's configuration (metadata by URL: CLI and admin API) and the browser binding behind https.

import { createHash, createHmac } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { inflateRawSync } from 'node:zlib';
import { DOMParser, XMLSerializer } from '@xmldom/xmldom';
import { SignedXml } from 'xml-crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSpKeyPair, type SpKeyPair } from '../../src/federation/sp-certificate.js';
import { systemContext } from '../../src/shared/context.js';
import { runCli } from '../helpers/cli.js';
import { cliStorage, dialects, startServer, type TestServer } from '../helpers/server.js';

const IDP = 'https://idp.attacks.test/metadata';
const ASSERTION_NS = 'urn:oasis:names:tc:SAML:2.0:assertion';
const PROTOCOL_NS = 'urn:oasis:names:tc:SAML:2.0:protocol';
const DSIG_NS = 'http://www.w3.org/2000/09/xmldsig#';
const RSA_SHA256 = 'http://www.w3.org/2001/04/xmldsig-more#rsa-sha256';
const EXC_C14N = 'http://www.w3.org/2001/10/xml-exc-c14n#';
const ACCESS_CONTROL = 'https://aws.amazon.com/SAML/Attributes/AccessControl:';
const ctx = systemContext('sso.amazonaws.com', 'us-east-1', 'test');

const pem = (cert: string) => cert.replace(/-----[^-]+-----|\s/g, '');
const iso = (ms: number) => new Date(ms).toISOString().replace(/\.\d+Z$/, 'Z');

function idpMetadata(...certs: string[]): string {
  const keys = certs.map((cert) => `<md:KeyDescriptor use="signing"><ds:KeyInfo xmlns:ds="${DSIG_NS}"><ds:X509Data><ds:X509Certificate>${pem(cert)}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>`);
  return `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="${IDP}">
  <md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="false">
    ${keys.join('\n    ')}
    <md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="https://idp.attacks.test/sso"/>
  </md:IDPSSODescriptor>
</md:EntityDescriptor>`;
}

interface ResponseFields {
  requestId?: string;
  nameId: string;
  audience: string;
  acs: string;
  destination?: string;
  notBefore?: number;
  notOnOrAfter?: number;
  /** The AuthnStatement's SessionNotOnOrAfter: the IdP's own session end. */
  sessionNotOnOrAfter?: number;
  attributes?: Record<string, string[]>;
}

let counter = 0;
/** The Response an IdP would send, unsigned: the signer below signs what it is told to. */
function responseXml(f: ResponseFields): string {
  const n = ++counter;
  const now = Date.now();
  const inResponseTo = f.requestId ? ` InResponseTo="${f.requestId}"` : '';
  const attributes = Object.entries(f.attributes ?? {})
    .map(([name, values]) => `<saml:Attribute Name="${name}">${values.map((v) => `<saml:AttributeValue>${v}</saml:AttributeValue>`).join('')}</saml:Attribute>`)
    .join('');
  return (
    `<samlp:Response xmlns:samlp="${PROTOCOL_NS}" xmlns:saml="${ASSERTION_NS}" ID="_response-${n}" Version="2.0" IssueInstant="${iso(now)}" Destination="${f.destination ?? f.acs}"${inResponseTo}>` +
    `<saml:Issuer>${IDP}</saml:Issuer><samlp:Status><samlp:StatusCode Value="urn:oasis:names:tc:SAML:2.0:status:Success"/></samlp:Status>` +
    `<saml:Assertion ID="_assertion-${n}" Version="2.0" IssueInstant="${iso(now)}"><saml:Issuer>${IDP}</saml:Issuer>` +
    `<saml:Subject><saml:NameID Format="urn:oasis:names:tc:SAML:1.1:nameid-format:unspecified">${f.nameId}</saml:NameID>` +
    `<saml:SubjectConfirmation Method="urn:oasis:names:tc:SAML:2.0:cm:bearer"><saml:SubjectConfirmationData NotOnOrAfter="${iso(f.notOnOrAfter ?? now + 300_000)}" Recipient="${f.acs}"${inResponseTo}/></saml:SubjectConfirmation></saml:Subject>` +
    `<saml:Conditions NotBefore="${iso(f.notBefore ?? now - 5_000)}" NotOnOrAfter="${iso(f.notOnOrAfter ?? now + 300_000)}"><saml:AudienceRestriction><saml:Audience>${f.audience}</saml:Audience></saml:AudienceRestriction></saml:Conditions>` +
    `<saml:AuthnStatement AuthnInstant="${iso(now)}"${f.sessionNotOnOrAfter === undefined ? '' : ` SessionNotOnOrAfter="${iso(f.sessionNotOnOrAfter)}"`}><saml:AuthnContext><saml:AuthnContextClassRef>urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport</saml:AuthnContextClassRef></saml:AuthnContext></saml:AuthnStatement>` +
    (attributes ? `<saml:AttributeStatement>${attributes}</saml:AttributeStatement>` : '') +
    `</saml:Assertion></samlp:Response>`
  );
}

const RESPONSE_PATH = "/*[local-name(.)='Response']";
const ASSERTION_PATH = `${RESPONSE_PATH}/*[local-name(.)='Assertion']`;

/** Sign the Assertion or the Response with `key`, the enveloped signature after its Issuer, as IdPs do. */
function signXml(xml: string, target: 'Assertion' | 'Response', key: SpKeyPair): string {
  const path = target === 'Response' ? RESPONSE_PATH : ASSERTION_PATH;
  const sig = new SignedXml({ privateKey: key.privateKeyPem, publicCert: key.certificatePem, signatureAlgorithm: RSA_SHA256, canonicalizationAlgorithm: EXC_C14N });
  sig.addReference({ xpath: path, digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256', transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', EXC_C14N] });
  sig.computeSignature(xml, { prefix: 'ds', location: { reference: `${path}/*[local-name(.)='Issuer']`, action: 'after' } });
  return sig.getSignedXml();
}

// ---- DOM surgery for the wrapping attacks ----

const parse = (xml: string) => new DOMParser().parseFromString(xml, 'text/xml');
const serialize = (node: Node) => new XMLSerializer().serializeToString(node);
const firstChild = (parent: Element, ns: string, name: string) =>
  Array.from(parent.childNodes as ArrayLike<Node>).find((n): n is Element => n.nodeType === 1 && (n as Element).namespaceURI === ns && (n as Element).localName === name);
const clone = (el: Element) => el.cloneNode(true) as Element;
function removeSignature(el: Element): Element {
  const sig = firstChild(el, DSIG_NS, 'Signature');
  if (sig) el.removeChild(sig);
  return el;
}
/** The assertion, changed to name the victim: no longer matching its signature. */
function evilAssertion(assertion: Element, victim: string): Element {
  const evil = removeSignature(clone(assertion));
  evil.setAttribute('ID', '_evil-assertion');
  const nameId = firstChild(firstChild(evil, ASSERTION_NS, 'Subject')!, ASSERTION_NS, 'NameID')!;
  nameId.textContent = victim;
  return evil;
}
/** A ds:Object holding `node`, inside a copy of `signature`. */
function signatureHolding(doc: Document, signature: Element, node: Element): Element {
  const sig = clone(signature);
  const object = doc.createElementNS(DSIG_NS, 'ds:Object');
  object.appendChild(node);
  sig.appendChild(object);
  return sig;
}

type Forgery = (xml: string, victim: string) => string;

/**
 * The signature-wrapping variants of Somorovsky et al., "On Breaking SAML: Be Whoever You Want to
 * Be" (USENIX Security 2012), as SAML Raider names them. XSW1–2 wrap a signed Response, XSW3–8 a
 * signed Assertion; each puts an evil assertion where a careless SP reads and the signed original
 * where a careless verifier finds it.
 */
const XSW: Record<string, { sign: 'Response' | 'Assertion'; forge: Forgery }> = {
  // An evil Response around the signature, which now holds the original signed Response in an Object.
  XSW1: {
    sign: 'Response',
    forge: (xml, victim) => {
      const doc = parse(xml);
      const original = doc.documentElement;
      const evil = clone(original);
      evil.setAttribute('ID', '_evil-response');
      const evilSig = firstChild(evil, DSIG_NS, 'Signature')!;
      const assertion = firstChild(evil, ASSERTION_NS, 'Assertion')!;
      evil.replaceChild(evilAssertion(assertion, victim), assertion);
      evil.replaceChild(signatureHolding(doc, evilSig, clone(original)), evilSig);
      return serialize(evil);
    },
  },
  // The same, with the original signed Response beside the signature instead of inside it.
  XSW2: {
    sign: 'Response',
    forge: (xml, victim) => {
      const doc = parse(xml);
      const original = doc.documentElement;
      const evil = removeSignature(clone(original));
      evil.setAttribute('ID', '_evil-response');
      const assertion = firstChild(evil, ASSERTION_NS, 'Assertion')!;
      evil.replaceChild(evilAssertion(assertion, victim), assertion);
      evil.insertBefore(clone(original), firstChild(evil, PROTOCOL_NS, 'Status')!);
      return serialize(evil);
    },
  },
  // An evil assertion before the signed one, as its sibling.
  XSW3: {
    sign: 'Assertion',
    forge: (xml, victim) => {
      const doc = parse(xml);
      const assertion = firstChild(doc.documentElement, ASSERTION_NS, 'Assertion')!;
      doc.documentElement.insertBefore(evilAssertion(assertion, victim), assertion);
      return serialize(doc);
    },
  },
  // An evil assertion in place of the signed one, which it holds as its child.
  XSW4: {
    sign: 'Assertion',
    forge: (xml, victim) => {
      const doc = parse(xml);
      const assertion = firstChild(doc.documentElement, ASSERTION_NS, 'Assertion')!;
      const evil = evilAssertion(assertion, victim);
      doc.documentElement.replaceChild(evil, assertion);
      evil.appendChild(assertion);
      return serialize(doc);
    },
  },
  // The signature moved into the evil assertion; an unsigned copy of the original appended at the end.
  XSW5: {
    sign: 'Assertion',
    forge: (xml, victim) => {
      const doc = parse(xml);
      const assertion = firstChild(doc.documentElement, ASSERTION_NS, 'Assertion')!;
      const signature = firstChild(assertion, DSIG_NS, 'Signature')!;
      const evil = evilAssertion(assertion, victim);
      evil.insertBefore(clone(signature), firstChild(evil, ASSERTION_NS, 'Subject')!);
      doc.documentElement.replaceChild(evil, assertion);
      doc.documentElement.appendChild(removeSignature(clone(assertion)));
      return serialize(doc);
    },
  },
  // The evil assertion carries the signature, whose Object holds the original assertion.
  XSW6: {
    sign: 'Assertion',
    forge: (xml, victim) => {
      const doc = parse(xml);
      const assertion = firstChild(doc.documentElement, ASSERTION_NS, 'Assertion')!;
      const signature = firstChild(assertion, DSIG_NS, 'Signature')!;
      const evil = evilAssertion(assertion, victim);
      evil.insertBefore(signatureHolding(doc, signature, removeSignature(clone(assertion))), firstChild(evil, ASSERTION_NS, 'Subject')!);
      doc.documentElement.replaceChild(evil, assertion);
      return serialize(doc);
    },
  },
  // The signed assertion hidden in the Response's Extensions, the evil one where the assertion goes.
  XSW7: {
    sign: 'Assertion',
    forge: (xml, victim) => {
      const doc = parse(xml);
      const assertion = firstChild(doc.documentElement, ASSERTION_NS, 'Assertion')!;
      const extensions = doc.createElementNS(PROTOCOL_NS, 'samlp:Extensions');
      doc.documentElement.insertBefore(extensions, firstChild(doc.documentElement, PROTOCOL_NS, 'Status')!);
      doc.documentElement.replaceChild(evilAssertion(assertion, victim), assertion);
      extensions.appendChild(assertion);
      return serialize(doc);
    },
  },
  // The evil assertion carries the signature, whose Object holds the original assertion, signature and all.
  XSW8: {
    sign: 'Assertion',
    forge: (xml, victim) => {
      const doc = parse(xml);
      const assertion = firstChild(doc.documentElement, ASSERTION_NS, 'Assertion')!;
      const signature = firstChild(assertion, DSIG_NS, 'Signature')!;
      const evil = evilAssertion(assertion, victim);
      evil.insertBefore(signatureHolding(doc, signature, clone(assertion)), firstChild(evil, ASSERTION_NS, 'Subject')!);
      doc.documentElement.replaceChild(evil, assertion);
      return serialize(doc);
    },
  },
};

describe.each(dialects())('forged SAML responses on %s', (dialect) => {
  let server: TestServer;
  let idpKey: SpKeyPair;
  let otherKey: SpKeyPair;
  let sp: { entityId: string; acs: string };

  /** GET /saml/login as a browser: the request id our AuthnRequest carries, and the binding cookie. */
  async function startSignIn(returnTo = '/start', cookie?: string): Promise<{ requestId: string; cookie: string }> {
    const res = await fetch(`${server.url}/saml/login?return_to=${encodeURIComponent(returnTo)}`, { redirect: 'manual', headers: cookie ? { cookie } : {} });
    expect(res.status).toBe(303);
    const request = inflateRawSync(Buffer.from(new URL(res.headers.get('location')!).searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
    const binding = res.headers.getSetCookie().find((c) => c.startsWith('atrium_saml_binding='))!;
    expect(binding).toMatch(/Path=\/saml; HttpOnly; SameSite=Lax/);
    return { requestId: /\bID="([^"]+)"/.exec(request)![1]!, cookie: binding.split(';')[0]! };
  }

  /** What the attacker holds: a genuine response of the IdP for their own user, signed as asked. */
  async function genuine(opts: Partial<ResponseFields> & { sign?: 'Response' | 'Assertion' | 'both' | 'none'; key?: SpKeyPair; started?: { requestId: string; cookie: string } } = {}) {
    const started = opts.started ?? (await startSignIn());
    let xml = responseXml({ requestId: started.requestId, nameId: 'mallory', audience: sp.entityId, acs: sp.acs, ...opts });
    const sign = opts.sign ?? 'Assertion';
    if (sign === 'Assertion' || sign === 'both') xml = signXml(xml, 'Assertion', opts.key ?? idpKey);
    if (sign === 'Response' || sign === 'both') xml = signXml(xml, 'Response', opts.key ?? idpKey);
    return { xml, cookie: started.cookie };
  }

  async function postToAcs(xml: string, cookie?: string, relayState?: string) {
    const form = new URLSearchParams({ SAMLResponse: Buffer.from(xml, 'utf8').toString('base64'), ...(relayState === undefined ? {} : { RelayState: relayState }) });
    const res = await fetch(`${server.url}/saml/acs`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(cookie ? { cookie } : {}) },
      body: form.toString(),
    });
    const session = res.headers.getSetCookie().find((c) => c.startsWith('atrium_session='));
    return { status: res.status, location: res.headers.get('location'), session: session?.split(';')[0], text: await res.text() };
  }

  const refusals = async () =>
    (await server.reg.database.db.selectFrom('audit_events').select(['error_code', 'error_message']).where('event_name', '=', 'CredentialVerification').where('error_code', 'is not', null).orderBy('seq').execute());

  /** Refused with a 403 page that says why, the refusal audited with its code, and no session for anyone. */
  async function expectRefused(xml: string, cookie: string | undefined, code: string, message: RegExp) {
    const before = (await refusals()).length;
    const res = await postToAcs(xml, cookie);
    expect(res.status, res.text).toBe(403);
    expect(res.session).toBeUndefined();
    expect(res.text).toMatch(message);
    expect(res.text).toContain('Back to sign-in');
    const after = await refusals();
    expect(after.length).toBe(before + 1);
    expect(after.at(-1)!.error_code).toBe(code);
    for (const user of ['admin', 'mallory']) expect(await server.reg.auth.listSessions(user)).toEqual([]);
  }

  beforeAll(async () => {
    server = await startServer(dialect);
    sp = { entityId: `${server.url}/saml/metadata`, acs: `${server.url}/saml/acs` };
    idpKey = await createSpKeyPair('idp.attacks.test', Date.now() - 60_000, 2);
    otherKey = await createSpKeyPair('idp.attacks.test', Date.now() - 60_000, 2);
    await server.reg.federation.importIdp(ctx, { entityId: IDP, metadataXml: idpMetadata(idpKey.certificatePem), nameIdMatch: 'userName' });
    for (const userName of ['admin', 'mallory']) {
      await server.reg.directory.createUser(ctx, server.init.identityStoreId, { profile: { userName, displayName: userName, name: { givenName: 'A', familyName: 'B' } } });
    }
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  /** Sessions opened by the good-path tests, ended so that every refusal can assert there are none. */
  const endSessions = async () => {
    for (const userName of ['admin', 'mallory']) await server.reg.auth.revokeSessions(ctx, { userName });
  };

  it('accepts the genuine response the forgeries start from: signed Assertion, Response, or both', async () => {
    for (const sign of ['Assertion', 'Response', 'both'] as const) {
      const { xml, cookie } = await genuine({ sign });
      const res = await postToAcs(xml, cookie);
      expect(res.status, `${sign}: ${res.text}`).toBe(303);
      expect(res.session).toMatch(/^atrium_session=/);
      expect(await server.reg.auth.resolveSession(res.session!.split('=')[1])).toMatchObject({ userName: 'mallory' });
    }
    await endSessions();
  });

  for (const [name, { sign, forge }] of Object.entries(XSW)) {
    it(`refuses signature wrapping ${name} (signed ${sign}, evil assertion for admin)`, async () => {
      const { xml, cookie } = await genuine({ sign });
      const forged = forge(xml, 'admin');
      expect(forged).toContain('>admin<');
      await expectRefused(forged, cookie, 'saml.assertion_count', /exactly one assertion/);
    });
  }

  it('refuses a signature listing extra references before any verifier works on them (each costs a digest over the assertion, and needs no key)', async () => {
    const { xml, cookie } = await genuine();
    const reference = /<ds:Reference[\s\S]*?<\/ds:Reference>/.exec(xml)![0];
    await expectRefused(xml.replace(reference, reference.repeat(40)), cookie, 'saml.malformed', /single reference SAML requires/);
    // Three signatures: SAML has room for two (the Response's and the Assertion's).
    const both = await genuine({ sign: 'both' });
    const signature = /<ds:Signature[\s\S]*?<\/ds:Signature>/.exec(both.xml)![0];
    await expectRefused(both.xml.replace(signature, signature + signature), both.cookie, 'saml.malformed', /more signatures than SAML allows/);
  });

  it('answers a deeply nested response and attributes named like Object properties with a page, never a 500', async () => {
    const depth = 30_000;
    const deep = `<samlp:Response xmlns:samlp="${PROTOCOL_NS}">${'<a>'.repeat(depth)}${'</a>'.repeat(depth)}<ds:Signature xmlns:ds="${DSIG_NS}"/></samlp:Response>`;
    const refused = await postToAcs(deep);
    expect(refused.status, refused.text).toBe(403);
    expect(refused.session).toBeUndefined();
    for (const name of ['constructor', '__proto__', 'toString', 'hasOwnProperty']) {
      const { xml, cookie } = await genuine({ attributes: { [name]: ['x'] } });
      const res = await postToAcs(xml, cookie);
      expect(res.status, `${name}: ${res.text}`).toBe(303);
      expect(await server.reg.auth.resolveSession(res.session!.split('=')[1])).toMatchObject({ userName: 'mallory' });
    }
    await endSessions();
  });

  it('refuses a NameID written with a character the directory reads as ASCII: the Kelvin sign is not "k"', async () => {
    await server.reg.directory
      .createUser(ctx, server.init.identityStoreId, { profile: { userName: 'kate', displayName: 'Kate', name: { givenName: 'K', familyName: 'B' } } })
      .catch(() => undefined);
    const { xml, cookie } = await genuine({ nameId: '\u212Aate' });
    await expectRefused(xml, cookie, 'saml.confusable_name_id', /reads as another/);
    expect(await server.reg.auth.listSessions('kate')).toEqual([]);
  });

  it("ends the portal session with the IdP's (SessionNotOnOrAfter) when that is sooner than the configured duration, as AWS does", async () => {
    const idpEnds = Date.now() + 10 * 60_000;
    const { xml, cookie } = await genuine({ sessionNotOnOrAfter: idpEnds });
    const res = await postToAcs(xml, cookie);
    expect(res.status, res.text).toBe(303);
    const [session] = await server.reg.auth.listSessions('mallory');
    // Rounded to the second in the assertion.
    expect(Math.abs(session!.expiresAt - idpEnds)).toBeLessThan(1000);
    expect(res.session).toBeDefined();
    await endSessions();
    // An IdP session longer than ours leaves the configured duration (8 hours) in place.
    const later = await genuine({ sessionNotOnOrAfter: Date.now() + 48 * 3600_000 });
    expect((await postToAcs(later.xml, later.cookie)).status).toBe(303);
    const [longer] = await server.reg.auth.listSessions('mallory');
    expect(longer!.expiresAt - longer!.createdAt).toBe((await server.reg.instance.get()).settings.sessionDurationMinutes * 60_000);
    await endSessions();
  });

  it('refuses a signed bearer assertion that has no AuthnStatement: it says nobody signed in', async () => {
    const started = await startSignIn();
    const unsigned = responseXml({ requestId: started.requestId, nameId: 'mallory', audience: sp.entityId, acs: sp.acs }).replace(/<saml:AuthnStatement[\s\S]*?<\/saml:AuthnStatement>/, '');
    await expectRefused(signXml(unsigned, 'Assertion', idpKey), started.cookie, 'saml.no_authn_statement', /no AuthnStatement/);
  });

  it('accepts, during a certificate rollover, a response signed by either listed key without KeyInfo, and no other key', async () => {
    const noKeyInfo = (xml: string) => xml.replace(/<ds:KeyInfo>[\s\S]*?<\/ds:KeyInfo>/g, '');
    const thirdKey = await createSpKeyPair('idp.attacks.test', Date.now() - 60_000, 2);
    await server.reg.federation.importIdp(ctx, { entityId: IDP, metadataXml: idpMetadata(idpKey.certificatePem, otherKey.certificatePem), nameIdMatch: 'userName' });
    try {
      for (const key of [idpKey, otherKey]) {
        const { xml, cookie } = await genuine({ key });
        expect(xml).toContain('<ds:KeyInfo>');
        const res = await postToAcs(noKeyInfo(xml), cookie);
        expect(res.status, res.text).toBe(303);
        expect(await server.reg.auth.resolveSession(res.session!.split('=')[1])).toMatchObject({ userName: 'mallory' });
      }
      await endSessions();
      const foreign = await genuine({ key: thirdKey });
      await expectRefused(noKeyInfo(foreign.xml), foreign.cookie, 'saml.signature_invalid', /signature does not verify/);
    } finally {
      await server.reg.federation.importIdp(ctx, { entityId: IDP, metadataXml: idpMetadata(idpKey.certificatePem), nameIdMatch: 'userName' });
    }
  });

  it('refuses the evil assertion in place of the signed one, its signature kept (a digest that no longer matches)', async () => {
    const { xml, cookie } = await genuine({ sign: 'Response' });
    await expectRefused(xml.replace('>mallory<', '>admin<'), cookie, 'saml.signature_invalid', /signature does not verify/);
    const signed = await genuine({ sign: 'Assertion' });
    await expectRefused(signed.xml.replace('>mallory<', '>admin<'), signed.cookie, 'saml.signature_invalid', /signature does not verify/);
  });

  it('refuses an unsigned response, and one whose only signature signs something else', async () => {
    const { xml, cookie } = await genuine({ sign: 'none' });
    await expectRefused(xml.replace('>mallory<', '>admin<'), cookie, 'saml.unsigned', /not signed/);
    // A genuine signature, hidden in Extensions, over an element that is not the assertion.
    const decoy = await genuine({ sign: 'none' });
    const extensions = `<samlp:Extensions><x:Decoy xmlns:x="urn:decoy" ID="_decoy">x</x:Decoy></samlp:Extensions>`;
    const withDecoy = decoy.xml.replace('<samlp:Status>', `${extensions}<samlp:Status>`);
    const sig = new SignedXml({ privateKey: idpKey.privateKeyPem, publicCert: idpKey.certificatePem, signatureAlgorithm: RSA_SHA256, canonicalizationAlgorithm: EXC_C14N });
    sig.addReference({ xpath: "//*[local-name(.)='Decoy']", digestAlgorithm: 'http://www.w3.org/2001/04/xmlenc#sha256', transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', EXC_C14N] });
    sig.computeSignature(withDecoy, { prefix: 'ds', location: { reference: "//*[local-name(.)='Decoy']", action: 'append' } });
    await expectRefused(sig.getSignedXml().replace('>mallory<', '>admin<'), decoy.cookie, 'saml.signature_invalid', /signature does not verify/);
  });

  it('refuses a response signed by a key the IdP metadata does not name, with or without its certificate inside', async () => {
    const { xml, cookie } = await genuine({ key: otherKey });
    await expectRefused(xml, cookie, 'saml.signature_invalid', /signature does not verify/);
    const bare = await genuine({ key: otherKey });
    await expectRefused(bare.xml.replace(/<ds:KeyInfo>[\s\S]*?<\/ds:KeyInfo>/, ''), bare.cookie, 'saml.signature_invalid', /signature does not verify/);
  });

  it("refuses an HMAC signature keyed with the IdP's public certificate (key confusion)", async () => {
    const { xml, cookie } = await genuine({ sign: 'none' });
    const sig = new SignedXml({ privateKey: Buffer.from(idpKey.certificatePem), signatureAlgorithm: 'http://www.w3.org/2000/09/xmldsig#hmac-sha1', canonicalizationAlgorithm: EXC_C14N });
    sig.enableHMAC();
    sig.addReference({ xpath: ASSERTION_PATH, digestAlgorithm: 'http://www.w3.org/2000/09/xmldsig#sha1', transforms: ['http://www.w3.org/2000/09/xmldsig#enveloped-signature', EXC_C14N] });
    sig.computeSignature(xml, { prefix: 'ds', location: { reference: `${ASSERTION_PATH}/*[local-name(.)='Issuer']`, action: 'after' } });
    const signed = sig.getSignedXml();
    expect(createHmac('sha1', idpKey.certificatePem).digest().length).toBe(20);
    await expectRefused(signed, cookie, 'saml.signature_invalid', /signature does not verify/);
  });

  it('refuses a wrong audience, recipient, destination, and an assertion expired or not valid yet', async () => {
    const wrongAudience = await genuine({ audience: 'https://other-sp.example/metadata' });
    await expectRefused(wrongAudience.xml, wrongAudience.cookie, 'saml.audience_mismatch', /another service provider/);
    const wrongRecipient = await genuine({ acs: 'https://evil.example/saml/acs', destination: sp.acs });
    await expectRefused(wrongRecipient.xml, wrongRecipient.cookie, 'saml.recipient_mismatch', /another address \(recipient\)/);
    // The assertion signed and right; the (unsigned) Response around it names another destination.
    const wrongDestination = await genuine({ destination: 'https://evil.example/saml/acs' });
    await expectRefused(wrongDestination.xml, wrongDestination.cookie, 'saml.destination_mismatch', /another address \(destination\)/);
    const expired = await genuine({ notBefore: Date.now() - 20 * 60_000, notOnOrAfter: Date.now() - 3 * 60_000 });
    await expectRefused(expired.xml, expired.cookie, 'saml.expired', /expired/);
    const early = await genuine({ notBefore: Date.now() + 5 * 60_000, notOnOrAfter: Date.now() + 10 * 60_000 });
    await expectRefused(early.xml, early.cookie, 'saml.not_yet_valid', /not valid yet/);
  });

  it('refuses a replayed response, and an answer to a request we never issued', async () => {
    const { xml, cookie } = await genuine();
    expect((await postToAcs(xml, cookie)).status).toBe(303);
    await endSessions();
    await expectRefused(xml, cookie, 'saml.replayed', /used already/);
    const started = await startSignIn();
    const never = await genuine({ started: { requestId: '_never-issued', cookie: started.cookie } });
    await expectRefused(never.xml, never.cookie, 'saml.unknown_request', /unknown, expired or used/);
  });

  it("refuses a response completed in another browser than the one that asked (login CSRF)", async () => {
    // The attacker starts a sign-in in their browser and gets the IdP's answer for their own user...
    const attacker = await genuine();
    // ...then makes the victim's browser post it: the victim has another binding cookie, or none.
    const victim = await startSignIn();
    await expectRefused(attacker.xml, victim.cookie, 'saml.browser_mismatch', /started in another browser/);
    const again = await genuine();
    await expectRefused(again.xml, undefined, 'saml.browser_mismatch', /started in another browser/);
  });

  it('refuses a comment injected in the signed NameID (admin<!---->.evil read as admin)', async () => {
    const { xml, cookie } = await genuine({ nameId: 'admin.evil' });
    await expectRefused(xml.replace('>admin.evil<', '>admin<!---->.evil<'), cookie, 'saml.comment_refused', /comments/);
  });

  it('refuses XML external entities and internal entity expansion', async () => {
    const { xml, cookie } = await genuine();
    const xxe = `<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>` + xml.replace('>mallory<', '>&xxe;<');
    await expectRefused(xxe, cookie, 'saml.dtd_refused', /DTD/);
    const lol = `<!DOCTYPE r [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]>` + xml.replace('>mallory<', '>&b;<');
    await expectRefused(lol, cookie, 'saml.dtd_refused', /DTD/);
  });

  it('accepts an IdP-initiated response once, to a same-origin RelayState path only', async () => {
    for (const [relayState, expected] of [
      ['/start#/accounts', '/start#/accounts'],
      ['https://evil.example/phish', '/start'],
      ['//evil.example/phish', '/start'],
      [undefined, '/start'],
    ] as const) {
      const { xml } = await genuine({ started: { requestId: '', cookie: '' } });
      expect(xml).not.toContain('InResponseTo');
      const res = await postToAcs(xml, undefined, relayState);
      expect(res.status, res.text).toBe(303);
      expect(res.location).toBe(expected);
      expect(res.session).toMatch(/^atrium_session=/);
      await endSessions();
      await expectRefused(xml, undefined, 'saml.replayed', /used already/);
    }
  });

  it('refuses an IdP-initiated response when the IdP configuration turns it off', async () => {
    const idp = (await server.reg.federation.getIdp())!;
    await server.reg.federation.importIdp(ctx, { ...idp, options: { allowIdpInitiated: false } });
    try {
      const { xml } = await genuine({ started: { requestId: '', cookie: '' } });
      await expectRefused(xml, undefined, 'saml.unsolicited', /turned off/);
    } finally {
      await server.reg.federation.importIdp(ctx, { ...idp, options: { allowIdpInitiated: true } });
    }
  });

  it("gives the session the signed assertion's AccessControl attributes, for aws:PrincipalTag", async () => {
    const { xml, cookie } = await genuine({ attributes: { [`${ACCESS_CONTROL}Department`]: ['Finance'], [`${ACCESS_CONTROL}CostCenter`]: ['1234'], mail: ['m@example.com'] } });
    const res = await postToAcs(xml, cookie);
    expect(res.status, res.text).toBe(303);
    const session = await server.reg.auth.resolveSession(res.session!.split('=')[1]);
    expect(await server.reg.federation.principalAttributes(session!.sessionId)).toEqual({ Department: 'Finance', CostCenter: '1234' });
    await endSessions();
    // Added after signing, the attribute breaks the signature: it cannot be smuggled in.
    const forged = await genuine({ attributes: { [`${ACCESS_CONTROL}Department`]: ['Finance'] } });
    await expectRefused(forged.xml.replace('>Finance<', '>Admins<'), forged.cookie, 'saml.signature_invalid', /signature does not verify/);
  });
});

/** The admin API, SigV4-signed as the AWS SDK signs. */
async function adminCall(server: TestServer, method: string, path: string, body?: unknown) {
  const url = new URL(server.url);
  const signer = new SignatureV4({ service: 'sso', region: 'us-east-1', credentials: server.credentials, sha256: Hash.bind(null, 'sha256') });
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { host: url.host, ...(text === undefined ? {} : { 'content-type': 'application/json' }) };
  const signed = await signer.sign({ method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path, headers, body: text });
  const res = await fetch(server.url + path, { method, headers: signed.headers, body: text });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe.each(dialects())('the IdP configured from its metadata URL on %s', (dialect) => {
  let server: TestServer;
  let metadataHost: Server;
  let base: string;
  let storage: string[];
  let metadata: string;

  beforeAll(async () => {
    server = await startServer(dialect);
    storage = cliStorage(server);
    metadata = idpMetadata((await createSpKeyPair('idp.attacks.test', Date.now(), 2)).certificatePem);
    // The IdP's metadata endpoint, and what a hostile or broken one answers.
    metadataHost = createServer((req, res) => {
      const redirect = (location: string) => res.writeHead(302, { location }).end();
      if (req.url === '/metadata') return res.writeHead(200, { 'content-type': 'application/samlmetadata+xml' }).end(metadata);
      if (req.url === '/moved') return redirect('/metadata');
      if (req.url === '/to-file') return redirect('file:///etc/passwd');
      if (req.url === '/loop') return redirect('/loop');
      if (req.url === '/huge') return res.writeHead(200).end(Buffer.alloc(2 * 1024 * 1024, 0x20));
      return res.writeHead(404).end();
    });
    metadataHost.listen(0, '127.0.0.1');
    await once(metadataHost, 'listening');
    base = `http://127.0.0.1:${(metadataHost.address() as AddressInfo).port}`;
  }, 60_000);
  afterAll(async () => {
    metadataHost?.close();
    await server?.close();
  });

  it('imports by URL with the CLI (http to loopback, one redirect), with its options, and shows them', async () => {
    const imported = await runCli(['saml', 'idp', 'import', '--metadata-url', `${base}/moved`, '--name-id-match', 'email', '--attribute', 'CostCenter=urn:oid:2.5.4.11', '--no-idp-initiated', '--jit', '--json', ...storage]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({
      idpEntityId: IDP,
      idpSignInUrl: 'https://idp.attacks.test/sso',
      nameIdMatch: 'email',
      idpInitiated: false,
      jit: true,
      attributeMapping: { CostCenter: 'urn:oid:2.5.4.11' },
    });
    // Options not given are kept.
    const again = await runCli(['saml', 'idp', 'import', '--metadata-url', `${base}/metadata`, '--no-jit', '--json', ...storage]);
    expect(JSON.parse(again.stdout)).toMatchObject({ nameIdMatch: 'email', idpInitiated: false, jit: false, attributeMapping: { CostCenter: 'urn:oid:2.5.4.11' } });
    const shown = await runCli(['saml', 'idp', 'show', '--json', ...storage]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ idpEntityId: IDP, idpInitiated: false, attributeMapping: { CostCenter: 'urn:oid:2.5.4.11' } });
    const help = await runCli(['saml', 'idp', 'import', '--help']);
    expect(help.stdout).toContain('--metadata-url <url>');
    expect(help.stdout).toContain('--no-idp-initiated');
  }, 60_000);

  it('refuses URLs and answers that could swap or smuggle the IdP key, with a clear error', async () => {
    const refusals: [string[], RegExp][] = [
      [['--metadata-url', 'http://idp.example.com/metadata'], /plain http is allowed only to a loopback address/],
      [['--metadata-url', 'file:///etc/passwd'], /the file scheme is not http\(s\)/],
      [['--metadata-url', 'https://user:secret@idp.example.com/metadata'], /carries credentials/],
      [['--metadata-url', `${base}/to-file`], /the file scheme is not http\(s\)/],
      [['--metadata-url', `${base}/loop`], /more than 3 redirects/],
      [['--metadata-url', `${base}/huge`], /larger than 1048576 bytes/],
      [['--metadata-url', `${base}/missing`], /answered 404/],
      [['--metadata-url', 'https://127.0.0.1:1/metadata'], /could not be reached/],
      [['--metadata-url', `${base}/metadata`, '--metadata-file', '/dev/null'], /exactly one of --metadata-file and --metadata-url/],
      [['--metadata-url', `${base}/metadata`, '--attribute', 'bad key!=x'], /not a valid key/],
    ];
    const before = createHash('sha256').update((await server.reg.federation.getIdp())?.metadataXml ?? '').digest('hex');
    for (const [args, message] of refusals) {
      const r = await runCli(['saml', 'idp', 'import', ...args, ...storage]);
      expect(r.code, args.join(' ')).not.toBe(0);
      expect(r.stderr, args.join(' ')).toMatch(message);
    }
    expect(createHash('sha256').update((await server.reg.federation.getIdp())?.metadataXml ?? '').digest('hex')).toBe(before);
  }, 120_000);

  it('reads and replaces the IdP through the admin API, by URL or inline, and refuses bad input as ValidationException', async () => {
    const put = await adminCall(server, 'PUT', '/api/admin/saml/idp', { MetadataUrl: `${base}/metadata`, IdpInitiated: true, JitProvisioning: true, AttributeMapping: { Team: 'team' } });
    expect(put.status, JSON.stringify(put.json)).toBe(200);
    expect(put.json).toMatchObject({ IdentityProvider: { EntityId: IDP, IdpInitiated: true, JitProvisioning: true, AttributeMapping: { Team: 'team' } }, SpAcsUrl: `${server.url}/saml/acs`, SpEntityId: `${server.url}/saml/metadata` });
    const inline = await adminCall(server, 'PUT', '/api/admin/saml/idp', { MetadataXml: metadata, NameIdMatch: 'email' });
    expect(inline.json.IdentityProvider).toMatchObject({ NameIdMatch: 'email', AttributeMapping: { Team: 'team' } });
    const got = await adminCall(server, 'GET', '/api/admin/saml/idp');
    expect(got.json.IdentityProvider).toMatchObject({ EntityId: IDP, NameIdMatch: 'email' });
    for (const [body, message] of [
      [{}, /exactly one of MetadataXml and MetadataUrl/],
      [{ MetadataUrl: 'file:///etc/passwd' }, /the file scheme is not http\(s\)/],
      [{ MetadataUrl: 'http://idp.example.com/metadata' }, /loopback/],
      [{ MetadataXml: '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="x"/>' }, /cannot be used/],
      [{ MetadataXml: metadata, NameIdMatch: 'phone' }, /NameIdMatch/],
    ] as const) {
      const r = await adminCall(server, 'PUT', '/api/admin/saml/idp', body);
      expect(r.status, JSON.stringify(body)).toBe(400);
      expect(String(r.json.message), JSON.stringify(body)).toMatch(message);
      // Each refusal on the record, with its reason.
      const last = await server.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', '=', 'UpdateSamlIdentityProvider').orderBy('seq', 'desc').executeTakeFirstOrThrow();
      expect(last.error_message, JSON.stringify(body)).toMatch(message);
    }
    // Nothing refused changed the configuration.
    expect((await adminCall(server, 'GET', '/api/admin/saml/idp')).json.IdentityProvider).toEqual(got.json.IdentityProvider);
  }, 60_000);

  it('publishes our SP metadata with the entity id, the ACS URL and the signing certificate', async () => {
    const res = await fetch(`${server.url}/saml/metadata`);
    expect(res.headers.get('content-type')).toContain('application/samlmetadata+xml');
    const xml = await res.text();
    expect(xml).toContain(`entityID="${server.url}/saml/metadata"`);
    expect(xml).toMatch(new RegExp(`AssertionConsumerService[^>]*Location="${server.url}/saml/acs"`));
    const key = await server.reg.federation.spKey(`${server.url}/saml/metadata`);
    expect(xml).toMatch(/<KeyDescriptor use="signing">/);
    expect(xml.replace(/\s/g, '')).toContain(pem(key.certificatePem));
    expect(xml).toContain('WantAssertionsSigned="true"');
  });
});

describe.each(dialects())('the browser binding behind https on %s', (dialect) => {
  const publicUrl = 'https://atrium.example';
  let server: TestServer;
  let idpKey: SpKeyPair;

  beforeAll(async () => {
    // Served on loopback behind a TLS proxy: the public URL is https.
    server = await startServer(dialect, { publicUrl });
    idpKey = await createSpKeyPair('idp.attacks.test', Date.now() - 60_000, 2);
    await server.reg.federation.importIdp(ctx, { entityId: IDP, metadataXml: idpMetadata(idpKey.certificatePem), nameIdMatch: 'userName' });
    await server.reg.directory.createUser(ctx, server.init.identityStoreId, { profile: { userName: 'mallory', displayName: 'mallory', name: { givenName: 'A', familyName: 'B' } } });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
  });

  async function answer(): Promise<{ samlResponse: string; setCookie: string }> {
    const res = await fetch(`${server.url}/saml/login`, { redirect: 'manual' });
    const request = inflateRawSync(Buffer.from(new URL(res.headers.get('location')!).searchParams.get('SAMLRequest')!, 'base64')).toString('utf8');
    const requestId = /\bID="([^"]+)"/.exec(request)![1]!;
    const xml = signXml(responseXml({ requestId, nameId: 'mallory', audience: `${publicUrl}/saml/metadata`, acs: `${publicUrl}/saml/acs` }), 'Assertion', idpKey);
    return { samlResponse: Buffer.from(xml).toString('base64'), setCookie: res.headers.getSetCookie().find((c) => c.includes('atrium_saml_binding='))! };
  }
  const post = (samlResponse: string, cookie: string) =>
    fetch(`${server.url}/saml/acs`, { method: 'POST', redirect: 'manual', headers: { 'content-type': 'application/x-www-form-urlencoded', cookie }, body: new URLSearchParams({ SAMLResponse: samlResponse }).toString() });

  it('sets a __Host- cookie that survives the cross-site POST (SameSite=None; Secure), and only that name counts', async () => {
    const first = await answer();
    expect(first.setCookie).toMatch(/^__Host-atrium_saml_binding=[A-Za-z0-9_-]{43}; Max-Age=600; Path=\/; HttpOnly; SameSite=None; Secure$/);
    const value = first.setCookie.split(';')[0]!.split('=')[1]!;
    // A cookie planted from a sibling subdomain cannot carry the __Host- prefix: it is not the binding.
    const tossed = await post(first.samlResponse, `atrium_saml_binding=${value}`);
    expect(tossed.status).toBe(403);
    expect(await tossed.text()).toContain('started in another browser');
    const second = await answer();
    const ok = await post(second.samlResponse, second.setCookie.split(';')[0]!);
    expect(ok.status, await ok.text()).toBe(303);
    expect(ok.headers.getSetCookie().find((c) => c.startsWith('atrium_session='))).toMatch(/Secure/);
  });
});
