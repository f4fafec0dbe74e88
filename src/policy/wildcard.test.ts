// The wildcard matcher against a plain reference (dynamic programming over the pattern and the
// value), on random patterns with long `?` segments, policy variables and case folding; and its
// work on adversarial patterns, held to one pass over the value by the decision's budget.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { compilePattern, MatchBudgetExceeded, withMatchBudget } from './wildcard.js';

/** A pattern as tokens: literal text, `?`, `*`, a variable (with or without a default), or an escape (`${*}` …). */
type Token = { t: 'lit'; c: string } | { t: 'any' } | { t: 'star' } | { t: 'var'; key: string; fallback?: string } | { t: 'esc'; c: '*' | '?' | '$' };

const render = (tokens: readonly Token[]) =>
  tokens
    .map((k) => {
      if (k.t === 'lit') return k.c;
      if (k.t === 'any') return '?';
      if (k.t === 'star') return '*';
      if (k.t === 'esc') return `\${${k.c}}`;
      return k.fallback === undefined ? `\${${k.key}}` : `\${${k.key}, '${k.fallback}'}`;
    })
    .join('');

/**
 * The reference: variables replaced by their values (literal characters), then the textbook
 * dynamic program. Undefined value and no default: nothing matches, as on AWS.
 */
function reference(tokens: readonly Token[], value: string, vars: Readonly<Record<string, string | undefined>>, foldCase: boolean): boolean {
  const fold = (s: string) => (foldCase ? s.toLowerCase() : s);
  const p: ({ lit: string } | '?' | '*')[] = [];
  for (const k of tokens) {
    if (k.t === 'any') p.push('?');
    else if (k.t === 'star') p.push('*');
    else if (k.t === 'lit' || k.t === 'esc') p.push({ lit: fold(k.c) });
    else {
      const v = vars[k.key] ?? k.fallback;
      if (v === undefined) return false;
      for (const c of v) p.push({ lit: fold(c) });
    }
  }
  const s = fold(value);
  // dp[j]: the pattern so far matches s[0..j).
  let dp = new Array<boolean>(s.length + 1).fill(false);
  dp[0] = true;
  for (const tok of p) {
    const next = new Array<boolean>(s.length + 1).fill(false);
    for (let j = 0; j <= s.length; j++) {
      if (tok === '*') next[j] = dp[j]! || (j > 0 && next[j - 1]!);
      else if (j > 0 && dp[j - 1]) next[j] = tok === '?' || tok.lit === s[j - 1];
    }
    dp = next;
  }
  return dp[s.length]!;
}

const letters = fc.constantFrom('a', 'b', 'A', 'é');
const token: fc.Arbitrary<Token> = fc.oneof(
  { weight: 12, arbitrary: letters.map((c) => ({ t: 'lit' as const, c })) },
  { weight: 8, arbitrary: fc.constant({ t: 'any' as const }) },
  { weight: 2, arbitrary: fc.constant({ t: 'star' as const }) },
  { weight: 1, arbitrary: fc.constantFrom('aws:username', 'aws:principaltag/team').map((key) => ({ t: 'var' as const, key })) },
  { weight: 1, arbitrary: fc.constantFrom('a', 'bA').map((fallback) => ({ t: 'var' as const, key: 'aws:sourceidentity', fallback })) },
  { weight: 1, arbitrary: fc.constantFrom('*', '?', '$').map((c) => ({ t: 'esc' as const, c })) },
);
/** Runs of one token make segments longer than a 32-bit word, which the scan spreads over several. */
const pattern: fc.Arbitrary<Token[]> = fc
  .array(fc.tuple(token, fc.integer({ min: 1, max: 40 })), { maxLength: 8 })
  .map((runs) => runs.flatMap(([k, n]): Token[] => (k.t === 'star' ? [k] : Array.from({ length: n }, () => k))));
const vars = fc.record({ 'aws:username': fc.stringMatching(/^[abA*?$]{0,6}$/), 'aws:principaltag/team': fc.stringMatching(/^[ab]{0,40}$/) }, { requiredKeys: [] });

/** A value the pattern matches (its stars and `?` filled in), then perhaps one character changed: near misses. */
function instance(tokens: readonly Token[], v: Readonly<Record<string, string | undefined>>, fill: string, flip: number): string {
  let out = '';
  tokens.forEach((k, i) => {
    if (k.t === 'lit' || k.t === 'esc') out += k.c;
    else if (k.t === 'any') out += fill[i % fill.length] ?? 'b';
    else if (k.t === 'star') out += fill.slice(0, i % (fill.length + 1));
    else out += v[k.key] ?? k.fallback ?? '';
  });
  if (flip >= 0 && out.length > 0) {
    const at = flip % out.length;
    out = out.slice(0, at) + (out[at] === 'a' ? 'b' : 'a') + out.slice(at + 1);
  }
  return out;
}

