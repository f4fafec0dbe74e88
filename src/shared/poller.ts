// A background loop that runs one pass now and then another `intervalMs` after each pass ends,
// until stopped; the audit sealer and each audit sink follower run on one.

/**
 * Runs `pass` on a timer, one pass at a time in this process: a pass that a caller asks for
 * (`runOnce`) waits for the timer's pass in flight, and the timer's waits for the caller's, so the
 * two never hold a lease or a cursor at once. A failed pass is reported to `onError`, and the loop
 * goes on. The timer never keeps the process alive.
 */
export class Poller<T> {
  private timer?: NodeJS.Timeout;
  /** The timer's pass in flight: `stop` waits for it. */
  private busy?: Promise<unknown>;
  private stopped = true;
  private queue: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly pass: () => Promise<T>,
    private readonly opts: { intervalMs: number; onError: (err: unknown) => void },
  ) {}

  /** Run a pass at once, then one `intervalMs` after each pass ends. */
  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  /** No further pass starts; resolves once the timer's pass in flight, if any, has ended. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.busy?.catch(() => undefined);
  }

  /** One pass now, after any pass in flight; its result, or its error. */
  runOnce(): Promise<T> {
    return this.exclusive(this.pass);
  }

  /** Run `fn` (a pass with other options) in turn with the loop's passes, never alongside one. */
  exclusive<R>(fn: () => Promise<R>): Promise<R> {
    const run = this.queue.then(fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private schedule(ms: number): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.busy = this.runOnce()
        .catch((err: unknown) => this.opts.onError(err))
        .finally(() => {
          if (!this.stopped) this.schedule(this.opts.intervalMs);
        });
    }, ms);
    this.timer.unref?.();
  }
}
