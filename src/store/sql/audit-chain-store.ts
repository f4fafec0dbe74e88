// The audit chain's store: the sealer's lease and progress, chain rows, digests, the signing key,
// LookupEvents' queries and pruning. Writers never touch these tables: only the sealer appends.

import { sql, type SelectQueryBuilder } from 'kysely';
import type { AuditChainStore, AuditDigest, AuditFilter, ChainRow, SigningKeyRecord, StoredAuditEvent, StoredEventText } from '../../audit/index.js';
import type { AuditChainTable, AuditLookupKind } from '../schema/audit.js';
import type { AuditEventsTable } from '../schema/core.js';
import type { Database, Db } from '../database.js';
import { precompiled, precompiledReadValues, precompiledRows } from '../precompiled.js';

/** What an event is read back as: LookupEvents' columns (user name, access key, resource) are only filtered on, in SQL. */
type EventRow = Omit<AuditEventsTable, 'seq' | 'user_name' | 'access_key_id' | 'resource_type' | 'resource_name' | 'canonical_json'> & { seq: number };

export function storedEventOf(r: EventRow): StoredAuditEvent {
  return {
    seq: r.seq,
    eventId: r.event_id,
    eventTime: r.event_time,
    eventSource: r.event_source,
    eventName: r.event_name,
    awsRegion: r.aws_region,
    sourceIPAddress: r.source_ip,
    userAgent: r.user_agent,
    userIdentity: JSON.parse(r.user_identity) as StoredAuditEvent['userIdentity'],
    requestParameters: r.request_parameters === null ? null : (JSON.parse(r.request_parameters) as unknown),
    responseElements: r.response_elements === null ? null : (JSON.parse(r.response_elements) as unknown),
    ...(r.error_code !== null ? { errorCode: r.error_code, errorMessage: r.error_message ?? '' } : {}),
    requestID: r.request_id,
    readOnly: r.read_only === 1,
    eventType: r.event_type as StoredAuditEvent['eventType'],
  };
}

/**
 * What the sealer reads, as a row's values in EVENT_TEXT_COLUMNS' order: the columns as stored, the
 * JSON ones as text, with whether they were written canonically. (PostgreSQL's bigints come as text.)
 */
type EventTextValues = [
  seq: number | string,
  eventId: string,
  eventTime: number | string,
  eventSource: string,
  eventName: string,
  awsRegion: string,
  sourceIp: string,
  userAgent: string,
  userIdentity: string,
  requestParameters: string | null,
  responseElements: string | null,
  errorCode: string | null,
  errorMessage: string | null,
  requestId: string,
  readOnly: number,
  eventType: string,
  canonicalJson: number | null,
];

function storedTextOf(v: EventTextValues): StoredEventText {
  const [seq, eventId, eventTime, eventSource, eventName, awsRegion, sourceIPAddress, userAgent, userIdentity, requestParameters, responseElements, errorCode, errorMessage, requestID, readOnly, eventType, canonical] = v;
  return {
    seq: Number(seq),
    eventId,
    eventTime: Number(eventTime),
    eventSource,
    eventName,
    awsRegion,
    sourceIPAddress,
    userAgent,
    userIdentity,
    requestParameters,
    responseElements,
    canonical: Number(canonical) === 1,
    errorCode,
    errorMessage,
    requestID,
    readOnly: Number(readOnly) === 1,
    eventType,
  };
}

const digestOf = (r: { position: number; hash: string; created_at: number; key_id: string; signature: string; every: number | null }): AuditDigest => ({
  position: Number(r.position),
  hash: r.hash,
  createdAt: Number(r.created_at),
  keyId: r.key_id,
  signature: r.signature,
  ...(r.every === null ? {} : { every: Number(r.every) }),
});

const EVENT_COLUMNS = [
  'e.seq',
  'e.event_id',
  'e.event_time',
  'e.event_source',
  'e.event_name',
  'e.aws_region',
  'e.source_ip',
  'e.user_agent',
  'e.user_identity',
  'e.request_parameters',
  'e.response_elements',
  'e.error_code',
  'e.error_message',
  'e.request_id',
  'e.read_only',
  'e.event_type',
] as const;

