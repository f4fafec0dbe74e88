// Sign-in: passwords (argon2id, policy, history), the sign-in throttle and portal sessions.
// Nothing here says whether a user exists: unknown users are verified against a dummy hash.

import { hash as digest, randomBytes } from 'node:crypto';
import { audited, buildEvent, HIDDEN, type AuditedAction, type AuditStore } from '../audit/index.js';
import type { RevocationService } from '../credentials/index.js';
import { uniqueKeyOf, type DirectoryService, type UserSummary } from '../directory/index.js';
import type { InstanceRecord, InstanceService, SignInProtection } from '../instance/index.js';
import type { Principal, RequestContext } from '../shared/context.js';
import { DomainError, invalidArgument, isDomainError, notFound } from '../shared/errors.js';
import { hex } from '../shared/ids.js';
import { pageThrough, type Page, type PageRequest } from '../shared/pagination.js';
import type { ServiceDeps } from '../shared/service-deps.js';
import type { AuthStore, SessionRecord, ThrottleState } from './auth-store.js';
import { CHALLENGE_EXPIRED, type MfaService, type MfaUser, type ProofResult, type RelyingParty, type SecondFactorProof } from './mfa-service.js';
import type { MfaFlowRecord, MfaFlowState, MfaStore } from './mfa-store.js';
import { hashPassword, matchesAny, verifyPassword } from './password-hash.js';
import { checkPassword, generatePassword } from './password-policy.js';

export type AuthStores = { auth: AuthStore; audit: AuditStore; mfa: MfaStore };

/** The OAuth grants a portal session approved (device codes, consents): they end with it. */
export interface SessionGrants {
  endGrantsOfSessions(sessionIds: readonly string[]): Promise<void>;
}

export const SIGNIN_SOURCE = 'signin.amazonaws.com';
export const PORTAL_SOURCE = 'sso.amazonaws.com';

/** What other modules learn from a portal session cookie. */
export interface PortalSession {
  sessionId: string;
  /** When the session passed a second factor; null if it never did. */
  mfaAt: number | null;
  userId: string;
  userName: string;
  expiresAt: number;
}

export type SignInResult =
  | { kind: 'ok'; token: string; session: SessionRecord }
  | { kind: 'failed'; message?: string }
  | { kind: 'throttled'; retryAfterSeconds: number }
  /** The password was right; a second factor is next (CHALLENGE), or a device must be registered first (REGISTER). */
  | { kind: 'mfa'; flowToken: string; state: MfaFlowState; expiresAt: number }
  /** The password was right, MFA is required and the user has no device: the settings block them. */
  | { kind: 'mfa_blocked' };

/** A sign-in that passed its password and waits for its second factor. */
export type WaitingFlow = MfaFlowRecord & { user: MfaUser };

/** What an MFA reset did: the devices deleted and the sessions it ended. */
export interface MfaReset {
  deletedDeviceIds: string[];
  revokedSessionIds: string[];
}

/** A finished sign-in, and the token that lets this browser skip MFA next time (context-aware mode). */
export type SignedIn = Extract<SignInResult, { kind: 'ok' }> & { rememberToken?: string };

/** SHA-256 (hex) of a cookie value: what the database keeps of it (one-shot: no Hash object made). */
const tokenHashOf = (token: string) => digest('sha256', token, 'hex');
/** Folded as the directory folds names (NFC, lower case): every spelling that names the user counts against it. */
const userKey = (userName: string) => `user:${uniqueKeyOf(userName)}`;
const ipKey = (ip: string) => `ip:${ip}`;
/** The wrong second-factor answers of one sign-in flow. */
const flowKey = (flowId: string) => `flow:${flowId}`;
/** The most sessions one page of the administrators' list holds (and its default). */
export const MAX_SESSIONS_PAGE = 100;
const sessionNotFound = () => notFound('auth.session_not_found', 'The session does not exist or has ended.', { resourceType: 'SESSION' });
const EXPIRED = 'This sign-in expired: start again.';
const REPLAYED = 'This code or challenge expired or was used already: try again.';
/** How long a sign-in may wait between its password and its second factor. */
const MFA_FLOW_MS = 10 * 60_000;
export const PASSKEYS_OFF = 'Sign-in with a passkey is turned off here: you sign in with your identity provider.';
const TOO_MANY = 'Too many wrong answers: sign in again.';
/** Wrong second-factor answers a sign-in flow takes before it ends: the user's free failures, or 5. */
const flowAttemptsOf = (p: SignInProtection) => (p.userFreeFailures > 0 ? p.userFreeFailures : 5);
/** Rolls back the counting of an attempt made while a key was locked. */
/** Refused: a throttle key was locked before this attempt was counted (until then, in ms). */
class Locked extends Error {
  constructor(readonly until = 0) {
    super('locked');
  }
}
type AuditEvent = ReturnType<typeof buildEvent>;
/** A password attempt's throttle keys: its address, and the user name typed. */
type AttemptKeys = readonly [ip: string, user: string];
/** The latest lock of some throttle states (0 when none is locked). */
const latestLock = (states: ReadonlyMap<string, ThrottleState>) => {
  let until = 0;
  for (const s of states.values()) until = Math.max(until, s.lockedUntil);
  return until;
};
type Limit = [key: string, free: number, lockout: number];
type Failure = { errorCode: string; errorMessage: string };
type AcceptedProof = Extract<ProofResult, { ok: true }>;
/** Why a second factor was refused: `endFlow` ends its sign-in flow; `quiet` answers without an audit event (the flow ended elsewhere). */
class Refusal {
  constructor(
    readonly errorCode: string,
    readonly errorMessage: string,
    readonly opts: { endFlow?: boolean; quiet?: boolean } = {},
  ) {}
}
const challengeExpired = new Refusal(CHALLENGE_EXPIRED.code, CHALLENGE_EXPIRED.message);
const flowGone = new Refusal('mfa.flow_expired', EXPIRED, { quiet: true });

/**
 * How long a key is locked after its n-th failure: nothing while failures are free, then a back-off
 * that doubles with each failure, then the lock-out once the lock-out threshold is reached.
 */
export function lockMsAfter(failures: number, free: number, lockout: number, p: SignInProtection): number {
  if (failures >= lockout) return p.lockoutMinutes * 60_000;
  if (failures < free) return 0;
  return Math.min(p.backoffMaxSeconds, p.backoffBaseSeconds * 2 ** Math.min(30, failures - free)) * 1000;
}

export class AuthService {
  /** Verified for unknown users, so that they cost the same time as known ones. */
  private dummyHash?: Promise<string>;

  constructor(
    private readonly deps: ServiceDeps<AuthStores> & { instance: InstanceService; directory: DirectoryService; revocation: RevocationService; grants: SessionGrants; mfa: MfaService },
  ) {}

  private get read(): AuthStore {
    return this.deps.read.auth;
  }

