// IAM wildcard patterns (`*`, `?`) with policy variables (`${aws:username}`, `${*}` …), compiled
// once and matched without regular expressions or backtracking: a `?` segment is found with a
// bit-parallel scan in one pass over the value, and a decision's work is bounded (withMatchBudget).

/** One piece of a pattern as written: literal text, a wildcard, or a policy variable. */
export type PatternPart =
  | { readonly kind: 'text'; readonly text: string }
  | { readonly kind: 'star' }
  | { readonly kind: 'any' }
  | { readonly kind: 'var'; readonly key: string; readonly fallback: string | undefined };

/** A pattern with its variables resolved: the runs of text between stars. */
export interface Glob {
  readonly leadingStar: boolean;
  readonly trailingStar: boolean;
  /** Each segment: its text, and (when it has any) which positions are a `?`. */
  readonly segments: readonly Segment[];
}

interface Segment {
  readonly text: string;
  readonly any: readonly boolean[] | null;
  /** A `?` segment's Shift-And tables, built when it is first searched for. */
  scan?: ShiftAnd;
}

/** Reads `${key}` or `${key, 'default'}`; `${*}`, `${?}`, `${$}` stand for the character itself. */
const VARIABLE = /^\$\{\s*([^}',\s]+)\s*(?:,\s*'([^']*)'\s*)?\}/;

/**
 * Splits a pattern into parts. Variables are read only when `variables` is on (policy version
 * 2012-10-17); in a 2008-10-17 policy `${…}` is plain text, as on AWS.
 */
export function parsePattern(pattern: string, variables: boolean, wildcards = true): PatternPart[] {
  const parts: PatternPart[] = [];
  let text = '';
  const flush = () => {
    if (text) parts.push({ kind: 'text', text });
    text = '';
  };
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === '$' && variables && pattern[i + 1] === '{') {
      const m = VARIABLE.exec(pattern.slice(i, i + 512));
      if (m) {
        const key = m[1] as string;
        if (key === '*' || key === '?' || key === '$') text += key;
        else {
          flush();
          parts.push({ kind: 'var', key: key.toLowerCase(), fallback: m[2] });
        }
        i += m[0].length - 1;
        continue;
      }
    }
    if (wildcards && c === '*') {
      flush();
      if (parts.at(-1)?.kind !== 'star') parts.push({ kind: 'star' });
    } else if (wildcards && c === '?') {
      flush();
      parts.push({ kind: 'any' });
    } else text += c;
  }
  flush();
  return parts;
}

export const hasVariables = (parts: readonly PatternPart[]) => parts.some((p) => p.kind === 'var');

/** Looks up a single value for a policy variable; undefined when the request has none. */
export type VariableLookup = (key: string) => string | undefined;

/**
 * Resolves the variables and builds the glob. A variable's value is literal text (a `*` in a user
 * name is not a wildcard). Undefined when a variable has no value and no default: AWS then treats
 * the element as not matching.
 */
export function toGlob(parts: readonly PatternPart[], lookup?: VariableLookup, foldCase = false): Glob | undefined {
  const segments: Segment[] = [];
  let text = '';
  let any: boolean[] | null = null;
  let leadingStar = false;
  let trailingStar = false;
  const push = (s: string, wildcard: boolean) => {
    if (wildcard) (any ??= new Array<boolean>(text.length).fill(false)).push(true);
    else if (any) for (let k = 0; k < s.length; k++) any.push(false);
    text += s;
  };
  for (let i = 0; i < parts.length; i++) {
    const p = parts[i] as PatternPart;
    trailingStar = false;
    if (p.kind === 'star') {
      if (segments.length === 0 && text === '') leadingStar = true;
      else segments.push({ text, any });
      text = '';
      any = null;
      trailingStar = true;
    } else if (p.kind === 'any') push('?', true);
    else if (p.kind === 'text') push(foldCase ? p.text.toLowerCase() : p.text, false);
    else {
      const value = lookup?.(p.key) ?? p.fallback;
      if (value === undefined) return undefined;
      push(foldCase ? value.toLowerCase() : value, false);
    }
  }
  if (!trailingStar) segments.push({ text, any });
  return { leadingStar, trailingStar, segments };
}

