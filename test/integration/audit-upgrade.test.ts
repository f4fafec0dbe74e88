// An audit log written by the release before migration 0020 (JSON in the caller's key order, part of
// it already chained by that release's sealer, with its lookup keys) upgrades in place: the events
// it had chained still verify, the one it had not is chained now with the hash its record gives, new
// events follow, and LookupEvents finds the old events by their keys, by event id and by time alone
// (0021 moved those two off the log's own indexes).

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql, type Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { buildEvent, chainHash, cloudTrailRecord, GENESIS, type AuditEvent } from '../../src/audit/index.js';
import { loadConfig, sqliteFileOf } from '../../src/config/config.js';
import { createRegistry, type Registry } from '../../src/registry.js';
import { openDatabase } from '../../src/store/database.js';
import { migrateTo } from '../../src/store/migrations/index.js';
import { cryptoIds } from '../../src/shared/ids.js';
import { createLogger } from '../../src/shared/logger.js';
import { dialects, freshPostgresDatabase } from '../helpers/server.js';

/** Three events as the release before wrote them: its own key order, a refusal among them. */
function oldEvents(now: number): AuditEvent[] {
  const principal = { type: 'IAMUser', principalId: 'AIDAOLD', arn: 'arn:aws:iam::123456789012:user/old', accountId: '123456789012', accessKeyId: 'AKIAOLD', userName: 'old-admin' };
  return [0, 1, 2].map((i) => ({
    eventId: `0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5${i}`,
    eventTime: now - 60_000 + i,
    eventSource: 'identitystore.amazonaws.com',
    eventName: i === 1 ? 'DeleteUser' : 'CreateUser',
    awsRegion: 'us-east-1',
    sourceIPAddress: '10.0.0.1',
    userAgent: 'aws-cli/2',
    userIdentity: principal,
    requestParameters: { UserName: `old-${i}`, IdentityStoreId: 'd-1234567890', Name: { GivenName: 'O', FamilyName: `${i}` }, userId: `old-user-${i}` },
    responseElements: i === 1 ? null : { UserId: `old-user-${i}`, IdentityStoreId: 'd-1234567890' },
    ...(i === 1 ? { errorCode: 'ResourceNotFoundException', errorMessage: 'no such user' } : {}),
    requestID: `req-old-${i}`,
    readOnly: false,
    eventType: 'AwsApiCall',
  }));
}

