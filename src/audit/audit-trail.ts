// The tamper-evident trail over the audit log. Writers only insert events, in their own
// transactions, and never wait for one another; the sealer (one process at a time, under a lease)
// appends committed events to the hash chain in batches and signs a digest of the chain head every
// N events or T seconds. Verify, export, LookupEvents and retention live here too.

import { createPublicKey, type KeyObject } from 'node:crypto';
import { createEd25519KeyPair, ed25519PrivateKey, ed25519PublicKey, keyFingerprint, signEd25519 } from '../crypto/index.js';
import type { Clock } from '../shared/clock.js';
import { invalidArgument } from '../shared/errors.js';
import type { IdGenerator } from '../shared/ids.js';
import { decodeToken, encodeToken, type Page } from '../shared/pagination.js';
import { Poller } from '../shared/poller.js';
import type { Transactor } from '../shared/transactor.js';
import { lookupFieldsOf, type LookupFields } from './audit-event.js';
import type { AuditChainStore, AuditFilter, ChainRow, StoredAuditEvent } from './audit-store.js';
import {
  canonicalRecordText,
  chainHashOfText,
  cloudTrailRecord,
  digestMessage,
  GENESIS,
  verifyChain,
  allowedUnsignedTail,
  type AuditDigest,
  type ChainLink,
  type CloudTrailRecord,
  type StoredEventText,
  type VerifyResult,
} from './chain.js';

export interface AuditTrailOptions {
  /** Sign a digest once this many events are chained past the last one. */
  digestEvery: number;
  /** …or once this long has passed since the last one, if anything new is chained. */
  digestIntervalMs: number;
  /** How often the sealer looks for new events. */
  sealIntervalMs: number;
  /** How long a missing seq may hold the chain back (a PostgreSQL transaction still in flight). */
  gapGraceMs: number;
  /** How long a passed gap is watched for a late event. */
  gapWatchMs: number;
  leaseMs: number;
  /** Events older than this many days are pruned (0 keeps everything). */
  retentionDays: number;
  /** About how many events one pruning transaction deletes (each ends at a signed digest). */
  pruneChunk?: number;
}

export const DEFAULT_TRAIL_OPTIONS: AuditTrailOptions = {
  digestEvery: 1000,
  digestIntervalMs: 60_000,
  sealIntervalMs: 1000,
  gapGraceMs: 2000,
  gapWatchMs: 3_600_000,
  leaseMs: 30_000,
  retentionDays: 0,
};

export interface Sealer {
  seal(plaintext: string, aad: string): Promise<string>;
  open(sealed: string, aad: string): Promise<Buffer>;
}

export interface TrailLogger {
  error(obj: object, msg: string): void;
}

const BATCH = 1000;
/** Events chained per write transaction, and pruned per transaction: short ones (see sealBatch). */
const WRITE_CHUNK = 256;
const PRUNE_CHUNK = 500;
const SIGNING_KEY_ID = 'audit-1';
const aadOf = (keyId: string) => `audit-signing-key:${keyId}`;
const DAY = 86_400_000;
/** Lease periods an event may wait unchained before sealing counts as stalled (see sealingStall). */
const STALL_LEASES = 2;
/**
 * With retention on, a chain may start after a signed digest only if that digest is old enough to
 * have been pruned through: signed (its `createdAt` is in the signed message, so a database writer
 * cannot change it) before now − auditRetentionDays, as prune() requires. A chain that starts after
 * a younger digest lost its first events to a deletion. This much is allowed on top, for the clocks
 * of the process that pruned and the one that verifies: a deleter gains at most this much.
 */
const PRUNE_CLOCK_SLACK_MS = 10 * 60_000;

/** One line of an export (JSON Lines). */
export type ExportLine =
  | { type: 'event'; position: number; prevHash: string; hash: string; event: CloudTrailRecord }
  | ({ type: 'digest' } & AuditDigest);

/**
 * The result of verifying the database: the chain, then events that should be in it and are not.
 * `sealingStalled`: why events wait unchained longer than a working sealer leaves them (a warning;
 * a failure, with `ok` false, when the lease is held further ahead than any sealer takes it).
 */
export type TrailVerifyResult = VerifyResult & { notYetChained: number; sealingStalled?: string };

