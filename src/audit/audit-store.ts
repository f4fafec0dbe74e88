// The port the audit module needs from the store: append-only.

import type { AuditEvent } from './audit-event.js';

export interface AuditStore {
  appendEvent(event: AuditEvent): Promise<void>;
}
