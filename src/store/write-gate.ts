// SQLite's write lock, mirrored in shared memory between the threads of one process that write the
// same file: the request thread and the audit sealer's thread.
//
// A SQLite writer that finds the lock taken sleeps in the busy handler (1 ms, then 2, 5, 10…) and
// tries again. On the request thread that sleep stops the event loop: every request waits while
// the sealer chains a batch, and for up to a sleep step longer. Here a writer first takes the gate:
// if the other thread holds it, the request thread awaits its release without blocking
// (Atomics.waitAsync), and is woken the moment it is free. Other processes on the file still meet
// SQLite's lock and its busy handler; the gate only spares this process's threads from each other.
//
// Fairness: a thread that had to wait leaves its mark, and a thread that is not the one marked does
// not take the gate while the mark is there, so that a writer that leaves and comes straight back
// (the sealer, chunk after chunk) lets the waiting one in first.
//
// The gate is advice on top of SQLite's lock, never instead of it: a holder that does not let go
// within STALE_MS (a thread that died holding it) loses it, and the worst a wrong guess can cost is
// the busy handler's sleep.

import { threadId } from 'node:worker_threads';

const HOLDER = 0;
const WAITER = 1;
const FREE = 0;
/** How long one wait lasts before the cells are read again. */
const WAIT_MS = 10;
/** A holder or a mark older than this is taken to be gone. */
const STALE_MS = 2000;

/** Atomics.waitAsync (Node 16+; in TypeScript's lib from ES2024 on). */
type WaitAsync = (cells: Int32Array, index: number, value: number, timeoutMs: number) => { async: false; value: string } | { async: true; value: Promise<string> };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync.bind(Atomics);

export class WriteGate {
  private readonly cells: Int32Array;
  /** This thread's mark: never 0. */
  private readonly me: number;
  private readonly staleMs: number;

  constructor(
    readonly buffer: SharedArrayBuffer,
    opts: { mark?: number; staleMs?: number } = {},
  ) {
    this.cells = new Int32Array(buffer);
    this.me = opts.mark ?? threadId + 1;
    this.staleMs = opts.staleMs ?? STALE_MS;
  }

  static create(): WriteGate {
    return new WriteGate(new SharedArrayBuffer(2 * Int32Array.BYTES_PER_ELEMENT));
  }

  /** Resolves once this thread holds the gate. Never blocks the event loop. */
  async enter(): Promise<void> {
    // Atomics.waitAsync holds nothing open on the event loop: a thread whose only work left is a
    // write waiting here would exit, the write unmade. A timer keeps it alive while it waits.
    let keepAlive: NodeJS.Timeout | undefined;
    try {
      await this.take(() => (keepAlive ??= setInterval(() => undefined, 60_000)));
    } finally {
      if (keepAlive) clearInterval(keepAlive);
    }
  }

  private async take(waiting: () => void): Promise<void> {
    let started = performance.now();
    for (;;) {
      const waiter = Atomics.load(this.cells, WAITER);
      // Another thread is waiting for its turn: let it have it.
      const mayTake = waiter === FREE || waiter === this.me;
      const holder = mayTake ? Atomics.compareExchange(this.cells, HOLDER, FREE, this.me) : Atomics.load(this.cells, HOLDER);
      if (mayTake && holder === FREE) {
        if (waiter === this.me && Atomics.compareExchange(this.cells, WAITER, this.me, FREE) === this.me) Atomics.notify(this.cells, WAITER);
        return;
      }
      if (performance.now() - started > this.staleMs) {
        // Gone, or stuck: take the gate over, and let SQLite's lock decide.
        Atomics.compareExchange(this.cells, WAITER, waiter, FREE);
        Atomics.compareExchange(this.cells, HOLDER, holder, FREE);
        // A thread that takes it in between is a live one: wait for it as for any other.
        started = performance.now();
        continue;
      }
      if (mayTake) Atomics.compareExchange(this.cells, WAITER, FREE, this.me);
      // Woken by leave() or by the mark's clearing; a timed-out wait just reads the cells again.
      const cell = mayTake ? HOLDER : WAITER;
      const seen = mayTake ? holder : waiter;
      const wait = waitAsync(this.cells, cell, seen, WAIT_MS);
      if (wait.async) {
        waiting();
        await wait.value;
      }
    }
  }

  /** Let go of the gate, if this thread holds it, and wake whoever waits. */
  leave(): void {
    if (Atomics.compareExchange(this.cells, HOLDER, this.me, FREE) === this.me) Atomics.notify(this.cells, HOLDER);
  }
}

/** One gate per SQLite file in this process, shared with its worker threads (see sealer-thread.ts). */
const gates = new Map<string, WriteGate>();

/** The gate of a SQLite file: this process's, or the one handed to this thread by shareWriteGates. */
export function writeGateFor(file: string): WriteGate {
  let gate = gates.get(file);
  if (!gate) gates.set(file, (gate = WriteGate.create()));
  return gate;
}

/** The gates, to hand to a worker thread (a SharedArrayBuffer crosses by reference). */
export function writeGateBuffers(): Record<string, SharedArrayBuffer> {
  return Object.fromEntries([...gates].map(([file, gate]) => [file, gate.buffer]));
}

/** In a worker thread: use the gates of the thread that started it. */
export function shareWriteGates(buffers: Record<string, SharedArrayBuffer>): void {
  for (const [file, buffer] of Object.entries(buffers)) gates.set(file, new WriteGate(buffer));
}