  private dummy(): Promise<string> {
    this.dummyHash ??= hashPassword(randomBytes(16).toString('hex'));
    return this.dummyHash;
  }

  /** The user of the identity store with that user name, or undefined. */
  private async findUser(instance: InstanceRecord, userName: string) {
    try {
      const userId = await this.deps.directory.getUserId(instance.identityStoreId, { uniqueAttribute: { attributePath: 'userName', attributeValue: userName } });
      return await this.deps.directory.describeUser(instance.identityStoreId, userId);
    } catch (err) {
      if (isDomainError(err) && err.kind === 'not_found') return undefined;
      throw err;
    }
  }

  private async requireUser(instance: InstanceRecord, userName: string) {
    const user = await this.findUser(instance, userName);
    if (!user) throw notFound('directory.user_not_found', `User ${userName} does not exist.`, { resourceType: 'USER', resourceId: userName });
    return user;
  }

  /** Reject `password` by the policy, and if it is one of the user's last passwords. */
  private async checkNewPassword(instance: InstanceRecord, identityStoreId: string, userId: string, password: string): Promise<string[]> {
    const policy = instance.settings.passwordPolicy;
    checkPassword(policy, password);
    const current = await this.read.findPassword(identityStoreId, userId);
    const recent = current ? [current.hash, ...current.history].slice(0, policy.historySize) : [];
    if (recent.length > 0 && (await matchesAny(recent, password))) {
      throw invalidArgument('auth.password_reused', `The password must differ from the last ${policy.historySize} passwords.`);
    }
    // What stays in the history after the change: the recent ones but the oldest.
    return recent.slice(0, Math.max(0, policy.historySize - 1));
  }

  // ---- administration ----

  /**
   * Run `prepare` (reads and argon2, which must not hold SQLite's single writer) and then `write`
   * in one audited transaction; a refusal by either leaves a failure event.
   */
  private async auditedAfter<P, T>(ctx: RequestContext, action: AuditedAction<T>, prepare: () => Promise<P>, write: (s: AuthStores, p: P) => Promise<T>): Promise<T> {
    let prepared: P;
    try {
      prepared = await prepare();
    } catch (err) {
      return audited(this.deps, ctx, action, () => Promise.reject(err as Error));
    }
    return audited(this.deps, ctx, action, (s) => write(s, prepared));
  }

  /** Set a user's password: a generated one-time password, or `password` (checked by the policy). */
  async setPassword(ctx: RequestContext, userName: string, opts: { password?: string; oneTime: boolean }): Promise<{ userName: string; password: string; oneTime: boolean }> {
    const instance = await this.deps.instance.get();
    const action = { eventName: 'ResetPassword', requestParameters: { userName, oneTime: opts.oneTime }, responseElements: (r: { userName: string; oneTime: boolean }) => ({ userName: r.userName, oneTime: r.oneTime }) };
    return this.auditedAfter(
      ctx,
      action,
      async () => {
        const user = await this.requireUser(instance, userName);
        const password = opts.password ?? generatePassword(instance.settings.passwordPolicy, this.deps.ids);
        const history = await this.checkNewPassword(instance, user.identityStoreId, user.userId, password);
        return { user, password, history, hash: await hashPassword(password) };
      },
      async (s, { user, password, history, hash }) => {
        await s.auth.savePassword({ identityStoreId: user.identityStoreId, userId: user.userId, hash, history, oneTime: opts.oneTime, changedAt: this.deps.clock.now() });
        // An administrator sets a password when the old one is lost or leaked: whoever holds a
        // session, a CLI token or credentials from before is signed out with it.
        await this.endSessionsInside(s, ctx, user.identityStoreId, user.userId, undefined, 'ResetPassword');
        return { userName: user.profile.userName, password, oneTime: opts.oneTime };
      },
    );
  }

  /**
   * An administrator's MFA reset, the recovery path for a lost or stolen device: every MFA device of
   * the user is deleted (they register a new one at their next sign-in), and, as at a password
   * reset, every session of theirs ends, with the CLI sign-ins it approved, the credentials issued
   * under it and the sign-ins waiting for a second factor: whatever was signed in with the lost
   * device must not outlive it. One transaction, one `ResetUserMfa` event (the revocation of the
   * credentials is its service event). Sessions end even when the user had no device left.
   */
  async resetUserMfa(ctx: RequestContext, userName: string): Promise<MfaReset> {
    const instance = await this.deps.instance.get();
    const action = {
      eventName: 'ResetUserMfa',
      requestParameters: { userName },
      responseElements: (r: MfaReset) => ({ deletedDeviceIds: r.deletedDeviceIds, sessionIds: r.revokedSessionIds }),
    };
    return this.auditedAfter(
      ctx,
      action,
      () => this.requireUser(instance, userName),
      async (s, user) => {
        const devices = await s.mfa.listDevices(user.identityStoreId, user.userId);
        const deletedDeviceIds = await s.mfa.deleteDevices(devices.map((d) => d.deviceId));
        const revokedSessionIds = await this.endSessionsInside(s, ctx, user.identityStoreId, user.userId, undefined, 'ResetUserMfa');
        return { deletedDeviceIds, revokedSessionIds };
      },
    );
  }

  /** A user's live sessions, newest first. */
  async listSessions(userName: string): Promise<SessionRecord[]> {
    const instance = await this.deps.instance.get();
    const user = await this.requireUser(instance, userName);
    return this.read.listSessions({ identityStoreId: instance.identityStoreId, userId: user.userId, now: this.deps.clock.now() });
  }

  /**
   * One page of live sessions, newest first: of one user, or of everyone (the administrators'
   * list, which at 100,000 users must not be one answer). `maxResults` 1 to 100, default 100; the
   * NextToken carries the last row's key, so a page is where the previous one ended, whatever
   * sign-ins happened in between.
   */
  async listSessionsPage(q: PageRequest & { userName?: string }): Promise<Page<SessionRecord>> {
    if (q.maxResults !== undefined && !(Number.isInteger(q.maxResults) && q.maxResults >= 1 && q.maxResults <= MAX_SESSIONS_PAGE)) {
      throw invalidArgument('pagination.invalid_max_results', `MaxResults must be a whole number from 1 to ${MAX_SESSIONS_PAGE}.`);
    }
    const instance = await this.deps.instance.get();
    const userId = q.userName === undefined ? undefined : (await this.requireUser(instance, q.userName)).userId;
    const now = this.deps.clock.now();
    return pageThrough(
      { ...q, maxResults: q.maxResults ?? MAX_SESSIONS_PAGE },
      ['number', 'string'],
      (slice) => this.read.listSessions({ identityStoreId: instance.identityStoreId, ...(userId ? { userId } : {}), now, slice }),
      (s) => [s.createdAt, s.sessionId],
    );
  }