/** The sealer's columns: EventTextValues, in this order. */
const EVENT_TEXT_COLUMNS = [...EVENT_COLUMNS, 'e.canonical_json'] as const;

/** Events past a seq, as the sealer reads them: a batch of wide rows, each as its values. */
const eventTextsAfter = precompiledReadValues<Database, { after: number; limit: number }, unknown>((db, arg) =>
  db.selectFrom('audit_events as e').select(EVENT_TEXT_COLUMNS).where('e.seq', '>', arg('after')).orderBy('e.seq').limit(arg('limit')),
);

/**
 * LookupEvents' keyed filters, most selective first: each has its audit_lookup kind (0017, 0021) and
 * the audit_events column it is copied from. ReadOnly and ResourceType are too coarse to key on and
 * are checked on the rows.
 */
const KEYED = [
  ['eventId', 'id', 'event_id'],
  ['resourceName', 'resource', 'resource_name'],
  ['accessKeyId', 'key', 'access_key_id'],
  ['userName', 'user', 'user_name'],
  ['eventName', 'name', 'event_name'],
  ['eventSource', 'source', 'event_source'],
] as const satisfies readonly (readonly [keyof AuditFilter, AuditLookupKind, keyof AuditEventsTable])[];

/**
 * Every key the sealer writes for an event: the keyed filters' (when the column has a value), and
 * kind 'time' with value '' for every event, which a lookup without a keyed filter walks (0021).
 */
const KEYS: readonly { kind: AuditLookupKind; column?: keyof AuditEventsTable }[] = [...KEYED.map(([, kind, column]) => ({ kind, column })), { kind: 'time' }];
/** A key's value, from the log's row `e`. */
const keyValue = (column: keyof AuditEventsTable | undefined) => (column ? sql<string>`${sql.ref(`e.${column}`)}` : sql<string>`''`);

/** Filters checked on the event rows themselves. */
const ROW_FILTERS = [
  ...KEYED.map(([field, , column]) => [field, column] as const),
  ['resourceType', 'resource_type'],
] as const satisfies readonly (readonly [keyof AuditFilter, keyof AuditEventsTable])[];

type EventQuery = SelectQueryBuilder<Database & { e: AuditEventsTable }, 'e', EventRow>;

/** The sealer's chain rows: 100 a statement (600 parameters), compiled once per row count. */
const insertChainRows = precompiledRows<Database, AuditChainTable>(['position', 'event_seq', 'event_id', 'prev_hash', 'hash', 'sealed_at'], 100, (db, rows) =>
  db.insertInto('audit_chain').values(rows),
);

/** One insert-select per lookup kind, for the events with from <= seq <= to. */
const indexRun = KEYS.map(({ kind, column }) =>
  precompiled<Database, { from: number; to: number }, never>((db, arg) => {
    let events = db
      .selectFrom('audit_events as e')
      .select([sql.lit(kind).as('kind'), keyValue(column).as('value'), 'e.event_time', 'e.seq'])
      .where('e.seq', '>=', arg('from'))
      .where('e.seq', '<=', arg('to'));
    if (column) events = events.where(`e.${column}`, 'is not', null);
    return db.insertInto('audit_lookup').columns(['kind', 'value', 'event_time', 'event_seq']).expression(events);
  }),
);

/** Seqs as runs of consecutive numbers, [first, last] each, ascending. */
function runsOf(seqs: readonly number[]): [number, number][] {
  const sorted = [...new Set(seqs)].sort((a, b) => a - b);
  const runs: [number, number][] = [];
  for (const seq of sorted) {
    const last = runs[runs.length - 1];
    if (last && seq === last[1] + 1) last[1] = seq;
    else runs.push([seq, seq]);
  }
  return runs;
}

/** Newest first: (time, seq) descending. */
const newestFirst = (a: StoredAuditEvent, b: StoredAuditEvent) => b.eventTime - a.eventTime || b.seq - a.seq;

export class SqlAuditChainStore implements AuditChainStore {
  constructor(private readonly db: Db) {}

