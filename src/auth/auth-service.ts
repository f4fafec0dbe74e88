// Sign-in: passwords (argon2id, policy, history), the sign-in throttle and portal sessions.
// Nothing here says whether a user exists: unknown users are verified against a dummy hash.

import { createHash, randomBytes } from 'node:crypto';
import { audited, buildEvent, HIDDEN, type AuditedAction, type AuditStore } from '../audit/index.js';
import type { RevocationService } from '../credentials/index.js';
import type { DirectoryService, UserSummary } from '../directory/index.js';
import type { InstanceRecord, InstanceService } from '../instance/index.js';
import type { Principal, RequestContext } from '../shared/context.js';
import { invalidArgument, isDomainError, notFound } from '../shared/errors.js';
import { hex } from '../shared/ids.js';
import type { ServiceDeps } from '../shared/service-deps.js';
import type { AuthStore, SessionRecord } from './auth-store.js';
import { hashPassword, matchesAny, verifyPassword } from './password-hash.js';
import { checkPassword, generatePassword } from './password-policy.js';

export type AuthStores = { auth: AuthStore; audit: AuditStore };

/** The OAuth grants a portal session approved (device codes, consents): they end with it. */
export interface SessionGrants {
  endGrantsOfSessions(sessionIds: readonly string[]): Promise<void>;
}

export const SIGNIN_SOURCE = 'signin.amazonaws.com';
export const PORTAL_SOURCE = 'sso.amazonaws.com';

/** What other modules learn from a portal session cookie. */
export interface PortalSession {
  sessionId: string;
  userId: string;
  userName: string;
  expiresAt: number;
}

export type SignInResult =
  | { kind: 'ok'; token: string; session: SessionRecord }
  | { kind: 'failed' }
  | { kind: 'throttled'; retryAfterSeconds: number };

/** Failures allowed before back-off starts; an address may be shared by a whole office. */
const USER_FREE_FAILURES = 5;
const IP_FREE_FAILURES = 100;
/** The first lock-out; each further failure doubles it, up to the cap. */
const BASE_LOCK_MS = 30_000;
const MAX_LOCK_MS = 15 * 60_000;
/** Failures older than this no longer count. */
const FAILURE_WINDOW_MS = 15 * 60_000;

const tokenHashOf = (token: string) => createHash('sha256').update(token).digest('hex');
const userKey = (userName: string) => `user:${userName.toLowerCase()}`;
const ipKey = (ip: string) => `ip:${ip}`;
const sessionNotFound = () => notFound('auth.session_not_found', 'The session does not exist or has ended.', { resourceType: 'SESSION' });

function lockMsAfter(failures: number, freeFailures: number): number {
  return failures < freeFailures ? 0 : Math.min(MAX_LOCK_MS, BASE_LOCK_MS * 2 ** (failures - freeFailures));
}

export class AuthService {
  /** Verified for unknown users, so that they cost the same time as known ones. */
  private dummyHash?: Promise<string>;