  /** End one session, or every session of a user; returns the ids ended. */
  revokeSessions(ctx: RequestContext, target: { sessionId: string } | { userName: string }): Promise<string[]> {
    if ('userName' in target) {
      // Every session of the user, and the sign-ins waiting for their second factor (each would open one).
      return this.endSessions(
        ctx,
        'RevokeSession',
        target,
        async () => this.requireUser(await this.deps.instance.get(), target.userName),
        (s, user) => this.endSessionsInside(s, ctx, user.identityStoreId, user.userId, undefined, 'RevokeSession'),
      );
    }
    return this.endSessions(
      ctx,
      'RevokeSession',
      target,
      async () => {
        if (!(await this.read.findSession(target.sessionId, this.deps.clock.now()))) throw sessionNotFound();
        return [target.sessionId];
      },
      (s, ids) => this.endSessionIds(s, ctx, ids, 'RevokeSession'),
    );
  }

  /**
   * The portal session a CLI sign-in was approved in ends when that sign-in logs out (AWS's Logout
   * ends the sign-in session, not only its tokens). A service event of the Logout; none when the
   * session had already ended.
   */
  async endSessionOfLogout(ctx: RequestContext, sessionId: string): Promise<string[]> {
    if (!(await this.read.findSession(sessionId, this.deps.clock.now()))) return [];
    return this.endSessions(ctx, 'RevokeSession', { sessionId, reason: 'Logout' }, () => Promise.resolve([sessionId]), (s, ids) => this.endSessionIds(s, ctx, ids, 'Logout'), 'AwsServiceEvent');
  }

  /**
   * Every live session of a user ends: the directory calls this when it disables the user. The
   * event is a service event of the disable (as its RevokeCredentials is), and there is none when
   * the user had no session: the caller's own event is the disable's.
   */
  async endSessionsOfUser(ctx: RequestContext, identityStoreId: string, userId: string, reason: string): Promise<string[]> {
    const ids = (await this.read.listSessions({ identityStoreId, userId, now: this.deps.clock.now() })).map((s) => s.sessionId);
    if (ids.length === 0) return [];
    return this.endSessions(ctx, 'RevokeSession', { userId, reason }, () => Promise.resolve(ids), (s, found) => this.endSessionIds(s, ctx, found, 'RevokeSession'), 'AwsServiceEvent');
  }

  /**
   * One audited ending of sessions: `prepare` reads what to end (refusing as it must), `end` ends
   * it in the transaction and returns the ids ended. The grants and the revocation of the
   * credentials issued under the sessions join that transaction: a session, the CLI tokens it
   * approved and their credentials end together, or none does. The revocation is a service event
   * naming this request, not a second call.
   */
  private endSessions<P>(
    ctx: RequestContext,
    eventName: string,
    requestParameters: unknown,
    prepare: () => Promise<P>,
    end: (s: AuthStores, prepared: P) => Promise<string[]>,
    eventType?: 'AwsServiceEvent',
  ): Promise<string[]> {
    const action = { eventName, requestParameters, responseElements: (r: string[]) => ({ sessionIds: r }), ...(eventType ? { eventType } : {}) };
    return this.auditedAfter(ctx, action, prepare, end);
  }

  /** Inside a transaction: delete these sessions, end the CLI grants they approved and revoke the credentials issued under them. */
  private async endSessionIds(s: AuthStores, ctx: RequestContext, ids: string[], reason: string): Promise<string[]> {
    const deleted = await s.auth.deleteSessions(ids);
    await this.deps.grants.endGrantsOfSessions(deleted);
    await this.deps.revocation.revokeFollowing(ctx, deleted.map((sessionId) => ({ kind: 'session' as const, sessionId })), reason);
    return deleted;
  }

  // ---- sign-in ----

  /** The username step (the name is not recorded: people type passwords there): always answered with a password challenge, whether the user exists or not. */
  async challenge(ctx: RequestContext): Promise<void> {
    // The dummy hash is made now, so the first unknown user's password step costs no more than any other.
    void this.dummy().catch(() => (this.dummyHash = undefined));
    await this.deps.tx.transaction((s) =>
      s.audit.appendEvent(buildEvent(ctx, this.deps, 'CredentialChallenge', { userName: HIDDEN }, { responseElements: { challenge: 'PASSWORD' } })),
    );
  }

  /** Refuse while any of `keys` is locked (on the record, without the name typed); when free, the keys that have failures on record. */
  private async throttled(ctx: RequestContext, keys: string[], now: number): Promise<Extract<SignInResult, { kind: 'throttled' }> | { kind: 'free'; recorded: ReadonlySet<string> }> {
    const states = await this.read.throttleStates(keys);
    const lockedUntil = latestLock(states);
    if (lockedUntil <= now) return { kind: 'free', recorded: new Set(states.keys()) };
    return this.refusedWhileLocked(ctx, lockedUntil, now);
  }

  /** An attempt refused before it was checked, a key being locked until `lockedUntil`: on the record, without the name typed. */
  private async refusedWhileLocked(ctx: RequestContext, lockedUntil: number, now: number): Promise<Extract<SignInResult, { kind: 'throttled' }>> {
    await this.deps.tx.transaction((s) =>
      s.audit.appendEvent(buildEvent({ ...ctx, eventSource: SIGNIN_SOURCE }, this.deps, 'CredentialVerification', { userName: HIDDEN }, { errorCode: 'auth.throttled', errorMessage: 'Too many failed attempts.' })),
    );
    return { kind: 'throttled', retryAfterSeconds: Math.ceil((lockedUntil - now) / 1000) };
  }

  /** The throttle keys of an attempt: the address, and the user name (a passkey sign-in names none). */
  private limitsOf(p: SignInProtection, sourceIp: string, userName: string): Limit[] {
    const limits: Limit[] = [[ipKey(sourceIp), p.ipFreeFailures, p.ipLockoutFailures]];
    if (userName) limits.push([userKey(userName), p.userFreeFailures, p.userLockoutFailures]);
    return limits;
  }

  /** Count one failure against each key (their rows held until the commit); the counts, and the latest lock the keys were under before. */
  private async count(s: AuthStores, p: SignInProtection, limits: Limit[], now: number): Promise<{ counts: number[]; lockedUntil: number }> {
    const counts: number[] = [];
    let lockedUntil = 0;
    for (const [key] of limits) {
      const state = await s.auth.recordFailure(key, now, now - p.failureWindowMinutes * 60_000);
      counts.push(state.failures);
      lockedUntil = Math.max(lockedUntil, state.lockedUntil);
    }
    return { counts, lockedUntil };
  }

