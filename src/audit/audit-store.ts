// The port the audit module needs from the store: append-only.

import type { AuditEvent } from './audit-event.js';

export interface AuditStore {
  appendEvent(event: AuditEvent): Promise<void>;
  /** Several events in one statement (a sign-in writes two). */
  appendEvents(events: readonly AuditEvent[]): Promise<void>;
}
