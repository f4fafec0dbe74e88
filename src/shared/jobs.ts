// Durable background jobs: queued in the database inside the transaction that needs them, and run
// by a worker in every process. Claiming is safe with many processes (SKIP LOCKED on PostgreSQL).

import type { Clock } from './clock.js';
import type { IdGenerator } from './ids.js';

export interface JobRecord {
  id: string;
  kind: string;
  payload: unknown;
  /** Claims so far, this one included: counted at claim time, so a job that kills its process still uses up its attempts. */
  attempts: number;
}

/** The port the worker needs from the store. */
export interface JobStore {
  enqueueJob(job: { id: string; kind: string; payload: unknown; runAfter: number; now: number }): Promise<void>;
  /** Take up to `limit` due jobs, lease them to `workerId` until `leaseUntil`, and count the attempt. */
  claimJobs(workerId: string, now: number, leaseUntil: number, limit: number): Promise<JobRecord[]>;
  completeJob(id: string, now: number): Promise<void>;
  retryJob(id: string, now: number, runAfter: number, error: string): Promise<void>;
  failJob(id: string, now: number, error: string): Promise<void>;
}

export type JobHandler = (payload: unknown, job: JobRecord) => Promise<void>;
/** Called once when a job has failed its last attempt, so the request it serves can say FAILED. */
export type JobGiveUp = (payload: unknown, error: string) => Promise<void>;

export interface JobLogger {
  error(obj: object, msg: string): void;
}

export class JobWorker {
  private readonly handlers = new Map<string, { run: JobHandler; giveUp?: JobGiveUp }>();
  private timer?: NodeJS.Timeout;
  private running = false;
  private again = false;
  private stopped = true;
  private idle?: Promise<void>;
  readonly workerId: string;

  constructor(
    private readonly deps: { jobs: JobStore; clock: Clock; ids: IdGenerator; log: JobLogger },
    private readonly opts: { pollMs: number; batch?: number; maxAttempts?: number; leaseMs?: number },
  ) {
    this.workerId = `w-${deps.ids.uuid().slice(0, 8)}`;
  }

  register(kind: string, run: JobHandler, giveUp?: JobGiveUp): void {
    this.handlers.set(kind, { run, giveUp });
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.idle;
  }

  /** Called after a commit that queued work, so this process starts it without waiting to poll. */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.schedule(0);
  }

  /** Run every due job now (tests and the CLI use this instead of a timer). */
  async drain(): Promise<void> {
    while ((await this.runBatch()) > 0) {
      /* keep going */
    }
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.tick(), ms);
    this.timer.unref?.();
  }

  private async tick(): Promise<void> {
    if (this.running || this.stopped) return;
    this.running = true;
    let done!: () => void;
    this.idle = new Promise((r) => (done = r));
    let count = 0;
    try {
      count = await this.runBatch();
    } catch (err) {
      this.deps.log.error({ err }, 'job worker could not claim jobs');
    } finally {
      this.running = false;
      done();
    }
    if (this.stopped) return;
    const more = count > 0 || this.again;
    this.again = false;
    this.schedule(more ? 0 : this.opts.pollMs);
  }

  private async runBatch(): Promise<number> {
    const now = this.deps.clock.now();
    const leaseMs = this.opts.leaseMs ?? 60_000;
    const jobs = await this.deps.jobs.claimJobs(this.workerId, now, now + leaseMs, this.opts.batch ?? 50);
    const maxAttempts = this.opts.maxAttempts ?? 5;
    for (const job of jobs) {
      const handler = this.handlers.get(job.kind);
      try {
        if (!handler) throw new Error(`no handler for job kind ${job.kind}`);
        // Claimed again after its worker died more often than it may be tried: it is not run again.
        if (job.attempts > maxAttempts) throw new Error(`gave up after ${maxAttempts} attempts`);
        await handler.run(job.payload, job);
        await this.deps.jobs.completeJob(job.id, this.deps.clock.now());
      } catch (err) {
        const message = err instanceof Error ? err.message : String(err);
        if (!handler || job.attempts >= maxAttempts) {
          await this.deps.jobs.failJob(job.id, this.deps.clock.now(), message);
          await handler?.giveUp?.(job.payload, message).catch((e: unknown) =>
            this.deps.log.error({ jobId: job.id, err: e instanceof Error ? e.message : String(e) }, 'job give-up hook failed'),
          );
        } else {
          await this.deps.jobs.retryJob(job.id, this.deps.clock.now(), this.deps.clock.now() + 2 ** job.attempts * 500, message);
        }
        this.deps.log.error({ jobId: job.id, kind: job.kind, err: message }, 'job failed');
      }
    }
    return jobs.length;
  }
}