  /** Lock the counted keys as the settings say; returns the lock-out events. */
  private async lock(s: AuthStores, signInCtx: RequestContext, p: SignInProtection, limits: Limit[], counts: number[], now: number): Promise<AuditEvent[]> {
    const events: AuditEvent[] = [];
    for (const [i, [key, free, lockout]] of limits.entries()) {
      const failures = counts[i]!;
      const lock = lockMsAfter(failures, free, lockout, p);
      if (lock > 0) await s.auth.lockUntil(key, now + lock);
      if (failures === lockout) {
        // The key (an address, or a user name that may not exist: hidden like it) is locked out.
        const target = key.startsWith('ip:') ? { sourceIp: signInCtx.sourceIp } : { userName: signInCtx.principal.userName };
        events.push(buildEvent(signInCtx, this.deps, 'SignInLockout', target, { responseElements: { failures, lockedUntil: now + lock } }));
      }
    }
    return events;
  }

  /**
   * Count a failure against the address and the user name, lock them as the settings say, and record
   * it; `failure` may be decided in the same commit (a WebAuthn challenge used up). Returns it.
   */
  private async recordFailure(
    signInCtx: RequestContext,
    userName: string,
    requestParameters: unknown,
    failure: Failure | ((s: AuthStores) => Promise<Failure>),
    opts: { refuseIfLocked?: boolean } = {},
  ): Promise<Failure> {
    const p = (await this.deps.instance.get()).settings.signInProtection;
    const now = this.deps.clock.now();
    return this.deps.tx.transaction(async (s) => {
      const limits = this.limitsOf(p, signInCtx.sourceIp, userName);
      const counted = await this.count(s, p, limits, now);
      // Locked by a parallel attempt since this one was let in: its verdict is not told (rolled back).
      if (opts.refuseIfLocked && counted.lockedUntil > now) throw new Locked(counted.lockedUntil);
      const lockouts = await this.lock(s, signInCtx, p, limits, counted.counts, now);
      const recorded = typeof failure === 'function' ? await failure(s) : failure;
      await s.audit.appendEvents([buildEvent(signInCtx, this.deps, 'CredentialVerification', requestParameters, recorded), ...lockouts]);
      return recorded;
    });
  }

  /**
   * Answer a second factor whose proof was checked (`result`), in ONE commit with what it opens.
   * The attempt is counted first against the address and the user (and its sign-in flow), holding
   * their throttle rows (the upserts lock them on PostgreSQL; SQLite has one writer), and only then is
   * the proof's verdict used: parallel answers each take their own number, one that finds a key
   * already locked is rolled back and refused, one past its flow's limit is refused unread, and no
   * answer leaves before its count is committed. A right answer is taken back and `accept` runs in
   * the same commit (a session opens, or a session is marked); it may still refuse (a replayed code).
   * A refused answer stays counted, locks the keys as the settings say and is recorded; the flow's
   * last allowed answer, if wrong, ends the flow.
   */
  private async answerSecondFactor<T>(
    signInCtx: RequestContext,
    userName: string,
    flow: MfaFlowRecord | undefined,
    requestParameters: unknown,
    result: ProofResult,
    accept: (s: AuthStores, proof: AcceptedProof) => Promise<T | Refusal>,
  ): Promise<T | { kind: 'failed'; message: string } | Extract<SignInResult, { kind: 'throttled' }>> {
    const p = (await this.deps.instance.get()).settings.signInProtection;
    const now = this.deps.clock.now();
    const limits = this.limitsOf(p, signInCtx.sourceIp, userName);
    const flowLimit = flowAttemptsOf(p);
    let lockedUntil = 0;
    try {
      return await this.deps.tx.transaction(async (s) => {
        const counted = await this.count(s, p, limits, now);
        if (counted.lockedUntil > now) {
          lockedUntil = counted.lockedUntil;
          throw new Locked();
        }
        // The flow's answers are counted from its start.
        const flowAttempts = flow ? (await s.auth.recordFailure(flowKey(flow.flowId), now, flow.createdAt - 1)).failures : 0;
        let refusal: Refusal;
        if (flowAttempts > flowLimit) refusal = new Refusal('mfa.too_many_attempts', 'Too many wrong answers.', { endFlow: true });
        else if (!result.ok) refusal = result.useUp && !(await result.useUp(s)) ? challengeExpired : new Refusal(result.code, result.message);
        else {
          const accepted = await accept(s, result);
          if (!(accepted instanceof Refusal)) {
            // The right answer is forgiven; a session opening forgives the user's failures and ends the flow's.
            if (flow) {
              await s.auth.forgiveFailure(limits[0]![0]);
              await s.auth.clearThrottle(userKey(userName));
              await s.auth.clearThrottle(flowKey(flow.flowId));
            } else for (const [key] of limits) await s.auth.forgiveFailure(key);
            return accepted;
          }
          refusal = accepted;
        }
        const lockouts = await this.lock(s, signInCtx, p, limits, counted.counts, now);
        if (refusal.opts.quiet) {
          if (lockouts.length > 0) await s.audit.appendEvents(lockouts);
          return { kind: 'failed' as const, message: refusal.errorMessage };
        }
        const endFlow = flow && (refusal.opts.endFlow === true || flowAttempts >= flowLimit);
        if (endFlow) {
          await s.mfa.deleteFlow(flow.flowId);
          await s.auth.clearThrottle(flowKey(flow.flowId));
        }
        await s.audit.appendEvents([buildEvent(signInCtx, this.deps, 'CredentialVerification', requestParameters, { errorCode: refusal.errorCode, errorMessage: refusal.errorMessage }), ...lockouts]);
        return { kind: 'failed' as const, message: endFlow ? `${refusal.errorMessage} ${TOO_MANY}` : refusal.errorMessage };
      });
    } catch (err) {
      if (!(err instanceof Locked)) throw err;
      return this.lockedOut(signInCtx, lockedUntil, now);
    }
  }

  /** The answer to an attempt refused by a lock: recorded without the name typed. */
  private async lockedOut(signInCtx: RequestContext, lockedUntil: number, now: number): Promise<Extract<SignInResult, { kind: 'throttled' }>> {
    const ctx = { ...signInCtx, principal: { type: 'Unknown', principalId: 'unknown', userName: HIDDEN } };
    await this.deps.tx.transaction((s) =>
      s.audit.appendEvent(buildEvent(ctx, this.deps, 'CredentialVerification', { userName: HIDDEN }, { errorCode: 'auth.throttled', errorMessage: 'Too many failed attempts.' })),
    );
    return { kind: 'throttled', retryAfterSeconds: Math.ceil((lockedUntil - now) / 1000) };
  }

  /** Check a second factor's proof: reads and crypto, nothing written (its writes join the answer's commit). */
  private checkProof(user: Pick<MfaUser, 'identityStoreId' | 'userId'>, rp: RelyingParty, proof: SecondFactorProof): Promise<ProofResult> {
    return proof.type === 'TOTP' ? this.deps.mfa.verifyTotp(user, proof.code) : this.deps.mfa.verifyWebauthn(user, rp, proof.challengeId, proof.response);
  }

