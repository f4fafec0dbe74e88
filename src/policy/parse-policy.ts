// Parse and validate an identity-based IAM policy (JSON text) into the immutable AST.
// Never throws: anything that is not a valid policy comes back as a list of readable errors.

import {
  ConditionNode,
  PatternListNode,
  PolicyDocumentNode,
  StatementNode,
  type Condition,
  type PatternList,
  type PolicyDocument,
  type PolicyVersion,
  type Statement,
} from './policy-document.js';

export type PolicyParseResult = { ok: true; document: PolicyDocument } | { ok: false; errors: readonly string[] };

const VERSIONS: readonly PolicyVersion[] = ['2012-10-17', '2008-10-17'];
const DOCUMENT_KEYS = new Set(['Version', 'Id', 'Statement']);
const STATEMENT_KEYS = new Set(['Sid', 'Effect', 'Action', 'NotAction', 'Resource', 'NotResource', 'Condition']);

const BASE_OPERATORS = new Set(
  [
    'StringEquals', 'StringNotEquals', 'StringEqualsIgnoreCase', 'StringNotEqualsIgnoreCase', 'StringLike', 'StringNotLike',
    'NumericEquals', 'NumericNotEquals', 'NumericLessThan', 'NumericLessThanEquals', 'NumericGreaterThan', 'NumericGreaterThanEquals',
    'DateEquals', 'DateNotEquals', 'DateLessThan', 'DateLessThanEquals', 'DateGreaterThan', 'DateGreaterThanEquals',
    'Bool', 'BinaryEquals', 'IpAddress', 'NotIpAddress', 'ArnEquals', 'ArnNotEquals', 'ArnLike', 'ArnNotLike',
  ].map((o) => o.toLowerCase()),
);

/** `[ForAllValues:|ForAnyValue:]Operator[IfExists]`, or `Null` on its own; IAM matches operators case-insensitively. */
function isConditionOperator(op: string): boolean {
  const base = op.replace(/^(forallvalues|foranyvalue):/i, '');
  if (/^null$/i.test(base)) return base === op;
  return BASE_OPERATORS.has(base.replace(/ifexists$/i, '').toLowerCase());
}

/** `*`, or `service:action` where the action may use wildcards. */
const ACTION = /^(\*|[A-Za-z0-9-]+:[A-Za-z0-9*?_-]+)$/;
/** `*`, or an ARN: six colon-separated parts, the last free-form (AWS's own policies leave it empty). */
const RESOURCE = /^(\*|arn:[^:\s]*:[^:\s]*:[^:\s]*:[^:\s]*:\S*)$/;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Keys and values echoed in error messages are clipped: the caller sent them, they may be huge. */
const clip = (s: string) => (s.length > 80 ? `${s.slice(0, 80)}…` : s);

/** A value for an error message: short, and never walked (junk may nest deeper than the stack). */
function shown(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(clip(v));
  if (Array.isArray(v)) return 'a list';
  return isObject(v) ? 'an object' : String(v);
}

/** Every problem found, in document order. */
type Problems = string[];

/** Far above any real policy (AWS's largest managed policy is ~100 KB); bounds parse and compile time. */
export const MAX_POLICY_CHARS = 1_048_576;
/** A policy nests 5 levels (document, Statement list, statement, Condition, operator, values). */
const MAX_DEPTH = 8;
/** An ARN is at most 2,048 characters; every pattern and condition value is held to that. */
const MAX_VALUE_CHARS = 2048;

/** The deepest nesting of objects and lists, read without recursion (a deep document must not overflow the stack). */
function depthOf(text: string): number {
  let depth = 0;
  let max = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++; // backslash: skip the escaped character
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) max = Math.max(max, ++depth);
    else if (c === 0x7d || c === 0x5d) depth--;
  }
  return max;
}

/**
 * The first key an object of this (well-formed) JSON text repeats, if any. JSON.parse keeps the
 * last value and drops the rest without a word, so `"Effect": "Deny", …, "Effect": "Allow"` would
 * read as an Allow to the engine and as a Deny to whoever reviews the text. Policy validation (every
 * write) refuses such a text; parsing does not, so that a row stored before still reads as it did.
 */
export function repeatedKeyOf(text: string): string | undefined {
  const objects: (Set<string> | undefined)[] = []; // undefined for a list
  let expectKey = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x22) {
      const start = i;
      for (i++; text.charCodeAt(i) !== 0x22; i++) if (text.charCodeAt(i) === 0x5c) i++;
      const keys = objects.at(-1);
      if (keys && expectKey) {
        const key = JSON.parse(text.slice(start, i + 1)) as string;
        if (keys.has(key)) return key;
        keys.add(key);
        expectKey = false;
      }
    } else if (c === 0x7b) {
      objects.push(new Set());
      expectKey = true;
    } else if (c === 0x5b) objects.push(undefined);
    else if (c === 0x7d || c === 0x5d) objects.pop();
    else if (c === 0x2c) expectKey = objects.at(-1) !== undefined;
  }
  return undefined;
}

export function parsePolicy(text: string): PolicyParseResult {
  if (text.length > MAX_POLICY_CHARS) return { ok: false, errors: [`The policy has ${text.length} characters; at most ${MAX_POLICY_CHARS} are allowed.`] };
  if (depthOf(text) > MAX_DEPTH) return { ok: false, errors: [`The policy nests deeper than ${MAX_DEPTH} levels.`] };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    return { ok: false, errors: ['The policy is not valid JSON.'] };
  }
  const problems: Problems = [];
  const document = readDocument(json, problems);
  return document && problems.length === 0 ? { ok: true, document } : { ok: false, errors: problems };
}

