// The audit sinks' and alert rules' store: each consumer's cursor over the chain with its lease and
// back-off, the sealed events after a cursor, and the alert rules' window and fired alerts (0016).
// It reads audit_chain and audit_events and never writes them.

import type { Kysely } from 'kysely';
import type { AlertStore, FiredAlert } from '../../audit/alerts/alert-store.js';
import type { AuditSinkStore, SealedEvent, SinkCursor } from '../../audit/sinks/sink-store.js';
import type { Database, Db } from '../database.js';
import type { AuditSinkTables } from '../schema/audit-sinks.js';
import { storedEventOf } from './audit-chain-store.js';

type SinkDb = Kysely<Database & AuditSinkTables>;

const alertOf = (r: { id: number; rule: string; severity: string; position: number; subject: string; event_ids: string; fired_at: number }): FiredAlert => ({
  id: Number(r.id),
  rule: r.rule,
  severity: r.severity,
  position: Number(r.position),
  subject: r.subject,
  eventIds: JSON.parse(r.event_ids) as string[],
  firedAt: Number(r.fired_at),
});

export class SqlAuditSinkStore implements AuditSinkStore, AlertStore {
  private readonly db: SinkDb;
  constructor(db: Db) {
    // 0016's tables are known to this store alone, so that the shared Database type stays as it is.
    this.db = db as unknown as SinkDb;
  }

  // ---- cursors ----

  async ensureCursor(name: string, now: number, position: number): Promise<void> {
    await this.db
      .insertInto('audit_sink_cursors')
      .values({ name, position, locked_by: null, locked_until: 0, failures: 0, retry_at: 0, last_error: null, updated_at: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
  }
  async takeLease(name: string, owner: string, now: number, until: number): Promise<SinkCursor | undefined> {
    const r = await this.db
      .updateTable('audit_sink_cursors')
      .set({ locked_by: owner, locked_until: until })
      .where('name', '=', name)
      .where((eb) => eb.or([eb('locked_by', '=', owner), eb('locked_by', 'is', null), eb('locked_until', '<', now)]))
      .returning(['position', 'failures', 'retry_at'])
      .executeTakeFirst();
    return r && { position: Number(r.position), failures: Number(r.failures), retryAt: Number(r.retry_at) };
  }
  async releaseLease(name: string, owner: string): Promise<void> {
    await this.db.updateTable('audit_sink_cursors').set({ locked_by: null, locked_until: 0 }).where('name', '=', name).where('locked_by', '=', owner).execute();
  }
  async advance(name: string, owner: string, now: number, position: number): Promise<boolean> {
    const r = await this.db
      .updateTable('audit_sink_cursors')
      .set((eb) => ({
        // Never back: a process that lost its lease mid-batch cannot undo a newer one's progress.
        position: eb.case().when('position', '<', position).then(position).else(eb.ref('position')).end(),
        failures: 0,
        retry_at: 0,
        last_error: null,
        updated_at: now,
      }))
      .where('name', '=', name)
      .where('locked_by', '=', owner)
      .where('locked_until', '>=', now)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }
  async recordFailure(name: string, owner: string, now: number, failures: number, retryAt: number, error: string): Promise<void> {
    await this.db
      .updateTable('audit_sink_cursors')
      .set({ failures, retry_at: retryAt, last_error: error.slice(0, 1000), updated_at: now })
      .where('name', '=', name)
      .where('locked_by', '=', owner)
      .execute();
  }
  async sealedAfter(position: number, limit: number): Promise<SealedEvent[]> {
    // Pruned events take their chain rows with them; a chain row whose event is gone (tampering)
    // has nothing to send, and verify names it.
    const rows = await this.db
      .selectFrom('audit_chain as c')
      .innerJoin('audit_events as e', 'e.seq', 'c.event_seq')
      .selectAll('e')
      .select('c.position')
      .where('c.position', '>', position)
      .orderBy('c.position')
      .limit(limit)
      .execute();
    return rows.map((r) => ({ position: Number(r.position), event: storedEventOf({ ...r, seq: Number(r.seq) }) }));
  }
  async cursor(name: string): Promise<(SinkCursor & { lastError: string | null }) | undefined> {
    const r = await this.db.selectFrom('audit_sink_cursors').selectAll().where('name', '=', name).executeTakeFirst();
    return r && { position: Number(r.position), failures: Number(r.failures), retryAt: Number(r.retry_at), lastError: r.last_error };
  }

  async headPosition(): Promise<number> {
    const r = await this.db.selectFrom('audit_chain').select((eb) => eb.fn.max('position').as('p')).executeTakeFirst();
    return r?.p == null ? 0 : Number(r.p);
  }

  async unsealedCount(): Promise<number> {
    const r = await this.db
      .selectFrom('audit_events as e')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('e.seq', '>', (eb) => eb.selectFrom('audit_sealer as s').select('s.watermark').where('s.id', '=', 1))
      .executeTakeFirst();
    return Number(r?.n ?? 0);
  }

  // ---- alerts ----

  async addToWindow(rule: string, position: number, subject: string, eventId: string, eventTime: number): Promise<void> {
    await this.db
      .insertInto('audit_alert_window')
      .values({ rule, position, subject: subject.slice(0, 256), event_id: eventId, event_time: eventTime })
      .onConflict((oc) => oc.columns(['rule', 'position']).doNothing())
      .execute();
  }
  async windowOf(rule: string, subject: string, since: number): Promise<{ position: number; eventId: string }[]> {
    const rows = await this.db
      .selectFrom('audit_alert_window')
      .select(['position', 'event_id'])
      .where('rule', '=', rule)
      .where('subject', '=', subject.slice(0, 256))
      .where('event_time', '>=', since)
      .orderBy('position')
      .execute();
    return rows.map((r) => ({ position: Number(r.position), eventId: r.event_id }));
  }
  async clearWindow(rule: string, subject: string): Promise<void> {
    await this.db.deleteFrom('audit_alert_window').where('rule', '=', rule).where('subject', '=', subject.slice(0, 256)).execute();
  }
  async pruneWindow(rule: string, before: number): Promise<void> {
    await this.db.deleteFrom('audit_alert_window').where('rule', '=', rule).where('event_time', '<', before).execute();
  }
  async insertAlert(a: Omit<FiredAlert, 'id'>): Promise<void> {
    await this.db
      .insertInto('audit_alerts')
      .values({
        rule: a.rule,
        severity: a.severity,
        position: a.position,
        subject: a.subject.slice(0, 256),
        event_ids: JSON.stringify(a.eventIds),
        fired_at: a.firedAt,
        delivered_at: null,
      })
      .onConflict((oc) => oc.columns(['rule', 'position']).doNothing())
      .execute();
  }
  async undeliveredAlerts(limit: number): Promise<FiredAlert[]> {
    const rows = await this.db.selectFrom('audit_alerts').selectAll().where('delivered_at', 'is', null).orderBy('id').limit(limit).execute();
    return rows.map(alertOf);
  }
  async markAlertDelivered(id: number, now: number): Promise<void> {
    await this.db.updateTable('audit_alerts').set({ delivered_at: now }).where('id', '=', id).execute();
  }
  async alerts(): Promise<(FiredAlert & { deliveredAt: number | null })[]> {
    const rows = await this.db.selectFrom('audit_alerts').selectAll().orderBy('id').execute();
    return rows.map((r) => ({ ...alertOf(r), deliveredAt: r.delivered_at === null ? null : Number(r.delivered_at) }));
  }
}
