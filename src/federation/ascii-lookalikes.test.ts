import { describe, expect, it } from 'vitest';
import { ASCII_LOOKALIKES } from './federation-service.js';

describe('ASCII_LOOKALIKES', () => {
  it('names exactly the characters that the directory\'s matching (NFC, then lower case) turns into ASCII', () => {
    const found: number[] = [];
    for (let cp = 0x80; cp <= 0x10ffff; cp++) {
      if (cp >= 0xd800 && cp <= 0xdfff) continue;
      const c = String.fromCodePoint(cp);
      // eslint-disable-next-line no-control-regex
      if (/^[\x00-\x7f]+$/.test(c.normalize('NFC').toLowerCase())) found.push(cp);
    }
    // Node's Unicode tables decide the set: a new lookalike there fails this test until it is listed.
    expect(found.map((cp) => cp.toString(16))).toEqual(['37e', '1fef', '212a']);
    for (const cp of found) expect(ASCII_LOOKALIKES.test(`a${String.fromCodePoint(cp)}b`)).toBe(true);
    for (const plain of ['kate', 'KATE', 'jürgen', 'İlknur', 'Ångström', 'o\'brien@example.com']) expect(ASCII_LOOKALIKES.test(plain)).toBe(false);
  });
});