  async signIn(ctx: RequestContext, userName: string, password: string, opts: { rememberToken?: string } = {}): Promise<SignInResult> {
    const instance = await this.deps.instance.get();
    const now = this.deps.clock.now();
    const keys: AttemptKeys = [ipKey(ctx.sourceIp), userKey(userName)];
    // The fewest reads before the hash, known user or not: a sign-in should cost its hash and
    // little else. The user, then their password and the attempt's throttle rows in one statement.
    const user = await this.deps.directory.findUserByName(instance.identityStoreId, userName);
    const state = await this.read.attemptState(keys, instance.identityStoreId, user?.userId);
    const lockedUntil = latestLock(state.throttle);
    if (lockedUntil > now) return this.refusedWhileLocked(ctx, lockedUntil, now);
    const stored = user && state.password;
    const matches = await verifyPassword(stored ? stored.hash : await this.dummy(), password);
    const principal: Principal = user
      ? { type: 'IdentityCenterUser', principalId: user.userId, userName: user.userName }
      : { type: 'Unknown', principalId: 'unknown', userName: HIDDEN };
    const signInCtx = { ...ctx, eventSource: SIGNIN_SOURCE, principal };
    try {
      return await this.passwordVerdict(signInCtx, instance, userName, keys, new Set(state.throttle.keys()), { user, stored, matches }, opts, now);
    } catch (err) {
      if (!(err instanceof Locked)) throw err;
      return this.lockedOut(signInCtx, err.until, now);
    }
  }

  /**
   * The password step's outcome, told only in a commit that first checks the attempt's throttle keys
   * again: parallel guesses all pass the check before the hash, and those decided after a lock was
   * set are answered as throttled (Locked), whether the password was right or wrong.
   */
  private async passwordVerdict(
    signInCtx: RequestContext,
    instance: InstanceRecord,
    userName: string,
    keys: AttemptKeys,
    recorded: ReadonlySet<string>,
    checked: { user: UserSummary | undefined; stored: { hash: string; oneTime: boolean } | undefined; matches: boolean },
    opts: { rememberToken?: string },
    now: number,
  ): Promise<SignInResult> {
    const { user, stored, matches } = checked;
    const stillFree = async (s: AuthStores) => {
      const until = latestLock(await s.auth.throttleStates(keys));
      if (until > this.deps.clock.now()) throw new Locked(until);
    };
    if (!user || !stored || !matches || user.status !== 'ENABLED') {
      // The page says the same for every failure; only the audit log tells a disabled user apart.
      const failure = user && stored && matches ? { errorCode: 'auth.user_disabled', errorMessage: 'The user is disabled.' } : { errorCode: 'auth.failed', errorMessage: 'Authentication failed.' };
      await this.recordFailure(signInCtx, userName, { userName: signInCtx.principal.userName }, failure, { refuseIfLocked: true });
      return { kind: 'failed' };
    }

    // A session opens (only while neither key is locked: checked by its insert), and then the user's
    // failures are forgiven (no statement when none was on record).
    const opening = { unlessLocked: keys, after: recorded.has(keys[1]) ? (s: AuthStores) => s.auth.clearThrottle(keys[1]) : undefined };
    const mfa = instance.settings.mfa;
    const remembered = mfa.mode === 'CONTEXT_AWARE' && (await this.deps.mfa.isRemembered(opts.rememberToken, user, signInCtx.sourceIp, mfa.rememberDays));
    if (mfa.mode === 'DISABLED' || remembered) {
      return this.openSession(signInCtx, instance, user, { mustChangePassword: stored.oneTime, credentialType: 'PASSWORD', mfaAt: remembered ? now : null, ...opening });
    }
    const devices = await this.deps.mfa.usableDevices(user);
    if (devices.length === 0 && mfa.noDevice === 'ALLOW') {
      return this.openSession(signInCtx, instance, user, { mustChangePassword: stored.oneTime, credentialType: 'PASSWORD', mfaAt: null, ...opening });
    }
    if (devices.length === 0 && mfa.noDevice === 'BLOCK') {
      await this.deps.tx.transaction(async (s) => {
        await stillFree(s);
        await s.audit.appendEvent(buildEvent(signInCtx, this.deps, 'CredentialVerification', { userName: user.userName }, { errorCode: 'auth.mfa_device_required', errorMessage: 'MFA is required and the user has no device.' }));
      });
      return { kind: 'mfa_blocked' };
    }
    // The password step passed: a flow waits for the second factor (or for a device to be registered).
    const flowToken = this.deps.ids.bytes(32).toString('base64url');
    const flow: MfaFlowRecord = {
      flowId: hex(this.deps.ids, 32),
      tokenHash: tokenHashOf(flowToken),
      identityStoreId: user.identityStoreId,
      userId: user.userId,
      userName: user.userName,
      mustChangePassword: stored.oneTime,
      state: devices.length > 0 ? 'CHALLENGE' : 'REGISTER',
      createdAt: now,
      expiresAt: now + MFA_FLOW_MS,
    };
    // The user's failure count is NOT cleared here: only a session opened clears it, so that wrong
    // second factors keep counting across password attempts.
    await this.deps.tx.transaction(async (s) => {
      await stillFree(s);
      await s.mfa.deleteExpiredChallenges(now);
      await s.mfa.insertFlow(flow);
      await s.audit.appendEvent(
        buildEvent(signInCtx, this.deps, 'CredentialVerification', { userName: user.userName }, { responseElements: { credentialType: 'PASSWORD', nextStep: flow.state === 'CHALLENGE' ? 'MFA' : 'MFA_REGISTRATION' } }),
      );
    });
    return { kind: 'mfa', flowToken, state: flow.state, expiresAt: flow.expiresAt };
  }

  /** The sign-in of a flow cookie that waits for its second factor, or undefined. */
  async findMfaFlow(flowToken: string | undefined): Promise<WaitingFlow | undefined> {
    if (!flowToken || flowToken.length > 100) return undefined;
    const flow = await this.deps.read.mfa.findFlowByToken(tokenHashOf(flowToken), this.deps.clock.now());
    return flow && { ...flow, user: { identityStoreId: flow.identityStoreId, userId: flow.userId, userName: flow.userName } };
  }

