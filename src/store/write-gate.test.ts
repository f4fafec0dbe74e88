// The in-process write gate: a writer waits for the other thread's release without blocking its
// event loop, a thread that waited goes before the holder's next turn, and a holder that never lets
// go loses the gate. Two gates on one buffer with different marks stand for two threads.

import { describe, expect, it } from 'vitest';
import { WriteGate } from './write-gate.js';

const pair = (staleMs?: number) => {
  const a = WriteGate.create();
  return [new WriteGate(a.buffer, { mark: 1, staleMs }), new WriteGate(a.buffer, { mark: 2, staleMs })] as const;
};

describe('WriteGate', () => {
  it('lets a writer in once the holder lets go, and keeps the event loop running while it waits', async () => {
    const [sealer, requests] = pair();
    await sealer.enter();
    let entered = false;
    const waiting = requests.enter().then(() => (entered = true));
    let ticks = 0;
    const ticker = setInterval(() => ticks++, 1);
    await new Promise((r) => setTimeout(r, 40));
    expect(entered).toBe(false);
    expect(ticks).toBeGreaterThan(5);
    sealer.leave();
    await waiting;
    clearInterval(ticker);
    requests.leave();
  });

  it('lets the thread that waited in before the holder comes back', async () => {
    const [sealer, requests] = pair();
    const order: string[] = [];
    await sealer.enter();
    const waiting = requests.enter().then(() => order.push('requests'));
    await new Promise((r) => setTimeout(r, 5));
    sealer.leave();
    // The sealer is straight back for its next chunk.
    const again = sealer.enter().then(() => order.push('sealer'));
    await waiting;
    await new Promise((r) => setTimeout(r, 20));
    expect(order).toEqual(['requests']);
    requests.leave();
    await again;
    expect(order).toEqual(['requests', 'sealer']);
    sealer.leave();
  });

  it('takes the gate from a holder that never lets go (a thread that died holding it)', async () => {
    const [gone, requests] = pair(100);
    await gone.enter();
    const t0 = performance.now();
    await requests.enter();
    expect(performance.now() - t0).toBeGreaterThanOrEqual(100);
    // The one that lost it cannot release the new holder's turn.
    gone.leave();
    let second = false;
    const other = new WriteGate(requests.buffer, { mark: 3, staleMs: 10_000 });
    const p = other.enter().then(() => (second = true));
    await new Promise((r) => setTimeout(r, 30));
    expect(second).toBe(false);
    requests.leave();
    await p;
    other.leave();
  });
});
