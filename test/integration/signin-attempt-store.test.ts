// The two statements a password sign-in costs besides its hash and its audit events: one read before
// the hash (the attempt's throttle rows and the user's password hash), and the session's insert,
// which itself refuses while a throttle key is locked (a parallel guess may lock one during the hash).

import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SessionRecord } from '../../src/auth/index.js';
import { systemContext } from '../../src/shared/context.js';
import { portalFixture } from '../helpers/portal-fixture.js';
import { dialects, startServer, type TestServer } from '../helpers/server.js';

const MINUTE = 60_000;

describe.each(dialects())('a sign-in attempt in the store on %s', (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(dialect);
  });
  afterAll(async () => {
    await server?.close();
  });

  it("reads the attempt's throttle rows and the user's password hash in one read, and no hash for a user without one", async () => {
    const now = Date.now();
    const user = await portalFixture(server).newUser();
    await server.reg.auth.setPassword(systemContext('sso.amazonaws.com', 'us-east-1', 'test'), user.userName, { password: 'Store#Attempt-1', oneTime: true });
    const store = server.init.identityStoreId;
    const userKey = `user:${user.userName.toLowerCase()}`;
    await server.reg.database.db
      .insertInto('auth_throttle')
      .values([
        { throttle_key: 'ip:192.0.2.10', failures: 2, last_failure_at: now, locked_until: 0 },
        { throttle_key: userKey, failures: 7, last_failure_at: now, locked_until: now + MINUTE },
      ])
      .execute();
    const stored = (await server.reg.read.auth.findPassword(store, user.userId))!;

    const state = await server.reg.read.auth.attemptState(['ip:192.0.2.10', userKey], store, user.userId);
    expect([...state.throttle]).toEqual(
      expect.arrayContaining([
        ['ip:192.0.2.10', { failures: 2, lockedUntil: 0 }],
        [userKey, { failures: 7, lockedUntil: now + MINUTE }],
      ]),
    );
    expect(state.password).toEqual({ hash: stored.hash, oneTime: true });
    expect(state.password?.hash).toMatch(/^\$argon2id\$/);

    // A user without a password: no hash.
    const other = await portalFixture(server).newUser();
    expect((await server.reg.read.auth.attemptState(['ip:192.0.2.10', `user:${other.userName}`], store, other.userId)).password).toBeUndefined();

    // No such user: the throttle rows all the same, and no hash.
    const nobody = await server.reg.read.auth.attemptState(['ip:192.0.2.10', 'user:nobody-here'], store, undefined);
    expect([...nobody.throttle.keys()]).toEqual(['ip:192.0.2.10']);
    expect(nobody.password).toBeUndefined();
  });

  it('writes a sign-in session only while neither of its throttle keys is locked', async () => {
    const now = Date.now();
    const user = await portalFixture(server).newUser();
    const session = (): SessionRecord => ({
      sessionId: randomUUID(),
      tokenHash: randomUUID().replace(/-/g, ''),
      identityStoreId: server.init.identityStoreId,
      userId: user.userId,
      userName: user.userName,
      mustChangePassword: false,
      mfaAt: null,
      sourceIp: '192.0.2.20',
      userAgent: 'test',
      createdAt: now,
      expiresAt: now + 60 * MINUTE,
    });
    const keys = ['ip:192.0.2.20', `user:${user.userName.toLowerCase()}`] as const;
    const db = server.reg.database.db;
    const auth = server.reg.read.auth;

    // Free: written.
    const first = session();
    expect(await auth.insertSessionUnlessLocked(first, keys, now)).toBe(true);
    expect((await auth.findSessionByToken(first.tokenHash, now))?.sessionId).toBe(first.sessionId);

    // The user name locked (as by a parallel wrong guess): nothing written.
    await db.insertInto('auth_throttle').values({ throttle_key: keys[1], failures: 4, last_failure_at: now, locked_until: now + MINUTE }).execute();
    const refused = session();
    expect(await auth.insertSessionUnlessLocked(refused, keys, now)).toBe(false);
    expect(await auth.findSessionByToken(refused.tokenHash, now)).toBeUndefined();

    // The address locked instead, the user's lock lapsed: still nothing.
    await db.updateTable('auth_throttle').set({ locked_until: now - 1 }).where('throttle_key', '=', keys[1]).execute();
    await db.insertInto('auth_throttle').values({ throttle_key: keys[0], failures: 30, last_failure_at: now, locked_until: now + MINUTE }).execute();
    expect(await auth.insertSessionUnlessLocked(session(), keys, now)).toBe(false);

    // Both lapsed (a row with failures on record is no lock): written.
    await db.updateTable('auth_throttle').set({ locked_until: now - 1 }).where('throttle_key', '=', keys[0]).execute();
    const later = session();
    expect(await auth.insertSessionUnlessLocked(later, keys, now)).toBe(true);
    expect((await auth.findSessionByToken(later.tokenHash, now))?.userId).toBe(user.userId);
  });

  it('keeps counting failures after a lock as long as the window: waiting out the longest back-off does not wipe the count', async () => {
    const key = `user:patient-${randomUUID()}`;
    const window = 15 * MINUTE;
    let now = Date.now();
    const fail = () => server.reg.tx.transaction((s) => s.auth.recordFailure(key, now, now - window));
    // The housekeeping sweep, then whether this key's row is still there.
    const sweep = async () => {
      await server.reg.tx.transaction((s) => s.housekeeping.deleteStaleThrottle(now - window, now, 1000));
      return (await server.reg.database.db.selectFrom('auth_throttle').select('failures').where('throttle_key', '=', key).execute()).length === 1;
    };
    for (let i = 1; i <= 10; i++) expect((await fail()).failures).toBe(i);
    // The longest back-off (900 s by default) is as long as the window (15 min).
    await server.reg.tx.transaction((s) => s.auth.lockUntil(key, now + window));
    now += window + 1_000;
    // The lock ended a second ago: the housekeeping keeps the row, and the next failure is the 11th.
    expect(await sweep()).toBe(true);
    expect((await fail()).failures).toBe(11);
    // Once the last failure and the lock's end are both out of the window, counting starts again.
    now += window + 1_000;
    expect(await sweep()).toBe(false);
    expect((await fail()).failures).toBe(1);
  });
});
