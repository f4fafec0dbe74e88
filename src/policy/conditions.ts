// IAM condition operators, compiled once per policy version: every operator family, the
// IfExists forms, ForAllValues/ForAnyValue, and AWS's rules for several keys and several values.

import type { Condition } from './policy-document.js';
import { globMatches, hasVariables, parsePattern, toGlob, type Glob, type PatternPart, type VariableLookup } from './wildcard.js';

/** The request's condition keys, lower-cased, each with its values (one for a single-valued key). */
export type ContextValues = ReadonlyMap<string, readonly string[]>;

export type CompiledCondition = (ctx: ContextValues, lookup: VariableLookup) => boolean;

type Family = 'string' | 'stringIgnoreCase' | 'stringLike' | 'numeric' | 'date' | 'bool' | 'binary' | 'ip' | 'arn';
type Compare = 'eq' | 'lt' | 'lte' | 'gt' | 'gte';

interface OperatorShape {
  family: Family;
  compare: Compare;
  negated: boolean;
}

const OPERATORS: Record<string, OperatorShape> = {
  stringequals: { family: 'string', compare: 'eq', negated: false },
  stringnotequals: { family: 'string', compare: 'eq', negated: true },
  stringequalsignorecase: { family: 'stringIgnoreCase', compare: 'eq', negated: false },
  stringnotequalsignorecase: { family: 'stringIgnoreCase', compare: 'eq', negated: true },
  stringlike: { family: 'stringLike', compare: 'eq', negated: false },
  stringnotlike: { family: 'stringLike', compare: 'eq', negated: true },
  numericequals: { family: 'numeric', compare: 'eq', negated: false },
  numericnotequals: { family: 'numeric', compare: 'eq', negated: true },
  numericlessthan: { family: 'numeric', compare: 'lt', negated: false },
  numericlessthanequals: { family: 'numeric', compare: 'lte', negated: false },
  numericgreaterthan: { family: 'numeric', compare: 'gt', negated: false },
  numericgreaterthanequals: { family: 'numeric', compare: 'gte', negated: false },
  dateequals: { family: 'date', compare: 'eq', negated: false },
  datenotequals: { family: 'date', compare: 'eq', negated: true },
  datelessthan: { family: 'date', compare: 'lt', negated: false },
  datelessthanequals: { family: 'date', compare: 'lte', negated: false },
  dategreaterthan: { family: 'date', compare: 'gt', negated: false },
  dategreaterthanequals: { family: 'date', compare: 'gte', negated: false },
  bool: { family: 'bool', compare: 'eq', negated: false },
  binaryequals: { family: 'binary', compare: 'eq', negated: false },
  ipaddress: { family: 'ip', compare: 'eq', negated: false },
  notipaddress: { family: 'ip', compare: 'eq', negated: true },
  arnequals: { family: 'arn', compare: 'eq', negated: false },
  arnlike: { family: 'arn', compare: 'eq', negated: false },
  arnnotequals: { family: 'arn', compare: 'eq', negated: true },
  arnnotlike: { family: 'arn', compare: 'eq', negated: true },
};

export interface ParsedOperator {
  qualifier: 'none' | 'forAllValues' | 'forAnyValue';
  base: string;
  ifExists: boolean;
}

export function parseOperator(operator: string): ParsedOperator | undefined {
  let op = operator.toLowerCase();
  let qualifier: ParsedOperator['qualifier'] = 'none';
  if (op.startsWith('forallvalues:')) {
    qualifier = 'forAllValues';
    op = op.slice('forallvalues:'.length);
  } else if (op.startsWith('foranyvalue:')) {
    qualifier = 'forAnyValue';
    op = op.slice('foranyvalue:'.length);
  }
  if (op === 'null') return qualifier === 'none' ? { qualifier, base: 'null', ifExists: false } : undefined;
  const ifExists = op.endsWith('ifexists');
  const base = ifExists ? op.slice(0, -'ifexists'.length) : op;
  return OPERATORS[base] ? { qualifier, base, ifExists } : undefined;
}

/** Does one request value match one condition value? The condition value is already resolved. */
type ValueTest = (requestValue: string) => boolean;

