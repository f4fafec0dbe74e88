// SAML sign-in rules: the IdP configuration, this instance's SP key, the AuthnRequests we issued
// (bound to the browser that asked), and the checks on a verified assertion (audience, recipient,
// time, InResponseTo or IdP-initiated, replay, user), and the principal attributes it carries (ABAC).

import { createHash, timingSafeEqual, X509Certificate } from 'node:crypto';
import { audited, buildEvent, HIDDEN, type AuditStore } from '../audit/index.js';
import { SIGNIN_SOURCE, type AuthService, type SignInResult } from '../auth/index.js';
import type { Envelope } from '../crypto/index.js';
import type { DirectoryService } from '../directory/index.js';
import type { InstanceService } from '../instance/index.js';
import type { Principal, RequestContext } from '../shared/context.js';
import { DomainError, invalidArgument, isDomainError } from '../shared/errors.js';
import type { ServiceDeps } from '../shared/service-deps.js';
import type { NameIdMatch, SamlIdpConfig, SamlIdpOptions, SamlStore } from './saml-store.js';
import { createSpKeyPair } from './sp-certificate.js';

export type FederationStores = { saml: SamlStore; audit: AuditStore };

/** Clocks of the IdP and ours may disagree by this much. */
export const CLOCK_SKEW_MS = 2 * 60_000;
/** How long an AuthnRequest we issued may be answered. */
export const REQUEST_TTL_MS = 10 * 60_000;
/** The first key's id (made on first use); later ones are `sp-` and 8 hex digits. */
const SP_KEY_ID = 'default';
const spKeyAad = (keyId: string) => `saml-sp-key:${keyId}`;
const SP_CERT_DAYS = 3650;
const NAME_ID_MATCHES: readonly NameIdMatch[] = ['userName', 'email'];

/**
 * IdP-initiated sign-in is on by default, as in AWS IAM Identity Center (users start from their IdP's
 * app portal). An unsolicited response cannot be bound to a browser, so an administrator who wants
 * login-CSRF protection turns it off.
 */
export const DEFAULT_IDP_OPTIONS: SamlIdpOptions = Object.freeze({ allowIdpInitiated: true, attributeMapping: Object.freeze({}) as Record<string, string>, jitProvisioning: false });
/** Assertion attributes named so become principal attributes as they are, as AWS takes them as session tags. */
export const AWS_ACCESS_CONTROL_PREFIX = 'https://aws.amazon.com/SAML/Attributes/AccessControl:';
/** AWS's limits on session tags: 50 per session, keys of 1–128 and values of 0–256 characters. */
export const MAX_PRINCIPAL_ATTRIBUTES = 50;
const ATTRIBUTE_KEY = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]{1,128}$/u;
const MAX_ATTRIBUTE_VALUE = 256;
const MAX_ATTRIBUTE_NAME = 1024;

/** What the SAML adapter read from the signed assertion (and the response around it). */
export interface AssertionFacts {
  issuer: string;
  assertionId: string;
  nameId: string;
  /** Each AudienceRestriction's Audience values: every restriction must name us. */
  audienceRestrictions: string[][];
  /** SubjectConfirmationData of the bearer confirmation. */
  recipient?: string;
  inResponseTo?: string;
  subjectNotOnOrAfter?: number;
  notBefore?: number;
  notOnOrAfter?: number;
  /** The AuthnStatement's SessionNotOnOrAfter: past it, the IdP's session behind the assertion is over. */
  sessionNotOnOrAfter?: number;
  /** The Response element's own attributes (signed or not: they must agree when present). */
  responseDestination?: string;
  responseInResponseTo?: string;
  /** The AttributeStatement's attributes: Name → text values. */
  attributes?: Record<string, string[]>;
}

/** What the browser that posted the response brought along. */
export interface BrowserFacts {
  /** The binding cookie's value, if the browser sent one. */
  binding?: string;
  /** Where an unsolicited (IdP-initiated) sign-in goes: a safe same-origin path from its RelayState. */
  unsolicitedReturnTo?: string;
}

