// SAML sign-in rules: the IdP configuration, this instance's SP key, the AuthnRequests we issued,
// and the checks on a verified assertion (audience, recipient, time, InResponseTo, replay, user).

import { createHash } from 'node:crypto';
import { audited, buildEvent, HIDDEN, type AuditStore } from '../audit/index.js';
import { SIGNIN_SOURCE, type AuthService, type SignInResult } from '../auth/index.js';
import type { Envelope } from '../crypto/index.js';
import type { DirectoryService } from '../directory/index.js';
import type { InstanceService } from '../instance/index.js';
import type { Principal, RequestContext } from '../shared/context.js';
import { DomainError, invalidArgument, isDomainError } from '../shared/errors.js';
import type { ServiceDeps } from '../shared/service-deps.js';
import type { NameIdMatch, SamlIdpConfig, SamlStore } from './saml-store.js';
import { createSpKeyPair } from './sp-certificate.js';

export type FederationStores = { saml: SamlStore; audit: AuditStore };

/** Clocks of the IdP and ours may disagree by this much. */
export const CLOCK_SKEW_MS = 2 * 60_000;
/** How long an AuthnRequest we issued may be answered. */
export const REQUEST_TTL_MS = 10 * 60_000;
const SP_KEY_ID = 'default';
const SP_CERT_DAYS = 3650;
const NAME_ID_MATCHES: readonly NameIdMatch[] = ['userName', 'email'];

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
  /** The Response element's own attributes (signed or not: they must agree when present). */
  responseDestination?: string;
  responseInResponseTo?: string;
}

export interface SpIdentity {
  entityId: string;
  acsUrl: string;
}

export interface SpKey {
  certificatePem: string;
  privateKeyPem: string;
}

/** A refused SAML sign-in: the code goes to the audit log, the message to the user. */
export const samlRefused = (code: string, message: string) => new DomainError('unauthenticated', `saml.${code}`, message);

export class FederationService {
  private spKeyCache?: Promise<SpKey>;

  constructor(
    private readonly deps: ServiceDeps<FederationStores> & { envelope: Envelope; instance: InstanceService; directory: DirectoryService; auth: AuthService },
  ) {}

  // ---- configuration ----

  getIdp(): Promise<SamlIdpConfig | undefined> {
    return this.deps.read.saml.findIdp();
  }

  /** Store the IdP's metadata (already parsed by the adapter, which gives its entity id). */
  importIdp(ctx: RequestContext, input: { entityId: string; metadataXml: string; nameIdMatch: NameIdMatch }): Promise<SamlIdpConfig> {
    const action = {
      eventName: 'UpdateSamlIdentityProvider',
      requestParameters: { entityId: input.entityId, nameIdMatch: input.nameIdMatch },
      responseElements: (r: SamlIdpConfig) => ({ entityId: r.entityId, nameIdMatch: r.nameIdMatch }),
    };
    return audited(this.deps, ctx, action, async (s) => {
      if (!NAME_ID_MATCHES.includes(input.nameIdMatch)) throw invalidArgument('saml.invalid_name_id_match', `The NameID must be matched by ${NAME_ID_MATCHES.join(' or ')}.`);
      if (!input.entityId || input.entityId.length > 1024) throw invalidArgument('saml.invalid_metadata', 'The metadata names no IdP entity id, or one too long.');
      const config: SamlIdpConfig = { ...input, updatedAt: this.deps.clock.now() };
      await s.saml.saveIdp(config);
      return config;
    });
  }

  /**
   * This instance's SP key and certificate: read, or made and kept sealed on first use. Two processes
   * starting at once agree: the second insert loses and reads what the first kept.
   */
  spKey(entityId: string): Promise<SpKey> {
    this.spKeyCache ??= this.loadSpKey(entityId).catch((err: unknown) => {
      this.spKeyCache = undefined;
      throw err;
    });
    return this.spKeyCache;
  }

