// The in-process write gate: a writer waits for the other thread's release without blocking its
// event loop, a thread that waited goes before the holder's next turn, and a holder that never lets
// go loses the gate. Two gates on one buffer with different marks stand for two threads.

import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
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

  it('keeps a thread alive while its only work is a write waiting at the gate (the built code, in a worker thread)', async () => {
    const held = WriteGate.create();
    await held.enter();
    // The worker's event loop has nothing else to do: before, it exited in the middle of the wait.
    const worker = new Worker(
      `const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.module).then(async ({ WriteGate }) => {
        const gate = new WriteGate(workerData.buffer);
        await gate.enter();
        parentPort.postMessage('entered');
        gate.leave();
      });`,
      { eval: true, workerData: { module: pathToFileURL(path.resolve(import.meta.dirname, '../../dist/store/write-gate.js')).href, buffer: held.buffer } },
    );
    const outcome = new Promise<string>((resolve) => {
      worker.once('message', (m: string) => resolve(m));
      worker.once('exit', (code) => resolve(`exited with ${code}`));
      worker.once('error', (err) => resolve(`failed: ${String(err)}`));
    });
    await new Promise((r) => setTimeout(r, 100));
    held.leave();
    expect(await outcome).toBe('entered');
    await worker.terminate();
  });
});