export class AuditTrail {
  private readonly owner: string;
  private readonly gapSince = new Map<number, number>();
  private signer?: Promise<{ keyId: string; privateKey: KeyObject; publicKey: KeyObject; publicKeyPem: string }>;
  /** One pass at a time in this process: the timer and a caller share the lease. */
  private readonly sealer: Poller<number>;
  /** Until when this sealer's lease runs, as it last took it (0: not held). */
  private leaseUntil = 0;
  /** The newest digest position this sealer has seen or signed: one that disappears was deleted. */
  private digestSeen = 0;
  /** When this sealer, turned away by another's lease, last checked that sealing goes on. */
  private stallCheckedAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly deps: {
      tx: Transactor<{ auditChain: AuditChainStore }>;
      read: { auditChain: AuditChainStore };
      clock: Clock;
      ids: IdGenerator;
      envelope: Sealer;
      log: TrailLogger;
    },
    private readonly opts: AuditTrailOptions = DEFAULT_TRAIL_OPTIONS,
  ) {
    this.owner = `sealer-${deps.ids.uuid().slice(0, 12)}`;
    this.sealer = new Poller(() => this.sealPass({}), {
      intervalMs: this.opts.sealIntervalMs,
      onError: (err) => this.deps.log.error({ err: err instanceof Error ? err.message : String(err) }, 'audit sealer failed'),
    });
  }

  // ---- the sealer ----

  start(): void {
    this.sealer.start();
  }

  async stop(): Promise<void> {
    await this.sealer.stop();
    this.leaseUntil = 0;
    // Whatever this process last knew: a failed pass forgets the lease here but may still hold it there.
    await this.deps.tx.transaction((s) => s.auditChain.releaseSealerLease(this.owner)).catch(() => undefined);
  }

  /**
   * Hold the sealer's lease. It is written only when it is not this sealer's or has run past half
   * its length, so that a pass with nothing to chain writes nothing (on SQLite every write takes
   * the one write lock, and a bare statement syncs the WAL while it holds it). The transaction that
   * chains checks it again. It is written in a transaction, as every write of the sealer's: on
   * SQLite that takes turns with the request thread at the write gate, where a bare statement would
   * meet its batches at SQLite's lock and stop their event loop in the busy handler.
   */
  private async holdLease(now: number): Promise<boolean> {
    if (this.leaseUntil - now >= this.opts.leaseMs / 2) return true;
    const held = (await this.deps.tx.transaction((s) => s.auditChain.takeSealerLease(this.owner, now, now + this.opts.leaseMs))) !== undefined;
    this.leaseUntil = held ? now + this.opts.leaseMs : 0;
    return held;
  }

  /**
   * Chain every committed event not chained yet, sign a digest when one is due, and prune what
   * retention allows. Returns how many events it chained; 0 when another process holds the lease.
   */
  sealOnce(opts: { forceDigest?: boolean } = {}): Promise<number> {
    return this.sealer.exclusive(() => this.sealPass(opts));
  }

  private async sealPass(opts: { forceDigest?: boolean }): Promise<number> {
    const now = this.deps.clock.now();
    if (!(await this.holdLease(now))) {
      await this.reportStall(now);
      return 0;
    }
    const store = this.deps.read.auditChain;
    await this.refuseAfterDeletedDigests((await store.chainHead())?.position ?? 0, await store.lastDigest());
    const signer = await this.signingKey();
    let total = 0;
    for (;;) {
      const n = await this.sealBatch(signer);
      total += n;
      if (n < BATCH) break;
    }
    await this.digestIfDue(signer, opts.forceDigest ?? false);
    await this.prune();
    return total;
  }

  private async sealBatch(signer: { keyId: string; privateKey: KeyObject }): Promise<number> {
    const store = this.deps.read.auditChain;
    const now = this.deps.clock.now();
    if (!(await this.holdLease(now))) return 0;
    const { watermark } = await store.sealerState();
    const late = await store.eventsInGaps(BATCH);
    const fresh = await store.eventsAfter(watermark, BATCH);
    const take: StoredEventText[] = [];
    const gaps: [number, number][] = [];
    let expected = watermark + 1;
    for (const e of fresh) {
      if (e.seq > expected) {
        // A missing seq is a rolled-back transaction, or one still in flight: wait a little for it,
        // then go on and chain it at the end if it ever commits.
        const since = this.gapSince.get(expected) ?? now;
        this.gapSince.set(expected, since);
        if (now - since < this.opts.gapGraceMs) break;
        this.gapSince.delete(expected);
        gaps.push([expected, e.seq - 1]);
      }
      take.push(e);
      expected = e.seq + 1;
    }
    const toChain = [...late, ...take];
    if (toChain.length === 0) return 0;
    // Hashing happens before the write transactions, so the write lock is held only for the inserts:
    // on SQLite every writer waits while it is. The lease keeps the head where it was read.
    const head = await store.chainHead();
    let digestedAt = (await store.lastDigest())?.position ?? 0;
    let position = head?.position ?? 0;
    let prev = head?.hash ?? GENESIS;
    const rows: ChainRow[] = [];
    const digests: AuditDigest[] = [];
    for (const e of toChain) {
      position++;
      const hash = chainHashOfText(prev, canonicalRecordText(e));
      rows.push({ position, eventSeq: e.seq, eventId: e.eventId, prevHash: prev, hash });
      prev = hash;
      // A digest every N positions: a rewrite of the chain is caught within N events.
      if (position - digestedAt >= this.opts.digestEvery) {
        digests.push(this.digest(signer, position, hash, now));
        digestedAt = position;
      }
    }
    // Written in transactions of at most WRITE_CHUNK events: on SQLite each one holds the one write
    // lock, and a request batch that wants it meanwhile waits (at the write gate in this process, in
    // SQLite's busy handler in another), so no batch waits behind a whole pass. Each moves the
    // watermark past its own events, and records the gaps it passes.
    let chunkWatermark = watermark;
    let nextGap = 0;
    for (let from = 0; from < toChain.length; from += WRITE_CHUNK) {
      const to = Math.min(from + WRITE_CHUNK, toChain.length);
      // Late events come first and leave the watermark where it is.
      for (let i = Math.max(from, late.length); i < to; i++) chunkWatermark = toChain[i]!.seq;
      const chunkRows = rows.slice(from, to);
      const [first, last] = [chunkRows[0]!.position, chunkRows[chunkRows.length - 1]!.position];
      const chunkGaps: [number, number][] = [];
      while (nextGap < gaps.length && gaps[nextGap]![1] < chunkWatermark) chunkGaps.push(gaps[nextGap++]!);
      const seqs = toChain.slice(from, to).map((e) => e.seq);
      const movedTo = chunkWatermark;
      await this.deps.tx
        .transaction(async (s) => {
          // First: on PostgreSQL its row lock puts a rival sealer (one that took an expired lease) after this one.
          if (!(await s.auditChain.advanceWatermark(this.owner, now, movedTo))) throw new Error('the audit sealer lost its lease');
          await s.auditChain.insertChain(chunkRows, now);
          await s.auditChain.indexEvents(seqs);
          for (const d of digests) if (d.position >= first && d.position <= last) await s.auditChain.insertDigest(d);
          for (const [gapFrom, gapTo] of chunkGaps) await s.auditChain.recordGap(gapFrom, gapTo, now);
          if (from === 0) await s.auditChain.dropGapsNoticedBefore(now - this.opts.gapWatchMs);
        })
        .catch((err: unknown) => {
          this.leaseUntil = 0;
          throw err;
        });
    }
    return take.length + late.length;
  }

  /**
   * Another process holds the lease: once a lease period, check that it is chaining. A lease held
   * further ahead than any sealer takes it, or events left unchained longer than a working sealer
   * leaves them, is logged as an error: nothing is chained, signed or sent to the sinks meanwhile,
   * and a sealer that is simply turned away would otherwise say nothing.
   */
  private async reportStall(now: number): Promise<void> {
    if (now - this.stallCheckedAt < this.opts.leaseMs) return;
    this.stallCheckedAt = now;
    const stall = await this.sealingStall(now);
    if (stall) this.deps.log.error({ impossibleLease: stall.impossible }, `audit sealing has stalled: ${stall.reason}`);
  }

  /**
   * Whether sealing has stalled: `impossible` when the lease is held further ahead than any sealer
   * takes it (2 × leaseMs: its own length, and as much again for a clock that runs ahead), which
   * only an edit of audit_sealer does; otherwise when the oldest unchained event has waited longer
   * than a working sealer leaves one (STALL_LEASES lease periods: a holder killed mid-lease delays
   * chaining by one; the gap grace and a pass on top).
   */
  async sealingStall(now: number): Promise<{ impossible: boolean; reason: string } | undefined> {
    const store = this.deps.read.auditChain;
    const state = await store.sealerState();
    const holder = state.lockedBy === null || state.lockedUntil < now ? 'no sealer holds the lease: is `atrium serve` running? `atrium audit seal` chains them now' : `the lease is held by ${state.lockedBy} until ${new Date(state.lockedUntil).toISOString()}`;
    if (state.lockedBy !== null && state.lockedUntil - now > 2 * this.opts.leaseMs) {
      return {
        impossible: true,
        reason: `${holder}, further ahead than any sealer takes it (${this.opts.leaseMs / 1000} s): audit_sealer was edited (or that process's clock is far ahead), and no event after position ${(await store.chainHead())?.position ?? 0} is chained, signed or sent to the sinks`,
      };
    }
    const [oldest] = await store.eventsAfter(state.watermark, 1);
    const waitMs = STALL_LEASES * this.opts.leaseMs + this.opts.gapGraceMs + this.opts.sealIntervalMs;
    if (oldest === undefined || now - oldest.eventTime <= waitMs) return undefined;
    return {
      impossible: false,
      reason: `event seq ${oldest.seq} has waited since ${new Date(oldest.eventTime).toISOString()} to be chained, longer than a working sealer leaves one (${Math.round(waitMs / 1000)} s), and it goes to no sink until it is; ${holder}`,
    };
  }

  /**
   * Signing a digest vouches for the whole chain before it. If digests were deleted (to rewrite the
   * events they vouched for, then have the sealer sign the result), refuse to seal, loudly, every
   * pass: the digest this sealer last saw is gone, or more events follow the last digest than the
   * sealer ever leaves unsigned (`allowedUnsignedTail`).
   */
  private async refuseAfterDeletedDigests(head: number, last: AuditDigest | undefined): Promise<void> {
    const refuse = (why: string) => {
      throw new Error(`the audit sealer stopped: ${why}; digests were deleted, and signing now would vouch for what they covered. Run \`atrium audit verify\``);
    };
    const lastDigest = last?.position ?? 0;
    if (lastDigest < this.digestSeen) refuse(`the signed digest at position ${this.digestSeen} is gone (the last one is at ${lastDigest})`);
    this.digestSeen = lastDigest;
    if (head - lastDigest <= this.opts.digestEvery) return;
    const [before] = last && last.every === undefined ? (await this.deps.read.auditChain.digestsBetween(0, lastDigest - 1)).slice(-1) : [];
    const allowed = allowedUnsignedTail(this.opts.digestEvery, last, before);
    if (head - lastDigest > allowed) refuse(`${head - lastDigest} events follow the last signed digest (at position ${lastDigest}), more than the ${allowed} the sealer leaves unsigned`);
  }

  private async digestIfDue(signer: { keyId: string; privateKey: KeyObject }, force: boolean): Promise<void> {
    const now = this.deps.clock.now();
    const due = (head: { position: number } | undefined, last: AuditDigest | undefined): head is { position: number; hash: string } => {
      if (!head || head.position === (last?.position ?? 0)) return false;
      return force || !last || now - last.createdAt >= this.opts.digestIntervalMs || head.position - last.position >= this.opts.digestEvery;
    };
    // Read first: most passes have no digest due, and need no transaction.
    const store = this.deps.read.auditChain;
    if (!due(await store.chainHead(), await store.lastDigest())) return;
    await this.deps.tx.transaction(async (s) => {
      const head = await s.auditChain.chainHead();
      if (due(head, await s.auditChain.lastDigest())) await s.auditChain.insertDigest(this.digest(signer, head.position, head.hash, now));
    });
  }

  private digest(signer: { keyId: string; privateKey: KeyObject }, position: number, hash: string, createdAt: number): AuditDigest {
    const unsigned = { position, hash, createdAt, keyId: signer.keyId, every: this.opts.digestEvery };
    return { ...unsigned, signature: signEd25519(signer.privateKey, digestMessage(unsigned)) };
  }

  /** Digests signed before this time may have been pruned through. */
  private prunedBefore(now: number): number {
    return now - this.opts.retentionDays * DAY;
  }

  /**
   * Delete events past retention, through the newest digest signed before the cutoff (and whose
   * event is older), so the rest still verifies from there. The digest's own signed time decides,
   * not its event's: verify accepts a chain that starts after a digest only if that digest was
   * signed before the cutoff (with PRUNE_CLOCK_SLACK_MS), which an attacker who deletes recent
   * events cannot make true.
   */
  async prune(): Promise<number> {
    if (this.opts.retentionDays <= 0) return 0;
    const cutoff = this.prunedBefore(this.deps.clock.now());
    const store = this.deps.read.auditChain;
    const through = await store.newestDigestBefore(cutoff);
    if (through === undefined) return 0;
    let pruned = 0;
    const first = await store.oldestPosition();
    if (first === undefined || first > through) return 0;
    // Each transaction ends at a signed digest, so that the chain left between two of them (or after
    // a crash) still starts right after one and verifies: about `pruneChunk` events, or up to the
    // next digest when they are further apart.
    const ends = (await store.digestsBetween(first, through)).map((d) => d.position);
    for (let oldest = first; oldest <= through; ) {
      const within = ends.filter((p) => p >= oldest && p <= oldest + (this.opts.pruneChunk ?? PRUNE_CHUNK) - 1);
      const step = within.length > 0 ? within[within.length - 1]! : ends.find((p) => p >= oldest)!;
      pruned += await this.deps.tx.transaction((s) => s.auditChain.pruneThrough(step));
      oldest = step + 1;
    }
    return pruned;
  }

  // ---- the signing key ----

  /** The audit key: made once (by whichever process gets there first), its private half sealed. */
  signingKey(): Promise<{ keyId: string; privateKey: KeyObject; publicKey: KeyObject; publicKeyPem: string }> {
    this.signer ??= this.loadSigningKey().catch((err: unknown) => {
      this.signer = undefined;
      throw err;
    });
    return this.signer;
  }

  private async loadSigningKey(): Promise<{ keyId: string; privateKey: KeyObject; publicKey: KeyObject; publicKeyPem: string }> {
    const existing = await this.deps.read.auditChain.findSigningKey();
    if (existing) {
      const privateKey = ed25519PrivateKey((await this.deps.envelope.open(existing.sealedPrivateKey, aadOf(existing.keyId))).toString('utf8'));
      // The stored public half is a plain column: someone who can write the database (but has no
      // key file) could swap it for a key of their own and re-sign every digest. The sealed private
      // half cannot be swapped without the key file, so the public key is the one it gives.
      const publicKey = createPublicKey(privateKey);
      if (!sameKey(publicKey, existing.publicKeyPem)) throw new AuditKeyMismatchError(existing.keyId);
      return { keyId: existing.keyId, privateKey, publicKey, publicKeyPem: existing.publicKeyPem };
    }
    const pair = createEd25519KeyPair();
    const sealedPrivateKey = await this.deps.envelope.seal(pair.privateKeyPem, aadOf(SIGNING_KEY_ID));
    const now = this.deps.clock.now();
    const inserted = await this.deps.tx.transaction((s) =>
      s.auditChain.insertSigningKey({ keyId: SIGNING_KEY_ID, publicKeyPem: pair.publicKeyPem, sealedPrivateKey, createdAt: now }),
    );
    if (!inserted) return this.loadSigningKey();
    return { keyId: SIGNING_KEY_ID, privateKey: ed25519PrivateKey(pair.privateKeyPem), publicKey: ed25519PublicKey(pair.publicKeyPem), publicKeyPem: pair.publicKeyPem };
  }

  /** The PEM public key that checks every digest, and its fingerprint. */
  async publicKey(): Promise<{ pem: string; fingerprint: string }> {
    const k = await this.signingKey();
    return { pem: k.publicKeyPem, fingerprint: keyFingerprint(k.publicKey) };
  }

  // ---- verify and export ----

  private async *links(fromPosition: number): AsyncGenerator<{ link: ChainLink; time: number | undefined; event: StoredAuditEvent | undefined; lookup: LookupFields | undefined }> {
    let from = fromPosition;
    for (;;) {
      const page = await this.deps.read.auditChain.chainFrom(from, BATCH);
      for (const { row, event, lookup } of page) {
        yield {
          link: { position: row.position, eventId: row.eventId, prevHash: row.prevHash, hash: row.hash, record: event && cloudTrailRecord(event) },
          time: event?.eventTime,
          event,
          lookup,
        };
      }
      if (page.length < BATCH) return;
      from = page[page.length - 1]!.row.position + 1;
    }
  }

  /**
   * Check the whole chain in the database against its signed digests; then look for events slipped
   * in behind the sealer. The digests are checked with the public key the sealed private key gives
   * (a stored public key that differs fails), or with `publicKey` when one is pinned (the one the
   * operator kept from `atrium audit public-key`): then the stored key must be that one, and the
   * private key need not open.
   */
  async verifyDatabase(opts: { publicKey?: KeyObject } = {}): Promise<TrailVerifyResult> {
    const result = await this.verifyStored(opts);
    // Events the sealer does not reach are not tamper-evident, and go to no sink: say so.
    const stall = await this.sealingStall(this.deps.clock.now());
    if (!stall) return result;
    if (stall.impossible && result.ok) return { ...result, ok: false, sealingStalled: stall.reason, problem: { position: null, eventId: null, reason: stall.reason } };
    return { ...result, sealingStalled: stall.reason };
  }

  private async verifyStored(opts: { publicKey?: KeyObject }): Promise<TrailVerifyResult> {
    const store = this.deps.read.auditChain;
    const keyProblem = (reason: string): TrailVerifyResult => ({
      ok: false,
      events: 0,
      firstPosition: null,
      lastPosition: null,
      digests: 0,
      unsignedTail: 0,
      notYetChained: 0,
      problem: { position: null, eventId: null, reason },
    });
    let key: KeyObject;
    if (opts.publicKey) {
      const stored = await store.findSigningKey();
      if (stored && !sameKey(opts.publicKey, stored.publicKeyPem)) {
        return keyProblem(`the audit public key in the database (fingerprint ${fingerprintOfPem(stored.publicKeyPem)}) is not the pinned one (${keyFingerprint(opts.publicKey)}): it was replaced`);
      }
      key = opts.publicKey;
    } else {
      try {
        key = (await this.signingKey()).publicKey;
      } catch (err) {
        if (err instanceof AuditKeyMismatchError) return keyProblem(err.message);
        throw err;
      }
    }
    const digests = new Map((await store.digestsBetween(0, Number.MAX_SAFE_INTEGER)).map((d) => [d.position, d]));
    const links = this.links(0);
    // LookupEvents' columns are outside the hashed record: each must be what the record gives
    // (lookupFieldsOf), or an edit of one hides the event from a lookup, or shows it under another name.
    let badColumn: { position: number; eventId: string; column: string } | undefined;
    const result = await verifyChain(
      (async function* () {
        for await (const l of links) {
          if (!badColumn && l.event && l.lookup) {
            const column = mismatchedLookupColumn(l.lookup, lookupFieldsOf(l.event));
            if (column) badColumn = { position: l.link.position, eventId: l.link.eventId, column };
          }
          yield l.link;
        }
      })(),
      digests,
      key,
      {
        digestEvery: this.opts.digestEvery,
        fromGenesis: this.opts.retentionDays <= 0,
        ...(this.opts.retentionDays > 0 && { pruned: { before: this.prunedBefore(this.deps.clock.now()) + PRUNE_CLOCK_SLACK_MS, retentionDays: this.opts.retentionDays } }),
      },
    );
    const { watermark } = await store.sealerState();
    const notYetChained = (await store.eventsAfter(watermark, BATCH)).length;
    if (!result.ok) return { ...result, notYetChained };
    const failed = (problem: NonNullable<TrailVerifyResult['problem']>): TrailVerifyResult => ({ ...result, notYetChained, ok: false, problem });
    // Only a column of an event the walk got to and found intact: one past a bad link is not named.
    if (badColumn) {
      const reason = `its LookupEvents column ${badColumn.column} does not match the event's record: it was edited, hiding the event from lookups or showing it under another name`;
      return failed({ position: badColumn.position, eventId: badColumn.eventId, reason });
    }
    const hidden = await store.missingLookupKey();
    if (hidden) {
      const reason = `its LookupEvents key (${hidden.kind}) is missing or does not match the event: it was deleted or edited, hiding the event from lookups`;
      return failed({ position: hidden.position, eventId: hidden.eventId, reason });
    }
    const stray = await store.strayLookupKey();
    if (stray) {
      const reason = `a LookupEvents key (${stray.kind} = ${JSON.stringify(stray.value)}) names event seq ${stray.eventSeq}, which is not chained with that value: it was inserted or edited, showing the event in lookups it does not belong to`;
      return failed({ position: stray.position, eventId: stray.eventId, reason });
    }
    const [slipped] = await store.unchainedBelow(watermark, 1);
    if (slipped) return failed({ position: null, eventId: slipped.eventId, reason: `event seq ${slipped.seq} is in the log but not in the chain, behind the sealer: it was inserted` });
    return { ...result, notYetChained };
  }

  /**
   * The chain as JSON Lines for events from `start` to `end`, widened to the signed digests on
   * either side so that the file verifies on its own, given the public key.
   */
  async *exportLines(start: number, end: number): AsyncGenerator<ExportLine> {
    const store = this.deps.read.auditChain;
    const first = await store.firstPositionAtOrAfter(start);
    if (first === undefined) return;
    const [anchor] = (await store.digestsBetween(0, first - 1)).slice(-1);
    const from = anchor ? anchor.position + 1 : 1;
    if (anchor) yield { type: 'digest', ...anchor };
    const digests = new Map((await store.digestsBetween(from, Number.MAX_SAFE_INTEGER)).map((d) => [d.position, d]));
    let pastEnd = false;
    for await (const { link, time } of this.links(from)) {
      if (time !== undefined && time > end) pastEnd = true;
      // A deleted event leaves its position out of the file, so that verify names it.
      if (link.record) yield { type: 'event', position: link.position, prevHash: link.prevHash, hash: link.hash, event: link.record };
      const digest = digests.get(link.position);
      if (digest) {
        yield { type: 'digest', ...digest };
        if (pastEnd) return;
      }
    }
  }

  // ---- LookupEvents ----

  async lookup(filter: AuditFilter, opts: { maxResults?: number; nextToken?: string }): Promise<Page<StoredAuditEvent>> {
    if (filter.startTime !== undefined && filter.endTime !== undefined && filter.startTime > filter.endTime) {
      throw invalidArgument('audit.invalid_time_range', 'StartTime must not be after EndTime.');
    }
    const limit = opts.maxResults ?? 50;
    const fingerprint = filterFingerprint(filter);
    let after: { time: number; seq: number } | undefined;
    if (opts.nextToken !== undefined) {
      const p = decodeToken(opts.nextToken)!;
      if (p.f !== fingerprint || typeof p.t !== 'number' || typeof p.s !== 'number') {
        throw invalidArgument('pagination.invalid_token', 'The NextToken is not valid for these parameters.');
      }
      after = { time: p.t, seq: p.s };
    }
    const rows = await this.deps.read.auditChain.lookup(filter, after, limit + 1);
    if (rows.length <= limit) return { items: rows };
    const items = rows.slice(0, limit);
    const last = items[items.length - 1]!;
    return { items, nextToken: encodeToken({ t: last.eventTime, s: last.seq, f: fingerprint }) };
  }
}

