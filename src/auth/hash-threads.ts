// argon2id on threads of its own: one per core, each taking one hash at a time.
//
// Not libuv's pool. There a hash lands on whichever of the pool's threads wakes first, so
// consecutive hashes hop between threads and cores and each starts cold; on 2 cores that costs
// about a sixth of the hash rate (bench/README.md, session 18). A hash thread here keeps its core
// and its caches, and the pool stays free for the file system and the WAL's syncs.

import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

// Plain CommonJS, evaluated: the same file whether the caller runs from dist/ or from the sources.
const THREAD_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const argon2 = require(workerData.argon2);
parentPort.on('message', (job) => {
  try {
    parentPort.postMessage({ ok: true, value: job.op === 'verify' ? argon2.verifySync(job.hashed, job.password) : argon2.hashSync(job.password, job.options) });
  } catch (error) {
    parentPort.postMessage({ ok: false, message: String((error && error.message) || error) });
  }
});
`;

const ARGON2_PATH = createRequire(import.meta.url).resolve('@node-rs/argon2');

export type HashJob = { op: 'verify'; hashed: string; password: string } | { op: 'hash'; password: string; options: object };

type Reply = { ok: true; value: unknown } | { ok: false; message: string };

/** One thread and the job it is running, if any. */
class HashThread {
  private readonly worker: Worker;
  private current: { resolve: (value: unknown) => void; reject: (error: Error) => void } | undefined;
  dead = false;

  constructor(source: string) {
    this.worker = new Worker(source, { eval: true, workerData: { argon2: ARGON2_PATH } });
    // An idle thread never keeps the process alive; a running job does (see run).
    this.worker.unref();
    this.worker.on('message', (reply: Reply) => this.settle(reply.ok ? undefined : new Error(reply.message), reply.ok ? reply.value : undefined));
    // An 'error' ends the thread ('exit' follows in a later turn): it must not be handed another
    // job meanwhile, which would fail with it.
    this.worker.on('error', (error) => {
      this.dead = true;
      void this.worker.terminate();
      this.settle(error);
    });
    this.worker.on('exit', (code) => {
      this.dead = true;
      this.settle(new Error(`hash thread exited (${code})`));
    });
  }

  run(job: HashJob): Promise<unknown> {
    if (this.dead) return Promise.reject(new Error('hash thread exited'));
    return new Promise((resolve, reject) => {
      this.current = { resolve, reject };
      this.worker.ref();
      this.worker.postMessage(job);
    });
  }

  private settle(error: Error | undefined, value?: unknown): void {
    const current = this.current;
    if (!current) return;
    this.current = undefined;
    this.worker.unref();
    if (error) current.reject(error);
    else current.resolve(value);
  }
}

/**
 * Up to `size` hash threads, started as they are first needed. A job runs on an idle thread (the
 * one that finished last, whose caches are warmest), else waits, in arrival order, for the next
 * to finish. A thread that dies fails its job and is replaced. `source` is the threads' code (tests
 * give their own, to see which thread ran a job, or to make one die).
 */
export function hashThreads(size: number, source = THREAD_SOURCE): (job: HashJob) => Promise<unknown> {
  const idle: HashThread[] = [];
  const waiting: ((thread: HashThread | undefined) => void)[] = [];
  let started = 0;
  /** An idle thread, a new one while fewer than `size` run, or the next to finish. */
  const take = async (): Promise<HashThread> => {
    for (;;) {
      const thread = idle.pop();
      if (thread && !thread.dead) return thread;
      if (thread) {
        // It died while idle: its place is free.
        started -= 1;
        continue;
      }
      if (started < size) {
        started += 1;
        try {
          return new HashThread(source);
        } catch (error) {
          started -= 1;
          throw error;
        }
      }
      // Handed a thread, or undefined when one died: then its place is free, and the loop takes it.
      const handed = await new Promise<HashThread | undefined>((resolve) => waiting.push(resolve));
      if (handed) return handed;
    }
  };
  const release = (thread: HashThread): void => {
    if (thread.dead) started -= 1;
    const next = waiting.shift();
    if (next) next(thread.dead ? undefined : thread);
    else if (!thread.dead) idle.push(thread);
  };
  return async (job) => {
    const thread = await take();
    try {
      return await thread.run(job);
    } finally {
      release(thread);
    }
  };
}
