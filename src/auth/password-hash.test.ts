import { describe, expect, it } from 'vitest';
import { HASHES_AT_ONCE, hashPassword, matchesAny, verifyPassword } from './password-hash.js';

describe('password hashing, a few at once', () => {
  it('answers every one of many verifications at once rightly, in turns of HASHES_AT_ONCE', async () => {
    const stored = await hashPassword('Right#Password-1');
    const n = 3 * HASHES_AT_ONCE + 1;
    const answers = await Promise.all(Array.from({ length: n }, (_, i) => verifyPassword(stored, i % 2 === 0 ? 'Right#Password-1' : 'Wrong#Password-1')));
    expect(answers).toEqual(Array.from({ length: n }, (_, i) => i % 2 === 0));
  });

  it('a malformed stored hash matches nothing and gives its turn back, so later sign-ins still finish', async () => {
    const malformed = Array.from({ length: 2 * HASHES_AT_ONCE + 1 }, () => verifyPassword('not-a-hash', 'x'));
    expect(await Promise.all(malformed)).not.toContain(true);
    const stored = await hashPassword('Right#Password-2');
    expect(await matchesAny(['also-not-a-hash', stored], 'Right#Password-2')).toBe(true);
    expect(await matchesAny(['also-not-a-hash', stored], 'Wrong#Password-2')).toBe(false);
  });
});