const bindingHashOf = (binding: string) => createHash('sha256').update(`atrium-saml-binding:${binding}`).digest('hex');

function sameBinding(stored: string, binding: string | undefined): boolean {
  if (!stored || !binding) return false;
  const given = Buffer.from(bindingHashOf(binding));
  const expected = Buffer.from(stored);
  return given.length === expected.length && timingSafeEqual(given, expected);
}

/** Check and normalise options given by an administrator: a mapping of valid keys to attribute names. */
export function checkIdpOptions(input: Partial<SamlIdpOptions>): SamlIdpOptions {
  const mapping = input.attributeMapping ?? {};
  const entries = Object.entries(mapping);
  if (entries.length > MAX_PRINCIPAL_ATTRIBUTES) throw invalidArgument('saml.invalid_attribute_mapping', `At most ${MAX_PRINCIPAL_ATTRIBUTES} attributes can be mapped.`);
  for (const [key, name] of entries) {
    if (!ATTRIBUTE_KEY.test(key)) throw invalidArgument('saml.invalid_attribute_mapping', `The attribute key ${JSON.stringify(key.slice(0, 140))} is not a valid key (1 to 128 letters, digits, spaces and _.:/=+-@).`);
    if (typeof name !== 'string' || !name || name.length > MAX_ATTRIBUTE_NAME) throw invalidArgument('saml.invalid_attribute_mapping', `The attribute key ${key} must map to an assertion attribute name.`);
  }
  return {
    allowIdpInitiated: input.allowIdpInitiated ?? DEFAULT_IDP_OPTIONS.allowIdpInitiated,
    attributeMapping: Object.fromEntries(entries),
    jitProvisioning: input.jitProvisioning ?? DEFAULT_IDP_OPTIONS.jitProvisioning,
  };
}