  private async loadSpKey(entityId: string): Promise<SpKey> {
    const aad = `saml-sp-key:${SP_KEY_ID}`;
    const existing = await this.deps.read.saml.findSpKey();
    if (existing) return { certificatePem: existing.certificatePem, privateKeyPem: (await this.deps.envelope.open(existing.sealedPrivateKey, aad)).toString('utf8') };
    const now = this.deps.clock.now();
    const pair = await createSpKeyPair(entityId, now, SP_CERT_DAYS);
    const sealedPrivateKey = await this.deps.envelope.seal(pair.privateKeyPem, aad);
    const inserted = await this.deps.tx.transaction((s) => s.saml.insertSpKey({ keyId: SP_KEY_ID, certificatePem: pair.certificatePem, sealedPrivateKey, createdAt: now }));
    return inserted ? pair : this.loadSpKey(entityId);
  }

  // ---- the flow ----

  /** Remember an AuthnRequest we issued, so that its response can name it once. */
  async rememberRequest(requestId: string, returnTo: string): Promise<void> {
    const now = this.deps.clock.now();
    await this.deps.tx.transaction(async (s) => {
      await s.saml.deleteExpired(now);
      await s.saml.insertRequest({ requestId, returnTo, createdAt: now, expiresAt: now + REQUEST_TTL_MS });
    });
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
  async signIn(ctx: RequestContext, sp: SpIdentity, facts: AssertionFacts): Promise<Extract<SignInResult, { kind: 'ok' }> & { returnTo: string }> {
    let principal: Principal | undefined;
    try {
      const idp = await this.getIdp();
      if (!idp) throw samlRefused('not_configured', 'No identity provider is configured.');
      this.checkFacts(idp, sp, facts);
      const returnTo = await this.consume(facts);
      const user = await this.matchUser(idp.nameIdMatch, facts.nameId);
      principal = { type: 'IdentityCenterUser', principalId: user.userId, userName: user.userName };
      if (user.status !== 'ENABLED') throw samlRefused('user_disabled', 'Your user is disabled in Atrium.');
      const result = await this.deps.auth.signInFederated(ctx, user, 'SAML');
      return { ...result, returnTo };
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
    if (!f.inResponseTo) throw samlRefused('unsolicited', 'The assertion answers no sign-in request of ours (IdP-initiated sign-in is not supported yet).');
    if (f.responseInResponseTo !== undefined && f.responseInResponseTo !== f.inResponseTo) throw samlRefused('in_response_to_mismatch', 'The response and its assertion answer different requests.');
    if (!f.nameId) throw samlRefused('no_name_id', 'The assertion names no user.');
  }

  /** The request consumed and the assertion recorded, in one transaction: a replay finds either gone. */
  private consume(f: AssertionFacts): Promise<string> {
    const now = this.deps.clock.now();
    const ends = [f.notOnOrAfter, f.subjectNotOnOrAfter].filter((t): t is number => t !== undefined);
    // Kept until no clock could accept it any more.
    const keepUntil = Math.max(...ends) + CLOCK_SKEW_MS;
    const key = createHash('sha256').update(`${f.issuer}\n${f.assertionId}`).digest('hex');
    return this.deps.tx.transaction(async (s) => {
      if (!(await s.saml.recordAssertion(key, keepUntil))) throw samlRefused('replayed', 'This assertion was used already.');
      const request = await s.saml.consumeRequest(f.inResponseTo!, now);
      if (!request) throw samlRefused('unknown_request', 'The assertion answers a sign-in request that is unknown, expired or used already.');
      return request.returnTo;
    });
  }

  private async matchUser(match: NameIdMatch, nameId: string) {
    const instance = await this.deps.instance.get();
    const unknown = () => samlRefused('unknown_user', 'No Atrium user matches the identity the identity provider sent.');
    if (match === 'userName') {
      const user = await this.deps.directory.findUserByName(instance.identityStoreId, nameId);
      if (!user) throw unknown();
      return user;
    }
    try {
      const userId = await this.deps.directory.getUserId(instance.identityStoreId, { uniqueAttribute: { attributePath: 'emails.value', attributeValue: nameId } });
      const user = await this.deps.directory.describeUser(instance.identityStoreId, userId);
      return { identityStoreId: user.identityStoreId, userId: user.userId, userName: user.profile.userName, status: user.status };
    } catch (err) {
      if (isDomainError(err) && err.kind === 'not_found') throw unknown();
      throw err;
    }
  }
}
