import { pbkdf2 } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { hashThreads } from './hash-threads.js';
import { hashPassword, verifyPassword } from './password-hash.js';

// A thread that answers with its own id, when it started and when it ended, after
// `job.password` milliseconds; it dies on "die", and soon after answering "die-idle".
const TEST_SOURCE = `
const { parentPort, threadId } = require('node:worker_threads');
parentPort.on('message', (job) => {
  if (job.password === 'die') process.exit(3);
  if (job.password === 'die-idle') setTimeout(() => process.exit(4), 20);
  const start = performance.timeOrigin + performance.now();
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, Number(job.password) || 0);
  parentPort.postMessage({ ok: true, value: { threadId, start, end: performance.timeOrigin + performance.now() } });
});`;
const job = (ms: number | 'die' | 'die-idle') => ({ op: 'verify' as const, hashed: '', password: String(ms) });

describe('hash threads', () => {
  it('a sign-in hash does not wait for libuv’s pool: it finishes while every pool thread is busy', async () => {
    const stored = await hashPassword('Right#Password-3');
    const finished: string[] = [];
    // Each pbkdf2 holds a pool thread for hundreds of milliseconds; a verify takes about ten.
    const poolJobs = Array.from({ length: Number(process.env.UV_THREADPOOL_SIZE) || 4 }, () =>
      new Promise<void>((resolve, reject) => pbkdf2('x', 'salt', 400_000, 32, 'sha512', (error) => (error ? reject(error) : (finished.push('pool'), resolve())))),
    );
    const verified = verifyPassword(stored, 'Right#Password-3').then((ok) => (finished.push('verify'), ok));
    await Promise.all([...poolJobs, verified]);
    expect(await verified).toBe(true);
    expect(finished[0]).toBe('verify');
  });

  it('runs at most `size` jobs at once, on the same threads, and the rest in arrival order', async () => {
    const run = hashThreads(2, TEST_SOURCE);
    const ran = (await Promise.all([80, 160, 10, 10, 10].map((ms) => run(job(ms))))) as { threadId: number; start: number; end: number }[];
    // Two threads only, each used again.
    expect(new Set(ran.map((r) => r.threadId)).size).toBe(2);
    // Never more than two at once: each job's start finds at most one other running.
    for (const r of ran) expect(ran.filter((o) => o !== r && o.start < r.start + 1 && o.end > r.start + 1).length).toBeLessThanOrEqual(1);
    // The three that waited started in the order they came.
    expect(ran[2]!.start).toBeLessThan(ran[3]!.start);
    expect(ran[3]!.start).toBeLessThan(ran[4]!.start);
  });

  it('a thread that dies fails its own job only, and a new thread takes the next', async () => {
    const run = hashThreads(1, TEST_SOURCE);
    const before = await run(job(1));
    const dying = run(job('die'));
    const queued = run(job(1));
    await expect(dying).rejects.toThrow(/exited/);
    // The job queued behind the dead one runs on a new thread, and so do later ones.
    const after = (await queued) as { threadId: number };
    expect(after.threadId).not.toBe((before as { threadId: number }).threadId);
    expect(((await run(job(1))) as { threadId: number }).threadId).toBe(after.threadId);
  });

  it('a thread that dies while idle is not given the next job: a new thread takes it', async () => {
    const run = hashThreads(1, TEST_SOURCE);
    const first = (await run(job('die-idle'))) as { threadId: number };
    await new Promise((resolve) => setTimeout(resolve, 200));
    const next = (await run(job(1))) as { threadId: number };
    expect(next.threadId).not.toBe(first.threadId);
  });
});

describe('hash threads whose job throws', () => {
  // An uncaught exception in a thread (a crash, ERR_WORKER_OUT_OF_MEMORY) is reported as 'error',
  // and the thread's 'exit' follows later, in a separate turn of the event loop.
  const THROWING_SOURCE = `
const { parentPort, threadId } = require('node:worker_threads');
parentPort.on('message', (job) => {
  if (job.password === 'throw') throw new Error('crashed');
  parentPort.postMessage({ ok: true, value: { threadId } });
});`;

  it('a thread that dies with an error fails its own job only: the job queued behind it runs on a new thread', async () => {
    const run = hashThreads(1, THROWING_SOURCE);
    const dying = run({ op: 'verify', hashed: '', password: 'throw' });
    const queued = run({ op: 'verify', hashed: '', password: 'fine' });
    await expect(dying).rejects.toThrow(/crashed/);
    await expect(queued).resolves.toHaveProperty('threadId');
  });

  it('a thread that died with an error while idle is not handed the next job', async () => {
    const run = hashThreads(1, THROWING_SOURCE);
    await expect(run({ op: 'verify', hashed: '', password: 'throw' })).rejects.toThrow(/crashed/);
    await expect(run({ op: 'verify', hashed: '', password: 'fine' })).resolves.toHaveProperty('threadId');
  });
});