/**
 * Epoch seconds or ISO 8601, as IAM accepts both; NaN when neither. A time without an offset is
 * UTC, as IAM reads it (Date.parse would read it in the server's own time zone).
 */
export function parseDate(v: string): number {
  if (/^-?\d+(\.\d+)?$/.test(v)) return Number(v) * 1000;
  if (!/^\d{4}-\d{2}-\d{2}/.test(v)) return NaN;
  return Date.parse(/T\d{2}:\d{2}(:\d{2}(\.\d+)?)?$/.test(v) ? `${v}Z` : v);
}

/** A decimal number, as IAM's numeric operators read one (no hex, no exponent, no spaces); NaN otherwise. */
export function parseNumber(v: string): number {
  return /^-?\d+(\.\d+)?$/.test(v) ? Number(v) : NaN;
}

const compareNumbers = (compare: Compare, a: number, b: number): boolean => {
  if (Number.isNaN(a) || Number.isNaN(b)) return false;
  switch (compare) {
    case 'eq':
      return a === b;
    case 'lt':
      return a < b;
    case 'lte':
      return a <= b;
    case 'gt':
      return a > b;
    case 'gte':
      return a >= b;
  }
};

function parseIpv4(text: string): bigint | undefined {
  if (!/^\d{1,3}(\.\d{1,3}){3}$/.test(text)) return undefined;
  const octets = text.split('.').map(Number);
  if (octets.some((o) => o > 255)) return undefined;
  return octets.reduce((acc, o) => (acc << 8n) | BigInt(o), 0n);
}

/** An IPv4 or IPv6 address as one number and its width in bits. */
function parseIp(text: string): { bits: bigint; width: 32 | 128 } | undefined {
  if (!text.includes(':')) {
    const v4 = parseIpv4(text);
    return v4 === undefined ? undefined : { bits: v4, width: 32 };
  }
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.length > 45) return undefined;
  let head = text;
  let v4tail: bigint | undefined;
  const lastColon = text.lastIndexOf(':');
  if (text.includes('.')) {
    v4tail = parseIpv4(text.slice(lastColon + 1));
    if (v4tail === undefined) return undefined;
    head = `${text.slice(0, lastColon + 1)}0:0`;
  }
  const halves = head.split('::');
  if (halves.length > 2) return undefined;
  const groups = (s: string) => (s === '' ? [] : s.split(':'));
  const left = groups(halves[0] as string);
  const right = halves.length === 2 ? groups(halves[1] as string) : [];
  const missing = 8 - left.length - right.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return undefined;
  const all = [...left, ...new Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...right];
  if (all.some((g) => !/^[0-9a-fA-F]{1,4}$/.test(g))) return undefined;
  let bits = all.reduce((acc, g) => (acc << 16n) | BigInt(parseInt(g, 16)), 0n);
  if (v4tail !== undefined) bits = (bits & ~0xffffffffn) | v4tail;
  return { bits, width: 128 };
}

/** One-entry memo: a request usually meets several CIDRs or dates with the same value. */
function memoOne<T>(parse: (text: string) => T): (text: string) => T {
  let lastText: string | undefined;
  let last: T;
  return (text) => {
    if (text !== lastText) {
      last = parse(text);
      lastText = text;
    }
    return last;
  };
}

/**
 * A request's address: an IPv4-mapped IPv6 address (`::ffff:203.0.113.5`, RFC 4291 §2.5.5.2, what
 * a Node gateway listening on `::` reports for every IPv4 client) is the IPv4 address it maps.
 */
function parseRequestAddress(text: string): { bits: bigint; width: 32 | 128 } | undefined {
  const ip = parseIp(text);
  return ip?.width === 128 && ip.bits >> 32n === 0xffffn ? { bits: ip.bits & 0xffffffffn, width: 32 } : ip;
}
const parseRequestIp = memoOne(parseRequestAddress);
const parseRequestDate = memoOne(parseDate);

type Cidr = { bits: bigint; width: number; prefix: number };

