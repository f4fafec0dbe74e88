// The follower's failure state, against an in-memory store and a hand-driven clock: the alert
// webhook's failures (the work after the batches) back off while new events keep the cursor moving,
// and a delivery that works after them clears the failure even with no new event.

import { describe, expect, it } from 'vitest';
import { alertEvaluator } from '../alerts/alert-evaluator.js';
import type { AuditEvent } from '../audit-event.js';
import { ChainFollower, type ChainConsumer } from './chain-follower.js';
import type { AuditSinkStore, SealedEvent, SinkCursor } from './sink-store.js';

class MemoryStore implements AuditSinkStore {
  row: SinkCursor & { lastError: string | null; lockedBy: string | null; lockedUntil: number } = { position: 0, failures: 0, retryAt: 0, lastError: null, lockedBy: null, lockedUntil: 0 };
  events: SealedEvent[] = [];
  ensured = false;
  ensureCursor(_: string, _now: number, position: number): Promise<void> {
    if (!this.ensured) this.row.position = position;
    this.ensured = true;
    return Promise.resolve();
  }
  takeLease(_: string, owner: string, now: number, until: number): Promise<SinkCursor | undefined> {
    const r = this.row;
    if (r.lockedBy !== null && r.lockedBy !== owner && r.lockedUntil >= now) return Promise.resolve(undefined);
    Object.assign(r, { lockedBy: owner, lockedUntil: until });
    return Promise.resolve({ position: r.position, failures: r.failures, retryAt: r.retryAt });
  }
  releaseLease(): Promise<void> {
    this.row.lockedBy = null;
    return Promise.resolve();
  }
  advance(_: string, owner: string, now: number, position: number): Promise<boolean> {
    if (this.row.lockedBy !== owner || this.row.lockedUntil < now) return Promise.resolve(false);
    Object.assign(this.row, { position: Math.max(this.row.position, position), failures: 0, retryAt: 0, lastError: null });
    return Promise.resolve(true);
  }
  recordFailure(_: string, owner: string, _now: number, failures: number, retryAt: number, error: string): Promise<void> {
    if (this.row.lockedBy === owner) Object.assign(this.row, { failures, retryAt, lastError: error });
    return Promise.resolve();
  }
  sealedAfter(position: number, limit: number): Promise<SealedEvent[]> {
    return Promise.resolve(this.events.filter((e) => e.position > position).slice(0, limit));
  }
  cursor(): Promise<(SinkCursor & { lastError: string | null }) | undefined> {
    const { position, failures, retryAt, lastError } = this.row;
    return Promise.resolve({ position, failures, retryAt, lastError });
  }
  headPosition(): Promise<number> {
    return Promise.resolve(this.events.length);
  }
  unsealedCount(): Promise<number> {
    return Promise.resolve(0);
  }
  seal(): void {
    this.events.push({ position: this.events.length + 1, event: {} as AuditEvent });
  }
}

function setUp() {
  const store = new MemoryStore();
  let now = 1_000_000;
  const hook = { down: true, posts: 0 };
  const consumer: ChainConsumer = {
    name: 'alerts',
    consume: () => Promise.resolve(),
    afterwards: () => {
      hook.posts++;
      return hook.down ? Promise.reject(new Error('webhook answered HTTP 500')) : Promise.resolve();
    },
  };
  const log = { warn: () => undefined, error: () => undefined };
  const follower = new ChainFollower(
    { tx: { transaction: (fn) => fn({ auditSinks: store }), afterCommit: (fn) => fn() }, read: { auditSinks: store }, clock: { now: () => now }, ids: { uuid: () => 'f0000000-0000-0000-0000-000000000000' } as never, log },
    consumer,
    { pollMs: 1000, batchSize: 100, leaseMs: 30_000, retryBaseMs: 200, retryMaxMs: 2000 },
  );
  return { store, hook, follower, at: (t: number) => (now = t), now: () => now };
}

describe('a chain follower with work after its batches (the alert webhook)', () => {
  it('backs off while that work fails, though new events keep moving the cursor', async () => {
    const { store, follower, at, now } = setUp();
    const waits: number[] = [];
    for (let i = 0; i < 6; i++) {
      store.seal();
      at(Math.max(now(), store.row.retryAt) + 1);
      await follower.runOnce();
      waits.push(store.row.retryAt - now());
    }
    expect(store.row.position).toBe(6);
    expect(store.row.failures).toBe(6);
    // 200, 400, 800, 1600, then the 2000 cap (each less up to 20% jitter).
    expect(waits.map((w) => Math.ceil(w / 400) * 400)).toEqual([400, 400, 800, 1600, 2000, 2000]);
    expect(waits[4]).toBeGreaterThan(1500);
  });

  it('clears the failure once that work succeeds, with no new event', async () => {
    const { store, hook, follower, at } = setUp();
    store.seal();
    await follower.runOnce();
    expect(store.row).toMatchObject({ position: 1, failures: 1, lastError: 'webhook answered HTTP 500' });
    hook.down = false;
    at(store.row.retryAt + 1);
    await follower.runOnce();
    expect(hook.posts).toBe(2);
    expect(store.row).toMatchObject({ position: 1, failures: 0, retryAt: 0, lastError: null });
  });
});

describe('a new cursor', () => {
  const follow = (startAtHead: boolean) => {
    const store = new MemoryStore();
    const seen: number[] = [];
    const consumer: ChainConsumer = { name: 'c', startAtHead, consume: (batch) => Promise.resolve(void seen.push(...batch.map((b) => b.position))) };
    const follower = new ChainFollower(
      { tx: { transaction: (fn) => fn({ auditSinks: store }), afterCommit: (fn) => fn() }, read: { auditSinks: store }, clock: { now: () => 1 }, ids: { uuid: () => 'f0000000-0000-0000-0000-000000000000' } as never, log: { warn: () => undefined, error: () => undefined } },
      consumer,
      { pollMs: 1000, batchSize: 100, leaseMs: 30_000, retryBaseMs: 200, retryMaxMs: 2000 },
    );
    return { store, seen, follower };
  };

  it("starts at the chain head for the alert rules (startAtHead), so the history before them fires nothing, and at the start for a sink", async () => {
    for (const startAtHead of [true, false]) {
      const { store, seen, follower } = follow(startAtHead);
      for (let i = 0; i < 3; i++) store.seal();
      await follower.runOnce();
      store.seal();
      await follower.runOnce();
      expect(seen).toEqual(startAtHead ? [4] : [1, 2, 3, 4]);
    }
    const alerts = alertEvaluator({ tx: undefined as never, read: undefined as never, clock: { now: () => 1 }, rules: [], webhook: { url: 'http://127.0.0.1:9/', headers: {}, timeoutMs: 1000 } });
    expect(alerts.startAtHead).toBe(true);
  });
});