  /**
   * The second step of a sign-in: a TOTP code or a WebAuthn assertion of one of the user's devices.
   * A wrong one counts against the user and the address like a wrong password. The attempt, the
   * proof's write and the session are one commit (see `answerSecondFactor`). `flow`: the flow
   * cookie's value, or its flow as `findMfaFlow` just read it (the commit checks it still waits).
   */
  async completeSecondFactor(ctx: RequestContext, flowOrToken: string | undefined | WaitingFlow, rp: RelyingParty, proof: SecondFactorProof): Promise<SignInResult | SignedIn> {
    const flow = typeof flowOrToken === 'object' ? flowOrToken : await this.findMfaFlow(flowOrToken);
    if (!flow || flow.state !== 'CHALLENGE') return { kind: 'failed', message: EXPIRED };
    const principal: Principal = { type: 'IdentityCenterUser', principalId: flow.userId, userName: flow.userName };
    const signInCtx = { ...ctx, eventSource: SIGNIN_SOURCE, principal };
    const instance = await this.deps.instance.get();
    // Checked now, answered only once counted: its verdict leaves with the attempt's commit. The same
    // work is done whatever the verdict (the user read, a session made ready), so that the time of an
    // answer the throttle refuses does not tell whether it was right.
    const result = await this.checkProof(flow.user, rp, proof);
    const user = await this.flowUser(instance, flow);
    const pending = user && this.newSession(signInCtx, instance, user, { mustChangePassword: flow.mustChangePassword, mfaAt: this.deps.clock.now() });
    const answered = await this.answerSecondFactor(signInCtx, flow.userName, flow, { userName: flow.userName, credentialType: proof.type }, result, async (s, accepted) => {
      if (!pending) return flowGone;
      // The proof's write joins the session's commit; a racer that used the same code first wins.
      if (!(await accepted.commit(s))) return new Refusal('mfa.code_reused', REPLAYED);
      // One flow, one session: a second request with the same flow finds it gone.
      if (!(await s.mfa.deleteFlow(flow.flowId))) return flowGone;
      await this.writeSession(s, signInCtx, pending.session, accepted.type);
      return { kind: 'ok' as const, ...pending };
    });
    if (answered.kind !== 'ok') return answered;
    return { ...answered, rememberToken: await this.rememberTokenOf(instance, answered.session, signInCtx.sourceIp) };
  }

  /** The flow's user as the directory has them now, if still enabled: the session is theirs. */
  private async flowUser(instance: InstanceRecord, flow: MfaFlowRecord): Promise<UserSummary | undefined> {
    const user = await this.deps.directory.findUserByName(instance.identityStoreId, flow.userName);
    return user && user.userId === flow.userId && user.status === 'ENABLED' ? user : undefined;
  }

  /** Context-aware MFA: the token that lets this browser skip MFA next time. */
  private async rememberTokenOf(instance: InstanceRecord, user: Pick<MfaUser, 'identityStoreId' | 'userId'>, sourceIp: string): Promise<string | undefined> {
    return instance.settings.mfa.mode === 'CONTEXT_AWARE' ? this.deps.mfa.rememberToken(user, sourceIp) : undefined;
  }

  /** A flow in state REGISTER whose user just registered a device (which proved itself): the sign-in completes. */
  async completeWithNewDevice(ctx: RequestContext, flowToken: string | undefined, credentialType: string): Promise<SignInResult | SignedIn> {
    const flow = await this.findMfaFlow(flowToken);
    if (!flow) return { kind: 'failed', message: EXPIRED };
    const principal: Principal = { type: 'IdentityCenterUser', principalId: flow.userId, userName: flow.userName };
    const signInCtx = { ...ctx, eventSource: SIGNIN_SOURCE, principal };
    const instance = await this.deps.instance.get();
    const user = await this.flowUser(instance, flow);
    if (!user) return { kind: 'failed', message: EXPIRED };
    let lost = false;
    const opened = await this.openSession(signInCtx, instance, user, { mustChangePassword: flow.mustChangePassword, credentialType, mfaAt: this.deps.clock.now() }, async (s) => {
      // One flow, one session: a second request with the same flow finds it gone.
      lost = !(await s.mfa.deleteFlow(flow.flowId));
      if (lost) throw sessionNotFound();
      // A session opens: the user's failures (password and second factor) are forgiven, here only.
      await s.auth.clearThrottle(userKey(flow.userName));
      await s.auth.clearThrottle(flowKey(flow.flowId));
    }).catch((err: unknown) => {
      if (lost) return undefined;
      throw err;
    });
    if (!opened) return { kind: 'failed', message: EXPIRED };
    return { ...opened, rememberToken: await this.rememberTokenOf(instance, user, signInCtx.sourceIp) };
  }

  /**
   * Whether a page that acts for the user (the device approval of `aws sso login`) must first ask
   * this session for a second factor: MFA is on, the session never passed one (it was opened before
   * MFA was turned on), and the user signs in here (an external IdP does its own MFA).
   */
  async stepUpNeeded(session: PortalSession): Promise<'none' | 'challenge' | 'register'> {
    const instance = await this.deps.instance.get();
    if (instance.settings.mfa.mode === 'DISABLED' || session.mfaAt !== null || instance.settings.identitySource !== 'INTERNAL') return 'none';
    if ((await this.deps.mfa.usableDevices({ identityStoreId: instance.identityStoreId, userId: session.userId })).length > 0) return 'challenge';
    return instance.settings.mfa.noDevice === 'ALLOW' ? 'none' : 'register';
  }

  /**
   * A signed-in session proves a second factor (step-up): the session remembers it, under a new
   * token (the answer carries it for the cookie), so that a copy of the cookie taken before does
   * not pass with it. Counted and answered as a sign-in's.
   */
  async stepUp(ctx: RequestContext, session: PortalSession, rp: RelyingParty, proof: SecondFactorProof): Promise<{ kind: 'ok'; token: string } | Extract<SignInResult, { kind: 'failed' | 'throttled' }>> {
    const instance = await this.deps.instance.get();
    const userCtx = this.userContext(ctx, session, SIGNIN_SOURCE);
    const result = await this.checkProof({ identityStoreId: instance.identityStoreId, userId: session.userId }, rp, proof);
    return this.answerSecondFactor(userCtx, session.userName, undefined, { userName: session.userName, credentialType: proof.type }, result, async (s, accepted) => {
      if (!(await accepted.commit(s))) return new Refusal('mfa.code_reused', REPLAYED);
      const token = this.newSessionToken();
      await s.auth.markMfa(session.sessionId, this.deps.clock.now(), tokenHashOf(token));
      await s.audit.appendEvent(buildEvent(userCtx, this.deps, 'CredentialVerification', { userName: session.userName }, { responseElements: { credentialType: accepted.type, stepUp: true } }));
      return { kind: 'ok' as const, token };
    });
  }

  /**
   * Whether this session may add, rename or remove MFA devices now: not while the user has usable
   * devices and the MFA settings ask this session for one of them first (step-up). A session that
   * never passed MFA must not replace or delete the devices that protect the user.
   */
  async mayChangeDevices(session: PortalSession): Promise<boolean> {
    return (await this.stepUpNeeded(session)) !== 'challenge';
  }

  /**
   * A signed-in user registered `deviceId` (which proved itself with its first code or signature).
   * When it is their FIRST device, the session has passed a second factor with it: marked, with an
   * audit event, in one transaction. A further device proves nothing about this session.
   */
  async markSessionMfa(ctx: RequestContext, session: PortalSession, deviceId: string): Promise<string | undefined> {
    const instance = await this.deps.instance.get();
    const userCtx = this.userContext(ctx, session, SIGNIN_SOURCE);
    return this.deps.tx.transaction(async (s) => {
      const devices = await s.mfa.listDevices(instance.identityStoreId, session.userId);
      if (devices.length !== 1 || devices[0]!.deviceId !== deviceId) return undefined;
      const token = this.newSessionToken();
      await s.auth.markMfa(session.sessionId, this.deps.clock.now(), tokenHashOf(token));
      await s.audit.appendEvent(
        buildEvent(userCtx, this.deps, 'CredentialVerification', { userName: session.userName }, { responseElements: { credentialType: devices[0]!.type, firstDevice: true, sessionId: session.sessionId } }),
      );
      return token;
    });
  }

