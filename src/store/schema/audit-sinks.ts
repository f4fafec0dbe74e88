// Tables owned by audit/sinks and audit/alerts (0016): each sink's cursor over the chain and its
// lease, and the alert rules' window and fired alerts.

import type { Generated } from 'kysely';

export interface AuditSinkCursorsTable {
  name: string;
  /** The last audit_chain position delivered. */
  position: number;
  locked_by: string | null;
  locked_until: number;
  /** Consecutive failed deliveries; the back-off grows with it. */
  failures: number;
  /** No delivery is tried before this time. */
  retry_at: number;
  last_error: string | null;
  updated_at: number;
}

export interface AuditAlertWindowTable {
  rule: string;
  position: number;
  subject: string;
  event_id: string;
  event_time: number;
}

export interface AuditAlertsTable {
  id: Generated<number>;
  rule: string;
  severity: string;
  position: number;
  subject: string;
  event_ids: string;
  fired_at: number;
  delivered_at: number | null;
}

export interface AuditSinkTables {
  audit_sink_cursors: AuditSinkCursorsTable;
  audit_alert_window: AuditAlertWindowTable;
  audit_alerts: AuditAlertsTable;
}
