// The audit log is tamper-evident: committed events are chained by the sealer and signed digests
// vouch for the chain. Any edited, deleted, inserted or reordered event, in the database or in an
// exported file, makes verify fail at that event. Old events are pruned and the rest still verifies.

import { writeFileSync, readFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AuditTrail, DEFAULT_TRAIL_OPTIONS, chainHash, cloudTrailRecord, digestMessage, verifyExport, type ExportLine, type StoredAuditEvent } from '../../src/audit/index.js';
import { ed25519PublicKey, signEd25519 } from '../../src/crypto/index.js';
import { AuditStreams, DEFAULT_FOLLOWER_OPTIONS } from '../../src/audit/sinks/index.js';
import { createLogger } from '../../src/shared/logger.js';
import { SqlAuditSinkStore } from '../../src/store/sql/audit-sink-store.js';
import { contextualDb } from '../../src/store/stores.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

describe.each(dialects())('audit chain on %s', (dialect) => {
  let server: TestServer;
  let dir: string;
  beforeAll(async () => {
    // The test seals by hand; a digest every 5 events.
    server = await startServer(dialect, { auditSealMs: 60_000, auditDigestEvery: 5 });
    dir = mkdtempSync(path.join(tmpdir(), 'atrium-audit-'));
    const client = new IdentitystoreClient(sdkOptions(server));
    for (let i = 0; i < 12; i++) {
      await client.send(new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: `chain-${i}`, DisplayName: `C ${i}`, Name: { GivenName: 'C', FamilyName: `${i}` } }));
    }
    await server.reg.auditTrail.sealOnce({ forceDigest: true });
  }, 60_000);
  afterAll(async () => {
    await server?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  const db = () => server.reg.database.db;
  const trail = () => server.reg.auditTrail;
  const sinkStores = () => {
    // Bound to the current transaction, as the registry binds it.
    const store = new SqlAuditSinkStore(contextualDb(server.reg.database.db));
    return { auditSinks: store, alerts: store };
  };
  const chainRow = (position: number) => db().selectFrom('audit_chain').selectAll().where('position', '=', position).executeTakeFirstOrThrow();
  const eventRow = (seq: number) => db().selectFrom('audit_events').selectAll().where('seq', '=', seq).executeTakeFirstOrThrow();

  it('chains every committed event, signs digests, and verifies', async () => {
    const events = await db().selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    const chained = await db().selectFrom('audit_chain').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow();
    expect(Number(chained.n)).toBe(Number(events.n));
    expect(Number(chained.n)).toBeGreaterThanOrEqual(12);
    const result = await trail().verifyDatabase();
    expect(result).toMatchObject({ ok: true, firstPosition: 1, unsignedTail: 0, notYetChained: 0 });
    expect(result.events).toBe(Number(chained.n));
    expect(result.digests).toBeGreaterThanOrEqual(3);
  });

  it('chains new events on the next pass, after the ones before', async () => {
    const before = (await db().selectFrom('audit_chain').select((eb) => eb.fn.max('position').as('p')).executeTakeFirstOrThrow()).p;
    await new IdentitystoreClient(sdkOptions(server)).send(
      new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: 'late-comer', DisplayName: 'L', Name: { GivenName: 'L', FamilyName: 'C' } }),
    );
    expect((await trail().verifyDatabase()).notYetChained).toBe(1);
    expect(await trail().sealOnce({ forceDigest: true })).toBe(1);
    const last = await chainRow(Number(before) + 1);
    expect((await eventRow(last.event_seq)).event_name).toBe('CreateUser');
    expect(await trail().verifyDatabase()).toMatchObject({ ok: true, notYetChained: 0, unsignedTail: 0 });
  });

  it('finds an event by its keys before the sealer reaches it, and after, once each', async () => {
    const created = await new IdentitystoreClient(sdkOptions(server)).send(
      new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: `lookup-${dialect}`, DisplayName: 'L', Name: { GivenName: 'L', FamilyName: 'K' } }),
    );
    const byResource = () => trail().lookup({ resourceName: created.UserId!, eventName: 'CreateUser' }, {});
    // Not chained yet: found by the scan past the watermark, and not in the lookup keys.
    expect((await trail().verifyDatabase()).notYetChained).toBe(1);
    const before = (await byResource()).items;
    expect(before.map((e) => e.eventName)).toEqual(['CreateUser']);
    const keys = () => db().selectFrom('audit_lookup').select(['kind', 'value']).where('value', '=', created.UserId!).execute();
    expect(await keys()).toEqual([]);
    await trail().sealOnce({ forceDigest: true });
    expect(await keys()).toEqual([{ kind: 'resource', value: created.UserId! }]);
    // Chained: found through its keys, once, with every other filter still applied.
    const [event] = (await byResource()).items;
    expect(event).toEqual(before[0]);
    expect((await trail().lookup({ resourceName: created.UserId!, eventName: 'DeleteUser' }, {})).items).toEqual([]);
    expect((await trail().lookup({ resourceName: created.UserId!, readOnly: true }, {})).items).toEqual([]);
    const named = await trail().lookup({ eventName: 'CreateUser', eventSource: 'identitystore.amazonaws.com' }, { maxResults: 100 });
    expect(named.items.filter((e) => e.seq === event!.seq)).toHaveLength(1);
    expect(named.items.map((e) => e.eventTime)).toEqual([...named.items.map((e) => e.eventTime)].sort((a, b) => b - a));
  });

  it('names an edited event', async () => {
    const link = await chainRow(7);
    const original = await eventRow(link.event_seq);
    await db().updateTable('audit_events').set({ source_ip: '10.6.6.6' }).where('seq', '=', link.event_seq).execute();
    try {
      const r = await trail().verifyDatabase();
      expect(r.ok).toBe(false);
      expect(r.problem).toMatchObject({ position: 7, eventId: original.event_id });
      expect(r.problem!.reason).toMatch(/edited/);
    } finally {
      await db().updateTable('audit_events').set({ source_ip: original.source_ip }).where('seq', '=', link.event_seq).execute();
    }
    expect((await trail().verifyDatabase()).ok).toBe(true);
  });

  it('names a deleted event, whether its chain link is left or removed too', async () => {
    const link = await chainRow(7);
    const original = await eventRow(link.event_seq);
    await db().deleteFrom('audit_events').where('seq', '=', link.event_seq).execute();
    try {
      const r = await trail().verifyDatabase();
      expect(r.problem).toMatchObject({ position: 7, eventId: original.event_id });
      expect(r.problem!.reason).toMatch(/deleted/);
      await db().deleteFrom('audit_chain').where('position', '=', 7).execute();
      const r2 = await trail().verifyDatabase();
      expect(r2.ok).toBe(false);
      expect(r2.problem).toMatchObject({ position: 7 });
      expect(r2.problem!.reason).toMatch(/position 7 is missing/);
    } finally {
      await db().insertInto('audit_events').values(original).onConflict((oc) => oc.doNothing()).execute();
      await db().insertInto('audit_chain').values(link).onConflict((oc) => oc.doNothing()).execute();
    }
    expect((await trail().verifyDatabase()).ok).toBe(true);
  });

  it('names an event inserted into the chain, even with a correct hash', async () => {
    const before = await chainRow(6);
    const template = await eventRow(before.event_seq);
    const links = await db().selectFrom('audit_chain').selectAll().where('position', '>=', 7).orderBy('position').execute();
    // Make room at position 7 (two steps: a primary key cannot shift in place on PostgreSQL).
    await db().updateTable('audit_chain').set((eb) => ({ position: eb('position', '*', -1) })).where('position', '>=', 7).execute();
    await db().updateTable('audit_chain').set((eb) => ({ position: eb(eb('position', '*', -1), '+', 1) })).where('position', '<=', -7).execute();
    const { seq: _seq, ...fields } = template;
    const forged = { ...fields, event_id: 'forged-0000', event_name: 'DeleteUser' };
    const inserted = await db().insertInto('audit_events').values(forged).returning('seq').executeTakeFirstOrThrow();
    const forgedEvent = (await trail().lookup({ eventId: 'forged-0000' }, {})).items[0] as StoredAuditEvent;
    await db()
      .insertInto('audit_chain')
      .values({ position: 7, event_seq: inserted.seq, event_id: 'forged-0000', prev_hash: before.hash, hash: chainHash(before.hash, cloudTrailRecord(forgedEvent)), sealed_at: Date.now() })
      .execute();
    try {
      const r = await trail().verifyDatabase();
      expect(r.ok).toBe(false);
      expect(r.problem).toMatchObject({ position: 7, eventId: 'forged-0000' });
      // Found by the chain's continuity, or by a signed digest that lands on it.
      expect(r.problem!.reason).toMatch(/inserted|signed digest/);
    } finally {
      await db().deleteFrom('audit_chain').where('position', '>=', 7).execute();
      await db().deleteFrom('audit_events').where('seq', '=', inserted.seq).execute();
      await db().insertInto('audit_chain').values(links).execute();
    }
    expect((await trail().verifyDatabase()).ok).toBe(true);
  });

  it('names an event slipped into the log behind the sealer', async () => {
    const { watermark } = await db().selectFrom('audit_sealer').select('watermark').executeTakeFirstOrThrow();
    const template = await eventRow((await chainRow(3)).event_seq);
    // A seq the sealer has passed and no gap covers: only a hand-made row can be there.
    const holes = await db().selectFrom('audit_events').select('seq').orderBy('seq').execute();
    const taken = new Set(holes.map((h) => Number(h.seq)));
    const gaps = await db().selectFrom('audit_gaps').selectAll().execute();
    let seq = 0;
    for (let s = Number(watermark); s > 0 && !seq; s--) if (!taken.has(s) && !gaps.some((g) => s >= Number(g.from_seq) && s <= Number(g.to_seq))) seq = s;
    if (!seq) {
      // No hole below the watermark (SQLite numbers without gaps): make one by moving the watermark.
      seq = Number(watermark) + 1000;
      await db().updateTable('audit_sealer').set({ watermark: seq + 1 }).execute();
    }
    await db().insertInto('audit_events').values({ ...template, seq, event_id: 'slipped-0001' }).execute();
    try {
      const r = await trail().verifyDatabase();
      expect(r.ok).toBe(false);
      expect(r.problem).toMatchObject({ position: null, eventId: 'slipped-0001' });
    } finally {
      await db().deleteFrom('audit_events').where('event_id', '=', 'slipped-0001').execute();
      await db().updateTable('audit_sealer').set({ watermark }).execute();
    }
    expect((await trail().verifyDatabase()).ok).toBe(true);
  });

  it('names the first of two reordered events', async () => {
    const a = await chainRow(8);
    const b = await chainRow(9);
    // Swap the two events' places in the log.
    await db().updateTable('audit_events').set({ seq: -1 }).where('seq', '=', a.event_seq).execute();
    await db().updateTable('audit_events').set({ seq: a.event_seq }).where('seq', '=', b.event_seq).execute();
    await db().updateTable('audit_events').set({ seq: b.event_seq }).where('seq', '=', -1).execute();
    try {
      const r = await trail().verifyDatabase();
      expect(r.ok).toBe(false);
      expect(r.problem).toMatchObject({ position: 8, eventId: a.event_id });
      expect(r.problem!.reason).toMatch(/reordered/);
    } finally {
      await db().updateTable('audit_events').set({ seq: -1 }).where('seq', '=', a.event_seq).execute();
      await db().updateTable('audit_events').set({ seq: a.event_seq }).where('seq', '=', b.event_seq).execute();
      await db().updateTable('audit_events').set({ seq: b.event_seq }).where('seq', '=', -1).execute();
    }
    expect((await trail().verifyDatabase()).ok).toBe(true);
  });

  /**
   * The strongest attacker without the key: set one column of the event at `position`, and recompute
   * every hash from there on. Returns the last hash and a function that puts everything back.
   */
  async function rewriteFrom(position: number, column: 'user_agent' | 'source_ip', value: string) {
    const links = await db().selectFrom('audit_chain').selectAll().where('position', '>=', position).orderBy('position').execute();
    const original = await eventRow(links[0]!.event_seq);
    await db().updateTable('audit_events').set({ [column]: value }).where('seq', '=', original.seq).execute();
    let prev = links[0]!.prev_hash;
    for (const l of links) {
      const [event] = (await trail().lookup({ eventId: l.event_id }, {})).items;
      const hash = chainHash(prev, cloudTrailRecord(event!));
      await db().updateTable('audit_chain').set({ prev_hash: prev, hash }).where('position', '=', l.position).execute();
      prev = hash;
    }
    return {
      lastHash: prev,
      restore: async () => {
        await db().updateTable('audit_events').set({ [column]: original[column] }).where('seq', '=', original.seq).execute();
        for (const l of links) await db().updateTable('audit_chain').set({ prev_hash: l.prev_hash, hash: l.hash }).where('position', '=', l.position).execute();
      },
    };
  }

  it('catches a rewritten chain at the next signed digest, and a forged digest', async () => {
    const rewrite = await rewriteFrom(7, 'user_agent', 'rewritten');
    let forgedDigest: { position: number; hash: string } | undefined;
    try {
      const r = await trail().verifyDatabase();
      expect(r.ok).toBe(false);
      const firstDigest = await db().selectFrom('audit_digests').select('position').where('position', '>=', 7).orderBy('position').limit(1).executeTakeFirstOrThrow();
      expect(r.problem!.position).toBe(Number(firstDigest.position));
      expect(r.problem!.reason).toMatch(/signed digest/);
      // Re-signing needs the private key; a digest made up to match is refused.
      forgedDigest = await db().selectFrom('audit_digests').selectAll().where('position', '=', firstDigest.position).executeTakeFirstOrThrow();
      await db().updateTable('audit_digests').set({ hash: rewrite.lastHash }).where('position', '=', firstDigest.position).execute();
      expect((await trail().verifyDatabase()).problem!.reason).toMatch(/bad signature/);
    } finally {
      await rewrite.restore();
      if (forgedDigest) await db().updateTable('audit_digests').set({ hash: forgedDigest.hash }).where('position', '=', forgedDigest.position).execute();
    }
    expect((await trail().verifyDatabase()).ok).toBe(true);
  });

  /** Delete rows, run `check`, and put the rows back, so that the chain verifies again after. */
  async function withDeleted(table: 'audit_chain' | 'audit_events' | 'audit_digests', column: 'position' | 'seq', from: number, to: number, check: () => Promise<void>) {
    const rows = await db().selectFrom(table).selectAll().where(column as never, '>=', from as never).where(column as never, '<=', to as never).execute();
    await db().deleteFrom(table).where(column as never, '>=', from as never).where(column as never, '<=', to as never).execute();
    try {
      await check();
    } finally {
      if (rows.length > 0) await db().insertInto(table).values(rows).execute();
    }
  }
  const headPosition = async () => Number((await db().selectFrom('audit_chain').select((eb) => eb.fn.max('position').as('p')).executeTakeFirstOrThrow()).p);

  it('catches digests deleted to hide a rewrite, and the sealer will not sign over them', async () => {
    const sealer = () => new AuditTrail({ tx: server.reg.tx, read: server.reg.read, clock: server.reg.clock, ids: server.reg.ids, envelope: server.reg.envelope, log: createLogger('silent') }, { ...DEFAULT_TRAIL_OPTIONS, digestEvery: 5 });
    // Each sealer here takes the lease over at once.
    const freeLease = () => db().updateTable('audit_sealer').set({ locked_until: 0 }).execute();
    const seer = sealer();
    await freeLease();
    await seer.sealOnce();
    // A rewrite from event 3 on, with every digest after it deleted, so that none contradicts it.
    const rewrite = await rewriteFrom(3, 'source_ip', '6.6.6.6');
    try {
      await withDeleted('audit_digests', 'position', 3, Number.MAX_SAFE_INTEGER, async () => {
        const r = await trail().verifyDatabase();
        expect(r.ok).toBe(false);
        expect(r.problem!.reason).toMatch(/follow the last signed digest, more than the 5 the sealer leaves unsigned: digests were deleted/);
        // The sealer that saw the digests notices they are gone; a fresh one, that the tail is too long.
        await expect(seer.sealOnce({ forceDigest: true })).rejects.toThrow(/the signed digest at position \d+ is gone/);
        await freeLease();
        await expect(sealer().sealOnce({ forceDigest: true })).rejects.toThrow(/more than the 5 the sealer leaves unsigned/);
        expect(await db().selectFrom('audit_digests').select('position').where('position', '>=', 3).execute()).toEqual([]);
      });
    } finally {
      await rewrite.restore();
      await freeLease();
    }
    expect((await trail().verifyDatabase()).ok).toBe(true);
  });

  it('catches digests deleted around one kept far back: each digest signs the setting it was made under', async () => {
    const client = new IdentitystoreClient(sdkOptions(server));
    for (let i = 0; i < 6; i++) {
      await client.send(new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: `far-${i}`, DisplayName: 'F', Name: { GivenName: 'F', FamilyName: `${i}` } }));
    }
    // A test before left the lease to a sealer of its own, and a seq gap (its slipped row): another
    // sealer takes the lease over, and passes the gap at once.
    await db().updateTable('audit_sealer').set({ locked_until: 0 }).execute();
    const deps = { tx: server.reg.tx, read: server.reg.read, clock: server.reg.clock, ids: server.reg.ids, envelope: server.reg.envelope, log: createLogger('silent') };
    const sealer = new AuditTrail(deps, { ...DEFAULT_TRAIL_OPTIONS, digestEvery: 5, gapGraceMs: 0 });
    expect(await sealer.sealOnce({ forceDigest: true })).toBe(6);
    const digests = await db().selectFrom('audit_digests').selectAll().orderBy('position').execute();
    expect(digests.every((d) => Number(d.every) === 5)).toBe(true);
    const head = await headPosition();
    // Keep only a digest far enough back that the stretch before it (to the genesis) is as long as
    // the unsigned tail after it: the stretch between digests alone would then allow that tail.
    const kept = digests.map((d) => Number(d.position)).find((p) => head - p > 5 && head - p <= p);
    expect(kept).toBeDefined();
    const rows = await db().selectFrom('audit_digests').selectAll().where('position', '!=', kept!).execute();
    await db().deleteFrom('audit_digests').where('position', '!=', kept!).execute();
    try {
      const r = await trail().verifyDatabase();
      expect(r.ok).toBe(false);
      expect(r.problem!.reason).toMatch(new RegExp(`${head - kept!} events follow the last signed digest, more than the 5 the sealer leaves unsigned`));
    } finally {
      await db().insertInto('audit_digests').values(rows).execute();
    }
    expect((await trail().verifyDatabase()).ok).toBe(true);
  });

  it('verifies a digest made before digests signed the setting (v1), and refuses the setting written into one', async () => {
    const d = await db().selectFrom('audit_digests').selectAll().orderBy('position', 'desc').limit(1).executeTakeFirstOrThrow();
    const v1 = { position: Number(d.position), hash: d.hash, createdAt: Number(d.created_at), keyId: d.key_id };
    const signature = signEd25519((await trail().signingKey()).privateKey, digestMessage(v1));
    await db().updateTable('audit_digests').set({ every: null, signature }).where('position', '=', d.position).execute();
    try {
      expect((await trail().verifyDatabase()).ok).toBe(true);
      // A setting written in afterwards, to allow a longer unsigned tail, is not what was signed.
      await db().updateTable('audit_digests').set({ every: 1_000_000 }).where('position', '=', d.position).execute();
      expect((await trail().verifyDatabase()).problem!.reason).toMatch(/bad signature/);
    } finally {
      await db().updateTable('audit_digests').set({ every: d.every, signature: d.signature }).where('position', '=', d.position).execute();
    }
    expect((await trail().verifyDatabase()).ok).toBe(true);
  });

  it('catches an event hidden from LookupEvents: its key deleted, or its key column edited', async () => {
    const link = await chainRow(4);
    const keys = await db().selectFrom('audit_lookup').selectAll().where('event_seq', '=', link.event_seq).where('kind', '=', 'id').execute();
    expect(keys).toHaveLength(1);
    await db().deleteFrom('audit_lookup').where('event_seq', '=', link.event_seq).where('kind', '=', 'id').execute();
    try {
      expect((await trail().lookup({ eventId: link.event_id }, {})).items).toEqual([]);
      const r = await trail().verifyDatabase();
      expect(r.ok).toBe(false);
      expect(r.problem).toMatchObject({ position: 4, eventId: link.event_id });
      expect(r.problem!.reason).toMatch(/its LookupEvents key \(id\) is missing or does not match the event/);
    } finally {
      await db().insertInto('audit_lookup').values(keys).execute();
    }
    // The user name column is not in the hashed record, but it must be what the record gives.
    const other = await eventRow((await chainRow(6)).event_seq);
    await db().updateTable('audit_events').set({ user_name: 'someone-else' }).where('seq', '=', other.seq).execute();
    try {
      expect((await trail().verifyDatabase()).problem).toMatchObject({ position: 6, reason: expect.stringMatching(/LookupEvents column user_name does not match/) });
    } finally {
      await db().updateTable('audit_events').set({ user_name: other.user_name }).where('seq', '=', other.seq).execute();
    }
    expect((await trail().verifyDatabase()).ok).toBe(true);
  });

  it('catches lookup columns edited with their keys, and keys that name an event under another value', async () => {
    const at = async (p: number) => ({ link: await chainRow(p), event: await eventRow((await chainRow(p)).event_seq) });
    const [four, five, six] = [await at(4), await at(5), await at(6)];
    const userKey = (seq: number) => db().selectFrom('audit_lookup').selectAll().where('event_seq', '=', seq).where('kind', '=', 'user').executeTakeFirstOrThrow();
    const expectBad = async (position: number, reason: RegExp) => {
      const r = await trail().verifyDatabase();
      expect(r.ok).toBe(false);
      expect(r.problem).toMatchObject({ position, eventId: (await chainRow(position)).event_id });
      expect(r.problem!.reason).toMatch(reason);
    };
    // ResourceType has no key: only its column, which drops the event out of that lookup.
    await db().updateTable('audit_events').set({ resource_type: 'AWS::Nothing' }).where('seq', '=', four.event.seq).execute();
    try {
      await expectBad(4, /LookupEvents column resource_type does not match the event's record/);
    } finally {
      await db().updateTable('audit_events').set({ resource_type: four.event.resource_type }).where('seq', '=', four.event.seq).execute();
    }
    // A column and its key edited together: they agree with each other, not with the record.
    const key = await userKey(five.event.seq);
    await db().updateTable('audit_events').set({ user_name: 'someone-else', access_key_id: 'AKIAELSEWHERE' }).where('seq', '=', five.event.seq).execute();
    await db().updateTable('audit_lookup').set({ value: 'someone-else' }).where('event_seq', '=', five.event.seq).where('kind', '=', 'user').execute();
    try {
      await expectBad(5, /LookupEvents column user_name does not match/);
    } finally {
      await db().updateTable('audit_events').set({ user_name: five.event.user_name, access_key_id: five.event.access_key_id }).where('seq', '=', five.event.seq).execute();
      await db().updateTable('audit_lookup').set({ value: key.value }).where('event_seq', '=', five.event.seq).where('kind', '=', 'user').execute();
    }
    // An extra key puts the event under another user's name; LookupEvents checks the row, and verify names the key.
    const extra = { kind: 'user' as const, value: 'chain-3', event_time: six.event.event_time, event_seq: six.event.seq };
    await db().insertInto('audit_lookup').values(extra).execute();
    try {
      expect((await trail().lookup({ userName: 'chain-3' }, {})).items).toEqual([]);
      await expectBad(6, /a LookupEvents key \(user = "chain-3"\) names event seq \d+, which is not chained with that value/);
      // A key of an unknown kind, or one naming an event at another time, is stray too.
      await db().deleteFrom('audit_lookup').where('kind', '=', 'user').where('value', '=', 'chain-3').execute();
      await db().insertInto('audit_lookup').values({ ...extra, kind: 'name', value: six.event.event_name, event_time: six.event.event_time + 1 }).execute();
      await expectBad(6, /a LookupEvents key \(name = "CreateUser"\)/);
    } finally {
      await db().deleteFrom('audit_lookup').where('event_seq', '=', six.event.seq).where((eb) => eb.or([eb('value', '=', 'chain-3'), eb('event_time', '=', six.event.event_time + 1)])).execute();
    }
    expect((await trail().verifyDatabase()).ok).toBe(true);
  });

  it('says when sealing stalls: a lease held further ahead than any sealer takes it fails verify and is logged; old unchained events warn; sinks count them as behind', async () => {
    const errors: string[] = [];
    const log = { ...createLogger('silent'), error: (_: object, msg: string) => void errors.push(msg) };
    const trailAt = (clock: { now(): number }) =>
      new AuditTrail({ tx: server.reg.tx, read: server.reg.read, clock, ids: server.reg.ids, envelope: server.reg.envelope, log }, { ...DEFAULT_TRAIL_OPTIONS, digestEvery: 5 });
    const streams = new AuditStreams(
      { tx: { transaction: (fn) => server.reg.tx.transaction(() => fn(sinkStores())), afterCommit: (fn) => server.reg.tx.afterCommit(fn) }, read: sinkStores(), clock: server.reg.clock, ids: server.reg.ids, log: createLogger('silent') },
      { sinks: [{ type: 'file', name: 'stalled-file', batchSize: 100, path: path.join(dir, 'stalled.jsonl') }] },
      { ...DEFAULT_FOLLOWER_OPTIONS },
    );
    await streams.runOnce();
    await new IdentitystoreClient(sdkOptions(server)).send(
      new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: 'while-stalled', DisplayName: 'S', Name: { GivenName: 'S', FamilyName: 'T' } }),
    );
    try {
      // Held for a year: no sealer takes it for longer than leaseMs.
      await db().updateTable('audit_sealer').set({ locked_by: 'attacker', locked_until: Date.now() + 365 * 86_400_000 }).execute();
      const sealer = trailAt(server.reg.clock);
      expect(await sealer.sealOnce()).toBe(0);
      expect(errors).toEqual([expect.stringMatching(/^audit sealing has stalled: the lease is held by attacker until .*, further ahead than any sealer takes it \(30 s\): audit_sealer was edited/)]);
      // Once a lease period, not every pass.
      expect(await sealer.sealOnce()).toBe(0);
      expect(errors).toHaveLength(1);
      const r = await sealer.verifyDatabase();
      expect(r).toMatchObject({ ok: false, notYetChained: 1, problem: { position: null, reason: expect.stringMatching(/further ahead than any sealer takes it/) } });
      const [status] = await streams.status();
      expect(status).toMatchObject({ name: 'stalled-file', behind: 1, unsealed: 1 });
      // A lease of an ordinary length (lapsed by then), with the event left unchained for minutes: a warning, the chain still verifies.
      await db().updateTable('audit_sealer').set({ locked_by: 'someone', locked_until: Date.now() + 20_000 }).execute();
      const later = trailAt({ now: () => Date.now() + 10 * 60_000 });
      const warned = await later.verifyDatabase();
      expect(warned).toMatchObject({ ok: true, notYetChained: 1 });
      expect(warned.sealingStalled).toMatch(/^event seq \d+ has waited since .* to be chained, longer than a working sealer leaves one \(63 s\), and it goes to no sink until it is; no sealer holds the lease: is `atrium serve` running\?/);
      expect((await trailAt(server.reg.clock).verifyDatabase()).sealingStalled).toBeUndefined();
    } finally {
      await db().updateTable('audit_sealer').set({ locked_by: null, locked_until: 0 }).execute();
      await streams.stop();
    }
    const resumed = trailAt(server.reg.clock);
    expect(await resumed.sealOnce({ forceDigest: true })).toBe(1);
    await resumed.stop();
    expect(await trail().verifyDatabase()).toMatchObject({ ok: true, notYetChained: 0 });
    expect(await streams.status()).toMatchObject([{ behind: 1, unsealed: 0 }]);
  });

  it('catches the end of the chain cut off below a signed digest, and its start when nothing is pruned', async () => {
    const head = await headPosition();
    const seqs = (await db().selectFrom('audit_chain').select('event_seq').where('position', '>=', head - 1).execute()).map((r) => r.event_seq);
    await withDeleted('audit_chain', 'position', head - 1, head, () =>
      withDeleted('audit_events', 'seq', Math.min(...seqs), Math.max(...seqs), async () => {
        const r = await trail().verifyDatabase();
        expect(r.ok).toBe(false);
        expect(r.problem!.reason).toMatch(new RegExp(`the chain ends at position ${head - 2}, but a signed digest vouches for position (${head - 1}|${head}): the events after ${head - 2} were deleted`));
      }),
    );
    // Positions 1..5 gone, with the digest at 5 left to anchor the rest, as pruning would leave them.
    const first = (await db().selectFrom('audit_chain').select('event_seq').where('position', '<=', 5).execute()).map((r) => r.event_seq);
    await withDeleted('audit_chain', 'position', 1, 5, () =>
      withDeleted('audit_events', 'seq', Math.min(...first), Math.max(...first), async () => {
        const r = await trail().verifyDatabase();
        expect(r.ok).toBe(false);
        expect(r.problem!.reason).toMatch(/the chain starts at position 6, but nothing is pruned \(auditRetentionDays is 0\): positions 1..5 were deleted/);
      }),
    );
    expect((await trail().verifyDatabase()).ok).toBe(true);
  });

  describe('an exported file, offline', () => {
    let file: string;
    let lines: string[];
    let keyPem: string;

    beforeAll(async () => {
      file = path.join(dir, 'export.jsonl');
      const out: string[] = [];
      for await (const line of trail().exportLines(0, Date.now() + 60_000)) out.push(JSON.stringify(line));
      writeFileSync(file, out.join('\n') + '\n');
      lines = out;
      keyPem = (await trail().publicKey()).pem;
    });

    const write = (name: string, content: string[]) => {
      const f = path.join(dir, name);
      writeFileSync(f, content.join('\n') + '\n');
      return f;
    };
    const eventLine = (position: number) => lines.findIndex((l) => (JSON.parse(l) as ExportLine).type === 'event' && (JSON.parse(l) as { position: number }).position === position);
    const eventIdAt = (position: number) => (JSON.parse(lines[eventLine(position)]!) as { event: { eventID: string } }).event.eventID;

    it('verifies as exported, with only the public key', async () => {
      expect(readFileSync(file, 'utf8')).not.toContain('PRIVATE KEY');
      const r = await verifyExport(file, ed25519PublicKey(keyPem));
      expect(r).toMatchObject({ ok: true, firstPosition: 1 });
      expect(r.events).toBeGreaterThanOrEqual(13);
    });

    it('names an edited event', async () => {
      const copy = [...lines];
      const i = eventLine(5);
      const parsed = JSON.parse(copy[i]!) as { event: { requestParameters: Record<string, unknown> } };
      parsed.event.requestParameters = { ...parsed.event.requestParameters, userName: 'mallory' };
      copy[i] = JSON.stringify(parsed);
      const r = await verifyExport(write('edited.jsonl', copy), ed25519PublicKey(keyPem));
      expect(r.problem).toMatchObject({ position: 5, eventId: eventIdAt(5) });
      expect(r.problem!.reason).toMatch(/edited/);
      expect(r.line).toBe(i + 1);
    });

    it('names a deleted event', async () => {
      const copy = lines.filter((_, i) => i !== eventLine(5));
      const r = await verifyExport(write('deleted.jsonl', copy), ed25519PublicKey(keyPem));
      expect(r.problem).toMatchObject({ position: 5 });
      expect(r.problem!.reason).toMatch(/missing/);
    });

    it('names an inserted event', async () => {
      const copy = [...lines];
      const at = eventLine(5);
      const forged = JSON.parse(copy[at]!) as { event: { eventID: string } };
      forged.event.eventID = 'forged-in-file';
      copy.splice(at, 0, JSON.stringify(forged));
      const r = await verifyExport(write('inserted.jsonl', copy), ed25519PublicKey(keyPem));
      expect(r.ok).toBe(false);
      expect(r.problem).toMatchObject({ position: 5, eventId: 'forged-in-file' });
    });

    it('names the first of two reordered events', async () => {
      const copy = [...lines];
      const [i, j] = [eventLine(5), eventLine(6)];
      [copy[i], copy[j]] = [copy[j]!, copy[i]!];
      const r = await verifyExport(write('reordered.jsonl', copy), ed25519PublicKey(keyPem));
      expect(r.problem).toMatchObject({ position: 5 });
      expect(r.problem!.reason).toBe(`position 5 is at line ${j + 1}, after later positions: events were reordered`);
      expect(r.line).toBe(j + 1);
      // Renumbered to hide the swap, the hashes still give it away.
      const renumbered = [...lines];
      const a = JSON.parse(renumbered[i]!) as { position: number };
      const b = JSON.parse(renumbered[j]!) as { position: number };
      renumbered[i] = JSON.stringify({ ...b, position: 5 });
      renumbered[j] = JSON.stringify({ ...a, position: 6 });
      const r2 = await verifyExport(write('renumbered.jsonl', renumbered), ed25519PublicKey(keyPem));
      expect(r2.problem).toMatchObject({ position: 5, eventId: eventIdAt(6) });
    });

    it('proves nothing without a signed digest: a file without any, an empty one, and events after the last', async () => {
      const isDigest = (l: string) => (JSON.parse(l) as ExportLine).type === 'digest';
      const key = ed25519PublicKey(keyPem);
      // Events made up from the genesis, or real ones with the digests taken out, verify as a chain but prove nothing.
      const noDigests = await verifyExport(write('no-digests.jsonl', lines.filter((l) => !isDigest(l))), key);
      expect(noDigests).toMatchObject({ ok: false, digests: 0 });
      expect(noDigests.problem!.reason).toMatch(/no signed digest in the file vouches for its events: it proves nothing/);
      const empty = await verifyExport(write('empty.jsonl', []), key);
      expect(empty.ok).toBe(false);
      expect(empty.problem!.reason).toMatch(/nothing to verify/);
      // The last digest taken out: the events after the one before are vouched for by nothing.
      const lastDigest = lines.map(isDigest).lastIndexOf(true);
      const cut = lines.filter((_, i) => i !== lastDigest);
      const tail = await verifyExport(write('tail.jsonl', cut), key);
      expect(tail.ok).toBe(false);
      expect(tail.problem!.reason).toMatch(/come after the file's last signed digest: nothing vouches for them/);
      const accepted = await verifyExport(write('tail.jsonl', cut), key, { allowUnsignedTail: true });
      expect(accepted.ok).toBe(true);
      expect(accepted.unsignedTail).toBe(tail.unsignedTail);
      expect(accepted.unsignedTail).toBeGreaterThan(0);
      // A digest left past the events cut from the end of the file gives the cut away.
      const lastEvent = lines.map((l) => !isDigest(l)).lastIndexOf(true);
      const truncated = await verifyExport(write('truncated.jsonl', lines.filter((_, i) => i !== lastEvent)), key);
      expect(truncated.ok).toBe(false);
      expect(truncated.problem!.reason).toMatch(/but a signed digest vouches for position \d+: the events after \d+ were deleted/);
    });

    it('refuses another key, and a line that is not JSON', async () => {
      const { publicKey } = await import('node:crypto').then((c) => c.generateKeyPairSync('ed25519'));
      const other = await verifyExport(file, publicKey);
      expect(other.ok).toBe(false);
      expect(other.problem!.reason).toMatch(/bad signature/);
      const r = await verifyExport(write('garbage.jsonl', [...lines.slice(0, 3), '{not json', ...lines.slice(3)]), ed25519PublicKey(keyPem));
      expect(r).toMatchObject({ ok: false, line: 4 });
    });
  });

  it('prunes past retention and still verifies from the oldest kept position', async () => {
    const fresh = await startServer(dialect, { auditSealMs: 60_000, auditDigestEvery: 4 });
    try {
      const client = new IdentitystoreClient(sdkOptions(fresh));
      for (let i = 0; i < 10; i++) {
        await client.send(new CreateUserCommand({ IdentityStoreId: fresh.init.identityStoreId, UserName: `old-${i}`, DisplayName: 'O', Name: { GivenName: 'O', FamilyName: 'L' } }));
      }
      await fresh.reg.auditTrail.sealOnce({ forceDigest: true });
      const total = (await fresh.reg.auditTrail.verifyDatabase()).events;
      // Two days later, with one day of retention.
      const later = { now: () => Date.now() + 2 * 86_400_000 };
      const pruner = new AuditTrail(
        { tx: fresh.reg.tx, read: fresh.reg.read, clock: later, ids: fresh.reg.ids, envelope: fresh.reg.envelope, log: createLogger('silent') },
        { ...DEFAULT_TRAIL_OPTIONS, retentionDays: 1 },
      );
      // Pruning in transactions of about 3 events: each ends at a digest (every 4), so the chain
      // verifies between any two of them (as after a crash there).
      const between: boolean[] = [];
      const stepwise = new AuditTrail(
        {
          tx: {
            transaction: async (fn) => fresh.reg.tx.transaction(fn).finally(async () => void between.push((await pruner.verifyDatabase()).ok)),
            afterCommit: (fn) => fresh.reg.tx.afterCommit(fn),
          },
          read: fresh.reg.read,
          clock: later,
          ids: fresh.reg.ids,
          envelope: fresh.reg.envelope,
          log: createLogger('silent'),
        },
        { ...DEFAULT_TRAIL_OPTIONS, retentionDays: 1, pruneChunk: 3 },
      );
      const pruned = await stepwise.prune();
      expect(between.length).toBeGreaterThan(1);
      expect(between.every(Boolean)).toBe(true);
      const lastDigest = await fresh.reg.database.db.selectFrom('audit_digests').select((eb) => eb.fn.max('position').as('p')).executeTakeFirstOrThrow();
      expect(pruned).toBe(Number(lastDigest.p));
      // Verified as the instance that prunes (auditRetentionDays 1) sees it.
      const r = await pruner.verifyDatabase();
      expect(r.ok).toBe(true);
      expect(r.events).toBe(total - pruned);
      // An instance that never prunes takes the missing prefix for deleted events.
      expect((await fresh.reg.auditTrail.verifyDatabase()).problem!.reason).toMatch(/nothing is pruned \(auditRetentionDays is 0\)/);
      // Today, with the same retention, the digests it starts after are minutes old: nothing that young
      // is ever pruned, so the same missing prefix is a deletion (of recent events, made to look like pruning).
      const today = new AuditTrail(
        { tx: fresh.reg.tx, read: fresh.reg.read, clock: fresh.reg.clock, ids: fresh.reg.ids, envelope: fresh.reg.envelope, log: createLogger('silent') },
        { ...DEFAULT_TRAIL_OPTIONS, retentionDays: 1 },
      );
      expect(await today.verifyDatabase()).toMatchObject({
        ok: false,
        problem: {
          position: Number(lastDigest.p),
          eventId: null,
          // (Everything was pruned: the chain is empty after it.)
          reason: expect.stringMatching(new RegExp(`after the signed digest at position ${Number(lastDigest.p)}, but that digest was signed at .*: the events through position ${Number(lastDigest.p)} were deleted, not pruned`)),
        },
      });
      // The pruned events' lookup keys went with them; the kept events' keys stay.
      const orphans = await fresh.reg.database.db
        .selectFrom('audit_lookup as l')
        .leftJoin('audit_events as e', 'e.seq', 'l.event_seq')
        .select('l.event_seq')
        .where('e.seq', 'is', null)
        .execute();
      expect(orphans).toEqual([]);
      for (const kind of ['name', 'id', 'time'] as const) {
        const kept = await fresh.reg.database.db.selectFrom('audit_lookup').select((eb) => eb.fn.countAll<number>().as('n')).where('kind', '=', kind).executeTakeFirstOrThrow();
        expect(Number(kept.n)).toBe(total - pruned);
      }
      // The digests are all kept.
      expect(Number((await fresh.reg.database.db.selectFrom('audit_digests').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n)).toBeGreaterThanOrEqual(3);
      // New events still chain on after what was pruned.
      await client.send(new CreateUserCommand({ IdentityStoreId: fresh.init.identityStoreId, UserName: 'after-prune', DisplayName: 'A', Name: { GivenName: 'A', FamilyName: 'P' } }));
      await fresh.reg.auditTrail.sealOnce({ forceDigest: true });
      expect(await pruner.verifyDatabase()).toMatchObject({ ok: true, unsignedTail: 0 });
      // A pruned prefix plus a deleted anchor digest is caught.
      await fresh.reg.database.db.deleteFrom('audit_digests').where('position', '=', Number(lastDigest.p)).execute();
      expect((await pruner.verifyDatabase()).problem!.reason).toMatch(/no signed digest vouches/);
    } finally {
      await fresh.close();
    }
  }, 60_000);
});
