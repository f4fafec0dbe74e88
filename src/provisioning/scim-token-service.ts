// SCIM bearer tokens: issued once and kept only as a SHA-256, at most two live at a time, and every
// use (accepted or refused) is on the audit record, in the same transaction as its last-used mark.

import { createHash } from 'node:crypto';
import { audited, buildEvent, type AuditStore } from '../audit/index.js';
import type { Principal, RequestContext } from '../shared/context.js';
import { DomainError, failedPrecondition, invalidArgument, notFound } from '../shared/errors.js';
import type { ServiceDeps } from '../shared/service-deps.js';
import type { ScimTokenRecord, ScimTokenStore } from './scim-token-store.js';

export type ScimTokenStores = { scimTokens: ScimTokenStore; audit: AuditStore };

/** Where the SCIM 2.0 API is served, under the public URL. */
export const SCIM_PATH = '/scim/v2';
/** The CloudTrail event source of bearer-token management on AWS. */
export const SCIM_ADMIN_SOURCE = 'sso-directory.amazonaws.com';
export const MAX_ACTIVE_SCIM_TOKENS = 2;
export const DEFAULT_SCIM_TOKEN_DAYS = 365;
export const MAX_SCIM_TOKEN_DAYS = 730;

/** A recognisable prefix lets secret scanners find a leaked token; 32 random bytes follow. */
const TOKEN_PREFIX = 'atrium_scim_';
const TOKEN_SHAPE = /^atrium_scim_[0-9a-f]{64}$/;
const DAY_MS = 86_400_000;

/** What anyone may see of a token: never the secret, nor its hash. */
export interface ScimTokenInfo {
  tokenId: string;
  createdAt: number;
  expiresAt: number;
  lastUsedAt: number | null;
  active: boolean;
}

export interface IssuedScimToken {
  tokenId: string;
  /** Shown once: only its hash is kept. */
  token: string;
  expiresAt: number;
}

export interface AuthenticatedScimToken extends ScimTokenInfo {
  /** Who the SCIM requests made with this token are recorded as. */
  principal: Principal;
}

/** Refusals audited one by one per source address and minute; beyond them, one summary event. */
export const AUDITED_REFUSALS_PER_MINUTE = 20;
const REFUSAL_WINDOW_MS = 60_000;
/** Addresses tracked at once; past this the oldest windows are forgotten (they only cost audit rows). */
const MAX_TRACKED_ADDRESSES = 10_000;

const hashOf = (token: string) => createHash('sha256').update(token).digest('hex');
const tokenNotFound = (tokenId: string) =>
  notFound('scim.token_not_found', `The SCIM bearer token ${tokenId} does not exist.`, { resourceType: 'BEARER_TOKEN', resourceId: tokenId });
const invalidToken = () => new DomainError('unauthenticated', 'scim.token_invalid', 'The SCIM bearer token is not valid.');
const expiredToken = () => new DomainError('unauthenticated', 'scim.token_expired', 'The SCIM bearer token has expired.');
export const scimTokenPrincipal = (tokenId: string): Principal => ({ type: 'ScimBearerToken', principalId: tokenId });

/**
 * For `AuditDeps.callerStands`: a change made with a SCIM token commits only if the token still
 * stands in the change's own transaction, and holds it there until the commit. A token deleted (or
 * expired) after its request was accepted lets that request change nothing.
 */
export const scimTokenStands =
  (tokens: Pick<ScimTokenStore, 'tokenActive'>, now: () => number) =>
  async (principal: Principal): Promise<void> => {
    if (principal.type !== 'ScimBearerToken') return;
    if (!(await tokens.tokenActive(principal.principalId, now(), { holdUntilCommit: true }))) {
      throw new DomainError('unauthenticated', 'scim.token_revoked', 'The SCIM bearer token was deleted or expired while this request ran.');
    }
  };

/** Whole days from 1 to MAX_SCIM_TOKEN_DAYS. */
export function isValidExpiryDays(days: number): boolean {
  return Number.isInteger(days) && days >= 1 && days <= MAX_SCIM_TOKEN_DAYS;
}

const refusalsThrottled = (retryAfterSeconds: number) =>
  new DomainError('throttled', 'scim.refusals_throttled', `Too many refused SCIM bearer tokens from this address. Retry after ${retryAfterSeconds} seconds.`, { retryAfterSeconds });

export class ScimTokenService {
  /**
   * Refused tokens per source address in the current minute. Past the budget a refusal is answered
   * with 429 and is not audited again, so that guessing tokens cannot flood the audit log. A valid
   * token is never held back: an IdP may share its address with whoever is guessing.
   */
  private readonly refusals = new Map<string, { windowStart: number; count: number }>();

  constructor(private readonly deps: ServiceDeps<ScimTokenStores>) {}

  private info(r: ScimTokenRecord, now = this.deps.clock.now()): ScimTokenInfo {
    return { tokenId: r.tokenId, createdAt: r.createdAt, expiresAt: r.expiresAt, lastUsedAt: r.lastUsedAt, active: r.expiresAt > now };
  }