describe.each(dialects())('an audit log from before 0020, on %s', (dialect) => {
  let dataDir: string | undefined;
  let reg: Registry | undefined;
  afterEach(async () => {
    await reg?.close();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  });

  it('upgrades in place: old links verify, the unchained event is sealed as its record hashes, lookups find them', async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-upgrade-'));
    const databaseUrl = dialect === 'postgres' ? await freshPostgresDatabase() : undefined;
    const config = loadConfig({ dataDir, databaseUrl, logLevel: 'silent', auditSealMs: 60_000 }, {});
    const events = oldEvents(Date.now());

    // The database as 0019 left it, written as the release before wrote it.
    const old = openDatabase({ databaseUrl, sqliteFile: sqliteFileOf(config) });
    const db = old.db as unknown as Kysely<unknown>;
    await migrateTo(db, old.dialect, '0019-housekeeping');
    for (const e of events) {
      await sql`insert into audit_events (event_id, event_time, event_source, event_name, aws_region, source_ip, user_agent, user_identity,
          request_parameters, response_elements, error_code, error_message, request_id, read_only, event_type, user_name, access_key_id, resource_type, resource_name)
        values (${e.eventId}, ${e.eventTime}, ${e.eventSource}, ${e.eventName}, ${e.awsRegion}, ${e.sourceIPAddress}, ${e.userAgent}, ${JSON.stringify(e.userIdentity)},
          ${JSON.stringify(e.requestParameters)}, ${e.responseElements === null ? null : JSON.stringify(e.responseElements)}, ${e.errorCode ?? null}, ${e.errorMessage ?? null},
          ${e.requestID}, 0, ${e.eventType}, 'old-admin', 'AKIAOLD', 'AWS::IdentityStore::User', ${(e.requestParameters as { userId: string }).userId})`.execute(db);
    }
    // Its sealer had chained the first two (seq 1 and 2), and written their keys.
    let prev = GENESIS;
    for (const [i, e] of events.slice(0, 2).entries()) {
      const hash = chainHash(prev, cloudTrailRecord(e));
      await sql`insert into audit_chain (position, event_seq, event_id, prev_hash, hash, sealed_at) values (${i + 1}, ${i + 1}, ${e.eventId}, ${prev}, ${hash}, ${e.eventTime})`.execute(db);
      for (const [kind, value] of [['name', e.eventName], ['user', 'old-admin'], ['key', 'AKIAOLD'], ['resource', `old-user-${i}`], ['source', e.eventSource]]) {
        await sql`insert into audit_lookup (kind, value, event_time, event_seq) values (${kind}, ${value}, ${e.eventTime}, ${i + 1})`.execute(db);
      }
      prev = hash;
    }
    await sql`update audit_sealer set watermark = 2 where id = 1`.execute(db);
    await old.close();

    // The upgrade: this release migrates on open, seals the third event and a new one, and verifies.
    reg = await createRegistry(config, { log: createLogger('silent') });
    expect(await reg.auditTrail.sealOnce()).toBe(1);
    const ctx = { requestId: 'req-new', sourceIp: '127.0.0.1', userAgent: 'test', region: 'us-east-1', eventSource: 'identitystore.amazonaws.com', principal: events[0]!.userIdentity };
    await reg.tx.transaction((s) =>
      s.audit.appendEvent(buildEvent(ctx, { clock: { now: () => Date.now() }, ids: cryptoIds }, 'CreateUser', { UserName: 'new', IdentityStoreId: 'd-1234567890', userId: 'new-user' }, {})),
    );
    expect(await reg.auditTrail.sealOnce({ forceDigest: true })).toBe(1);
    expect(await reg.auditTrail.verifyDatabase()).toMatchObject({ ok: true, events: 4, firstPosition: 1, lastPosition: 4, unsignedTail: 0, notYetChained: 0 });
    // The third event's link is what the release before would have written for it.
    const third = await reg.database.db.selectFrom('audit_chain').select(['prev_hash', 'hash']).where('position', '=', 3).executeTakeFirstOrThrow();
    expect(third).toEqual({ prev_hash: prev, hash: chainHash(prev, cloudTrailRecord(events[2]!)) });

    // Found by their keys, those written before the upgrade and after, newest first.
    const ids = async (filter: Parameters<Registry['auditTrail']['lookup']>[0]) => (await reg!.auditTrail.lookup(filter, {})).items.map((e) => e.eventId);
    expect(await ids({ resourceName: 'old-user-0' })).toEqual([events[0]!.eventId]);
    expect(await ids({ userName: 'old-admin', eventName: 'DeleteUser' })).toEqual([events[1]!.eventId]);
    expect((await ids({ accessKeyId: 'AKIAOLD' })).slice(1)).toEqual([events[2]!.eventId, events[1]!.eventId, events[0]!.eventId]);
    expect(await ids({ eventId: events[0]!.eventId })).toEqual([events[0]!.eventId]);
    expect(await ids({ eventId: events[0]!.eventId, eventName: 'DeleteUser' })).toEqual([]);
    expect((await ids({})).slice(1)).toEqual([events[2]!.eventId, events[1]!.eventId, events[0]!.eventId]);
    expect(await ids({ startTime: events[0]!.eventTime, endTime: events[1]!.eventTime })).toEqual([events[1]!.eventId, events[0]!.eventId]);
    const [found] = (await reg.auditTrail.lookup({ resourceName: 'old-user-1' }, {})).items;
    expect(found).toMatchObject({ errorCode: 'ResourceNotFoundException', errorMessage: 'no such user', requestParameters: events[1]!.requestParameters });
    // A change writes its event's row and nothing else: the log has only its primary key.
    const indexes =
      dialect === 'sqlite'
        ? await sql<{ name: string }>`select name from sqlite_master where type = 'index' and tbl_name = 'audit_events'`.execute(reg.database.db)
        : await sql<{ name: string }>`select indexname as name from pg_indexes where tablename = 'audit_events'`.execute(reg.database.db);
    expect(indexes.rows.map((r) => r.name)).toEqual(dialect === 'sqlite' ? [] : ['audit_events_pkey']);
    if (dialect === 'sqlite') {
      // (In the sealer's file since 0023.)
      const tables = await sql<{ name: string; sql: string }>`select name, sql from audit.sqlite_master where name in ('audit_lookup', 'audit_chain') order by name`.execute(reg.database.db);
      expect(tables.rows.map((t) => [t.name, /without rowid/i.test(t.sql)])).toEqual([['audit_chain', true], ['audit_lookup', true]]);
    }
  }, 60_000);
});