  private events(): SelectQueryBuilder<Database & { e: AuditEventsTable }, 'e', EventRow> {
    return this.db.selectFrom('audit_events as e').select(EVENT_COLUMNS);
  }
  private eventTexts() {
    return this.db.selectFrom('audit_events as e').select(EVENT_TEXT_COLUMNS);
  }

  async takeSealerLease(owner: string, now: number, until: number): Promise<number | undefined> {
    const r = await this.db
      .updateTable('audit_sealer')
      .set({ locked_by: owner, locked_until: until })
      .where('id', '=', 1)
      .where((eb) => eb.or([eb('locked_by', '=', owner), eb('locked_by', 'is', null), eb('locked_until', '<', now)]))
      .returning('watermark')
      .executeTakeFirst();
    return r ? Number(r.watermark) : undefined;
  }
  async releaseSealerLease(owner: string): Promise<void> {
    await this.db.updateTable('audit_sealer').set({ locked_by: null, locked_until: 0 }).where('id', '=', 1).where('locked_by', '=', owner).execute();
  }
  async advanceWatermark(owner: string, now: number, watermark: number): Promise<boolean> {
    const r = await this.db
      .updateTable('audit_sealer')
      .set({ watermark })
      .where('id', '=', 1)
      .where('locked_by', '=', owner)
      .where('locked_until', '>=', now)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
  async sealerState(): Promise<{ watermark: number; lockedBy: string | null; lockedUntil: number }> {
    const r = await this.db.selectFrom('audit_sealer').selectAll().where('id', '=', 1).executeTakeFirstOrThrow();
    return { watermark: Number(r.watermark), lockedBy: r.locked_by, lockedUntil: Number(r.locked_until) };
  }
  async chainHead(): Promise<{ position: number; hash: string } | undefined> {
    const r = await this.db.selectFrom('audit_chain').select(['position', 'hash']).orderBy('position', 'desc').limit(1).executeTakeFirst();
    if (r) return { position: Number(r.position), hash: r.hash };
    // Everything chained was pruned: the newest digest still names the head.
    const d = await this.lastDigest();
    return d && { position: d.position, hash: d.hash };
  }
  async eventsAfter(seq: number, limit: number): Promise<StoredEventText[]> {
    const rows = await eventTextsAfter(this.db, { after: seq, limit });
    return rows.map((r) => storedTextOf(r as EventTextValues));
  }
  async eventsInGaps(limit: number): Promise<StoredEventText[]> {
    // Gaps are few and events many: walk the gaps, each a range of the primary key.
    const gaps = await this.db.selectFrom('audit_gaps').select(['from_seq', 'to_seq']).orderBy('from_seq').execute();
    const found: StoredEventText[] = [];
    for (const g of gaps) {
      if (found.length >= limit) break;
      const rows = await this.eventTexts()
        .where('e.seq', '>=', Number(g.from_seq))
        .where('e.seq', '<=', Number(g.to_seq))
        .where((eb) => eb.not(eb.exists(eb.selectFrom('audit_chain as c').select('c.position').whereRef('c.event_seq', '=', 'e.seq'))))
        .orderBy('e.seq')
        .limit(limit - found.length)
        .execute();
      found.push(...rows.map((r) => storedTextOf(Object.values(r) as EventTextValues)));
    }
    return found;
  }
  async insertChain(rows: readonly ChainRow[], sealedAt: number): Promise<void> {
    await insertChainRows(
      this.db,
      rows.map((r) => ({ position: r.position, event_seq: r.eventSeq, event_id: r.eventId, prev_hash: r.prevHash, hash: r.hash, sealed_at: sealedAt })),
    );
  }
  async recordGap(fromSeq: number, toSeq: number, now: number): Promise<void> {
    await this.db.insertInto('audit_gaps').values({ from_seq: fromSeq, to_seq: toSeq, noticed_at: now }).onConflict((oc) => oc.column('from_seq').doNothing()).execute();
  }
  async dropGapsNoticedBefore(time: number): Promise<void> {
    await this.db.deleteFrom('audit_gaps').where('noticed_at', '<', time).execute();
  }
  async lastDigest(): Promise<AuditDigest | undefined> {
    const r = await this.db.selectFrom('audit_digests').selectAll().orderBy('position', 'desc').limit(1).executeTakeFirst();
    return r && digestOf(r);
  }
  async insertDigest(d: AuditDigest): Promise<void> {
    await this.db
      .insertInto('audit_digests')
      .values({ position: d.position, hash: d.hash, created_at: d.createdAt, key_id: d.keyId, signature: d.signature, every: d.every ?? null })
      .execute();
  }
  async digestsBetween(from: number, to: number): Promise<AuditDigest[]> {
    const rows = await this.db.selectFrom('audit_digests').selectAll().where('position', '>=', from).where('position', '<=', to).orderBy('position').execute();
    return rows.map(digestOf);
  }
  async findSigningKey(): Promise<SigningKeyRecord | undefined> {
    const r = await this.db.selectFrom('audit_signing_keys').selectAll().orderBy('created_at').orderBy('key_id').limit(1).executeTakeFirst();
    return r && { keyId: r.key_id, publicKeyPem: r.public_key_pem, sealedPrivateKey: r.sealed_private_key, createdAt: Number(r.created_at) };
  }
  async insertSigningKey(k: SigningKeyRecord): Promise<boolean> {
    const r = await this.db
      .insertInto('audit_signing_keys')
      .values({ key_id: k.keyId, public_key_pem: k.publicKeyPem, sealed_private_key: k.sealedPrivateKey, created_at: k.createdAt })
      .onConflict((oc) => oc.column('key_id').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  }
  async chainFrom(fromPosition: number, limit: number): Promise<{ row: ChainRow; event: StoredAuditEvent | undefined }[]> {
    const rows = await this.db
      .selectFrom('audit_chain as c')
      .leftJoin('audit_events as e', 'e.seq', 'c.event_seq')
      .select(['c.position', 'c.event_seq', 'c.event_id as chain_event_id', 'c.prev_hash', 'c.hash'])
      .select(EVENT_COLUMNS)
      .select(['e.user_name', 'e.access_key_id', 'e.resource_type', 'e.resource_name'])
      .where('c.position', '>=', fromPosition)
      .orderBy('c.position')
      .limit(limit)
      .execute();
    return rows.map((r) => ({
      row: { position: Number(r.position), eventSeq: Number(r.event_seq), eventId: r.chain_event_id, prevHash: r.prev_hash, hash: r.hash },
      event: r.seq === null ? undefined : storedEventOf(r as unknown as EventRow),
      lookup: r.seq === null ? undefined : { userName: r.user_name, accessKeyId: r.access_key_id, resourceType: r.resource_type, resourceName: r.resource_name },
    }));
  }
  async missingLookupKey(): Promise<{ position: number; eventId: string; kind: string } | undefined> {
    let first: { position: number; eventId: string; kind: string } | undefined;
    for (const { kind, column } of KEYS) {
      let q = this.db
        .selectFrom('audit_chain as c')
        .innerJoin('audit_events as e', 'e.seq', 'c.event_seq')
        .select(['c.position', 'e.event_id'])
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('audit_lookup as l')
                .select('l.event_seq')
                .where('l.kind', '=', kind)
                .where('l.value', '=', keyValue(column))
                .whereRef('l.event_time', '=', 'e.event_time')
                .whereRef('l.event_seq', '=', 'e.seq'),
            ),
          ),
        );
      if (column) q = q.where(`e.${column}`, 'is not', null);
      const r = await q.orderBy('c.position').limit(1).executeTakeFirst();
      if (r && (!first || Number(r.position) < first.position)) first = { position: Number(r.position), eventId: r.event_id, kind };
    }
    return first;
  }
  async strayLookupKey(): Promise<{ kind: string; value: string; eventSeq: number; position: number | null; eventId: string | null } | undefined> {
    // Every key must be one the sealer wrote: of a chained event, with that event's time and the
    // value of the column it is copied from. A key of another kind, or one that names an event
    // under a value it does not have, puts the event in lookups it does not belong to.
    const chainedWith = (l: { kind: AuditLookupKind; column?: keyof AuditEventsTable }) =>
      this.db
        .selectFrom('audit_lookup as l')
        .select(['l.kind', 'l.value', 'l.event_seq'])
        .where('l.kind', '=', l.kind)
        .where((eb) =>
          eb.not(
            eb.exists(
              eb
                .selectFrom('audit_events as e')
                .innerJoin('audit_chain as c', 'c.event_seq', 'e.seq')
                .select('e.seq')
                .whereRef('e.seq', '=', 'l.event_seq')
                .whereRef('e.event_time', '=', 'l.event_time')
                .where(keyValue(l.column), '=', eb.ref('l.value')),
            ),
          ),
        );
    const queries = [
      ...KEYS.map(chainedWith),
      this.db
        .selectFrom('audit_lookup as l')
        .select(['l.kind', 'l.value', 'l.event_seq'])
        .where(
          'l.kind',
          'not in',
          KEYS.map((k) => k.kind),
        ),
    ];
    let first: { kind: string; value: string; eventSeq: number } | undefined;
    for (const q of queries) {
      const r = await q.orderBy('l.event_seq').limit(1).executeTakeFirst();
      if (r && (!first || Number(r.event_seq) < first.eventSeq)) first = { kind: r.kind, value: r.value, eventSeq: Number(r.event_seq) };
    }
    if (!first) return undefined;
    const link = await this.db.selectFrom('audit_chain').select(['position', 'event_id']).where('event_seq', '=', first.eventSeq).executeTakeFirst();
    return { ...first, position: link ? Number(link.position) : null, eventId: link?.event_id ?? null };
  }
  async unchainedBelow(watermark: number, limit: number): Promise<StoredAuditEvent[]> {
    const rows = await this.events()
      .where('e.seq', '<=', watermark)
      .where((eb) => eb.not(eb.exists(eb.selectFrom('audit_chain as c').select('c.position').whereRef('c.event_seq', '=', 'e.seq'))))
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('audit_gaps as g')
              .select('g.from_seq')
              .where((g) => g.and([g('g.from_seq', '<=', g.ref('e.seq')), g('g.to_seq', '>=', g.ref('e.seq'))])),
          ),
        ),
      )
      .orderBy('e.seq')
      .limit(limit)
      .execute();
    return rows.map(storedEventOf);
  }
  async firstPositionAtOrAfter(time: number): Promise<number | undefined> {
    // Along the 'time' key, which only chained events have.
    const r = await this.db
      .selectFrom('audit_lookup as l')
      .innerJoin('audit_chain as c', 'c.event_seq', 'l.event_seq')
      .select((eb) => eb.fn.min('c.position').as('p'))
      .where('l.kind', '=', 'time')
      .where('l.value', '=', '')
      .where('l.event_time', '>=', time)
      .executeTakeFirst();
    return r?.p == null ? undefined : Number(r.p);
  }
  async indexEvents(seqs: readonly number[]): Promise<void> {
    // Copied from the log's own columns, in the database: the keys pruning deletes are these. A
    // batch is a run of consecutive seqs (a few runs when late events join it): one precompiled
    // insert per key kind and run.
    for (const [from, to] of runsOf(seqs)) {
      for (const insert of indexRun) await insert(this.db, { from, to });
    }
  }
  async lookup(f: AuditFilter, after: { time: number; seq: number } | undefined, limit: number): Promise<StoredAuditEvent[]> {
    // Chained events through audit_lookup's (kind, value, time, seq), newest first: the most selective
    // keyed filter's, or without one the 'time' key every event has. Then the tail the sealer has
    // not reached, scanned along the primary key past its watermark. Read the watermark first: an
    // event chained in between is found twice, and kept once.
    const keyed = KEYED.find(([field]) => f[field] !== undefined);
    const [kind, value] = keyed ? [keyed[1], f[keyed[0]] as string] : (['time', ''] as const);
    const { watermark } = await this.sealerState();
    let chained = this.rowFilters(
      this.db
        .selectFrom('audit_lookup as l')
        .innerJoin('audit_events as e', 'e.seq', 'l.event_seq')
        .select(EVENT_COLUMNS)
        .where('l.kind', '=', kind)
        .where('l.value', '=', value),
      // The time range and the cursor go on the key's own columns, which its index orders. The keyed
      // filter is checked on the row as well: a key row is not trusted to name the right event.
      { ...f, startTime: undefined, endTime: undefined },
      undefined,
    );
    const time = sql.ref('l.event_time');
    const seq = sql.ref('l.event_seq');
    if (f.startTime !== undefined) chained = chained.where(time, '>=', f.startTime);
    if (f.endTime !== undefined) chained = chained.where(time, '<=', f.endTime);
    if (after) chained = chained.where((eb) => eb.or([eb(time, '<', after.time), eb.and([eb(time, '=', after.time), eb(seq, '<', after.seq)])]));
    const sealed = await chained.orderBy(time, 'desc').orderBy(seq, 'desc').limit(limit).execute();
    const tail = await this.rowFilters(this.events().where('e.seq', '>', watermark), f, after)
      .orderBy('e.event_time', 'desc')
      .orderBy('e.seq', 'desc')
      .limit(limit)
      .execute();
    const seen = new Set<number>();
    return [...sealed, ...tail]
      .map(storedEventOf)
      .filter((e) => !seen.has(e.seq) && seen.add(e.seq))
      .sort(newestFirst)
      .slice(0, limit);
  }
  /** The filters, the time range and the page cursor, on the event rows. */
  private rowFilters(q: EventQuery, f: AuditFilter, after: { time: number; seq: number } | undefined): EventQuery {
    for (const [field, column] of ROW_FILTERS) {
      const value = f[field];
      if (value !== undefined) q = q.where(`e.${column}`, '=', value);
    }
    if (f.readOnly !== undefined) q = q.where('e.read_only', '=', f.readOnly ? 1 : 0);
    if (f.startTime !== undefined) q = q.where('e.event_time', '>=', f.startTime);
    if (f.endTime !== undefined) q = q.where('e.event_time', '<=', f.endTime);
    if (after) q = q.where((eb) => eb.or([eb('e.event_time', '<', after.time), eb.and([eb('e.event_time', '=', after.time), eb('e.seq', '<', after.seq)])]));
    return q;
  }
  async newestDigestBefore(time: number): Promise<number | undefined> {
    const r = await this.db
      .selectFrom('audit_digests as d')
      .innerJoin('audit_chain as c', 'c.position', 'd.position')
      .innerJoin('audit_events as e', 'e.seq', 'c.event_seq')
      .select((eb) => eb.fn.max('d.position').as('p'))
      .where('d.created_at', '<', time)
      .where('e.event_time', '<', time)
      .executeTakeFirst();
    return r?.p == null ? undefined : Number(r.p);
  }
  async oldestPosition(): Promise<number | undefined> {
    const r = await this.db.selectFrom('audit_chain').select('position').orderBy('position').limit(1).executeTakeFirst();
    return r === undefined ? undefined : Number(r.position);
  }
  async pruneThrough(position: number): Promise<number> {
    // First a write to the events' table that changes nothing: on SQLite, a transaction of the
    // sealer's thread has locked the audit file only, and must take the main file's lock before it
    // reads the events, or another's commit in between would leave it a stale snapshot to write from.
    await this.db.deleteFrom('audit_events').where(sql<boolean>`1 = 0`).execute();
    const seqs = this.db.selectFrom('audit_chain').select('event_seq').where('position', '<=', position);
    // Each key by its whole primary key, from the columns it was copied from (indexEvents).
    for (const { kind, column } of KEYS) {
      await sql`
        delete from audit_lookup
        where kind = ${kind} and (value, event_time, event_seq) in (
          select ${keyValue(column)}, e.event_time, e.seq from audit_events e
          where e.seq in (${seqs})${column ? sql` and e.${sql.ref(column)} is not null` : sql``})`.execute(this.db);
    }
    const r = await this.db.deleteFrom('audit_events').where('seq', 'in', seqs).executeTakeFirst();
    await this.db.deleteFrom('audit_chain').where('position', '<=', position).execute();
    return Number(r.numDeletedRows);
  }
}

