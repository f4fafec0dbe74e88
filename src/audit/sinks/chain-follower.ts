// Follows the sealed chain from a durable cursor, for one consumer (a sink, or the alert rules):
// one process at a time holds the consumer's lease, hands each batch to the consumer in chain
// order, and moves the cursor only once the batch is taken. A failure waits with exponential back-off.

import type { Clock } from '../../shared/clock.js';
import type { IdGenerator } from '../../shared/ids.js';
import { Poller } from '../../shared/poller.js';
import type { Transactor } from '../../shared/transactor.js';
import type { AuditSinkStore, SealedEvent, SinkCursor } from './sink-store.js';

export interface FollowerOptions {
  /** How often an idle follower looks for newly sealed events. */
  pollMs: number;
  batchSize: number;
  leaseMs: number;
  /** The first retry waits this long, and each later one twice as long as the one before… */
  retryBaseMs: number;
  /** …up to this. */
  retryMaxMs: number;
}

export const DEFAULT_FOLLOWER_OPTIONS: FollowerOptions = { pollMs: 1000, batchSize: 100, leaseMs: 30_000, retryBaseMs: 1000, retryMaxMs: 300_000 };

export interface FollowerLogger {
  warn(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

/** What a consumer does with a batch; it may advance the cursor itself, in its own transaction. */
export interface ChainConsumer {
  readonly name: string;
  /**
   * Take the batch. `advance` moves the cursor past it inside the caller's transaction (false: the
   * lease is lost). A consumer that does not call it has its cursor moved once it returns.
   */
  consume(batch: readonly SealedEvent[], advance: (stores: { auditSinks: AuditSinkStore }) => Promise<boolean>): Promise<void>;
  /** Work to do after the cursor moved, under the same lease (the alert webhook). */
  afterwards?(): Promise<void>;
  /**
   * A new cursor starts at the chain head, not at its start: the alert rules, whose history would
   * otherwise fire as new alerts the first time they are configured. A sink starts at the start.
   */
  readonly startAtHead?: boolean;
  close?(): Promise<void>;
}

export interface FollowerDeps {
  tx: Transactor<{ auditSinks: AuditSinkStore }>;
  read: { auditSinks: AuditSinkStore };
  clock: Clock;
  ids: IdGenerator;
  log: FollowerLogger;
}

/** The wait after `failures` consecutive failures: base·2^(n-1), capped, with up to 20% jitter so that processes do not retry in step. */
export function backoffMs(failures: number, opts: Pick<FollowerOptions, 'retryBaseMs' | 'retryMaxMs'>, random = Math.random): number {
  const raw = Math.min(opts.retryMaxMs, opts.retryBaseMs * 2 ** Math.min(30, Math.max(0, failures - 1)));
  return Math.round(raw * (1 - 0.2 * random()));
}

export class ChainFollower {
  private readonly owner: string;
  private ensured = false;
  /** One pass at a time in this process: the timer and a caller share the lease. */
  private readonly poller: Poller<number>;

  constructor(
    private readonly deps: FollowerDeps,
    private readonly consumer: ChainConsumer,
    private readonly opts: FollowerOptions = DEFAULT_FOLLOWER_OPTIONS,
  ) {
    this.owner = `${consumer.name.slice(0, 40)}-${deps.ids.uuid().slice(0, 12)}`;
    this.poller = new Poller(() => this.pass(), {
      intervalMs: this.opts.pollMs,
      onError: (err) => this.deps.log.error({ sink: this.consumer.name, err: messageOf(err) }, 'audit sink failed'),
    });
  }

  get name(): string {
    return this.consumer.name;
  }

  start(): void {
    this.poller.start();
  }

  async stop(): Promise<void> {
    await this.poller.stop();
    await this.deps.read.auditSinks.releaseLease(this.consumer.name, this.owner).catch(() => undefined);
    await this.consumer.close?.().catch(() => undefined);
  }

  /**
   * Deliver every sealed event past the cursor, batch by batch, unless another process holds the
   * lease or a retry is not due yet. Returns how many events were delivered.
   */
  runOnce(): Promise<number> {
    return this.poller.runOnce();
  }

  private async pass(): Promise<number> {
    const store = this.deps.read.auditSinks;
    const name = this.consumer.name;
    // Writes go through the unit of work: on SQLite they join group commit, whose disk sync runs
    // off the event loop, instead of syncing on it statement by statement.
    const write = <T>(fn: (s: AuditSinkStore) => Promise<T>) => this.deps.tx.transaction((s) => fn(s.auditSinks));
    if (!this.ensured) {
      const from = this.consumer.startAtHead ? await store.headPosition() : 0;
      await write((s) => s.ensureCursor(name, this.deps.clock.now(), from));
      this.ensured = true;
    }
    // An idle sink costs two reads a poll and no write: the lease is taken only when there is work.
    // (The alert evaluator always takes it: undelivered alerts may wait without new events.)
    if (!this.consumer.afterwards) {
      const [c, head] = await Promise.all([store.cursor(name), store.headPosition()]);
      if (c && (c.position >= head || c.retryAt > this.deps.clock.now())) return 0;
    }
    let delivered = 0;
    let cursor: SinkCursor | undefined;
    let leaseUntil = 0;
    /** The failures recorded before this pass: a batch delivered clears them, and the work after it still counts on them. */
    let before: number | undefined;
    let stage: 'consume' | 'afterwards' = 'consume';
    for (;;) {
      const now = this.deps.clock.now();
      // Renewed once half spent, not on every batch; every advance checks it is still held.
      if (!cursor || leaseUntil - now < this.opts.leaseMs / 2) {
        cursor = await write((s) => s.takeLease(name, this.owner, now, now + this.opts.leaseMs));
        if (!cursor) return delivered;
        leaseUntil = now + this.opts.leaseMs;
        before ??= cursor.failures;
      }
      if (cursor.retryAt > now) return delivered;
      const batch = await store.sealedAfter(cursor.position, this.opts.batchSize);
      const last = batch[batch.length - 1];
      try {
        stage = 'consume';
        if (last) {
          let advanced: boolean | undefined;
          await this.consumer.consume(batch, async (s) => (advanced = await s.auditSinks.advance(name, this.owner, this.deps.clock.now(), last.position)));
          advanced ??= await write((s) => s.advance(name, this.owner, this.deps.clock.now(), last.position));
          // Lost the lease mid-batch: another process carries on from the cursor.
          if (!advanced) return delivered;
          delivered += batch.length;
          cursor = { position: last.position, failures: 0, retryAt: 0 };
        }
        if (batch.length < this.opts.batchSize) {
          if (this.consumer.afterwards) {
            stage = 'afterwards';
            await this.consumer.afterwards();
            // It worked: a failure recorded before (by it, with no batch since) is over. The
            // cursor stays where it is; only the failure state is cleared.
            if (cursor.failures > 0) await write((s) => s.advance(name, this.owner, this.deps.clock.now(), cursor!.position));
          }
          return delivered;
        }
      } catch (err) {
        // The work after the batches (the alert webhook) fails on its own account: a batch delivered
        // meanwhile cleared the cursor's count, but not that failure, so it keeps backing off.
        const failures = (stage === 'afterwards' ? Math.max(cursor.failures, before ?? 0) : cursor.failures) + 1;
        const wait = backoffMs(failures, this.opts);
        await write((s) => s.recordFailure(name, this.owner, this.deps.clock.now(), failures, this.deps.clock.now() + wait, messageOf(err)));
        this.deps.log.warn({ sink: name, failures, retryInMs: wait, err: messageOf(err) }, 'audit sink delivery failed; will retry');
        return delivered;
      }
    }
  }
}

/** An error's message, never its cause's details (a URL's credentials, a header). */
export function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