/** An address and its prefix (none: the whole address), or undefined when either is not one. */
function cidrOf(addr: string, prefixText: string | undefined): Cidr | undefined {
  const net = parseIp(addr);
  if (!net) return undefined;
  const prefix = prefixText === undefined ? net.width : /^\d{1,3}$/.test(prefixText) ? Number(prefixText) : NaN;
  return prefix >= 0 && prefix <= net.width ? { ...net, prefix } : undefined;
}

/** An IP address or a CIDR range (a bare address is /32 or /128); undefined when it is neither. */
export function parseCidr(value: string): Cidr | undefined {
  const parts = value.split('/');
  return parts.length > 2 ? undefined : cidrOf(parts[0] as string, parts[1]);
}

function cidrTest(value: string): ValueTest {
  // Read as it always was (a stored `10.0.0.0/8/8` keeps meaning /8, so a stored Deny keeps
  // denying); validation refuses such a value in a new policy (parseCidr).
  const [addr, prefixText] = value.split('/', 2);
  const net = cidrOf(addr ?? '', prefixText);
  if (!net) return () => false;
  const { prefix } = net;
  const shift = BigInt(net.width - prefix);
  const want = net.bits >> shift;
  return (requestValue) => {
    const ip = parseRequestIp(requestValue);
    return ip !== undefined && ip.width === net.width && ip.bits >> shift === want;
  };
}

/** ARNs match component by component: six colon-separated parts, the last taking the rest. */
function splitArn(arn: string): string[] | undefined {
  const parts: string[] = [];
  let from = 0;
  for (let k = 0; k < 5; k++) {
    const at = arn.indexOf(':', from);
    if (at < 0) return undefined;
    parts.push(arn.slice(from, at));
    from = at + 1;
  }
  parts.push(arn.slice(from));
  return parts;
}

function arnTest(parts: readonly PatternPart[], lookup: VariableLookup): ValueTest {
  // Variables first (their values are literal text), then the six components, each its own glob.
  const components: PatternPart[][] = [[]];
  const current = () => components[components.length - 1] as PatternPart[];
  for (const p of parts) {
    let part = p;
    if (p.kind === 'var') {
      const v = lookup(p.key) ?? p.fallback;
      if (v === undefined) return () => false;
      part = { kind: 'text', text: v };
    }
    if (part.kind !== 'text') {
      current().push(part);
      continue;
    }
    part.text.split(':').forEach((piece, k) => {
      if (k > 0) {
        if (components.length < 6) components.push([]);
        else current().push({ kind: 'text', text: ':' });
      }
      if (piece) current().push({ kind: 'text', text: piece });
    });
  }
  if (components.length === 1 && parts.length === 1 && parts[0]?.kind === 'star') return () => true;
  if (components.length !== 6) return () => false;
  const globs = components.map((c) => toGlob(c) as Glob);
  return (requestValue) => {
    const got = splitArn(requestValue);
    return got !== undefined && globs.every((g, k) => globMatches(g, got[k] as string));
  };
}

function valueTest(family: Family, compare: Compare, parts: readonly PatternPart[], lookup: VariableLookup): ValueTest {
  if (family === 'stringLike') {
    const glob = toGlob(parts, lookup);
    return glob ? (v) => globMatches(glob, v) : () => false;
  }
  if (family === 'arn') return arnTest(parts, lookup);
  // The other families take the value literally (no wildcards), after variable substitution.
  const text = literalOf(parts, lookup);
  if (text === undefined) return () => false;
  switch (family) {
    case 'string':
    case 'binary':
      return (v) => v === text;
    case 'stringIgnoreCase': {
      const lower = text.toLowerCase();
      return (v) => v.toLowerCase() === lower;
    }
    case 'bool': {
      const lower = text.toLowerCase();
      return (v) => v.toLowerCase() === lower;
    }
    case 'numeric': {
      // The request's value must be a decimal (a `0x10` there would read as 16 and slip under a limit).
      // The policy's is read as it always was: validation refuses anything but decimals in a new
      // policy, and a stored `1e3` must keep meaning 1000, or a stored Deny would stop denying.
      const want = /^\s*$/.test(text) ? Number.NaN : Number(text);
      return (v) => compareNumbers(compare, parseNumber(v), want);
    }
    case 'date': {
      const want = parseDate(text);
      return (v) => compareNumbers(compare, parseRequestDate(v), want);
    }
    case 'ip':
      return cidrTest(text);
  }
}

