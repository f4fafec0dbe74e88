// 0021-audit-events-one-key: an audited change writes one B-tree entry for its event, not three.
// - audit_events keeps only its primary key (seq). Its two other indexes, the unique event id and
//   (time, seq), were written on the request path of every change: on SQLite, with one writer,
//   they cost about 4% of CreateUser's throughput (bench/README.md, "Session 12").
// - Their look-ups move to audit_lookup, which the sealer writes after the change has committed:
//   kind 'id' (the event id) and kind 'time' (value '', every event: LookupEvents by time alone).
//   Events the sealer has not reached yet are found by the tail scan past its watermark, as for
//   every other key (0017). Event ids stay unique by construction (time-ordered, 74 random bits).
// - Chained events get their two new keys here; the rest get them when they are chained.

import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

async function backfillKeys(db: Kysely<unknown>): Promise<void> {
  await sql`insert into audit_lookup (kind, value, event_time, event_seq)
    select 'id', e.event_id, e.event_time, e.seq from audit_events e join audit_chain c on c.event_seq = e.seq`.execute(db);
  await sql`insert into audit_lookup (kind, value, event_time, event_seq)
    select 'time', '', e.event_time, e.seq from audit_events e join audit_chain c on c.event_seq = e.seq`.execute(db);
}

export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  if (ctx.dialect === 'postgres') {
    await backfillKeys(db);
    await db.schema.dropIndex('audit_events_time_seq').execute();
    // Named by PostgreSQL for 0001's column constraint.
    await sql`alter table audit_events drop constraint audit_events_event_id_key`.execute(db);
    return;
  }
  // SQLite cannot drop a column's unique constraint: the table is rebuilt, in one transaction of our
  // own (its DDL runs outside the migrator's), so that a crash half-way leaves the old table whole.
  await db.transaction().execute(async (trx) => {
    await backfillKeys(trx);
    const sequence = await sql<{ seq: number }>`select seq from sqlite_sequence where name = 'audit_events'`.execute(trx);
    // audit_events as 0001, 0013 and 0020 left it, without the unique constraint on event_id.
    await trx.schema
      .createTable('audit_events_0021')
      .addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement())
      .addColumn('event_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('event_time', 'bigint', (c) => c.notNull())
      .addColumn('event_source', 'varchar(128)', (c) => c.notNull())
      .addColumn('event_name', 'varchar(128)', (c) => c.notNull())
      .addColumn('aws_region', 'varchar(32)', (c) => c.notNull())
      .addColumn('source_ip', 'varchar(64)', (c) => c.notNull())
      .addColumn('user_agent', 'text', (c) => c.notNull())
      .addColumn('user_identity', 'text', (c) => c.notNull())
      .addColumn('request_parameters', 'text')
      .addColumn('response_elements', 'text')
      .addColumn('error_code', 'varchar(128)')
      .addColumn('error_message', 'text')
      .addColumn('request_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('read_only', 'integer', (c) => c.notNull())
      .addColumn('event_type', 'varchar(64)', (c) => c.notNull())
      .addColumn('user_name', 'varchar(128)')
      .addColumn('access_key_id', 'varchar(128)')
      .addColumn('resource_type', 'varchar(64)')
      .addColumn('resource_name', 'varchar(512)')
      .addColumn('canonical_json', 'integer')
      .execute();
    // Every column the old table has, by name: the new one has them all.
    const names = await sql<{ name: string }>`select name from pragma_table_info('audit_events')`.execute(trx);
    const columns = sql.join(names.rows.map((c) => sql.ref(c.name)));
    await sql`insert into audit_events_0021 (${columns}) select ${columns} from audit_events order by seq`.execute(trx);
    await trx.schema.dropTable('audit_events').execute();
    await trx.schema.alterTable('audit_events_0021').renameTo('audit_events').execute();
    // AUTOINCREMENT never hands out a seq again, even one whose event was pruned: keep its high mark.
    const high = sequence.rows[0]?.seq;
    if (high !== undefined) {
      await sql`delete from sqlite_sequence where name = 'audit_events'`.execute(trx);
      await sql`insert into sqlite_sequence (name, seq) values ('audit_events', ${high})`.execute(trx);
    }
  });
}
