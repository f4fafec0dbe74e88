// 0013-audit-chain: tamper evidence and fast lookups for the audit log.
// - audit_events gains the columns LookupEvents filters on (user name, access key, one resource).
// - audit_chain: insert-only; position n holds event n of the chain and SHA-256(hash n-1, event n).
//   Chain order is the sealer's order, not seq order (on PostgreSQL seq order is not commit order).
// - audit_digests: the chain head at a position, signed with the audit Ed25519 key. Kept when old
//   events are pruned, so that the chain still verifies from the oldest kept position.
// - audit_signing_keys: that key, its private half sealed by the envelope.
// - audit_sealer: one row; the sealer's lease (one process seals at a time) and its progress.
// - audit_gaps: seq ranges the sealer passed while they were missing (a transaction still in flight
//   on PostgreSQL); an event that commits into one later is chained at the end of the chain.

import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  await db.schema.alterTable('audit_events').addColumn('user_name', 'varchar(128)').execute();
  await db.schema.alterTable('audit_events').addColumn('access_key_id', 'varchar(128)').execute();
  await db.schema.alterTable('audit_events').addColumn('resource_type', 'varchar(64)').execute();
  await db.schema.alterTable('audit_events').addColumn('resource_name', 'varchar(512)').execute();
  // A selective filter is answered newest first by an index on (filter, time, seq): no sort, no
  // scan. Event name already has one (0001); ReadOnly and ResourceType are too coarse to pay for
  // an index on every write: they are checked along the time index.
  for (const [name, column] of [
    ['audit_events_user', 'user_name'],
    ['audit_events_key', 'access_key_id'],
    ['audit_events_resource', 'resource_name'],
    ['audit_events_source', 'event_source'],
  ] as const) {
    await db.schema.createIndex(name).on('audit_events').columns([column, 'event_time', 'seq']).execute();
  }
  // (time, seq) orders every page; it replaces 0001's index on time alone.
  await db.schema.createIndex('audit_events_time_seq').on('audit_events').columns(['event_time', 'seq']).execute();
  await db.schema.dropIndex('audit_events_time').execute();

  await db.schema
    .createTable('audit_chain')
    .addColumn('position', 'bigint', (c) => c.primaryKey())
    .addColumn('event_seq', 'bigint', (c) => c.notNull().unique())
    .addColumn('event_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('prev_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('sealed_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('audit_digests')
    .addColumn('position', 'bigint', (c) => c.primaryKey())
    .addColumn('hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('key_id', 'varchar(64)', (c) => c.notNull())
    /** base64 Ed25519 signature over the digest's canonical text. */
    .addColumn('signature', 'text', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('audit_signing_keys')
    .addColumn('key_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('public_key_pem', 'text', (c) => c.notNull())
    .addColumn('sealed_private_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('audit_sealer')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('locked_by', 'varchar(64)')
    .addColumn('locked_until', 'bigint', (c) => c.notNull())
    /** Every seq at or below this is chained, or recorded in audit_gaps. */
    .addColumn('watermark', 'bigint', (c) => c.notNull())
    .execute();
  await sql`insert into audit_sealer (id, locked_by, locked_until, watermark) values (1, null, 0, 0)`.execute(db);

  await db.schema
    .createTable('audit_gaps')
    .addColumn('from_seq', 'bigint', (c) => c.primaryKey())
    .addColumn('to_seq', 'bigint', (c) => c.notNull())
    .addColumn('noticed_at', 'bigint', (c) => c.notNull())
    .execute();
}