  /** A new session token: the cookie's value, of which only the hash is stored. */
  private newSessionToken(): string {
    return this.deps.ids.bytes(32).toString('base64url');
  }

  /** Sign in with a passkey alone: the discoverable credential names the user, no name is typed. */
  async signInWithPasskey(ctx: RequestContext, rp: RelyingParty, challengeId: string, response: unknown): Promise<SignInResult | SignedIn> {
    const instance = await this.deps.instance.get();
    const now = this.deps.clock.now();
    const throttle = await this.throttled(ctx, [ipKey(ctx.sourceIp)], now);
    if (throttle.kind === 'throttled') return throttle;
    const anonymous = { ...ctx, eventSource: SIGNIN_SOURCE, principal: { type: 'Unknown', principalId: 'unknown', userName: HIDDEN } };
    const fail = async (failure: Failure | ((s: AuthStores) => Promise<Failure>)) => {
      const recorded = await this.recordFailure(anonymous, '', { credentialType: 'PASSKEY' }, failure);
      return { kind: 'failed' as const, message: recorded.errorMessage };
    };
    if (!instance.settings.mfa.passkeySignIn) return fail({ errorCode: 'auth.passkey_sign_in_disabled', errorMessage: 'Sign-in with a passkey alone is turned off.' });
    // Under EXTERNAL_IDP only the IdP signs users in: a passkey is refused like a password.
    if (instance.settings.identitySource !== 'INTERNAL') {
      await this.deps.tx.transaction((s) =>
        s.audit.appendEvent(buildEvent(anonymous, this.deps, 'CredentialVerification', { credentialType: 'PASSKEY' }, { errorCode: 'auth.passkey_sign_in_disabled', errorMessage: PASSKEYS_OFF })),
      );
      return { kind: 'failed', message: PASSKEYS_OFF };
    }
    const result = await this.deps.mfa.verifyWebauthn(undefined, rp, challengeId, response);
    if (!result.ok) {
      const refused = { errorCode: result.code, errorMessage: result.message };
      // The refused answer uses its challenge up in the failure's commit.
      const { useUp } = result;
      return fail(useUp ? async (s) => ((await useUp(s)) ? refused : { errorCode: CHALLENGE_EXPIRED.code, errorMessage: CHALLENGE_EXPIRED.message }) : refused);
    }
    const user = await this.deps.directory.describeUser(instance.identityStoreId, result.device.userId).catch(() => undefined);
    if (!user || user.status !== 'ENABLED') return fail({ errorCode: 'auth.failed', errorMessage: 'Authentication failed.' });
    const summary: UserSummary = { identityStoreId: user.identityStoreId, userId: user.userId, userName: user.profile.userName, status: user.status };
    const principal: Principal = { type: 'IdentityCenterUser', principalId: user.userId, userName: summary.userName };
    let replayed = false;
    const opened = await this.openSession({ ...ctx, eventSource: SIGNIN_SOURCE, principal }, instance, summary, { mustChangePassword: false, credentialType: 'PASSKEY', mfaAt: now }, async (s) => {
      replayed = !(await result.commit(s));
      if (replayed) throw sessionNotFound();
    }).catch((err: unknown) => {
      if (replayed) return undefined;
      throw err;
    });
    if (!opened) return fail({ errorCode: 'mfa.challenge_expired', errorMessage: REPLAYED });
    return { ...opened, rememberToken: await this.rememberTokenOf(instance, user, ctx.sourceIp) };
  }

  /**
   * Sign in a user an external identity provider vouched for (its assertion checked by federation/):
   * the same portal session and audit events as a password sign-in. The caller refuses disabled users.
   */
  /**
   * A session opened on an external IdP's word. `endsBy` (epoch ms) is the IdP's own session end
   * (SAML's SessionNotOnOrAfter): the portal session lasts the shorter of it and the configured duration, as on AWS.
   */
  async signInFederated(ctx: RequestContext, user: UserSummary, credentialType: string, endsBy?: number): Promise<Extract<SignInResult, { kind: 'ok' }>> {
    const instance = await this.deps.instance.get();
    const principal: Principal = { type: 'IdentityCenterUser', principalId: user.userId, userName: user.userName };
    return this.openSession({ ...ctx, eventSource: SIGNIN_SOURCE, principal }, instance, user, { mustChangePassword: false, credentialType, mfaAt: null, endsBy });
  }

  private async openSession(
    signInCtx: RequestContext,
    instance: InstanceRecord,
    user: UserSummary,
    opts: {
      mustChangePassword: boolean;
      credentialType: string;
      mfaAt: number | null;
      /** The password step: the session opens only while neither key is locked (else Locked is thrown). */
      unlessLocked?: AttemptKeys;
      /** Runs in the session's commit, after it is written. */
      after?: (s: AuthStores) => Promise<void>;
      /** The latest the session may end (epoch ms), when sooner than the configured duration. */
      endsBy?: number;
    },
    before?: (s: AuthStores) => Promise<void>,
  ): Promise<Extract<SignInResult, { kind: 'ok' }>> {
    const pending = this.newSession(signInCtx, instance, user, opts);
    await this.deps.tx.transaction(async (s) => {
      await before?.(s);
      await this.writeSession(s, signInCtx, pending.session, opts.credentialType, opts.unlessLocked);
      await opts.after?.(s);
    });
    return { kind: 'ok', ...pending };
  }

  /** A new portal session of `user` and its cookie value, not yet written. */
  private newSession(signInCtx: RequestContext, instance: InstanceRecord, user: UserSummary, opts: { mustChangePassword: boolean; mfaAt: number | null; endsBy?: number }): { token: string; session: SessionRecord } {
    const now = this.deps.clock.now();
    // From the pooled CSPRNG (each byte handed out once), as credentials' secrets are: a call into OpenSSL per sign-in costs more.
    const token = this.newSessionToken();
    const session: SessionRecord = {
      sessionId: hex(this.deps.ids, 32),
      tokenHash: tokenHashOf(token),
      identityStoreId: user.identityStoreId,
      userId: user.userId,
      userName: user.userName,
      mustChangePassword: opts.mustChangePassword,
      mfaAt: opts.mfaAt,
      sourceIp: signInCtx.sourceIp,
      userAgent: signInCtx.userAgent.slice(0, 512),
      createdAt: now,
      expiresAt: Math.min(now + instance.settings.sessionDurationMinutes * 60_000, opts.endsBy ?? Infinity),
    };
    return { token, session };
  }

