import { describe, expect, it } from 'vitest';
import { takingTurns } from './taking-turns.js';

describe('takingTurns', () => {
  it('runs so many at once, queues the rest in arrival order, and refuses at once beyond the queue', async () => {
    const inTurn = takingTurns(2, { maxWaiting: 3, refuse: () => new Error('full') });
    const started: number[] = [];
    const release: (() => void)[] = [];
    const job = (n: number) => inTurn(() => new Promise<number>((resolve) => (started.push(n), release.push(() => resolve(n)))));
    const jobs = [0, 1, 2, 3, 4].map(job);
    // Two run, three wait: the sixth and seventh are refused without waiting for anyone.
    await expect(job(5)).rejects.toThrow('full');
    await expect(job(6)).rejects.toThrow('full');
    expect(started).toEqual([0, 1]);
    release.shift()!();
    await jobs[0];
    await Promise.resolve();
    expect(started).toEqual([0, 1, 2]);
    // A place in the queue is free again.
    const late = job(7);
    while (release.length) {
      release.shift()!();
      await new Promise((r) => setTimeout(r, 0));
    }
    expect(await Promise.all([...jobs, late])).toEqual([0, 1, 2, 3, 4, 7]);
    expect(started).toEqual([0, 1, 2, 3, 4, 7]);
  });
});