  /** Issue a token; refused while MAX_ACTIVE_SCIM_TOKENS unexpired ones exist. */
  createToken(ctx: RequestContext, opts: { expiresInDays?: number } = {}): Promise<IssuedScimToken> {
    const days = opts.expiresInDays ?? DEFAULT_SCIM_TOKEN_DAYS;
    // Event field names avoid "token": the audit log hides any field named so.
    const action = { eventName: 'CreateBearerToken', requestParameters: { expiresInDays: days }, responseElements: (r: IssuedScimToken) => ({ id: r.tokenId, expiresAt: r.expiresAt }) };
    return audited(this.deps, ctx, action, async (s) => {
      if (!isValidExpiryDays(days)) throw invalidArgument('scim.invalid_expiry', `The expiry must be a whole number of days from 1 to ${MAX_SCIM_TOKEN_DAYS}.`);
      const now = this.deps.clock.now();
      const token = TOKEN_PREFIX + this.deps.ids.bytes(32).toString('hex');
      const record: ScimTokenRecord = { tokenId: this.deps.ids.uuid(), tokenHash: hashOf(token), createdAt: now, expiresAt: now + days * DAY_MS, lastUsedAt: null };
      await s.scimTokens.releaseExpiredSlots(now);
      if (!(await s.scimTokens.insertTokenInFreeSlot(record, MAX_ACTIVE_SCIM_TOKENS))) {
        throw failedPrecondition('scim.token_limit', `At most ${MAX_ACTIVE_SCIM_TOKENS} SCIM bearer tokens can be active at once. Delete one before creating another.`);
      }
      return { tokenId: record.tokenId, token, expiresAt: record.expiresAt };
    });
  }

  /** Every token, expired ones included (inactive), oldest first. */
  async listTokens(): Promise<ScimTokenInfo[]> {
    const now = this.deps.clock.now();
    return (await this.deps.read.scimTokens.listTokens()).map((r) => this.info(r, now));
  }

  /**
   * Whether the token a request was accepted with still stands (not deleted, not expired): a long
   * request (/Bulk) asks again as it goes, so that deleting a leaked token stops it at once.
   */
  stillActive(principal: Principal): Promise<boolean> {
    if (principal.type !== 'ScimBearerToken') return Promise.resolve(true);
    return this.deps.read.scimTokens.tokenActive(principal.principalId, this.deps.clock.now());
  }

  async deleteToken(ctx: RequestContext, tokenId: string): Promise<void> {
    await audited(this.deps, ctx, { eventName: 'DeleteBearerToken', requestParameters: { id: tokenId } }, async (s) => {
      if (!(await s.scimTokens.deleteToken(tokenId))) throw tokenNotFound(tokenId);
    });
  }

  /**
   * The token a SCIM request's bearer names, or an `unauthenticated` DomainError. Each call writes
   * one audit event: a refusal in one short transaction, an acceptance with the token's last use.
   */
  async authenticate(ctx: RequestContext, bearer: string): Promise<AuthenticatedScimToken> {
    const { token, recorded } = await this.beginUse(ctx, bearer);
    await recorded;
    return token;
  }

  /**
   * `authenticate`, without waiting for an accepted use to be recorded: a refusal is recorded and
   * thrown before this returns; an accepted token is returned at once, with `recorded`, which settles
   * once its use (the audit event and the last-used mark) is durable, or rejects if the token was
   * deleted in between. The caller serves the request meanwhile and must await `recorded` before it
   * answers, so that no answer leaves without its use on the record.
   */
  async beginUse(ctx: RequestContext, bearer: string): Promise<{ token: AuthenticatedScimToken; recorded: Promise<void> }> {
    const now = this.deps.clock.now();
    // The lookup is by the hash of a 256-bit secret, so its timing says nothing useful about the secret.
    const found = TOKEN_SHAPE.test(bearer) ? await this.deps.read.scimTokens.findTokenByHash(hashOf(bearer)) : undefined;
    if (!found || found.expiresAt <= now) {
      const budget = this.countRefusal(ctx.sourceIp, now);
      if (budget.over && !budget.firstOver) throw refusalsThrottled(budget.retryAfterSeconds);
      const err = found ? expiredToken() : invalidToken();
      const requestParameters = found ? { id: found.tokenId } : {};
      // The first refusal over the budget is audited as the throttle, and those after it not at all.
      const recorded = budget.firstOver ? refusalsThrottled(budget.retryAfterSeconds) : err;
      await this.deps.tx.transaction((s) =>
        s.audit.appendEvent(buildEvent(ctx, this.deps, 'AuthenticateBearerToken', requestParameters, { errorCode: recorded.code, errorMessage: recorded.message })),
      );
      throw recorded;
    }
    const principal = scimTokenPrincipal(found.tokenId);
    const action = { eventName: 'AuthenticateBearerToken', requestParameters: { id: found.tokenId } };
    const recorded = audited(this.deps, { ...ctx, principal }, action, async (s) => {
      // Deleted or expired since the lookup: refused, and this transaction writes nothing.
      if (!(await s.scimTokens.touchToken(found.tokenId, now))) throw invalidToken();
    });
    // Observed here so that a rejection before the caller awaits it is not reported as unhandled.
    recorded.catch(() => undefined);
    return { token: { ...this.info({ ...found, lastUsedAt: now }, now), principal }, recorded };
  }

  /** Counts a refusal from `address`: whether it is over this minute's budget, and the first one over. */
  private countRefusal(address: string, now: number): { over: boolean; firstOver: boolean; retryAfterSeconds: number } {
    let entry = this.refusals.get(address);
    if (!entry || now - entry.windowStart >= REFUSAL_WINDOW_MS) {
      if (!entry && this.refusals.size >= MAX_TRACKED_ADDRESSES) {
        // Maps keep insertion order: the first keys are the longest tracked.
        for (const key of [...this.refusals.keys()].slice(0, MAX_TRACKED_ADDRESSES / 10)) this.refusals.delete(key);
      }
      entry = { windowStart: now, count: 0 };
      this.refusals.set(address, entry);
    }
    entry.count++;
    const retryAfterSeconds = Math.max(1, Math.ceil((entry.windowStart + REFUSAL_WINDOW_MS - now) / 1000));
    return { over: entry.count > AUDITED_REFUSALS_PER_MINUTE, firstOver: entry.count === AUDITED_REFUSALS_PER_MINUTE + 1, retryAfterSeconds };
  }
}
