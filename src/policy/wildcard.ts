// IAM wildcard patterns (`*`, `?`) with policy variables (`${aws:username}`, `${*}` …), compiled
// once and matched without regular expressions: no backtracking, and a decision's comparisons for
// `?` patterns are bounded (withMatchBudget), so no input can make it hang.

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
 * Character comparisons left to the decision in progress (withMatchBudget). A segment with `?` is
 * compared character by character at each place it may start: a policy can hold such patterns by
 * the thousand characters, and a request values as long, so without a bound one decision could
 * take seconds of the event loop. Outside a decision (validation) there is no bound.
 */
let budget = Number.POSITIVE_INFINITY;

/** A decision needed more comparisons than its budget: the evaluator refuses it (too complex). */
export class MatchBudgetExceeded extends Error {
  constructor() {
    super('The policy patterns and the request values need too many comparisons.');
  }
}

/** Runs `fn` with at most `limit` character comparisons for its `?` patterns; throws MatchBudgetExceeded past it. */
export function withMatchBudget<T>(limit: number, fn: () => T): T {
  const before = budget;
  budget = limit;
  try {
    return fn();
  } finally {
    budget = before;
  }
}

function matchesAt(seg: Segment, value: string, at: number): boolean {
  const { text, any } = seg;
  if (at + text.length > value.length) return false;
  if (!any) return value.startsWith(text, at);
  budget -= text.length;
  if (budget < 0) throw new MatchBudgetExceeded();
  for (let j = 0; j < text.length; j++) if (!any[j] && value.charCodeAt(at + j) !== text.charCodeAt(j)) return false;
  return true;
}

function find(seg: Segment, value: string, from: number): number {
  if (!seg.any) return value.indexOf(seg.text, from);
  for (let i = from; i + seg.text.length <= value.length; i++) if (matchesAt(seg, value, i)) return i;
  return -1;
}

/**
 * Whether `value` matches. Segments between stars are placed leftmost-first, which is optimal for
 * `*`-separated globs, so one pass decides: at most O(pattern × value) character comparisons, and
 * both are bounded by the policy size limits.
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
    const at = find(seg, value, pos);
    if (at < 0 || at + seg.text.length > end) return false;
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
