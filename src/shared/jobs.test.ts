// The job worker: retries with back-off, gives up after the last attempt and says so once.

import { describe, expect, it } from 'vitest';
import { fixedClock } from './clock.js';
import { cryptoIds } from './ids.js';
import { JobWorker, type JobRecord, type JobStore } from './jobs.js';

function memoryJobs(): JobStore & { rows: Map<string, JobRecord & { status: string; runAfter: number }> } {
  const rows = new Map<string, JobRecord & { status: string; runAfter: number }>();
  return {
    rows,
    enqueueJob: (j) => Promise.resolve(void rows.set(j.id, { id: j.id, kind: j.kind, payload: j.payload, attempts: 0, status: 'queued', runAfter: j.runAfter })),
    claimJobs: (_w, now, _lease, limit) => {
      const due = [...rows.values()].filter((r) => r.status === 'queued' && r.runAfter <= now).slice(0, limit);
      for (const r of due) Object.assign(r, { status: 'running', attempts: r.attempts + 1 });
      return Promise.resolve(due.map((r) => ({ ...r })));
    },
    completeJob: (id) => Promise.resolve(void (rows.get(id)!.status = 'done')),
    retryJob: (id, _now, runAfter) => Promise.resolve(void Object.assign(rows.get(id)!, { status: 'queued', runAfter })),
    failJob: (id) => Promise.resolve(void (rows.get(id)!.status = 'failed')),
  };
}

describe('JobWorker', () => {
  it('runs a job, retries a failing one with back-off, and gives up once after the last attempt', async () => {
    const clock = fixedClock(1_000_000);
    const jobs = memoryJobs();
    const worker = new JobWorker({ jobs, clock, ids: cryptoIds, log: { error: () => undefined } }, { pollMs: 1000, maxAttempts: 3 });
    const ran: unknown[] = [];
    const gaveUp: string[] = [];
    worker.register('ok', (p) => Promise.resolve(void ran.push(p)));
    worker.register('broken', () => Promise.reject(new Error('boom')), (_p, error) => Promise.resolve(void gaveUp.push(error)));
    await jobs.enqueueJob({ id: 'a', kind: 'ok', payload: { n: 1 }, runAfter: 0, now: 0 });
    await jobs.enqueueJob({ id: 'b', kind: 'broken', payload: {}, runAfter: 0, now: 0 });

    await worker.drain();
    expect(ran).toEqual([{ n: 1 }]);
    expect(jobs.rows.get('b')).toMatchObject({ status: 'queued', attempts: 1 });
    // Not due again until its back-off has passed.
    await worker.drain();
    expect(jobs.rows.get('b')!.attempts).toBe(1);
    for (let i = 0; i < 2; i++) {
      clock.advance(60_000);
      await worker.drain();
    }
    expect(jobs.rows.get('b')!.status).toBe('failed');
    expect(gaveUp).toEqual(['boom']);
  });

  it('does not run again a job whose worker died more times than it may be tried, and gives up on it', async () => {
    const clock = fixedClock(1_000_000);
    const jobs = memoryJobs();
    const worker = new JobWorker({ jobs, clock, ids: cryptoIds, log: { error: () => undefined } }, { pollMs: 1000, maxAttempts: 3 });
    const ran: unknown[] = [];
    const gaveUp: string[] = [];
    worker.register('fatal', (p) => Promise.resolve(void ran.push(p)), (_p, error) => Promise.resolve(void gaveUp.push(error)));
    // As if three workers had claimed it and died: its lease expired and it is due again.
    await jobs.enqueueJob({ id: 'c', kind: 'fatal', payload: {}, runAfter: 0, now: 0 });
    jobs.rows.get('c')!.attempts = 3;
    await worker.drain();
    expect(ran).toEqual([]);
    expect(jobs.rows.get('c')!.status).toBe('failed');
    expect(gaveUp).toEqual(['gave up after 3 attempts']);
  });
});
