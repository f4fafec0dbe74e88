// 0016-audit-sinks: where each audit sink and the alert evaluator have got to in the chain, and the
// alert rules' state (issue 6).
// - audit_sink_cursors: one row per sink (and one for the alert evaluator). `position` is the last
//   audit_chain position delivered, so delivery follows the chain's order and sends only sealed
//   events. The lease (one deliverer per sink across processes) and the retry back-off live here.
// - audit_alert_window: recent events a windowed rule counts (failed sign-ins per user).
// - audit_alerts: fired alerts, kept; `delivered_at` is set once the alert webhook took one.

import type { Kysely } from 'kysely';
import { autoIncrementId, type MigrationContext } from './context.js';

export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('audit_sink_cursors')
    .addColumn('name', 'varchar(128)', (c) => c.primaryKey())
    .addColumn('position', 'bigint', (c) => c.notNull())
    .addColumn('locked_by', 'varchar(64)')
    .addColumn('locked_until', 'bigint', (c) => c.notNull())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('retry_at', 'bigint', (c) => c.notNull())
    .addColumn('last_error', 'text')
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('audit_alert_window')
    .addColumn('rule', 'varchar(128)', (c) => c.notNull())
    .addColumn('position', 'bigint', (c) => c.notNull())
    .addColumn('subject', 'varchar(256)', (c) => c.notNull())
    .addColumn('event_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('event_time', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_alert_window_pk', ['rule', 'position'])
    .execute();
  await db.schema.createIndex('audit_alert_window_subject').on('audit_alert_window').columns(['rule', 'subject', 'event_time']).execute();

  await autoIncrementId(db.schema.createTable('audit_alerts'), 'id', ctx)
    .addColumn('rule', 'varchar(128)', (c) => c.notNull())
    .addColumn('severity', 'varchar(16)', (c) => c.notNull())
    /** The chain position of the event that fired it: one alert per rule and position, however often evaluation is retried. */
    .addColumn('position', 'bigint', (c) => c.notNull())
    .addColumn('subject', 'varchar(256)', (c) => c.notNull())
    /** JSON array of the triggering events' eventIDs. */
    .addColumn('event_ids', 'text', (c) => c.notNull())
    .addColumn('fired_at', 'bigint', (c) => c.notNull())
    .addColumn('delivered_at', 'bigint')
    .addUniqueConstraint('audit_alerts_rule_position', ['rule', 'position'])
    .execute();
  await db.schema.createIndex('audit_alerts_pending').on('audit_alerts').columns(['delivered_at', 'id']).execute();
}
