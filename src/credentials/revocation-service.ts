// Real revocation: "not valid before T" marks per subject (a user, a portal session, a user's role
// in an account), kept in memory by every process and checked on every verification.

import { buildEvent, type AuditStore } from '../audit/index.js';
import type { AccessStore } from '../access/index.js';
import type { DirectoryStore } from '../directory/index.js';
import type { RequestContext } from '../shared/context.js';
import type { ServiceDeps } from '../shared/service-deps.js';
import type { RevocationStore } from './revocation-store.js';

export type RevocationStores = { revocation: RevocationStore; audit: AuditStore };
/** Who holds a role through a group: read from the directory's and access module's stores. */
type GrantStores = {
  directory: Pick<DirectoryStore, 'ancestorGroupIds' | 'userIdsBelow' | 'groupIdsOfUsers'>;
  access: Pick<AccessStore, 'listAssignmentsOfPrincipals' | 'listAssignments'>;
};

/**
 * Users who leave a group: those named, every user below the member groups named (they leave with
 * their group), or, when the group itself is deleted, every user below it.
 */
export interface GroupDeparture {
  identityStoreId: string;
  groupId: string;
  userIds?: readonly string[];
  memberGroupIds?: readonly string[];
  everyone?: boolean;
}

/** A role in an account: what a role revocation names, with the user. */
interface Role {
  accountId: string;
  permissionSetArn: string;
}

/** What a revocation applies to. */
export type RevocationSubject =
  | { kind: 'user'; userId: string }
  | { kind: 'session'; sessionId: string }
  | { kind: 'role'; userId: string; accountId: string; permissionSetArn: string };

/** What an issued credential was issued for, and when. */
export interface IssuedFor {
  userId: string;
  sessionId: string;
  accountId: string;
  permissionSetArn: string;
  issuedAt: number;
}

/** Every process reads the marks at least this often, so a revocation holds everywhere within 5 s. */
export const REVOCATION_REFRESH_MS = 1_000;
/**
 * Marks older than this are pruned: everything issued before them has expired (temporary
 * credentials last at most 12 h).
 */
export const REVOCATION_RETENTION_MS = 13 * 3600_000;
/**
 * PostgreSQL hands out seq values at insert but rows appear at commit, so a low seq can appear
 * after a higher one. Each read goes back to the high-water mark of this long ago to catch them.
 */
const COMMIT_LAG_MS = 10_000;
const PAGE = 500;

const keyOf = (s: RevocationSubject): string =>
  s.kind === 'user' ? `user:${s.userId}` : s.kind === 'session' ? `session:${s.sessionId}` : `role:${s.userId}:${s.accountId}:${s.permissionSetArn}`;

/** The marks that apply to a credential: its user's, its portal session's and its role's. */
export type RevocationKeys = readonly [string, string, string];

/** The marks a credential issued for `c` is checked against; a verifier may keep them with the credential. */
export function revocationKeysOf(c: Omit<IssuedFor, 'issuedAt'>): RevocationKeys {
  return [
    keyOf({ kind: 'user', userId: c.userId }),
    keyOf({ kind: 'session', sessionId: c.sessionId }),
    keyOf({ kind: 'role', userId: c.userId, accountId: c.accountId, permissionSetArn: c.permissionSetArn }),
  ];
}

export class RevocationService {
  private readonly notBefore = new Map<string, number>();
  /** (read time, highest seq seen) of recent reads; the oldest within COMMIT_LAG_MS is the next floor. */
  private marks: { at: number; seq: number }[] = [];
  private highSeq = 0;
  private lastRead = -Infinity;
  private reading?: Promise<void>;
  /**
   * Local revocations so far, and how many of them the last completed read began after. A check
   * waits for a read that BEGAN after the newest local revocation: a read already in flight when
   * it committed cannot see it.
   */
  private revokedLocally = 1;
  private seenLocally = 0;
  private timer?: NodeJS.Timeout;

  constructor(private readonly deps: ServiceDeps<RevocationStores & GrantStores>) {}

