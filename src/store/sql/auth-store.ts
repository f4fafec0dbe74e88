// SQL implementation of the auth module's store port (passwords, portal sessions, throttle).

import { sql, type Insertable } from 'kysely';
import type { AttemptState, AuthStore, PasswordRecord, SessionRecord, ThrottleState } from '../../auth/index.js';
import type { Slice } from '../../shared/pagination.js';
import type { Database, Db, Dialect } from '../database.js';
import { precompiled } from '../precompiled.js';
import type { AuthPasswordsTable, AuthSessionsTable } from '../schema/auth.js';

const sessionRow = (s: SessionRecord): Insertable<AuthSessionsTable> => ({
  session_id: s.sessionId,
  token_hash: s.tokenHash,
  identity_store_id: s.identityStoreId,
  user_id: s.userId,
  user_name: s.userName,
  must_change_password: s.mustChangePassword ? 1 : 0,
  mfa_at: s.mfaAt,
  source_ip: s.sourceIp,
  user_agent: s.userAgent,
  created_at: s.createdAt,
  expires_at: s.expiresAt,
});

const toSession = (r: AuthSessionsTable): SessionRecord => ({
  sessionId: r.session_id,
  tokenHash: r.token_hash,
  identityStoreId: r.identity_store_id,
  userId: r.user_id,
  userName: r.user_name,
  mustChangePassword: r.must_change_password === 1,
  mfaAt: r.mfa_at === null ? null : Number(r.mfa_at),
  sourceIp: r.source_ip,
  userAgent: r.user_agent,
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
});

// Every sign-in runs these (and every portal request reads its session): precompiled, as building
// and compiling them through the query builder costs more than the database takes to run them.
const passwordOf = precompiled<Database, { store: string; user: string }, AuthPasswordsTable>((db, arg) =>
  db.selectFrom('auth_passwords').selectAll().where('identity_store_id', '=', arg('store')).where('user_id', '=', arg('user')),
);
const SESSION_COLUMNS = [
  'session_id',
  'token_hash',
  'identity_store_id',
  'user_id',
  'user_name',
  'must_change_password',
  'mfa_at',
  'source_ip',
  'user_agent',
  'created_at',
  'expires_at',
] as const satisfies readonly (keyof AuthSessionsTable)[];
const insertSessionRow = precompiled<Database, Insertable<AuthSessionsTable>, never>((db, arg) =>
  db.insertInto('auth_sessions').values(Object.fromEntries(SESSION_COLUMNS.map((c) => [c, arg(c)])) as unknown as Insertable<AuthSessionsTable>),
);
/**
 * A sign-in's session row, written only while neither throttle key is locked at `now`: the check
 * and the write are one statement (no row is inserted when a key is locked).
 */
const insertSessionUnlessLocked = precompiled<Database, Insertable<AuthSessionsTable> & { a: string; b: string; now: number }, never>((db, arg) =>
  db
    .insertInto('auth_sessions')
    .columns(SESSION_COLUMNS)
    .expression(
      db
        .selectNoFrom(SESSION_COLUMNS.map((c) => sql`${arg(c)}`.as(c)))
        .where((eb) =>
          eb.not(eb.exists(db.selectFrom('auth_throttle').select('throttle_key').where('throttle_key', 'in', [arg('a'), arg('b')]).where('locked_until', '>', arg('now')))),
        ),
    ),
);
const sessionByToken = precompiled<Database, { hash: string; now: number }, AuthSessionsTable>((db, arg) =>
  db.selectFrom('auth_sessions').selectAll().where('token_hash', '=', arg('hash')).where('expires_at', '>', arg('now')),
);
type ThrottleRow = { throttle_key: string; failures: number; locked_until: number };
/** The throttle rows of up to two keys (a sign-in's address and user name): one key is given twice. */
const throttleOfTwo = precompiled<Database, { a: string; b: string }, ThrottleRow>((db, arg) =>
  db.selectFrom('auth_throttle').select(['throttle_key', 'failures', 'locked_until']).where('throttle_key', 'in', [arg('a'), arg('b')]),
);
/**
 * A password attempt's one read before its hash: the throttle rows of its two keys, and the user's
 * password row (a row with a null key), in one statement.
 */
