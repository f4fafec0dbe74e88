// 0017-audit-lookup: LookupEvents' keys move off the write path. 0013 gave audit_events an index
// per filter (user name, access key, resource, event source; 0001 one on event name): every change
// paid for five index entries while its transaction held the write lock. Now the sealer writes one
// row per key into audit_lookup when it chains the event, in its own transaction, in batches.
// audit_events keeps its primary key, the unique event id and (time, seq). Events the sealer has
// not reached yet (about a second's worth) are found by a scan of the log past its watermark.

import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('audit_lookup')
    // name | user | key | resource | source
    .addColumn('kind', 'varchar(16)', (c) => c.notNull())
    .addColumn('value', 'varchar(512)', (c) => c.notNull())
    .addColumn('event_time', 'bigint', (c) => c.notNull())
    .addColumn('event_seq', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_lookup_pk', ['kind', 'value', 'event_time', 'event_seq'])
    .execute();
  // Keys of events already chained; those past the watermark are found by the tail scan.
  for (const [kind, column] of [
    ['name', 'event_name'],
    ['user', 'user_name'],
    ['key', 'access_key_id'],
    ['resource', 'resource_name'],
    ['source', 'event_source'],
  ] as const) {
    await sql`
      insert into audit_lookup (kind, value, event_time, event_seq)
      select ${kind}, e.${sql.ref(column)}, e.event_time, e.seq
      from audit_events e join audit_chain c on c.event_seq = e.seq
      where e.${sql.ref(column)} is not null`.execute(db);
  }
  for (const index of ['audit_events_name', 'audit_events_user', 'audit_events_key', 'audit_events_resource', 'audit_events_source']) {
    await db.schema.dropIndex(index).execute();
  }
}
