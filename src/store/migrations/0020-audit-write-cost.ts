// 0020-audit-write-cost: less work per audit event.
// - audit_events.canonical_json: 1 when the event's parameters and result were written in the chain's
//   canonical form (keys sorted, no whitespace), so that the sealer hashes the stored text as it is
//   instead of parsing and writing it again. Rows written before (NULL) are parsed, as they were.
// - SQLite: audit_lookup and audit_chain become WITHOUT ROWID tables, keyed by their primary key.
//   As rowid tables each row was written twice (the table, and its primary key's index): the sealer
//   wrote ten B-tree entries per event into audit_lookup and three into audit_chain; now five and two.
//   PostgreSQL keeps its heap and primary key index (it has no such choice).

import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  await db.schema.alterTable('audit_events').addColumn('canonical_json', 'integer').execute();
  if (ctx.dialect !== 'sqlite') return;
  // SQLite's DDL runs outside the migrator's transaction: one of our own, so that a crash half-way
  // leaves the old tables whole.
  await db.transaction().execute(async (trx) => {
    await trx.schema
      .createTable('audit_lookup_0020')
      .addColumn('kind', 'varchar(16)', (c) => c.notNull())
      .addColumn('value', 'varchar(512)', (c) => c.notNull())
      .addColumn('event_time', 'bigint', (c) => c.notNull())
      .addColumn('event_seq', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('audit_lookup_pk', ['kind', 'value', 'event_time', 'event_seq'])
      .modifyEnd(sql`without rowid`)
      .execute();
    await sql`insert into audit_lookup_0020 (kind, value, event_time, event_seq)
      select kind, value, event_time, event_seq from audit_lookup order by kind, value, event_time, event_seq`.execute(trx);
    await trx.schema.dropTable('audit_lookup').execute();
    await trx.schema.alterTable('audit_lookup_0020').renameTo('audit_lookup').execute();

    await trx.schema
      .createTable('audit_chain_0020')
      .addColumn('position', 'bigint', (c) => c.primaryKey())
      .addColumn('event_seq', 'bigint', (c) => c.notNull().unique())
      .addColumn('event_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('prev_hash', 'varchar(64)', (c) => c.notNull())
      .addColumn('hash', 'varchar(64)', (c) => c.notNull())
      .addColumn('sealed_at', 'bigint', (c) => c.notNull())
      .modifyEnd(sql`without rowid`)
      .execute();
    await sql`insert into audit_chain_0020 (position, event_seq, event_id, prev_hash, hash, sealed_at)
      select position, event_seq, event_id, prev_hash, hash, sealed_at from audit_chain order by position`.execute(trx);
    await trx.schema.dropTable('audit_chain').execute();
    await trx.schema.alterTable('audit_chain_0020').renameTo('audit_chain').execute();
  });
}
