// Where a browser goes after signing in: the page it asked for on this origin, never another site.

import { describe, expect, it } from 'vitest';
import { safeReturnTo } from './signin.js';

describe('safeReturnTo', () => {
  it('takes a path on this origin as the URL parser reads it, plain paths included', () => {
    for (const [given, expected] of [
      ['/start', '/start'],
      ['/start/', '/start/'],
      ['/console/users/u-1_a~b', '/console/users/u-1_a~b'],
      ['/device?user_code=ABCD-EFGH', '/device?user_code=ABCD-EFGH'],
      ['/a/../b', '/b'],
      ['/a/./b#x', '/a/b#x'],
      ['/caf%C3%A9', '/caf%C3%A9'],
      ['/café', '/caf%C3%A9'],
      ['/a b', '/a%20b'],
    ]) {
      expect(safeReturnTo(given)).toBe(expected);
    }
  });

  it('refuses every other origin and anything that is not a path', () => {
    for (const evil of ['https://evil.example/', '//evil.example/x', '/.//evil.example/x', '/a/..//evil.example/x', '/%2e//evil.example', '/x/..//evil.example', '/./\\evil.example', '/\\evil.example', 'javascript:alert(1)', '/\t/evil.example', '/\n/evil.example', 'start', '', `/${'a'.repeat(2048)}`, 42, undefined]) {
      expect(safeReturnTo(evil)).toBe('/start');
    }
  });
});