  constructor(
    private readonly deps: ServiceDeps<AuthStores> & { instance: InstanceService; directory: DirectoryService; revocation: RevocationService; grants: SessionGrants },
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
        return { userName: user.profile.userName, password, oneTime: opts.oneTime };
      },
    );
  }

  /** Live sessions, newest first: of one user, or of everyone. */
  async listSessions(userName?: string): Promise<SessionRecord[]> {
    const instance = await this.deps.instance.get();
    const now = this.deps.clock.now();
    if (userName === undefined) return this.read.listSessions({ identityStoreId: instance.identityStoreId, now });
    const user = await this.requireUser(instance, userName);
    return this.read.listSessions({ identityStoreId: instance.identityStoreId, userId: user.userId, now });
  }

  /** End one session, or every session of a user; returns the ids ended. */
  revokeSessions(ctx: RequestContext, target: { sessionId: string } | { userName: string }): Promise<string[]> {
    return this.endSessions(ctx, 'RevokeSession', target, async () => {
      if ('userName' in target) return (await this.listSessions(target.userName)).map((s) => s.sessionId);
      if (!(await this.read.findSession(target.sessionId, this.deps.clock.now()))) throw sessionNotFound();
      return [target.sessionId];
    });
  }

  /** Every live session of a user ends: the directory calls this when it disables the user. */
  endSessionsOfUser(ctx: RequestContext, identityStoreId: string, userId: string, reason: string): Promise<string[]> {
    return this.endSessions(ctx, 'RevokeSession', { userId, reason }, async () =>
      (await this.read.listSessions({ identityStoreId, userId, now: this.deps.clock.now() })).map((s) => s.sessionId),
    );
  }

  private async endSessions(ctx: RequestContext, eventName: string, requestParameters: unknown, select: () => Promise<string[]>): Promise<string[]> {
    const action = { eventName, requestParameters, responseElements: (r: string[]) => ({ sessionIds: r }) };
    // The grants join this transaction: a session and the CLI tokens it approved end together.
    const ended = await this.auditedAfter(ctx, action, select, async (s, ids) => {
      const deleted = await s.auth.deleteSessions(ids);
      await this.deps.grants.endGrantsOfSessions(deleted);
      return deleted;
    });
    // The credentials issued under them die too: a service event naming this request, not a second call.
    await this.deps.revocation.revokeFollowing(ctx, ended.map((sessionId) => ({ kind: 'session' as const, sessionId })), eventName);
    return ended;
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

  async signIn(ctx: RequestContext, userName: string, password: string): Promise<SignInResult> {
    const instance = await this.deps.instance.get();
    const now = this.deps.clock.now();
    const keys = [ipKey(ctx.sourceIp), userKey(userName)];
    const states = await this.read.throttleStates(keys);
    const lockedUntil = Math.max(0, ...[...states.values()].map((s) => s.lockedUntil));
    if (lockedUntil > now) return { kind: 'throttled', retryAfterSeconds: Math.ceil((lockedUntil - now) / 1000) };

    // The fewest reads before the hash: a sign-in should cost its hash and little else.
    const user = await this.deps.directory.findUserByName(instance.identityStoreId, userName);
    const stored = user && (await this.read.findPassword(user.identityStoreId, user.userId));
    const matches = await verifyPassword(stored ? stored.hash : await this.dummy(), password);
    const principal: Principal = user
      ? { type: 'IdentityCenterUser', principalId: user.userId, userName: user.userName }
      : { type: 'Unknown', principalId: 'unknown', userName: HIDDEN };
    const signInCtx = { ...ctx, eventSource: SIGNIN_SOURCE, principal };

    if (!user || !stored || !matches || user.status !== 'ENABLED') {
      // The page says the same for every failure; only the audit log tells a disabled user apart.
      const failure = user && stored && matches ? { errorCode: 'auth.user_disabled', errorMessage: 'The user is disabled.' } : { errorCode: 'auth.failed', errorMessage: 'Authentication failed.' };
      await this.deps.tx.transaction(async (s) => {
        for (const [key, free] of [[keys[0]!, IP_FREE_FAILURES], [keys[1]!, USER_FREE_FAILURES]] as const) {
          const failures = await s.auth.recordFailure(key, now, now - FAILURE_WINDOW_MS);
          const lock = lockMsAfter(failures, free);
          if (lock > 0) await s.auth.lockUntil(key, now + lock);
        }
        await s.audit.appendEvent(
          buildEvent(signInCtx, this.deps, 'CredentialVerification', { userName: principal.userName }, failure),
        );
      });
      return { kind: 'failed' };
    }

    return this.openSession(signInCtx, instance, user, { mustChangePassword: stored.oneTime, credentialType: 'PASSWORD' }, async (s) => {
      if (states.has(keys[1]!)) await s.auth.clearThrottle(keys[1]!);
    });
  }

  /**
   * Sign in a user an external identity provider vouched for (its assertion checked by federation/):
   * the same portal session and audit events as a password sign-in. The caller refuses disabled users.
   */
  async signInFederated(ctx: RequestContext, user: UserSummary, credentialType: string): Promise<Extract<SignInResult, { kind: 'ok' }>> {
    const instance = await this.deps.instance.get();
    const principal: Principal = { type: 'IdentityCenterUser', principalId: user.userId, userName: user.userName };
    return this.openSession({ ...ctx, eventSource: SIGNIN_SOURCE, principal }, instance, user, { mustChangePassword: false, credentialType });
  }

  private async openSession(
    signInCtx: RequestContext,
    instance: InstanceRecord,
    user: UserSummary,
    opts: { mustChangePassword: boolean; credentialType: string },
    before?: (s: AuthStores) => Promise<void>,
  ): Promise<Extract<SignInResult, { kind: 'ok' }>> {
    const now = this.deps.clock.now();
    const token = randomBytes(32).toString('base64url');
    const session: SessionRecord = {
      sessionId: hex(this.deps.ids, 32),
      tokenHash: tokenHashOf(token),
      identityStoreId: user.identityStoreId,
      userId: user.userId,
      userName: user.userName,
      mustChangePassword: opts.mustChangePassword,
      sourceIp: signInCtx.sourceIp,
      userAgent: signInCtx.userAgent.slice(0, 512),
      createdAt: now,
      expiresAt: now + instance.settings.sessionDurationMinutes * 60_000,
    };
    await this.deps.tx.transaction(async (s) => {
      await before?.(s);
      await s.auth.deleteExpiredSessions(user.identityStoreId, user.userId, now);
      await s.auth.insertSession(session);
      const responseElements = { sessionId: session.sessionId, mustChangePassword: session.mustChangePassword };
      await s.audit.appendEvents([
        buildEvent(signInCtx, this.deps, 'CredentialVerification', { userName: session.userName }, { responseElements: { credentialType: opts.credentialType } }),
        buildEvent(signInCtx, this.deps, 'UserAuthentication', { userName: session.userName }, { responseElements }),
      ]);
    });
    return { kind: 'ok', token, session };
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
    return { sessionId: s.sessionId, userId: s.userId, userName: s.userName, expiresAt: s.expiresAt };
  }

  /** Change the session user's password. A forced change (one-time password) needs no current password. */
  async changePassword(ctx: RequestContext, session: SessionRecord, input: { currentPassword?: string; newPassword: string }): Promise<void> {
    const instance = await this.deps.instance.get();
    const userCtx = this.userContext(ctx, session, SIGNIN_SOURCE);
    await this.auditedAfter(
      userCtx,
      { eventName: 'UpdatePassword', requestParameters: { userName: session.userName } },
      async () => {
        if (!session.mustChangePassword) {
          const current = await this.read.findPassword(session.identityStoreId, session.userId);
          if (!current || !(await verifyPassword(current.hash, input.currentPassword ?? ''))) {
            throw invalidArgument('auth.wrong_password', 'The current password is not correct.');
          }
        }
        const history = await this.checkNewPassword(instance, session.identityStoreId, session.userId, input.newPassword);
        return { history, hash: await hashPassword(input.newPassword) };
      },
      async (s, { history, hash }) => {
        await s.auth.savePassword({ identityStoreId: session.identityStoreId, userId: session.userId, hash, history, oneTime: false, changedAt: this.deps.clock.now() });
        await s.auth.markPasswordChanged(session.sessionId);
      },
    );
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
    await this.endSessions(this.userContext(ctx, session), 'RevokeSession', { sessionId }, async () => {
      const target = await this.read.findSession(sessionId, this.deps.clock.now());
      if (!target || target.userId !== session.userId) throw sessionNotFound();
      return [sessionId];
    });
  }

  /** Sign-out: the cookie's session ends. */
  async signOut(ctx: RequestContext, session: SessionRecord): Promise<void> {
    await this.endSessions(this.userContext(ctx, session), 'Logout', { sessionId: session.sessionId }, () => Promise.resolve([session.sessionId]));
  }
}