/**
 * Steps left to the decision in progress (withMatchBudget): a character compared, or a 32-bit word
 * of a `?` segment's scan state advanced by one character of the value. A policy may hold long `?`
 * patterns by the hundred, and a request as many long values, so without a bound one decision could
 * still take long. Outside a decision (validation) there is no bound.
 */
let budget = Number.POSITIVE_INFINITY;

/** A decision needed more steps than its budget: the evaluator refuses it (too complex). */
export class MatchBudgetExceeded extends Error {
  constructor() {
    super('The policy patterns and the request values need too many comparisons.');
  }
}

/** Runs `fn` with at most `limit` steps for its `?` patterns; throws MatchBudgetExceeded past it. */
export function withMatchBudget<T>(limit: number, fn: () => T): T {
  const before = budget;
  budget = limit;
  try {
    return fn();
  } finally {
    budget = before;
  }
}

function spend(steps: number): void {
  budget -= steps;
  if (budget < 0) throw new MatchBudgetExceeded();
}

/** Whether `seg` matches `value` at `at`: O(segment). */
function matchesAt(seg: Segment, value: string, at: number): boolean {
  const { text, any } = seg;
  if (at + text.length > value.length) return false;
  if (!any) return value.startsWith(text, at);
  spend(text.length);
  for (let j = 0; j < text.length; j++) if (!any[j] && value.charCodeAt(at + j) !== text.charCodeAt(j)) return false;
  return true;
}

/**
 * The Shift-And (bitap) automaton of a `?` segment: bit j of the state is set when the last j+1
 * characters read match the segment's first j+1 positions. Reading a character shifts the state
 * by one (a match may start anywhere) and keeps the bits whose position is a `?` or that
 * character. One pass over the value, ⌈length / 32⌉ words a character: no position is ever looked
 * at twice, whatever the pattern.
 */
interface ShiftAnd {
  readonly words: number;
  /** The `?` positions: kept whatever the character. */
  readonly any: Uint32Array;
  /** Per character code: its positions, as (word index, bits) pairs. ASCII in an array, the rest in a map. */
  readonly ascii: (Int32Array | undefined)[];
  readonly other: Map<number, Int32Array>;
  readonly lastWord: number;
  readonly lastBit: number;
  /** The state and the shifted state, reused (JavaScript runs one scan at a time). */
  readonly state: Uint32Array;
  readonly shifted: Uint32Array;
}

function shiftAndOf(seg: Segment): ShiftAnd {
  const { text, any } = seg;
  const words = (text.length + 31) >>> 5;
  const anyBits = new Uint32Array(words);
  const positions = new Map<number, Map<number, number>>();
  for (let j = 0; j < text.length; j++) {
    const w = j >>> 5;
    const bit = (1 << (j & 31)) >>> 0;
    if (any?.[j]) anyBits[w] = (anyBits[w]! | bit) >>> 0;
    else {
      const c = text.charCodeAt(j);
      let byWord = positions.get(c);
      if (!byWord) positions.set(c, (byWord = new Map<number, number>()));
      byWord.set(w, ((byWord.get(w) ?? 0) | bit) >>> 0);
    }
  }
  const ascii: (Int32Array | undefined)[] = new Array<Int32Array | undefined>(128).fill(undefined);
  const other = new Map<number, Int32Array>();
  for (const [c, byWord] of positions) {
    const pairs = new Int32Array(byWord.size * 2);
    let k = 0;
    for (const [w, bits] of byWord) {
      pairs[k++] = w;
      pairs[k++] = bits | 0;
    }
    if (c < 128) ascii[c] = pairs;
    else other.set(c, pairs);
  }
  const last = text.length - 1;
  return { words, any: anyBits, ascii, other, lastWord: last >>> 5, lastBit: (1 << (last & 31)) >>> 0, state: new Uint32Array(words), shifted: new Uint32Array(words) };
}