function readDocument(json: unknown, p: Problems): PolicyDocument | undefined {
  if (!isObject(json)) {
    p.push('The policy must be a JSON object.');
    return undefined;
  }
  for (const key of Object.keys(json)) if (!DOCUMENT_KEYS.has(key)) p.push(`Unknown top-level field ${clip(key)}.`);
  let version: PolicyVersion = '2008-10-17';
  if (json.Version !== undefined) {
    if (VERSIONS.includes(json.Version as PolicyVersion)) version = json.Version as PolicyVersion;
    else p.push(`Version must be one of ${VERSIONS.join(', ')}.`);
  }
  if (json.Id !== undefined && typeof json.Id !== 'string') p.push('Id must be a string.');
  const raw = json.Statement;
  if (raw === undefined) {
    p.push('The policy has no Statement.');
    return undefined;
  }
  const list = Array.isArray(raw) ? raw : [raw];
  if (list.length === 0) p.push('Statement must not be an empty list.');
  const statements = list.map((s, i) => readStatement(s, Array.isArray(raw) ? `Statement[${i}]` : 'Statement', p));
  // IAM refuses a document in which two statements share a Sid.
  const sids = statements.flatMap((st) => (st?.sid ? [st.sid] : []));
  const repeated = sids.find((sid, i) => sids.indexOf(sid) !== i);
  if (repeated !== undefined) p.push(`Statement ids (Sid) must be unique; ${repeated} is repeated.`);
  if (p.length > 0) return undefined;
  return PolicyDocumentNode.create(version, statements as Statement[], typeof json.Id === 'string' ? json.Id : undefined);
}

function readStatement(json: unknown, where: string, p: Problems): Statement | undefined {
  if (!isObject(json)) {
    p.push(`${where} must be an object.`);
    return undefined;
  }
  for (const key of Object.keys(json)) {
    if (key === 'Principal' || key === 'NotPrincipal') p.push(`${where}: an identity-based policy must not specify a ${key}.`);
    else if (!STATEMENT_KEYS.has(key)) p.push(`${where}: unknown field ${clip(key)}.`);
  }
  if (json.Sid !== undefined && (typeof json.Sid !== 'string' || !/^[A-Za-z0-9]*$/.test(json.Sid))) {
    p.push(`${where}.Sid must be a string of letters and digits.`);
  }
  if (json.Effect !== 'Allow' && json.Effect !== 'Deny') p.push(`${where}.Effect must be Allow or Deny.`);
  const action = readPatterns(json, where, 'Action', ACTION, 'must be "*" or "service:action"', p);
  const resource = readPatterns(json, where, 'Resource', RESOURCE, 'must be "*" or an ARN', p);
  const conditions = json.Condition === undefined ? [] : readConditions(json.Condition, `${where}.Condition`, p);
  if (!action || !resource || !conditions) return undefined;
  return StatementNode.create({
    ...(typeof json.Sid === 'string' ? { sid: json.Sid } : {}),
    effect: json.Effect as Statement['effect'],
    action,
    resource,
    conditions,
  });
}

/** Exactly one of `X` and `NotX`: a string or a non-empty list of strings, each matching `shape`. */
function readPatterns(json: Record<string, unknown>, where: string, name: string, shape: RegExp, shapeText: string, p: Problems): PatternList | undefined {
  const given = [name, `Not${name}`].filter((k) => json[k] !== undefined);
  if (given.length !== 1) {
    p.push(`${where} must have exactly one of ${name} and Not${name}.`);
    return undefined;
  }
  const field = given[0] as string;
  const raw = json[field];
  const values = Array.isArray(raw) ? raw : [raw];
  if (values.length === 0) {
    p.push(`${where}.${field} must not be an empty list.`);
    return undefined;
  }
  let ok = true;
  for (const v of values) {
    // A policy variable may hold spaces (`${aws:PrincipalTag/team, 'company-wide'}`): check the shape around it.
    if (typeof v === 'string' && v.length > MAX_VALUE_CHARS) {
      p.push(`${where}.${field}: ${shown(v)} is longer than ${MAX_VALUE_CHARS} characters.`);
      ok = false;
    } else if (typeof v !== 'string' || !shape.test(v.replace(/\$\{[^}]{1,256}\}/g, 'x'))) {
      p.push(`${where}.${field}: ${shown(v)} ${shapeText}.`);
      ok = false;
    }
  }
  return ok ? PatternListNode.create(field !== name, values as string[]) : undefined;
}

function readConditions(json: unknown, where: string, p: Problems): Condition[] | undefined {
  if (!isObject(json)) {
    p.push(`${where} must be an object of operator to {key: value}.`);
    return undefined;
  }
  const out: Condition[] = [];
  let ok = true;
  for (const [operator, block] of Object.entries(json)) {
    if (!isConditionOperator(operator)) {
      p.push(`${where}: unknown condition operator ${clip(operator)}.`);
      ok = false;
    }
    if (!isObject(block) || Object.keys(block).length === 0) {
      p.push(`${where}.${clip(operator)} must be a non-empty object of condition key to value.`);
      ok = false;
      continue;
    }
    for (const [key, raw] of Object.entries(block)) {
      const values = Array.isArray(raw) ? raw : [raw];
      if (key === '' || key.length > 256 || values.length === 0 || !values.every((v) => ['string', 'number', 'boolean'].includes(typeof v) && String(v).length <= MAX_VALUE_CHARS)) {
        p.push(`${where}.${clip(operator)}.${clip(key)} must be a string, number or boolean (at most ${MAX_VALUE_CHARS} characters), or a non-empty list of them.`);
        ok = false;
        continue;
      }
      out.push(ConditionNode.create(operator, key, values.map(String)));
    }
  }
  return ok ? out : undefined;
}