/** The stored audit public key is not the one its sealed private key gives: it was replaced. */
export class AuditKeyMismatchError extends Error {
  constructor(keyId: string) {
    super(
      `the audit public key stored in the database (audit_signing_keys, ${keyId}) does not match its sealed private key: it was replaced, ` +
        'and digests it checks prove nothing; the audit sealer will not sign with it',
    );
  }
}

/** Whether a PEM holds this public key (the same SPKI). */
function sameKey(key: KeyObject, pem: string): boolean {
  try {
    return key.export({ type: 'spki', format: 'der' }).equals(ed25519PublicKey(pem).export({ type: 'spki', format: 'der' }));
  } catch {
    return false;
  }
}

function fingerprintOfPem(pem: string): string {
  try {
    return keyFingerprint(ed25519PublicKey(pem));
  } catch {
    return 'unreadable';
  }
}

const LOOKUP_COLUMNS: readonly [keyof LookupFields, string][] = [
  ['userName', 'user_name'],
  ['accessKeyId', 'access_key_id'],
  ['resourceType', 'resource_type'],
  ['resourceName', 'resource_name'],
];

/** The first lookup column stored otherwise than the record gives it, by its column name. */
function mismatchedLookupColumn(stored: LookupFields, derived: LookupFields): string | undefined {
  return LOOKUP_COLUMNS.find(([field]) => (stored[field] ?? null) !== derived[field])?.[1];
}

/** A short digest of the filters, so that a token is refused with other parameters, as AWS does. */
function filterFingerprint(f: AuditFilter): string {
  const text = JSON.stringify(Object.entries(f).filter(([, v]) => v !== undefined).sort(([a], [b]) => (a < b ? -1 : 1)));
  let h = 0;
  for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
  return (h >>> 0).toString(36);
}