  /**
   * Write a new session, and its sign-in's audit events, in the caller's transaction; with
   * `unlessLocked`, only while neither key is locked (else Locked, and the caller's commit rolls back).
   * (Expired sessions are swept by housekeeping: no session is used once expired.)
   */
  private async writeSession(s: AuthStores, signInCtx: RequestContext, session: SessionRecord, credentialType: string, unlessLocked?: AttemptKeys): Promise<void> {
    if (!unlessLocked) await s.auth.insertSession(session);
    else if (!(await s.auth.insertSessionUnlessLocked(session, unlessLocked, this.deps.clock.now()))) {
      throw new Locked(latestLock(await s.auth.throttleStates(unlessLocked)));
    }
    const responseElements = { sessionId: session.sessionId, mustChangePassword: session.mustChangePassword };
    await s.audit.appendEvents([
      buildEvent(signInCtx, this.deps, 'CredentialVerification', { userName: session.userName }, { responseElements: { credentialType } }),
      buildEvent(signInCtx, this.deps, 'UserAuthentication', { userName: session.userName }, { responseElements }),
    ]);
  }

  // ---- sessions ----

  /** The live session of a cookie, even one still waiting for a password change. */
  async findSession(token: string | undefined): Promise<SessionRecord | undefined> {
    if (!token || token.length > 100) return undefined;
    return this.read.findSessionByToken(tokenHashOf(token), this.deps.clock.now());
  }

  /** The usable portal session of a cookie value (one indexed read), or undefined. */
  async resolveSession(cookieValue: string | undefined): Promise<PortalSession | undefined> {
    const s = await this.findSession(cookieValue);
    if (!s || s.mustChangePassword) return undefined;
    return { sessionId: s.sessionId, userId: s.userId, userName: s.userName, expiresAt: s.expiresAt, mfaAt: s.mfaAt };
  }

  /** Change the session user's password. A forced change (one-time password) needs no current password. */
  async changePassword(ctx: RequestContext, session: SessionRecord, input: { currentPassword?: string; newPassword: string }): Promise<void> {
    const instance = await this.deps.instance.get();
    const userCtx = this.userContext(ctx, session, SIGNIN_SOURCE);
    await this.auditedAfter(
      userCtx,
      { eventName: 'UpdatePassword', requestParameters: { userName: session.userName } },
      async () => {
        if (!session.mustChangePassword) await this.checkCurrentPassword(userCtx, instance, session, input.currentPassword ?? '');
        const history = await this.checkNewPassword(instance, session.identityStoreId, session.userId, input.newPassword);
        return { history, hash: await hashPassword(input.newPassword) };
      },
      async (s, { history, hash }) => {
        await s.auth.savePassword({ identityStoreId: session.identityStoreId, userId: session.userId, hash, history, oneTime: false, changedAt: this.deps.clock.now() });
        await s.auth.markPasswordChanged(session.sessionId);
        // A user who changes a password they fear is known ends every other session with it, and
        // the CLI tokens and credentials issued under them; this browser stays signed in.
        await this.endSessionsInside(s, userCtx, session.identityStoreId, session.userId, session.sessionId, 'UpdatePassword');
      },
    );
  }

  /**
   * The current password, asked before a change: guesses count against the user and the address as
   * sign-in's do (a stolen session cookie must not become a way to test passwords at will), and are
   * refused while either is locked. A wrong one is on the record as a failed CredentialVerification.
   */
  private async checkCurrentPassword(userCtx: RequestContext, instance: InstanceRecord, session: SessionRecord, password: string): Promise<void> {
    const p = instance.settings.signInProtection;
    const now = this.deps.clock.now();
    const signInCtx = { ...userCtx, eventSource: SIGNIN_SOURCE };
    const gate = await this.throttled(signInCtx, this.limitsOf(p, userCtx.sourceIp, session.userName).map(([key]) => key), now);
    if (gate.kind === 'throttled') {
      throw new DomainError('throttled', 'auth.throttled', 'Too many failed attempts. Wait a while before you try again.', { retryAfterSeconds: gate.retryAfterSeconds });
    }
    const current = await this.read.findPassword(session.identityStoreId, session.userId);
    if (current && (await verifyPassword(current.hash, password))) return;
    const message = 'The current password is not correct.';
    await this.recordFailure(signInCtx, session.userName, { userName: session.userName, changePassword: true }, { errorCode: 'auth.wrong_password', errorMessage: message });
    throw invalidArgument('auth.wrong_password', message);
  }

  /**
   * Inside the caller's audited change: end a user's live sessions but `keep` (`endSessionIds`),
   * and the sign-ins that passed the old password and wait for a second factor: finishing one
   * would open a session the change meant to end.
   */
  private async endSessionsInside(s: AuthStores, ctx: RequestContext, identityStoreId: string, userId: string, keep: string | undefined, reason: string): Promise<string[]> {
    await s.mfa.deleteFlowsOfUser(identityStoreId, userId);
    const ids = (await s.auth.listSessions({ identityStoreId, userId, now: this.deps.clock.now() })).map((x) => x.sessionId).filter((id) => id !== keep);
    return ids.length > 0 ? this.endSessionIds(s, ctx, ids, reason) : [];
  }

  /** The context of a request made by a signed-in user. */
  userContext(ctx: RequestContext, session: Pick<SessionRecord, 'userId' | 'userName'>, eventSource = PORTAL_SOURCE): RequestContext {
    return { ...ctx, eventSource, principal: { type: 'IdentityCenterUser', principalId: session.userId, userName: session.userName } };
  }

  async listOwnSessions(session: PortalSession): Promise<SessionRecord[]> {
    const instance = await this.deps.instance.get();
    return this.read.listSessions({ identityStoreId: instance.identityStoreId, userId: session.userId, now: this.deps.clock.now() });
  }

  /** A user ends one of their own sessions; another user's session is as unknown as a missing one. */
  async endOwnSession(ctx: RequestContext, session: PortalSession, sessionId: string): Promise<void> {
    const userCtx = this.userContext(ctx, session);
    await this.endSessions(
      userCtx,
      'RevokeSession',
      { sessionId },
      async () => {
        const target = await this.read.findSession(sessionId, this.deps.clock.now());
        if (!target || target.userId !== session.userId) throw sessionNotFound();
        return [sessionId];
      },
      (s, ids) => this.endSessionIds(s, userCtx, ids, 'RevokeSession'),
    );
  }

  /** Sign-out: the cookie's session ends. */
  async signOut(ctx: RequestContext, session: SessionRecord): Promise<void> {
    const userCtx = this.userContext(ctx, session);
    await this.endSessions(userCtx, 'Logout', { sessionId: session.sessionId }, () => Promise.resolve([session.sessionId]), (s, ids) => this.endSessionIds(s, userCtx, ids, 'Logout'));
  }
}
