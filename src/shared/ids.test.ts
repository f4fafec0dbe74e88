// The pooled randomness behind every id, key and secret: each byte is handed out once, and a caller
// holds its own copy, never a window onto bytes another caller will get.

import { describe, expect, it } from 'vitest';
import { cryptoIds, newAccessKeyId, newPrincipalId, newSecretAccessKey, timeOrderedUuid } from './ids.js';

describe('cryptoIds.bytes', () => {
  it('never hands out the same bytes twice, across many refills of the pool', () => {
    const seen = new Set<string>();
    // 20,000 draws of 16 bytes span about 80 refills of a 4 KiB pool.
    for (let i = 0; i < 20_000; i++) seen.add(cryptoIds.bytes(16).toString('hex'));
    expect(seen.size).toBe(20_000);
  });

  it('gives each caller its own buffer of the size asked for', () => {
    const a = cryptoIds.bytes(32);
    const copy = Buffer.from(a);
    const b = cryptoIds.bytes(32);
    a.fill(0);
    expect(b.equals(Buffer.alloc(32))).toBe(false);
    expect(cryptoIds.bytes(32).equals(copy)).toBe(false);
    for (const n of [0, 1, 255, 256, 257, 5000]) expect(cryptoIds.bytes(n)).toHaveLength(n);
  });

  it('keeps key ids and secrets unbiased and well-formed', () => {
    const ids = Array.from({ length: 2000 }, () => newAccessKeyId(cryptoIds, 'ASIA'));
    expect(ids.every((id) => /^ASIA[A-Z2-7]{16}$/.test(id))).toBe(true);
    expect(new Set(ids).size).toBe(ids.length);
    // All 32 base32 characters turn up: no byte is stuck.
    const chars = new Set(ids.join('').slice(4));
    expect(chars.size).toBe(32);
    expect(newSecretAccessKey(cryptoIds)).toMatch(/^[A-Za-z0-9]{40}$/);
  });
});

describe('time-ordered ids (user, group and membership ids; audit event ids)', () => {
  const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

  it('are RFC 9562 version-7 UUIDs whose first 48 bits are the time, in AWS principal id shape', () => {
    const at = Date.UTC(2026, 10, 21, 17, 0, 0);
    const id = timeOrderedUuid(cryptoIds, at);
    expect(id).toMatch(UUID_V7);
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
    expect(newPrincipalId(cryptoIds, 'd-9067b8c0f1', at)).toMatch(/^9067b8c0f1-[0-9a-f]{8}-[0-9a-f]{4}-7/);
  });

  it('sort in the order of their times, and stay unique within one millisecond', () => {
    const times = Array.from({ length: 1000 }, (_, i) => 1_700_000_000_000 + i * 7);
    const ids = times.map((t) => timeOrderedUuid(cryptoIds, t));
    expect([...ids].sort()).toEqual(ids);
    const sameMs = Array.from({ length: 10_000 }, () => timeOrderedUuid(cryptoIds, 1_700_000_000_000));
    expect(new Set(sameMs).size).toBe(sameMs.length);
  });
});
