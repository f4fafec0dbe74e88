// The pooled randomness behind every id, key and secret: each byte is handed out once, and a caller
// holds its own copy, never a window onto bytes another caller will get.

import { describe, expect, it } from 'vitest';
import { cryptoIds, newAccessKeyId, newSecretAccessKey } from './ids.js';

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