/** The leftmost start of `seg` in `value` at or after `from` and ending by `end`, or -1. */
function find(seg: Segment, value: string, from: number, end: number): number {
  const length = seg.text.length;
  if (!seg.any) {
    const at = value.indexOf(seg.text, from);
    return at < 0 || at + length > end ? -1 : at;
  }
  if (from + length > end) return -1;
  const t = (seg.scan ??= shiftAndOf(seg));
  const { any, ascii, other, state, shifted, lastWord, lastBit } = t;
  state.fill(0);
  // Words above `top` are all zero: the state grows by at most one bit a character, so a scan
  // that keeps failing early (most do) advances one word, not all of them.
  let top = 0;
  let steps = 0;
  try {
    for (let p = from; p < end; p++) {
      const reach = top < t.words - 1 ? top + 1 : top;
      let carry = 1; // a match may start here
      for (let w = 0; w <= reach; w++) {
        const d = state[w]!;
        shifted[w] = (d << 1) | carry;
        carry = d >>> 31;
        state[w] = shifted[w]! & any[w]!;
      }
      const c = value.charCodeAt(p);
      const own = c < 128 ? ascii[c] : other.get(c);
      if (own) {
        for (let k = 0; k < own.length; k += 2) {
          const w = own[k]!;
          if (w <= reach) state[w] = state[w]! | (shifted[w]! & own[k + 1]!);
        }
      }
      steps += reach + 1;
      top = reach;
      while (top > 0 && state[top] === 0) top--;
      if (top === lastWord && (state[lastWord]! & lastBit) !== 0) return p - length + 1;
    }
    return -1;
  } finally {
    spend(steps);
  }
}

/**
 * Whether `value` matches. Segments between stars are placed leftmost-first, which is optimal for
 * `*`-separated globs: each search starts where the last match ended, so the value is read once
 * from left to right, at ⌈segment / 32⌉ words a character for a `?` segment (linear for segments
 * of up to 32 characters).
 */
export function globMatches(glob: Glob, value: string): boolean {
  const segs = glob.segments;
  const n = segs.length;
  if (n === 0) return true; // the pattern was only stars
  if (n === 1 && !glob.leadingStar && !glob.trailingStar) {
    const only = segs[0] as Segment;
    return value.length === only.text.length && matchesAt(only, value, 0);
  }
  let pos = 0;
  let first = 0;
  let last = n;
  if (!glob.leadingStar) {
    if (!matchesAt(segs[0] as Segment, value, 0)) return false;
    pos = (segs[0] as Segment).text.length;
    first = 1;
  }
  let end = value.length;
  if (!glob.trailingStar) {
    const tail = segs[n - 1] as Segment;
    end = value.length - tail.text.length;
    if (end < pos || !matchesAt(tail, value, end)) return false;
    last = n - 1;
  }
  for (let k = first; k < last; k++) {
    const seg = segs[k] as Segment;
    const at = find(seg, value, pos, end);
    if (at < 0) return false;
    pos = at + seg.text.length;
  }
  return true;
}

/** A compiled pattern: a fixed matcher when it has no variables, else one resolved per request. */
export interface CompiledPattern {
  readonly parts: readonly PatternPart[];
  matches(value: string, lookup?: VariableLookup): boolean;
}

export function compilePattern(pattern: string, opts: { variables: boolean; foldCase?: boolean }): CompiledPattern {
  const foldCase = opts.foldCase ?? false;
  const parts = parsePattern(pattern, opts.variables);
  if (hasVariables(parts)) {
    return {
      parts,
      matches(value, lookup) {
        const glob = toGlob(parts, lookup, foldCase);
        return glob !== undefined && globMatches(glob, foldCase ? value.toLowerCase() : value);
      },
    };
  }
  const glob = toGlob(parts, undefined, foldCase) as Glob;
  const only = glob.segments[0];
  // Fast paths for the common shapes: `*`, an exact name, and `prefix*`.
  if (glob.segments.length === 0) return { parts, matches: () => true };
  if (glob.segments.length === 1 && only && !only.any && !glob.leadingStar) {
    const text = only.text;
    if (!glob.trailingStar) return { parts, matches: (v) => (foldCase ? v.toLowerCase() : v) === text };
    return { parts, matches: (v) => (foldCase ? v.toLowerCase() : v).startsWith(text) };
  }
  return { parts, matches: (v) => globMatches(glob, foldCase ? v.toLowerCase() : v) };
}