/** Condition values parsed once; those without variables get their tests built once too. */
function compileValues(values: readonly string[], family: Family, compare: Compare, variables: boolean): (lookup: VariableLookup) => ValueTest {
  // Only the string and ARN "like" families read wildcards; for the rest `*` is just a character.
  const wildcards = family === 'stringLike' || family === 'arn';
  const parsed = values.map((v) => parsePattern(v, variables, wildcards));
  const noLookup: VariableLookup = () => undefined;
  if (!parsed.some(hasVariables)) {
    if (family === 'string') {
      // The values as they read: `${*}`, `${?}` and `${$}` are `*`, `?` and `$`.
      const set = new Set(parsed.map((p) => literalOf(p, noLookup)!));
      const test: ValueTest = (v) => set.has(v);
      return () => test;
    }
    const tests = parsed.map((p) => valueTest(family, compare, p, noLookup));
    const test: ValueTest = tests.length === 1 ? (tests[0] as ValueTest) : (v) => tests.some((t) => t(v));
    return () => test;
  }
  if (family === 'string' || family === 'stringIgnoreCase') {
    // The common ABAC shape (`aws:ResourceTag/x` equals `${aws:PrincipalTag/x}`): resolve and compare, no closures.
    const fold = family === 'stringIgnoreCase';
    return (lookup) => {
      const wanted: string[] = [];
      for (const p of parsed) {
        const text = literalOf(p, lookup);
        if (text !== undefined) wanted.push(fold ? text.toLowerCase() : text);
      }
      return (v) => wanted.includes(fold ? v.toLowerCase() : v);
    };
  }
  return (lookup) => {
    const tests = parsed.map((p) => valueTest(family, compare, p, lookup));
    return (v) => tests.some((t) => t(v));
  };
}

/** The value with its variables substituted; undefined when one has no value and no default. */
function literalOf(parts: readonly PatternPart[], lookup: VariableLookup): string | undefined {
  if (parts.length === 1) {
    const only = parts[0] as PatternPart;
    if (only.kind === 'text') return only.text;
    if (only.kind === 'var') return lookup(only.key) ?? only.fallback;
  }
  let text = '';
  for (const p of parts) {
    if (p.kind === 'text') text += p.text;
    else if (p.kind === 'star') text += '*';
    else if (p.kind === 'any') text += '?';
    else {
      const v = lookup(p.key) ?? p.fallback;
      if (v === undefined) return undefined;
      text += v;
    }
  }
  return text;
}

/**
 * One operator/key pair. Several values are ORed (any condition value may match); for a negated
 * operator the request value must match none. A missing key makes a condition false, except with
 * IfExists, a negated operator, or ForAllValues, which are then true.
 */
export function compileCondition(condition: Condition, variables: boolean): CompiledCondition {
  const op = parseOperator(condition.operator);
  const key = condition.key.toLowerCase();
  if (!op) return () => false; // the parser refuses unknown operators; never match if one slips through
  if (op.base === 'null') {
    const wants = new Set(condition.values.map((v) => v.toLowerCase()));
    return (ctx) => {
      const values = ctx.get(key);
      const absent = values === undefined || values.length === 0;
      return wants.has(absent ? 'true' : 'false');
    };
  }
  const shape = OPERATORS[op.base] as OperatorShape;
  const testsFor = compileValues(condition.values, shape.family, shape.compare, variables);
  const { negated } = shape;
  return (ctx, lookup) => {
    const values = ctx.get(key);
    const missing = values === undefined || values.length === 0;
    if (op.qualifier === 'forAllValues') {
      if (missing) return true;
      const t = testsFor(lookup);
      return negated ? values.every((v) => !t(v)) : values.every(t);
    }
    if (missing) return op.ifExists || (op.qualifier === 'none' && negated);
    const t = testsFor(lookup);
    if (op.qualifier === 'forAnyValue') return negated ? values.some((v) => !t(v)) : values.some(t);
    return negated ? !values.some(t) : values.some(t);
  };
}
