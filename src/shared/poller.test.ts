// The polling loop under the audit sealer and sink followers: a pass at once, the next one an
// interval after it ends, never two at once, failures reported without ending the loop, and stop
// waiting for the pass in flight.

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { Poller } from './poller.js';

/** A pass whose end the test decides; records when each one starts and how many run at once. */
function controlledPass() {
  const starts: number[] = [];
  const pending: { resolve: (n: number) => void; reject: (e: Error) => void }[] = [];
  let running = 0;
  let maxRunning = 0;
  const pass = () => {
    starts.push(Date.now());
    running++;
    maxRunning = Math.max(maxRunning, running);
    return new Promise<number>((resolve, reject) => pending.push({ resolve, reject })).finally(() => running--);
  };
  return { pass, starts, pending, maxRunning: () => maxRunning };
}

describe('Poller', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 0 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it('runs a pass at once, then the next one an interval after each pass ends, however long it took', async () => {
    const p = controlledPass();
    const poller = new Poller(p.pass, { intervalMs: 100, onError: () => undefined });
    poller.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(p.starts).toEqual([0]);
    // A slow pass: nothing else starts while it runs.
    await vi.advanceTimersByTimeAsync(250);
    expect(p.starts).toEqual([0]);
    p.pending.shift()!.resolve(1);
    await vi.advanceTimersByTimeAsync(99);
    expect(p.starts).toEqual([0]);
    await vi.advanceTimersByTimeAsync(1);
    expect(p.starts).toEqual([0, 350]);
    p.pending.shift()!.resolve(0);
    await poller.stop();
  });

  it('runs a pass a caller asks for after the one in flight, never alongside it, and returns its result', async () => {
    const p = controlledPass();
    const poller = new Poller(p.pass, { intervalMs: 100, onError: () => undefined });
    poller.start();
    await vi.advanceTimersByTimeAsync(0);
    const asked = poller.runOnce();
    const other = poller.exclusive(() => Promise.resolve('other'));
    await vi.advanceTimersByTimeAsync(10);
    expect(p.starts).toHaveLength(1);
    p.pending.shift()!.resolve(1);
    await vi.advanceTimersByTimeAsync(0);
    expect(p.starts).toHaveLength(2);
    p.pending.shift()!.resolve(7);
    await expect(asked).resolves.toBe(7);
    await expect(other).resolves.toBe('other');
    expect(p.maxRunning()).toBe(1);
    await poller.stop();
  });

  it('reports a failed pass and keeps going; a caller gets the error itself', async () => {
    const errors: unknown[] = [];
    const p = controlledPass();
    const poller = new Poller(p.pass, { intervalMs: 100, onError: (err) => errors.push(err) });
    poller.start();
    await vi.advanceTimersByTimeAsync(0);
    p.pending.shift()!.reject(new Error('database down'));
    await vi.advanceTimersByTimeAsync(100);
    expect(errors).toEqual([new Error('database down')]);
    expect(p.starts).toEqual([0, 100]);
    p.pending.shift()!.resolve(0);
    await vi.advanceTimersByTimeAsync(0);
    const asked = poller.runOnce();
    await vi.advanceTimersByTimeAsync(0);
    p.pending.shift()!.reject(new Error('still down'));
    await expect(asked).rejects.toThrow('still down');
    // The caller's failure is the caller's: not reported twice.
    expect(errors).toHaveLength(1);
    await poller.stop();
  });

  it('stop waits for the pass in flight, and no pass starts after it', async () => {
    const p = controlledPass();
    const poller = new Poller(p.pass, { intervalMs: 100, onError: () => undefined });
    poller.start();
    await vi.advanceTimersByTimeAsync(0);
    let stopped = false;
    const stopping = poller.stop().then(() => (stopped = true));
    await vi.advanceTimersByTimeAsync(50);
    expect(stopped).toBe(false);
    p.pending.shift()!.resolve(1);
    await stopping;
    await vi.advanceTimersByTimeAsync(1000);
    expect(p.starts).toEqual([0]);
    // Started again, it runs at once.
    poller.start();
    await vi.advanceTimersByTimeAsync(0);
    expect(p.starts).toEqual([0, 1050]);
    p.pending.shift()!.resolve(0);
    await poller.stop();
  });
});