const attemptState = precompiled<Database, { a: string; b: string; store: string; user: string }, ThrottleRow & { hash: string | null; one_time: number | null }>(
  (db, arg) =>
    db
      .selectFrom('auth_throttle')
      .select(['throttle_key', 'failures', 'locked_until', sql<string | null>`null`.as('hash'), sql<number | null>`null`.as('one_time')])
      .where('throttle_key', 'in', [arg('a'), arg('b')])
      .unionAll(
        db
          .selectFrom('auth_passwords')
          .select([sql<string>`null`.as('throttle_key'), sql<number>`null`.as('failures'), sql<number>`null`.as('locked_until'), 'hash', 'one_time'])
          .where('identity_store_id', '=', arg('store'))
          .where('user_id', '=', arg('user')),
      ),
);
// One atomic upsert, so that concurrent failures on many processes all count; on PostgreSQL it
// holds the key's row until the commit. `locked_until` is returned as it was: the upsert keeps it.
// The count restarts only when both the last failure and the end of the last lock are older than
// the window: waiting out a back-off as long as the window must not wipe the count, or the
// lock-out would never come.
const countFailure = precompiled<Database, { key: string; now: number; windowStart: number }, { failures: number; locked_until: number }>((db, arg) =>
  db
    .insertInto('auth_throttle')
    .values({ throttle_key: arg('key'), failures: 1, last_failure_at: arg('now'), locked_until: 0 })
    .onConflict((oc) =>
      oc.column('throttle_key').doUpdateSet({
        failures: sql<number>`case when auth_throttle.last_failure_at < ${arg('windowStart')} and auth_throttle.locked_until < ${arg('windowStart')} then 1 else auth_throttle.failures + 1 end`,
        last_failure_at: arg('now'),
      }),
    )
    .returning(['failures', 'locked_until']),
);
const setLock = precompiled<Database, { key: string; until: number }, never>((db, arg) =>
  db.updateTable('auth_throttle').set({ locked_until: arg('until') }).where('throttle_key', '=', arg('key')),
);
const forgiveOne = precompiled<Database, { key: string }, never>((db, arg) =>
  db
    .updateTable('auth_throttle')
    .set({ failures: sql<number>`case when failures > 0 then failures - 1 else 0 end` })
    .where('throttle_key', '=', arg('key')),
);
const deleteThrottle = precompiled<Database, { key: string }, never>((db, arg) => db.deleteFrom('auth_throttle').where('throttle_key', '=', arg('key')));

export class SqlAuthStore implements AuthStore {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  async findPassword(identityStoreId: string, userId: string): Promise<PasswordRecord | undefined> {
    const [r] = (await passwordOf(this.db, { store: identityStoreId, user: userId })).rows;
    if (!r) return undefined;
    return {
      identityStoreId: r.identity_store_id,
      userId: r.user_id,
      hash: r.hash,
      history: JSON.parse(r.history) as string[],
      oneTime: r.one_time === 1,
      changedAt: Number(r.changed_at),
    };
  }

  async savePassword(p: PasswordRecord): Promise<void> {
    const values = { hash: p.hash, history: JSON.stringify(p.history), one_time: p.oneTime ? 1 : 0, changed_at: p.changedAt };
    await this.db
      .insertInto('auth_passwords')
      .values({ identity_store_id: p.identityStoreId, user_id: p.userId, ...values })
      .onConflict((oc) => oc.columns(['identity_store_id', 'user_id']).doUpdateSet(values))
      .execute();
  }

  async insertSession(s: SessionRecord): Promise<void> {
    await insertSessionRow(this.db, sessionRow(s));
  }

  async insertSessionUnlessLocked(s: SessionRecord, keys: readonly [string, string], now: number): Promise<boolean> {
    const { numAffectedRows } = await insertSessionUnlessLocked(this.db, { ...sessionRow(s), a: keys[0], b: keys[1], now });
    return Number(numAffectedRows ?? 0) > 0;
  }

