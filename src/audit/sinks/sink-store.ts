// The port that audit sinks and the alert evaluator need from the store: a durable cursor per
// consumer over the sealed chain (with its lease and back-off), and the sealed events after it.

import type { AuditEvent } from '../audit-event.js';

/** An event the sealer has chained, with its chain position. */
export interface SealedEvent {
  position: number;
  event: AuditEvent;
}

export interface SinkCursor {
  /** The last chain position delivered. */
  position: number;
  /** Consecutive failed deliveries. */
  failures: number;
  /** No delivery is tried before this time. */
  retryAt: number;
}

export interface AuditSinkStore {
  /** Make the consumer's cursor at `position` (delivered through it; 0: from the start) if it has none (racing processes: the first wins). */
  ensureCursor(name: string, now: number, position: number): Promise<void>;
  /** Take or renew the consumer's lease; its cursor when held, undefined when another process holds it. */
  takeLease(name: string, owner: string, now: number, until: number): Promise<SinkCursor | undefined>;
  releaseLease(name: string, owner: string): Promise<void>;
  /** Move the cursor forward (never back) and clear the failures, only while `owner` holds the lease. */
  advance(name: string, owner: string, now: number, position: number): Promise<boolean>;
  /** Record a failed delivery and when to try again, only while `owner` holds the lease. */
  recordFailure(name: string, owner: string, now: number, failures: number, retryAt: number, error: string): Promise<void>;
  /** Sealed events after `position`, in chain order. */
  sealedAfter(position: number, limit: number): Promise<SealedEvent[]>;
  cursor(name: string): Promise<(SinkCursor & { lastError: string | null }) | undefined>;
  /** The newest chain position (0 for an empty chain). */
  headPosition(): Promise<number>;
  /** Events in the log past the sealer's watermark: not chained yet, so not sent to any sink yet either. */
  unsealedCount(): Promise<number>;
}
