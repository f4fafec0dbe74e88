// The ports the audit module needs from the store: the append-only event log (written by every
// change), and the chain, digests and lookups (used by the sealer, verify, export and LookupEvents).

import type { AuditEvent, LookupFields } from './audit-event.js';
import type { AuditDigest, StoredEventText } from './chain.js';

export interface AuditStore {
  appendEvent(event: AuditEvent): Promise<void>;
  /** Several events in one statement (a sign-in writes two). */
  appendEvents(events: readonly AuditEvent[]): Promise<void>;
}

export interface StoredAuditEvent extends AuditEvent {
  seq: number;
}

export interface ChainRow {
  position: number;
  eventSeq: number;
  eventId: string;
  prevHash: string;
  hash: string;
}

export interface SigningKeyRecord {
  keyId: string;
  publicKeyPem: string;
  sealedPrivateKey: string;
  createdAt: number;
}

/** LookupEvents' filters: every one given must match (AND). */
export interface AuditFilter {
  eventId?: string;
  eventName?: string;
  readOnly?: boolean;
  userName?: string;
  resourceType?: string;
  resourceName?: string;
  eventSource?: string;
  accessKeyId?: string;
  startTime?: number;
  endTime?: number;
}

export interface AuditChainStore {
  /** Take or renew the sealer's lease; the watermark when held, undefined when another process holds it. */
  takeSealerLease(owner: string, now: number, until: number): Promise<number | undefined>;
  releaseSealerLease(owner: string): Promise<void>;
  /** Move the watermark, only while `owner` still holds the lease (false: it lost it, roll back). */
  advanceWatermark(owner: string, now: number, watermark: number): Promise<boolean>;
  chainHead(): Promise<{ position: number; hash: string } | undefined>;
  /** Events after `seq`, in seq order, as stored (what the sealer hashes). */
  eventsAfter(seq: number, limit: number): Promise<StoredEventText[]>;
  /** Events that committed into a seq gap the sealer had passed, and are not chained yet. */
  eventsInGaps(limit: number): Promise<StoredEventText[]>;
  insertChain(rows: readonly ChainRow[], sealedAt: number): Promise<void>;
  /** Write LookupEvents' keys of these (just chained) events; the sealer does, so that writers never pay for them. */
  indexEvents(seqs: readonly number[]): Promise<void>;
  recordGap(fromSeq: number, toSeq: number, now: number): Promise<void>;
  dropGapsNoticedBefore(time: number): Promise<void>;
  lastDigest(): Promise<AuditDigest | undefined>;
  insertDigest(d: AuditDigest): Promise<void>;
  /** Digests with from <= position <= to. */
  digestsBetween(from: number, to: number): Promise<AuditDigest[]>;
  findSigningKey(): Promise<SigningKeyRecord | undefined>;
  /** False when another process made the key first. */
  insertSigningKey(k: SigningKeyRecord): Promise<boolean>;
  /** Chain rows from `fromPosition` in position order, each with its event when it still exists. */
  chainFrom(fromPosition: number, limit: number): Promise<{ row: ChainRow; event: StoredAuditEvent | undefined; lookup?: LookupFields | undefined }[]>;
  /**
   * The first chained event (by position) one of whose LookupEvents keys is missing, or does not
   * match its columns: deleted or edited to hide it from LookupEvents, which the chain cannot show.
   */
  missingLookupKey(): Promise<{ position: number; eventId: string; kind: string } | undefined>;
  /**
   * The first `audit_lookup` row (by event seq) that is not a key the sealer wrote: its kind is
   * unknown, or it names an event that is not chained, at another time, or under a value that is
   * not the event's. Such a row shows the event in lookups it does not belong to.
   */
  strayLookupKey(): Promise<{ kind: string; value: string; eventSeq: number; position: number | null; eventId: string | null } | undefined>;
  /** Events below the watermark that are neither chained nor in a gap: inserted behind the sealer's back. */
  unchainedBelow(watermark: number, limit: number): Promise<StoredAuditEvent[]>;
  sealerState(): Promise<{ watermark: number; lockedBy: string | null; lockedUntil: number }>;
  /** The first chain position whose event is at or after `time`. */
  firstPositionAtOrAfter(time: number): Promise<number | undefined>;
  lookup(filter: AuditFilter, after: { time: number; seq: number } | undefined, limit: number): Promise<StoredAuditEvent[]>;
  /** The newest digest signed before `time` whose position's event is older than `time` too. */
  newestDigestBefore(time: number): Promise<number | undefined>;
  oldestPosition(): Promise<number | undefined>;
  /** Delete chained events and their chain rows up to `position`, and digests before it; digests at or after stay. */
  pruneThrough(position: number): Promise<number>;
}