  async findSessionByToken(tokenHash: string, now: number): Promise<SessionRecord | undefined> {
    const [r] = (await sessionByToken(this.db, { hash: tokenHash, now })).rows;
    return r && toSession(r);
  }

  async findSession(sessionId: string, now: number): Promise<SessionRecord | undefined> {
    const r = await this.db.selectFrom('auth_sessions').selectAll().where('session_id', '=', sessionId).where('expires_at', '>', now).executeTakeFirst();
    return r && toSession(r);
  }

  async listSessions(q: { identityStoreId: string; userId?: string; now: number; slice?: Slice<[number, string]> }): Promise<SessionRecord[]> {
    let query = this.db.selectFrom('auth_sessions').selectAll().where('identity_store_id', '=', q.identityStoreId).where('expires_at', '>', q.now);
    if (q.userId) query = query.where('user_id', '=', q.userId);
    // Both descending, so that a page of everyone's sessions is a walk down auth_sessions_created (0025).
    query = query.orderBy('created_at', 'desc').orderBy('session_id', 'desc');
    const after = q.slice?.after;
    if (after) query = query.where((eb) => eb(eb.refTuple('created_at', 'session_id'), '<', eb.tuple(after[0], after[1])));
    if (q.slice) query = query.limit(q.slice.limit);
    return (await query.execute()).map(toSession);
  }

  async markPasswordChanged(sessionId: string): Promise<void> {
    await this.db.updateTable('auth_sessions').set({ must_change_password: 0 }).where('session_id', '=', sessionId).execute();
  }

  async markMfa(sessionId: string, at: number, tokenHash: string): Promise<void> {
    await this.db.updateTable('auth_sessions').set({ mfa_at: at, token_hash: tokenHash }).where('session_id', '=', sessionId).execute();
  }

  async deleteSessions(sessionIds: readonly string[]): Promise<string[]> {
    if (sessionIds.length === 0) return [];
    const rows = await this.db.deleteFrom('auth_sessions').where('session_id', 'in', sessionIds).returning('session_id').execute();
    return rows.map((r) => r.session_id);
  }

  async throttleStates(keys: readonly string[]): Promise<Map<string, ThrottleState>> {
    const rows =
      keys.length === 0 ? [] : keys.length <= 2 ? (await throttleOfTwo(this.db, { a: keys[0]!, b: keys.at(-1)! })).rows : await this.db.selectFrom('auth_throttle').selectAll().where('throttle_key', 'in', keys).execute();
    return new Map(rows.map((r) => [r.throttle_key, { failures: r.failures, lockedUntil: Number(r.locked_until) }]));
  }

  async attemptState(keys: readonly [string, string], identityStoreId: string, userId: string | undefined): Promise<AttemptState> {
    const throttle = new Map<string, ThrottleState>();
    let password: AttemptState['password'];
    // No user: an id no row has, so that the read is the same statement either way.
    for (const r of (await attemptState(this.db, { a: keys[0], b: keys[1], store: identityStoreId, user: userId ?? '' })).rows) {
      if (r.throttle_key !== null) throttle.set(r.throttle_key, { failures: r.failures, lockedUntil: Number(r.locked_until) });
      else if (r.hash !== null) password = { hash: r.hash, oneTime: r.one_time === 1 };
    }
    return { throttle, password };
  }

  async recordFailure(key: string, now: number, windowStart: number): Promise<ThrottleState> {
    const [r] = (await countFailure(this.db, { key, now, windowStart })).rows;
    return { failures: Number(r!.failures), lockedUntil: Number(r!.locked_until) };
  }

  async lockUntil(key: string, until: number): Promise<void> {
    await setLock(this.db, { key, until });
  }

  async forgiveFailure(key: string): Promise<void> {
    await forgiveOne(this.db, { key });
  }

  async clearThrottle(key: string): Promise<void> {
    await deleteThrottle(this.db, { key });
  }
}
