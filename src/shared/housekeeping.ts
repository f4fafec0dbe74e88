// Housekeeping: rows that nobody can use any more are deleted in the background, so that no table
// grows without bound. Sign-in throttle rows are the pressing case: an attacker who sprays guesses
// from many addresses, or at many made-up user names, leaves one row per address and per name.
// Not audited: it changes nothing anyone can see or use (the OIDC records' purge is the same).

import type { Clock } from './clock.js';
import { Poller } from './poller.js';
import type { Transactor } from './transactor.js';

export interface HousekeepingStore {
  /**
   * Throttle rows whose last failure and whose lock's end are both older than `windowStart` (and
   * `now`): the next failure of such a key starts counting afresh, with or without its row.
   */
  deleteStaleThrottle(windowStart: number, now: number, limit: number): Promise<number>;
  /** Portal sessions that expired before `now` (a session is never used once expired). */
  deleteExpiredSessions(now: number, limit: number): Promise<number>;
  /** Jobs done before `doneBefore`, or failed for good before `failedBefore`. */
  deleteFinishedJobs(doneBefore: number, failedBefore: number, limit: number): Promise<number>;
  /**
   * Account assignment and provisioning requests that SUCCEEDED or FAILED before `before` (their
   * Describe…Status and List…Status answers). One still IN_PROGRESS is never deleted.
   */
  deleteFinishedAccessRequests(before: number, limit: number): Promise<number>;
}

/** Rows deleted per statement, each in its own short transaction, so a sweep never holds the writer long. */
export const SWEEP_BATCH = 1000;
const DAY_MS = 86_400_000;
/** A finished job is kept a day, a failed one a month, for whoever looks into why. */
const DONE_JOBS_KEPT_MS = DAY_MS;
const FAILED_JOBS_KEPT_MS = 30 * DAY_MS;
/**
 * A finished assignment or provisioning request's status is kept 90 days, as long as the audit
 * trail's default look-up history on AWS (CloudTrail's event history): whoever made it can read it
 * back for as long as they can look the call up.
 */
export const ACCESS_REQUESTS_KEPT_MS = 90 * DAY_MS;

export interface HousekeepingReport {
  throttleRows: number;
  sessions: number;
  jobs: number;
  accessRequests: number;
}

export class Housekeeping {
  private readonly poller: Poller<HousekeepingReport>;

  constructor(
    private readonly deps: {
      tx: Transactor<{ housekeeping: HousekeepingStore }>;
      clock: Clock;
      /** The sign-in failure window now in force, in milliseconds. */
      failureWindowMs: () => Promise<number>;
      log: { error(obj: object, msg: string): void };
    },
    opts: { intervalMs: number },
  ) {
    this.poller = new Poller(() => this.sweep(), { intervalMs: opts.intervalMs, onError: (err) => deps.log.error({ err }, 'housekeeping failed; it runs again later') });
  }

  start(): void {
    this.poller.start();
  }

  stop(): Promise<void> {
    return this.poller.stop();
  }

  /** One sweep now (after any in flight): how many rows of each kind went. */
  runOnce(): Promise<HousekeepingReport> {
    return this.poller.runOnce();
  }

  private async sweep(): Promise<HousekeepingReport> {
    const now = this.deps.clock.now();
    const windowStart = now - (await this.deps.failureWindowMs());
    return {
      throttleRows: await this.inBatches((s) => s.deleteStaleThrottle(windowStart, now, SWEEP_BATCH)),
      sessions: await this.inBatches((s) => s.deleteExpiredSessions(now, SWEEP_BATCH)),
      jobs: await this.inBatches((s) => s.deleteFinishedJobs(now - DONE_JOBS_KEPT_MS, now - FAILED_JOBS_KEPT_MS, SWEEP_BATCH)),
      accessRequests: await this.inBatches((s) => s.deleteFinishedAccessRequests(now - ACCESS_REQUESTS_KEPT_MS, SWEEP_BATCH)),
    };
  }

  private async inBatches(batch: (s: HousekeepingStore) => Promise<number>): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await this.deps.tx.transaction((s) => batch(s.housekeeping));
      total += n;
      if (n < SWEEP_BATCH) return total;
    }
  }
}
