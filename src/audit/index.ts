// audit/: the append-only event log. This scope: the event shape and the write path.
export { audited, buildEvent, type AuditDeps, type AuditedAction } from './audited.js';
export { AuditService } from './audit-service.js';
export { HIDDEN, withoutSecrets, type AuditEvent } from './audit-event.js';
export type { AuditStore } from './audit-store.js';