/** The names IdPs give the attributes a new user needs: LDAP OIDs, their short names, and WS-Federation claims. */
const JIT_ATTRIBUTES = {
  givenName: ['urn:oid:2.5.4.42', 'givenName', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/givenname'],
  familyName: ['urn:oid:2.5.4.4', 'sn', 'surname', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/surname'],
  displayName: ['urn:oid:2.16.840.1.113730.3.1.241', 'displayName', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/name'],
  email: ['urn:oid:0.9.2342.19200300.100.1.3', 'mail', 'email', 'http://schemas.xmlsoap.org/ws/2005/05/identity/claims/emailaddress'],
} as const;

/**
 * The characters that NFC and lower-casing turn into ASCII (federation-service.test.ts derives
 * the set from every code point): GREEK QUESTION MARK, GREEK VARIA and KELVIN SIGN.
 */
export const ASCII_LOOKALIKES = /[\u037E\u1FEF\u212A]/u;

/** The profile of a user made just in time: the NameID as userName, the rest from standard attributes. */
export function jitProfileOf(match: NameIdMatch, nameId: string, attributes: Record<string, string[]> = {}) {
  const first = (names: readonly string[]) => names.map((n) => (Object.hasOwn(attributes, n) ? attributes[n]?.[0] : undefined)).find((v) => v !== undefined && v.trim() !== '')?.trim();
  const email = match === 'email' ? nameId : first(JIT_ATTRIBUTES.email);
  const givenName = first(JIT_ATTRIBUTES.givenName);
  const familyName = first(JIT_ATTRIBUTES.familyName);
  const displayName = first(JIT_ATTRIBUTES.displayName) ?? ([givenName, familyName].filter(Boolean).join(' ') || nameId);
  return {
    userName: nameId,
    displayName,
    ...(givenName || familyName ? { name: { ...(givenName ? { givenName } : {}), ...(familyName ? { familyName } : {}) } } : {}),
    ...(email ? { emails: [{ value: email, type: 'work', primary: true }] } : {}),
  };
}

/**
 * The principal attributes an assertion gives its session: the configured mapping first, then
 * AWS's `AccessControl:<Key>` attributes, which win (as in IAM Identity Center). A mapped attribute
 * with several values, a bad key or value, or too many, refuse the sign-in: a policy must never see
 * a guess.
 */
export function principalAttributesOf(options: SamlIdpOptions, attributes: Record<string, string[]> = {}): Record<string, string> {
  const result = new Map<string, string>();
  const take = (key: string, name: string) => {
    const values = Object.hasOwn(attributes, name) ? attributes[name] : undefined;
    if (!Array.isArray(values) || values.length === 0) return;
    if (values.length > 1) throw samlRefused('invalid_attribute', `The attribute ${name.slice(0, 200)} has several values; an attribute for access control must have one.`);
    if (!ATTRIBUTE_KEY.test(key)) throw samlRefused('invalid_attribute', `The attribute ${name.slice(0, 200)} names an invalid key for access control.`);
    if (values[0]!.length > MAX_ATTRIBUTE_VALUE) throw samlRefused('invalid_attribute', `The attribute ${name.slice(0, 200)} has a value longer than ${MAX_ATTRIBUTE_VALUE} characters.`);
    result.set(key, values[0]!);
  };
  for (const [key, name] of Object.entries(options.attributeMapping)) take(key, name);
  for (const name of Object.keys(attributes)) if (name.startsWith(AWS_ACCESS_CONTROL_PREFIX)) take(name.slice(AWS_ACCESS_CONTROL_PREFIX.length), name);
  if (result.size > MAX_PRINCIPAL_ATTRIBUTES) throw samlRefused('invalid_attribute', `The assertion carries more than ${MAX_PRINCIPAL_ATTRIBUTES} attributes for access control.`);
  return Object.fromEntries(result);
}

export interface SpIdentity {
  entityId: string;
  acsUrl: string;
}

export interface SpKey {
  certificatePem: string;
  privateKeyPem: string;
  /** Earlier keys' certificates, newest first: still in our metadata until they are retired. */
  previousCertificatesPem?: string[];
}

/** An SP key as `atrium saml sp-key` shows it: never its private half. */
export interface SpKeySummary {
  keyId: string;
  current: boolean;
  /** SHA-256 of the certificate's DER, as colon-separated hex (what IdPs show). */
  certificateSha256: string;
  notAfter: string;
  createdAt: string;
}

const summaryOf = (k: { keyId: string; certificatePem: string; createdAt: number }, current: boolean): SpKeySummary => {
  const cert = new X509Certificate(k.certificatePem);
  return { keyId: k.keyId, current, certificateSha256: cert.fingerprint256, notAfter: new Date(cert.validTo).toISOString(), createdAt: new Date(k.createdAt).toISOString() };
};

/** A refused SAML sign-in: the code goes to the audit log, the message to the user. */
export const samlRefused = (code: string, message: string) => new DomainError('unauthenticated', `saml.${code}`, message);

export class FederationService {
  private spKeyCache?: { version: string; key: Promise<SpKey> };

  constructor(
    private readonly deps: ServiceDeps<FederationStores> & { envelope: Envelope; instance: InstanceService; directory: DirectoryService; auth: AuthService },
  ) {}

  // ---- configuration ----

  getIdp(): Promise<SamlIdpConfig | undefined> {
    return this.deps.read.saml.findIdp();
  }

  /**
   * Store the IdP's metadata (already parsed by the adapter, which gives its entity id). Options not
   * given keep their earlier value, or take the defaults.
   */
  importIdp(ctx: RequestContext, input: { entityId: string; metadataXml: string; nameIdMatch: NameIdMatch; options?: Partial<SamlIdpOptions> }): Promise<SamlIdpConfig> {
    const action = {
      eventName: 'UpdateSamlIdentityProvider',
      requestParameters: { entityId: input.entityId, nameIdMatch: input.nameIdMatch, options: input.options },
      responseElements: (r: SamlIdpConfig) => ({ entityId: r.entityId, nameIdMatch: r.nameIdMatch, options: r.options }),
    };
    return audited(this.deps, ctx, action, async (s) => {
      if (!NAME_ID_MATCHES.includes(input.nameIdMatch)) throw invalidArgument('saml.invalid_name_id_match', `The NameID must be matched by ${NAME_ID_MATCHES.join(' or ')}.`);
      if (!input.entityId || input.entityId.length > 1024) throw invalidArgument('saml.invalid_metadata', 'The metadata names no IdP entity id, or one too long.');
      const earlier = (await s.saml.findIdp())?.options ?? DEFAULT_IDP_OPTIONS;
      const options = checkIdpOptions({ ...earlier, ...input.options });
      const config: SamlIdpConfig = { entityId: input.entityId, metadataXml: input.metadataXml, nameIdMatch: input.nameIdMatch, options, updatedAt: this.deps.clock.now() };
      await s.saml.saveIdp(config);
      return config;
    });
  }

  /**
   * This instance's SP key and certificate: read, or made and kept sealed on first use. Two processes
   * starting at once agree: the second insert loses and reads what the first kept. Kept in memory
   * while the keys stay as they are (one cheap read a use tells), so a rotation made by another
   * process (`atrium saml sp-key rotate`) is used from the next sign-in on.
   */
  async spKey(entityId: string): Promise<SpKey> {
    const version = await this.deps.read.saml.spKeysVersion();
    if (this.spKeyCache?.version !== version) {
      const key = this.loadSpKey(entityId).catch((err: unknown) => {
        this.spKeyCache = undefined;
        throw err;
      });
      this.spKeyCache = { version, key };
    }
    return this.spKeyCache.key;
  }

  private async loadSpKey(entityId: string): Promise<SpKey> {
    const [current, ...previous] = await this.deps.read.saml.listSpKeys();
    if (current) {
      const privateKeyPem = (await this.deps.envelope.open(current.sealedPrivateKey, spKeyAad(current.keyId))).toString('utf8');
      return { certificatePem: current.certificatePem, privateKeyPem, previousCertificatesPem: previous.map((k) => k.certificatePem) };
    }
    const now = this.deps.clock.now();
    const pair = await createSpKeyPair(entityId, now, SP_CERT_DAYS);
    const sealedPrivateKey = await this.deps.envelope.seal(pair.privateKeyPem, spKeyAad(SP_KEY_ID));
    const inserted = await this.deps.tx.transaction((s) => s.saml.insertSpKey({ keyId: SP_KEY_ID, certificatePem: pair.certificatePem, sealedPrivateKey, createdAt: now }));
    return inserted ? pair : this.loadSpKey(entityId);
  }

  /** The SP keys, the current one first. */
  async spKeys(): Promise<SpKeySummary[]> {
    return (await this.deps.read.saml.listSpKeys()).map((k, i) => summaryOf(k, i === 0));
  }

  /**
   * A new SP key becomes the current one: AuthnRequests are signed with it from now on, and our
   * metadata lists it first, the earlier ones after it until they are retired, so an IdP that
   * reads our metadata again trusts both meanwhile. For a key that leaked, or a certificate near
   * its end.
   */
  async rotateSpKey(ctx: RequestContext, entityId: string): Promise<SpKeySummary> {
    const keyId = `sp-${this.deps.ids.uuid().slice(0, 8)}`;
    // Made and sealed before the transaction: an RSA key takes long enough to hold the writer up.
    const now = this.deps.clock.now();
    const pair = await createSpKeyPair(entityId, now, SP_CERT_DAYS);
    const sealedPrivateKey = await this.deps.envelope.seal(pair.privateKeyPem, spKeyAad(keyId));
    const action = {
      eventName: 'RotateSamlServiceProviderKey',
      requestParameters: {},
      responseElements: (r: SpKeySummary) => ({ keyId: r.keyId, certificateSha256: r.certificateSha256, notAfter: r.notAfter }),
    };
    const rotated = await audited(this.deps, ctx, action, async (s) => {
      // Newer than every key there, whatever the clocks of the processes that made them.
      const newest = (await s.saml.listSpKeys())[0]?.createdAt ?? 0;
      const createdAt = Math.max(now, newest + 1);
      await s.saml.insertSpKey({ keyId, certificatePem: pair.certificatePem, sealedPrivateKey, createdAt });
      return summaryOf({ keyId, certificatePem: pair.certificatePem, createdAt }, true);
    });
    this.spKeyCache = undefined;
    return rotated;
  }

  /** Delete every SP key but the current one: our metadata then lists it alone. */
  async retireSpKeys(ctx: RequestContext): Promise<{ currentKeyId: string | null; retiredKeyIds: string[] }> {
    const action = { eventName: 'RetireSamlServiceProviderKeys', requestParameters: {}, responseElements: (r: { currentKeyId: string | null; retiredKeyIds: string[] }) => r };
    const retired = await audited(this.deps, ctx, action, async (s) => {
      const current = (await s.saml.listSpKeys())[0];
      return { currentKeyId: current?.keyId ?? null, retiredKeyIds: current ? await s.saml.deleteSpKeysExcept(current.keyId) : [] };
    });
    this.spKeyCache = undefined;
    return retired;
  }

  // ---- the flow ----

  /**
   * Remember an AuthnRequest we issued, so that its response can name it once, from the browser
   * holding `binding` (the value of a cookie set with the redirect; only its hash is kept).
   */
  async rememberRequest(requestId: string, returnTo: string, binding: string): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.tx.transaction(async (s) => {
      await s.saml.deleteExpired(now);
      await s.saml.insertRequest({ requestId, returnTo, browserBinding: bindingHashOf(binding), createdAt: now, expiresAt: now + REQUEST_TTL_MS });
    });
  }

  /**
   * The principal attributes of a portal session a SAML sign-in opened (empty for other sessions):
   * what a policy reads as `aws:PrincipalTag/<Key>`.
   */
  async principalAttributes(sessionId: string): Promise<Record<string, string>> {
    return (await this.deps.read.saml.findSessionAttributes(sessionId, this.deps.clock.now())) ?? {};
  }

  /** Audit a refusal the adapter found before there were facts to check (bad XML, bad signature). */
  recordRefusal(ctx: RequestContext, err: DomainError): Promise<void> {
    return this.auditFailure(ctx, err);
  }

  private async auditFailure(ctx: RequestContext, err: DomainError, nameId?: string, principal?: Principal): Promise<void> {
    const signInCtx = { ...ctx, eventSource: SIGNIN_SOURCE, principal: principal ?? { type: 'Unknown', principalId: 'unknown', userName: HIDDEN } };
    await this.deps.tx.transaction((s) =>
      s.audit.appendEvent(
        buildEvent(signInCtx, this.deps, 'CredentialVerification', { userName: nameId ?? HIDDEN, identityProvider: 'SAML' }, { errorCode: err.code, errorMessage: err.message }),
      ),
    );
  }

  /**
   * Check a verified assertion, consume the request it answers, record its id, and open a portal
   * session for the user its NameID names. Every refusal is audited and thrown as a DomainError.
   */
  async signIn(
    ctx: RequestContext,
    sp: SpIdentity,
    facts: AssertionFacts,
    browser: BrowserFacts = {},
  ): Promise<Extract<SignInResult, { kind: 'ok' }> & { returnTo: string; principalAttributes: Record<string, string> }> {
    let principal: Principal | undefined;
    try {
      const idp = await this.getIdp();
      if (!idp) throw samlRefused('not_configured', 'No identity provider is configured.');
      this.checkFacts(idp, sp, facts);
      const attributes = principalAttributesOf(idp.options, facts.attributes);
      const returnTo = await this.consume(facts, browser);
      const user = await this.matchOrCreateUser(ctx, idp, facts);
      principal = { type: 'IdentityCenterUser', principalId: user.userId, userName: user.userName };
      if (user.status !== 'ENABLED') throw samlRefused('user_disabled', 'Your user is disabled in Atrium.');
      // The session and its attributes in one transaction (auth's joins this one).
      const result = await this.deps.tx.transaction(async (s) => {
        // AWS: the portal session lasts the shorter of its configured duration and the IdP's session.
        const opened = await this.deps.auth.signInFederated(ctx, user, 'SAML', facts.sessionNotOnOrAfter);
        if (Object.keys(attributes).length > 0) await s.saml.insertSessionAttributes(opened.session.sessionId, attributes, opened.session.expiresAt);
        return opened;
      });
      return { ...result, returnTo, principalAttributes: attributes };
    } catch (err) {
      if (isDomainError(err) && err.kind === 'unauthenticated') await this.auditFailure(ctx, err, facts.nameId, principal);
      throw err;
    }
  }

  private checkFacts(idp: SamlIdpConfig, sp: SpIdentity, f: AssertionFacts): void {
    const now = this.deps.clock.now();
    if (f.issuer !== idp.entityId) throw samlRefused('issuer_mismatch', 'The assertion was issued by another identity provider.');
    if (f.audienceRestrictions.length === 0 || !f.audienceRestrictions.every((r) => r.includes(sp.entityId))) throw samlRefused('audience_mismatch', 'The assertion is meant for another service provider (audience).');
    if (f.recipient !== sp.acsUrl) throw samlRefused('recipient_mismatch', 'The assertion is meant for another address (recipient).');
    if (f.responseDestination !== undefined && f.responseDestination !== sp.acsUrl) throw samlRefused('destination_mismatch', 'The response is meant for another address (destination).');
    if (f.notBefore !== undefined && now + CLOCK_SKEW_MS < f.notBefore) throw samlRefused('not_yet_valid', 'The assertion is not valid yet.');
    const ends = [f.notOnOrAfter, f.subjectNotOnOrAfter].filter((t): t is number => t !== undefined);
    if (ends.length === 0) throw samlRefused('no_expiry', 'The assertion has no NotOnOrAfter time.');
    if (ends.some((t) => now - CLOCK_SKEW_MS >= t)) throw samlRefused('expired', 'The assertion has expired.');
    if (f.sessionNotOnOrAfter !== undefined && now - CLOCK_SKEW_MS >= f.sessionNotOnOrAfter) throw samlRefused('expired', "The identity provider's session behind the assertion has expired.");
    if (f.responseInResponseTo !== undefined && f.responseInResponseTo !== f.inResponseTo) throw samlRefused('in_response_to_mismatch', 'The response and its assertion answer different requests.');
    if (!f.inResponseTo && !idp.options.allowIdpInitiated) {
      throw samlRefused('unsolicited', 'The assertion answers no sign-in request of ours, and sign-in started at the identity provider is turned off. Start from the Atrium sign-in page.');
    }
    if (!f.nameId) throw samlRefused('no_name_id', 'The assertion names no user.');
  }

  /**
   * The request consumed and the assertion recorded, in one transaction: a replay finds either gone.
   * A solicited response must come back through the browser its request was issued to (login CSRF);
   * when it does not, both stay used up, and the refusal comes after the commit.
   */
  private async consume(f: AssertionFacts, browser: BrowserFacts): Promise<string> {
    const now = this.deps.clock.now();
    const ends = [f.notOnOrAfter, f.subjectNotOnOrAfter].filter((t): t is number => t !== undefined);
    // Kept until no clock could accept it any more.
    const keepUntil = Math.max(...ends) + CLOCK_SKEW_MS;
    const key = createHash('sha256').update(`${f.issuer}\n${f.assertionId}`).digest('hex');
    const outcome = await this.deps.tx.transaction(async (s) => {
      if (!(await s.saml.recordAssertion(key, keepUntil))) throw samlRefused('replayed', 'This assertion was used already.');
      if (!f.inResponseTo) return { returnTo: browser.unsolicitedReturnTo ?? '/', sameBrowser: true };
      const request = await s.saml.consumeRequest(f.inResponseTo, now);
      if (!request) throw samlRefused('unknown_request', 'The assertion answers a sign-in request that is unknown, expired or used already.');
      return { returnTo: request.returnTo, sameBrowser: sameBinding(request.browserBinding, browser.binding) };
    });
    if (!outcome.sameBrowser) throw samlRefused('browser_mismatch', 'This sign-in was started in another browser (or its sign-in cookie expired). Start again from the sign-in page.');
    return outcome.returnTo;
  }

  /**
   * The user the NameID names; with just-in-time creation on, an unknown one is created first from
   * the assertion's attributes (a sign-in racing to create the same user finds the winner's).
   */
  private async matchOrCreateUser(ctx: RequestContext, idp: SamlIdpConfig, facts: AssertionFacts) {
    try {
      return await this.matchUser(idp.nameIdMatch, facts.nameId);
    } catch (err) {
      if (!(idp.options.jitProvisioning && isDomainError(err) && err.code === 'saml.unknown_user')) throw err;
    }
    const instance = await this.deps.instance.get();
    const creator: Principal = { type: 'Atrium', principalId: 'saml-jit', userName: 'SAML just-in-time provisioning' };
    try {
      await this.deps.directory.createUser({ ...ctx, principal: creator }, instance.identityStoreId, { profile: jitProfileOf(idp.nameIdMatch, facts.nameId, facts.attributes) });
    } catch (err) {
      if (isDomainError(err) && err.kind === 'invalid_argument') throw samlRefused('jit_refused', `Atrium could not create your user from what the identity provider sent: ${err.message}`);
      if (!(isDomainError(err) && err.kind === 'already_exists')) throw err;
    }
    return this.matchUser(idp.nameIdMatch, facts.nameId);
  }

  private async matchUser(match: NameIdMatch, nameId: string) {
    // The directory matches names and e-mails after NFC and lower-casing, which turns these few
    // characters into ASCII ones: the KELVIN SIGN reads as "k". To an IdP comparing exactly, "\u212Aate" is
    // another account than "kate", and must not sign in as her.
    if (ASCII_LOOKALIKES.test(nameId)) throw samlRefused('confusable_name_id', 'The identity provider sent a user name holding a character that Atrium reads as another (such as the Kelvin sign for "k"). Ask for the plain name.');
    const instance = await this.deps.instance.get();
    const unknown = () => samlRefused('unknown_user', 'No Atrium user matches the identity the identity provider sent.');
    if (match === 'userName') {
      const user = await this.deps.directory.findUserByName(instance.identityStoreId, nameId);
      if (!user) throw unknown();
      return user;
    }
    // Emails are not unique in the directory: an email two users share names neither of them, or the
    // sign-in of one would open the other's account.
    const userIds = await this.deps.directory.userIdsByEmail(instance.identityStoreId, nameId);
    if (userIds.length > 1) throw samlRefused('ambiguous_user', 'More than one Atrium user has the email the identity provider sent. An administrator must make it unique.');
    if (userIds.length === 0) throw unknown();
    try {
      const user = await this.deps.directory.describeUser(instance.identityStoreId, userIds[0]!);
      return { identityStoreId: user.identityStoreId, userId: user.userId, userName: user.profile.userName, status: user.status };
    } catch (err) {
      if (isDomainError(err) && err.kind === 'not_found') throw unknown();
      throw err;
    }
  }
}