  /** Keep the marks fresh in the background (serving processes). */
  start(): void {
    // A failed background read is retried by the next check, which finds lastRead too old.
    this.timer ??= setInterval(() => void this.refresh().catch(() => undefined), REVOCATION_REFRESH_MS);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /**
   * Everything issued for `subjects` up to now stops working, within REVOCATION_REFRESH_MS on every
   * process; marks are kept REVOCATION_RETENTION_MS, longer than any temporary credential lives.
   * Revocations follow from another change (a user deleted, a membership or an assignment
   * removed, a session ended), in that change's transaction. They are recorded as a service event of their own that
   * names the request that caused them.
   */
  async revokeFollowing(cause: RequestContext, subjects: RevocationSubject[], reason: string): Promise<void> {
    if (subjects.length === 0) return;
    const now = this.deps.clock.now();
    const ctx = { ...cause, requestId: this.deps.ids.uuid() };
    const params = { subjects, reason, causedBy: cause.requestId };
    await this.deps.tx.transaction(async (s) => {
      await this.write(s, subjects, now);
      await s.audit.appendEvent({ ...buildEvent(ctx, this.deps, 'RevokeCredentials', params, {}), eventType: 'AwsServiceEvent' });
      // Called inside the change's transaction, the marks are not readable until it commits: a
      // refresh in between must not count them as seen, or this process would go on accepting
      // the credentials until its next background refresh.
      this.deps.tx.afterCommit(() => (this.revokedLocally += 1));
    });
  }

  /**
   * Users leave a group, in bulk: `change` removes their memberships (or the group) and, in the same
   * transaction, each leaver loses at once the roles the change took from them. Those are the roles
   * assigned to the group or to any group it is in, less what the leaver still holds after the
   * change: directly, or through another path of groups. Who leaves is read before the change (a
   * deleted group's members go with it), what they keep after it. Call it inside the change's transaction.
   */
  async revokeGroupGrants<T>(cause: RequestContext, departure: GroupDeparture, reason: string, change: () => Promise<T>): Promise<T> {
    const { identityStoreId, groupId } = departure;
    const directory = this.deps.read.directory;
    const roles = await this.rolesOfGroups([groupId, ...(await directory.ancestorGroupIds(identityStoreId, groupId))]);
    if (roles.length === 0) return change();
    const leavers = new Set(departure.userIds);
    const groupsLeaving = [...(departure.memberGroupIds ?? []), ...(departure.everyone ? [groupId] : [])];
    if (groupsLeaving.length > 0) for (const userId of await directory.userIdsBelow(identityStoreId, groupsLeaving)) leavers.add(userId);
    const result = await change();
    await this.revokeLostRoles(cause, identityStoreId, [...leavers], roles, reason);
    return result;
  }

  /**
   * An assignment was deleted: revoke the role for its user, or for every user below its group,
   * except for those who still hold it another way. Call it after the deletion, in its transaction.
   */
  async revokeAssignment(
    cause: RequestContext,
    a: { identityStoreId: string; principalType: 'USER' | 'GROUP'; principalId: string; accountId: string; permissionSetArn: string },
    reason: string,
  ): Promise<void> {
    const users = a.principalType === 'USER' ? [a.principalId] : await this.deps.read.directory.userIdsBelow(a.identityStoreId, [a.principalId]);
    await this.revokeLostRoles(cause, a.identityStoreId, users, [{ accountId: a.accountId, permissionSetArn: a.permissionSetArn }], reason);
  }

  /** Revoke each of `roles` for each of `users` who no longer holds it: one mark per lost role, one audit event. */
  private async revokeLostRoles(cause: RequestContext, identityStoreId: string, users: readonly string[], roles: readonly Role[], reason: string): Promise<void> {
    if (users.length === 0 || roles.length === 0) return;
    const groupsOf = await this.deps.read.directory.groupIdsOfUsers(identityStoreId, users);
    const subjects: RevocationSubject[] = [];
    for (const role of roles) {
      const holders = await this.holdersOf(role);
      for (const userId of users) {
        const kept = holders.users.has(userId) || (groupsOf.get(userId) ?? []).some((g) => holders.groups.has(g));
        if (!kept) subjects.push({ kind: 'role', userId, ...role });
      }
    }
    await this.revokeFollowing(cause, subjects, reason);
  }

  private async write(s: RevocationStores, subjects: RevocationSubject[], now: number): Promise<void> {
    await s.revocation.insertRevocations(subjects.map(keyOf), now);
    await s.revocation.deleteRevocationsBefore(now - REVOCATION_RETENTION_MS);
  }

  /**
   * Whether a credential issued for `c` has been revoked since. No database read unless this
   * process just revoked or its background refresh is late. Call it outside any transaction.
   * `keys` are revocationKeysOf(c), for a caller that keeps them with the credential.
   */
  /**
   * Whether the user has been revoked as a whole (disabled or deleted) since `issuedAt`: what a
   * token issued to them then, not a credential, is checked against. As isRevoked, from memory.
   */
  userRevokedSince(userId: string, issuedAt: number): Promise<boolean> {
    return this.markedSince([keyOf({ kind: 'user', userId })], issuedAt);
  }

  isRevoked(c: IssuedFor, keys: RevocationKeys = revocationKeysOf(c)): Promise<boolean> {
    return this.markedSince(keys, c.issuedAt);
  }

  private async markedSince(keys: readonly string[], issuedAt: number): Promise<boolean> {
    const now = this.deps.clock.now();
    while (this.seenLocally < this.revokedLocally) await this.refresh();
    if (now - this.lastRead > 2 * REVOCATION_REFRESH_MS) await this.refresh();
    return this.marked(keys, issuedAt);
  }

  /**
   * As isRevoked, from the marks in memory when they are fresh enough for it (no revocation by
   * this process since the last read, which is recent); undefined when isRevoked must read first.
   */
  revokedNow(keys: RevocationKeys, issuedAt: number): boolean | undefined {
    if (this.seenLocally < this.revokedLocally || this.deps.clock.now() - this.lastRead > 2 * REVOCATION_REFRESH_MS) return undefined;
    return this.marked(keys, issuedAt);
  }

  private marked(keys: readonly string[], issuedAt: number): boolean {
    if (this.notBefore.size === 0) return false;
    for (const k of keys) if (issuedAt <= (this.notBefore.get(k) ?? -Infinity)) return true;
    return false;
  }

  /** Read the marks written since the last read (one read at a time). */
  refresh(): Promise<void> {
    this.reading ??= this.read().finally(() => (this.reading = undefined));
    return this.reading;
  }

  private async read(): Promise<void> {
    const covers = this.revokedLocally;
    const now = this.deps.clock.now();
    this.marks = this.marks.filter((m) => now - m.at < COMMIT_LAG_MS);
    const floor = this.marks[0]?.seq ?? 0;
    const rows = await this.deps.read.revocation.listRevocationsSince(floor, now - REVOCATION_RETENTION_MS);
    for (const r of rows) {
      if (r.notBefore > (this.notBefore.get(r.subjectKey) ?? -Infinity)) this.notBefore.set(r.subjectKey, r.notBefore);
      this.highSeq = Math.max(this.highSeq, r.seq);
    }
    for (const [k, t] of this.notBefore) if (t <= now - REVOCATION_RETENTION_MS) this.notBefore.delete(k);
    this.marks.push({ at: now, seq: this.highSeq });
    this.lastRead = now;
    this.seenLocally = Math.max(this.seenLocally, covers);
  }

  /** The principals assigned the role: users directly, and groups (whose users below hold it). */
  private async holdersOf(role: Role): Promise<{ users: Set<string>; groups: Set<string> }> {
    const holders = { users: new Set<string>(), groups: new Set<string>() };
    for (let after: [string, string] | undefined; ; ) {
      const page = await this.deps.read.access.listAssignments(role.accountId, role.permissionSetArn, { after, limit: PAGE });
      for (const a of page) (a.principalType === 'USER' ? holders.users : holders.groups).add(a.principalId);
      if (page.length < PAGE) return holders;
      const last = page.at(-1)!;
      after = [last.principalType, last.principalId];
    }
  }

  /** The distinct roles assigned to any of these groups. */
  private async rolesOfGroups(groupIds: string[]): Promise<Role[]> {
    const roles = new Map<string, Role>();
    for (let after: [string, string, string, string] | undefined; ; ) {
      const page = await this.deps.read.access.listAssignmentsOfPrincipals([{ type: 'GROUP', ids: groupIds }], undefined, { after, limit: PAGE });
      for (const a of page) roles.set(`${a.accountId}\n${a.permissionSetArn}`, { accountId: a.accountId, permissionSetArn: a.permissionSetArn });
      if (page.length < PAGE) return [...roles.values()];
      const last = page.at(-1)!;
      after = [last.accountId, last.permissionSetArn, last.principalType, last.principalId];
    }
  }
}