describe('wildcard matching agrees with the reference', () => {
  it('on random patterns with long ? segments, variables and escapes, case-sensitive and folded', () => {
    fc.assert(
      fc.property(
        pattern,
        vars,
        fc.boolean(),
        fc.oneof(fc.stringMatching(/^[abA*?$é]{0,300}$/), fc.tuple(fc.stringMatching(/^[abA]{0,8}$/), fc.integer({ min: -3, max: 400 }))),
        (tokens, v, foldCase, given) => {
          const value = typeof given === 'string' ? given : instance(tokens, v, given[0], given[1]);
          const compiled = compilePattern(render(tokens), { variables: true, foldCase });
          expect(compiled.matches(value, (key) => (v as Record<string, string | undefined>)[key])).toBe(reference(tokens, value, v, foldCase));
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('reads ${…} as text, and * and ? as themselves in a variable\'s value, in a 2008-10-17 policy', () => {
    expect(compilePattern('home/${aws:username}/?', { variables: true }).matches('home/a*b/x', () => 'a*b')).toBe(true);
    expect(compilePattern('home/${aws:username}/?', { variables: true }).matches('home/aXXb/x', () => 'a*b')).toBe(false);
    expect(compilePattern('home/${aws:username}', { variables: false }).matches('home/${aws:username}')).toBe(true);
    expect(compilePattern('ARN:?', { variables: false, foldCase: true }).matches('arn:X')).toBe(true);
    expect(compilePattern('ARN:?', { variables: false }).matches('arn:X')).toBe(false);
  });
});

describe('wildcard matching reads the value once, whatever the pattern', () => {
  /** The steps a match may take in one pass: each character advances ⌈segment / 32⌉ words, plus the anchored ends. */
  const onePass = (value: string, segment: number) => value.length * Math.ceil(segment / 32) + 2 * segment;

  it('decides adversarial ? patterns within one pass of the value', () => {
    const value = 'a'.repeat(8192);
    const cases: [pattern: string, segment: number, expected: boolean][] = [
      // Each was a full comparison at each of ~8,000 starting places: ~16 million steps for the first.
      [`*${'?'.repeat(2000)}b*`, 2001, false],
      [`*${'a?'.repeat(1000)}b*`, 2001, false],
      [`*${'?'.repeat(31)}b*`, 32, false],
      [`*${'?'.repeat(2000)}*`, 2000, true],
      [`*${'a?'.repeat(1000)}*`, 2000, true],
      [`${'?'.repeat(100)}*${'a?'.repeat(500)}*${'?a'.repeat(500)}`, 1000, true],
      [`*${'?a'.repeat(700)}*${'?'.repeat(700)}b`, 1400, false],
    ];
    for (const [p, segment, expected] of cases) {
      const matcher = compilePattern(p, { variables: false });
      const got = withMatchBudget(onePass(value, segment), () => matcher.matches(value));
      expect(got, p.slice(0, 40)).toBe(expected);
    }
    // A budget below one pass is refused, not overrun: the bound holds.
    expect(() => withMatchBudget(1000, () => compilePattern(`*${'?'.repeat(40)}b*`, { variables: false }).matches(value))).toThrow(MatchBudgetExceeded);
  });

  it('finds the leftmost place of a ? segment among many near misses, and one past a 32-bit word', () => {
    const segment = `${'?'.repeat(40)}x${'?'.repeat(30)}y`;
    const value = `${'a'.repeat(5000)}x${'b'.repeat(30)}z${'c'.repeat(100)}x${'d'.repeat(30)}y${'e'.repeat(10)}`;
    const p = compilePattern(`*${segment}*e`, { variables: false });
    expect(withMatchBudget(onePass(value, segment.length), () => p.matches(value))).toBe(true);
    expect(compilePattern(`*${segment}*f`, { variables: false }).matches(value)).toBe(false);
    // Non-ASCII characters take the scan's other table.
    expect(compilePattern(`*é?é${'?'.repeat(35)}ü*`, { variables: false }).matches(`${'é'.repeat(50)}x${'é'.repeat(36)}ü`)).toBe(true);
  });
});
