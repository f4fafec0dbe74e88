// The sealer chains every committed event exactly once without making writers wait for each other:
// concurrent writes and refusals (whose rolled-back transactions leave seq gaps on PostgreSQL), a
// transaction still in flight while later ones commit, and two processes' sealers at once.

import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditTrail, DEFAULT_TRAIL_OPTIONS, buildEvent } from '../../src/audit/index.js';
import { systemContext } from '../../src/shared/context.js';
import { createLogger } from '../../src/shared/logger.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

describe.each(dialects())('audit sealer on %s', (dialect) => {
  let server: TestServer;
  const trails: AuditTrail[] = [];
  const newTrail = (opts: Partial<typeof DEFAULT_TRAIL_OPTIONS> = {}, clock = server.reg.clock) => {
    const r = server.reg;
    const t = new AuditTrail({ tx: r.tx, read: r.read, clock, ids: r.ids, envelope: r.envelope, log: createLogger('silent') }, { ...DEFAULT_TRAIL_OPTIONS, gapGraceMs: 50, ...opts });
    trails.push(t);
    return t;
  };
  beforeAll(async () => {
    server = await startServer(dialect, { auditSealMs: 60_000 });
    // This test's sealers stand in for serve's: it lets go of its lease.
    await server.reg.auditTrail.stop();
  });
  afterAll(async () => {
    for (const t of trails) await t.stop();
    await server?.close();
  });

  const counts = async () => {
    const db = server.reg.database.db;
    const events = await db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const chained = await db.selectFrom('audit_chain').select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.count<number>('event_seq').distinct().as('d')]).executeTakeFirstOrThrow();
    return { events: Number(events.n), chained: Number(chained.n), distinct: Number(chained.d) };
  };

  it('chains concurrent writes and refusals exactly once, while sealing runs alongside', async () => {
    const sealer = newTrail({ digestEvery: 7 });
    const client = new IdentitystoreClient(sdkOptions(server));
    let writing = true;
    const sealing = (async () => {
      while (writing) {
        await sealer.sealOnce();
        await new Promise((r) => setTimeout(r, 10));
      }
    })();
    await Promise.all(
      Array.from({ length: 40 }, (_, i) =>
        client
          // Every fourth is refused (a duplicate name): a failure event, after a rolled-back transaction.
          .send(new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: `busy-${i % 4 === 3 ? 0 : i}`, DisplayName: 'B', Name: { GivenName: 'B', FamilyName: 'Y' } }))
          .catch(() => undefined),
      ),
    );
    writing = false;
    await sealing;
    await new Promise((r) => setTimeout(r, 100));
    await sealer.sealOnce({ forceDigest: true });
    const c = await counts();
    expect(c.chained).toBe(c.events);
    expect(c.distinct).toBe(c.events);
    const failures = await server.reg.auditTrail.lookup({ eventName: 'CreateUser' }, { maxResults: 50 });
    expect(failures.items.filter((e) => e.errorCode).length).toBe(10);
    expect(await sealer.verifyDatabase()).toMatchObject({ ok: true, notYetChained: 0, unsignedTail: 0 });
    await sealer.stop();
  }, 60_000);

  it('lets one process seal at a time; another takes over when it lets go', async () => {
    const [a, b] = [newTrail(), newTrail()];
    await a.sealOnce();
    await server.reg.audit.recordRefusal(systemContext('atrium', 'us-east-1', 'r-1'), 'Probe', {}, 'probe', 'probe');
    // b cannot seal while a holds the lease.
    expect(await b.sealOnce()).toBe(0);
    await a.stop();
    expect(await b.sealOnce()).toBe(1);
    expect((await b.verifyDatabase()).ok).toBe(true);
  });

  // Skipped on SQLite on purpose: its single writer commits in seq order, so no transaction can
  // commit after a later one there.
  it.runIf(dialect === 'postgres')('chains a transaction that commits after later ones at the end of the chain', async () => {
    const [sealer] = trails.slice(-1);
    const ctx = systemContext('atrium', 'us-east-1', 'r-late');
    const deps = { clock: server.reg.clock, ids: server.reg.ids };
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    let inserted!: () => void;
    const insertedYet = new Promise<void>((r) => (inserted = r));
    // Takes its seq now, commits later.
    const late = server.reg.tx.transaction(async (s) => {
      await s.audit.appendEvent(buildEvent(ctx, deps, 'LateCommit', {}, {}));
      inserted();
      await gate;
    });
    await insertedYet;
    try {
      for (let i = 0; i < 3; i++) await server.reg.tx.transaction((s) => s.audit.appendEvent(buildEvent(ctx, deps, `OnTime${i}`, {}, {})));
      // The gap holds the chain back for a moment, then the sealer goes on without it.
      await sealer!.sealOnce();
      await new Promise((r) => setTimeout(r, 100));
      await sealer!.sealOnce();
      const before = await counts();
      // The three later ones are chained; the one in flight is not (it is not visible yet).
      expect(before.chained).toBe(before.events);
    } finally {
      release();
      await late;
    }
    await sealer!.sealOnce({ forceDigest: true });
    const after = await counts();
    expect(after.chained).toBe(after.events);
    const last = await server.reg.database.db
      .selectFrom('audit_chain as c')
      .innerJoin('audit_events as e', 'e.seq', 'c.event_seq')
      .select(['e.event_name'])
      .orderBy('c.position', 'desc')
      .limit(1)
      .executeTakeFirstOrThrow();
    expect(last.event_name).toBe('LateCommit');
    expect(await sealer!.verifyDatabase()).toMatchObject({ ok: true, notYetChained: 0 });
  });

  it('writes nothing on a pass with nothing to chain, and renews its lease once half of it has run', async () => {
    for (const t of trails) await t.stop();
    let now = Date.now();
    const sealer = newTrail({ leaseMs: 30_000 }, { now: () => now });
    const store = server.reg.read.auditChain;
    // Chain whatever earlier tests left (a seq gap holds the chain back for gapGraceMs).
    for (let i = 0; i < 10 && (await sealer.verifyDatabase()).notYetChained > 0; i++) {
      now += 100;
      await sealer.sealOnce();
    }
    await sealer.sealOnce();
    const before = { state: await store.sealerState(), ...(await counts()) };
    expect(before.state.lockedUntil).toBeGreaterThan(now);
    // An idle pass within the first half of the lease: the sealer's row and the chain are as they were.
    now += 14_000;
    expect(await sealer.sealOnce()).toBe(0);
    expect({ state: await store.sealerState(), ...(await counts()) }).toEqual(before);
    // Another sealer still cannot take over: the lease has not run out.
    expect(await newTrail({ leaseMs: 30_000 }, { now: () => now }).sealOnce()).toBe(0);
    // Past half of it, the next pass renews it.
    now += 2_000;
    expect(await sealer.sealOnce()).toBe(0);
    expect(await store.sealerState()).toEqual({ ...before.state, lockedUntil: now + 30_000 });
    await sealer.stop();
  });

  it('chains a batch larger than one insert statement, with every event found by its keys', async () => {
    // The earlier tests' sealers let go of the lease, so that this one takes it at once.
    for (const t of trails) await t.stop();
    const sealer = newTrail();
    const ctx = systemContext('atrium', 'us-east-1', 'r-wide');
    const deps = { clock: server.reg.clock, ids: server.reg.ids };
    // 250 events in one commit: chain rows go 100 a statement, so this takes three shapes.
    const events = Array.from({ length: 250 }, (_, i) => buildEvent(ctx, deps, 'WideBatch', { userId: `wide-${i}` }, {}));
    await server.reg.tx.transaction((s) => s.audit.appendEvents(events));
    // A seq gap left by an earlier test's refusals holds the chain back for gapGraceMs (50 ms).
    for (let i = 0; i < 100 && (await sealer.verifyDatabase()).notYetChained > 0; i++) {
      await sealer.sealOnce({ forceDigest: true });
      await new Promise((r) => setTimeout(r, 20));
    }
    const c = await counts();
    expect(c.chained).toBe(c.events);
    expect(c.distinct).toBe(c.events);
    expect(await sealer.verifyDatabase()).toMatchObject({ ok: true, notYetChained: 0, unsignedTail: 0 });
    for (const i of [0, 99, 100, 199, 200, 249]) {
      const found = await server.reg.auditTrail.lookup({ resourceName: `wide-${i}`, eventName: 'WideBatch' }, {});
      expect(found.items.map((e) => e.requestParameters)).toEqual([{ userId: `wide-${i}` }]);
    }
    const byName = await server.reg.database.db
      .selectFrom('audit_lookup')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('kind', '=', 'name')
      .where('value', '=', 'WideBatch')
      .executeTakeFirstOrThrow();
    expect(Number(byName.n)).toBe(250);
  });
});
