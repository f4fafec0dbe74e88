// audit/sinks and audit/alerts: streaming the sealed chain to webhooks, syslog and files from
// durable cursors, and the alert rules evaluated over it.
export { AuditStreams, type AlertsSpec, type AuditStreamsDeps, type StreamStatus } from './audit-streams.js';
export { ChainFollower, DEFAULT_FOLLOWER_OPTIONS, backoffMs, type ChainConsumer, type FollowerOptions } from './chain-follower.js';
export type { AuditSinkStore, SealedEvent, SinkCursor } from './sink-store.js';
export { octetCounted, postJson, sinkConsumer, syslogMessage, type SinkSpec, type WebhookTarget } from './transports.js';
export { ALERTS_CURSOR, alertPayload } from '../alerts/alert-evaluator.js';
export { alertRule, type AlertRule, type AlertRuleSpec, type AlertSeverity } from '../alerts/alert-rules.js';
export type { AlertStore, FiredAlert } from '../alerts/alert-store.js';
