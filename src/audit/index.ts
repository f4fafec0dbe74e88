// audit/: the append-only event log (written with every change), the hash chain and signed digests
// over it (the sealer), verify, export, LookupEvents and retention.
export { audited, buildEvent, type AuditDeps, type AuditedAction } from './audited.js';
export { AuditService } from './audit-service.js';
export { AUDIT_OFF_FOR_BENCH, HIDDEN, lookupFieldsOf, resourceOf, stringifiesCanonically, withoutSecrets, type AuditEvent, type LookupFields } from './audit-event.js';
export type { AuditChainStore, AuditFilter, AuditStore, ChainRow, SigningKeyRecord, StoredAuditEvent } from './audit-store.js';
export * from './chain.js';
export { AuditKeyMismatchError, AuditTrail, DEFAULT_TRAIL_OPTIONS, type AuditTrailOptions, type ExportLine, type TrailVerifyResult } from './audit-trail.js';
export { verifyExport } from './export-verify.js';
