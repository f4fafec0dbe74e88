// Test-only helpers for the filter and path tests: fast-check generators of ASTs, paths and
// resources, assertions on syntax errors, and the plain reference evaluation the evaluator is
// compared with. Nothing in the server imports this file.
import fc from 'fast-check';
import { expect } from 'vitest';
import { ScimError, ScimSyntaxError } from './errors.js';
import { COMPARE_OPERATORS, filterNode as f } from './filter.js';
import type { AttributePath, CompareValue, Filter } from './filter.js';

type SyntaxScimType = 'invalidFilter' | 'invalidPath';

/** The ScimSyntaxError that `parse` throws, checked to be a 400 of `scimType`. */
export function syntaxErrorOf(parse: () => unknown, scimType: SyntaxScimType): ScimSyntaxError {
  let thrown: unknown;
  try {
    parse();
  } catch (e) {
    thrown = e;
  }
  expect(thrown).toBeInstanceOf(ScimSyntaxError);
  const error = thrown as ScimSyntaxError;
  expect(error.scimType).toBe(scimType);
  expect(error.status).toBe(400);
  return error;
}

/** `parse` fails at `offset`, expecting something described by `expected`, and says so in the detail. */
export function expectSyntaxErrorAt(parse: () => unknown, scimType: SyntaxScimType, offset: number, expected: string): void {
  const error = syntaxErrorOf(parse, scimType);
  expect(error.offset).toBe(offset);
  expect(error.expected).toContain(expected);
  expect(error.detail).toContain(`at offset ${offset}: expected `);
}

/** For input that may or may not be valid: `parse` returns, or throws a ScimError of `scimType`. */
export function expectParsedOrRefused(parse: () => unknown, scimType: SyntaxScimType): void {
  try {
    parse();
  } catch (e) {
    expect(e).toBeInstanceOf(ScimError);
    expect((e as ScimError).scimType).toBe(scimType);
  }
}

/** ATTRNAME, including names that are also keywords, and "$ref". */
export const arbitraryAttributeName: fc.Arbitrary<string> = fc.oneof(
  fc.stringMatching(/^[A-Za-z][A-Za-z0-9_-]{0,7}$/),
  fc.constantFrom('not', 'NOT', 'and', 'Or', 'pr', 'eq', 'gt', 'true', 'null', '$ref', 'value', 'userName'),
);

export const arbitrarySchemaUri: fc.Arbitrary<string> = fc.oneof(
  fc.constantFrom(
    'urn:ietf:params:scim:schemas:core:2.0:User',
    'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
    'http://example.com/scim/v2/Ext',
  ),
  fc.stringMatching(/^urn:[a-z0-9]{1,5}(:[A-Za-z0-9.%~-]{1,6}){0,3}$/),
);

/** A full attribute path: [URI ":"] ATTRNAME ["." ATTRNAME]. */
export const arbitraryPath: fc.Arbitrary<AttributePath> = fc
  .tuple(fc.option(arbitrarySchemaUri, { nil: undefined }), arbitraryAttributeName, fc.option(arbitraryAttributeName, { nil: undefined }))
  .map(([schema, name, sub]) => f.path(name, sub, schema));

/** A JSON literal; strings span all of Unicode (escapes, quotes, lone surrogates). */
export const arbitraryCompareValue: fc.Arbitrary<CompareValue> = fc.oneof(
  fc.string({ maxLength: 8 }),
  fc.string({ unit: 'binary', maxLength: 6 }),
  fc.constantFrom('"', '\\', '\\"', ') or (', 'a] and [b', '\n\t', ''),
  fc.integer(),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((n) => (Object.is(n, -0) ? 0 : n)),
  fc.boolean(),
  fc.constant(null),
);

/** Filters whose leaves compare `path` with `value`, nesting and/or/not up to `depth`, and `attr[...]` if given. */
function arbitraryFilterOver(
  path: fc.Arbitrary<AttributePath>,
  value: fc.Arbitrary<CompareValue>,
  valuePath: fc.Arbitrary<Filter> | undefined,
  depth: number,
): fc.Arbitrary<Filter> {
  const leaf = fc.oneof(
    fc.tuple(path, fc.constantFrom(...COMPARE_OPERATORS), value).map(([p, op, v]) => f.compare(p, op, v)),
    path.map((p) => f.present(p)),
  );
  const { node } = fc.letrec<{ node: Filter }>((tie) => ({
    node: fc.oneof(
      { maxDepth: depth, depthIdentifier: `filter-${depth}` },
      leaf,
      fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((fs) => f.and(fs)),
      fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((fs) => f.or(fs)),
      tie('node').map((x) => f.not(x)),
      ...(valuePath === undefined ? [] : [valuePath]),
    ),
  }));
  return node;
}

const barePath = arbitraryAttributeName.map((name) => f.path(name));

/** valFilter: what may stand inside `attr[...]` (bare sub-attribute names, no nested brackets). */
export const arbitraryValueFilter: fc.Arbitrary<Filter> = arbitraryFilterOver(barePath, arbitraryCompareValue, undefined, 2);

/** FILTER: any filter the grammar allows, small enough to stay under the length limit. */
export const arbitraryFilter: fc.Arbitrary<Filter> = arbitraryFilterOver(
  arbitraryPath,
  arbitraryCompareValue,
  fc.tuple(arbitraryPath, arbitraryValueFilter).map(([p, inner]) => f.valuePath(f.path(p.name, undefined, p.schema), inner)),
  3,
);

/**
 * Filters and PATCH-free resources over one small User schema, so that filters often match.
 * `id` is caseExact and `meta.created` a dateTime; `active` has no declared type.
 */
export const USER_SCHEMA = {
  enterprise: 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User',
  core: 'urn:ietf:params:scim:schemas:core:2.0:User',
};

const randomCase = (word: string) =>
  fc.array(fc.boolean(), { minLength: word.length, maxLength: word.length }).map((upper) =>
    [...word].map((c, i) => (upper[i] ? c.toUpperCase() : c.toLowerCase())).join(''),
  );

const strings = ['bjensen', 'BJensen', 'jensen', 'Tour Guide', 'tour', 'guide', 'OUR', '', 'b', 'abc', 'ABC', 'work', 'Work', 'home', 'a@example.com', 'A@Example.COM', 'example.com'];
const dates = ['2011-05-13T04:42:34Z', '2011-05-13T06:42:34+02:00', '2011-05-13T04:42:34.500Z', '2010-01-01T00:00:00', 'not a date', '2012-01-01T00:00:00Z'];
const numbers = [0, 1, 30, 30.5, -2];
const poolValue = fc.oneof({ arbitrary: fc.constantFrom<CompareValue>(...strings, ...dates, ...numbers, true, false), weight: 6 }, { arbitrary: fc.constant(null), weight: 1 });

/** [attribute, sub-attribute, schema] of the paths filters use, "nickName" being unknown. */
const userPaths: [string, string | undefined, string | undefined][] = [
  ['userName', undefined, undefined],
  ['title', undefined, undefined],
  ['id', undefined, undefined],
  ['age', undefined, undefined],
  ['active', undefined, undefined],
  ['roles', undefined, undefined],
  ['emails', undefined, undefined],
  ['emails', 'value', undefined],
  ['emails', 'type', undefined],
  ['emails', 'primary', undefined],
  ['name', undefined, undefined],
  ['name', 'givenName', undefined],
  ['meta', 'created', undefined],
  ['nickName', undefined, undefined],
  ['userName', undefined, USER_SCHEMA.core],
  ['employeeNumber', undefined, USER_SCHEMA.enterprise],
  ['manager', 'value', USER_SCHEMA.enterprise],
  ['manager', undefined, USER_SCHEMA.enterprise],
];

export const arbitraryUserPath: fc.Arbitrary<AttributePath> = fc
  .constantFrom(...userPaths)
  .chain(([name, sub, schema]) =>
    fc.tuple(randomCase(name), sub === undefined ? fc.constant(undefined) : randomCase(sub)).map(([n, s]) => f.path(n, s, schema)),
  );

/** One comparison over the User schema: sharper than whole filters at telling operators apart. */
export const arbitraryUserComparison: fc.Arbitrary<Filter> = fc
  .tuple(arbitraryUserPath, fc.constantFrom(...COMPARE_OPERATORS), poolValue)
  .map(([p, op, v]) => f.compare(p, op, v));

const elementPath = fc.constantFrom('value', 'type', 'primary', 'display', 'givenName').chain(randomCase).map((n) => f.path(n));
export const arbitraryUserFilter: fc.Arbitrary<Filter> = arbitraryFilterOver(
  arbitraryUserPath,
  poolValue,
  fc
    .tuple(fc.constantFrom('emails', 'EMAILS', 'name'), arbitraryFilterOver(elementPath, poolValue, undefined, 2))
    .map(([n, inner]) => f.valuePath(f.path(n), inner)),
  3,
);

const maybe = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined, freq: 3 });
const stringish = fc.oneof(fc.constantFrom<unknown>(...strings), fc.constant(null));
const email = fc.oneof(
  fc.record({ value: maybe(stringish), type: maybe(stringish), primary: maybe(fc.boolean()), display: maybe(fc.constant('')) }, { requiredKeys: [] }),
  fc.constant<unknown>('loose@example.com'),
);

/** A User-like resource: keys in random case, values sometimes null, empty, missing or of the wrong type. */
export const arbitraryUser: fc.Arbitrary<Record<string, unknown>> = fc
  .record(
    {
      schemas: fc.subarray([USER_SCHEMA.core, USER_SCHEMA.enterprise]),
      userName: stringish,
      title: fc.oneof(stringish, fc.constantFrom<unknown>([], ['Tour Guide', 'b'], 30)),
      id: fc.constantFrom<unknown>('abc', 'ABC'),
      age: fc.oneof(fc.constantFrom<unknown>(...numbers), fc.constant('30')),
      active: fc.constantFrom<unknown>(true, false, null, 'true'),
      roles: fc.array(stringish, { maxLength: 3 }),
      emails: fc.oneof(fc.array(email, { maxLength: 3 }), email),
      name: fc.oneof(fc.record({ givenName: maybe(stringish), value: maybe(stringish) }, { requiredKeys: [] }), stringish),
      meta: fc.record({ created: fc.constantFrom<unknown>(...dates, null) }),
      [USER_SCHEMA.enterprise]: fc.record(
        { employeeNumber: maybe(fc.constantFrom<unknown>('701984', 30, '')), manager: maybe(fc.record({ value: stringish })) },
        { requiredKeys: [] },
      ),
    },
    { requiredKeys: ['schemas'] },
  )
  .chain((user) =>
    fc
      .tuple(...Object.keys(user).map((k) => (k.includes(':') || k === 'schemas' ? fc.constant(k) : randomCase(k))))
      .map((keys) => Object.fromEntries(Object.entries(user).map(([, v], i) => [keys[i]!, v]))),
  );

// ---------------------------------------------------------------------------------------------
// The reference: a deliberately plain reading of the rules in filter-match.ts, shared by the
// property tests here and over HTTP (test/integration/scim-users.test.ts). It lower-cases every key
// of the resource first, and is told which lower-case "attr.sub" keys are caseExact and dateTime.

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

function lowerKeys(value: Json): Json {
  if (Array.isArray(value)) return value.map(lowerKeys);
  if (value === null || typeof value !== 'object') return value;
  const out: Obj = {};
  for (const [k, v] of Object.entries(value)) out[k.toLowerCase()] = lowerKeys(v);
  return out;
}

const isObj = (v: Json | undefined): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const asList = (v: Json | undefined): Json[] => (v === undefined ? [] : Array.isArray(v) ? v : [v]);

function present(v: Json | undefined): boolean {
  if (v === undefined || v === null || v === '') return false;
  if (Array.isArray(v)) return v.some(present);
  if (isObj(v)) return Object.values(v).some(present);
  return true;
}

function instantOf(s: string): number | null {
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?$/.test(s)) return null;
  const t = new Date(/(Z|[+-]\d\d:\d\d)$/.test(s) ? s : s + 'Z').getTime();
  return Number.isNaN(t) ? null : t;
}

function sign(a: string | number, b: string | number): number {
  if (a < b) return -1;
  if (a > b) return 1;
  return 0;
}

/** One value against one literal; `key` is the lower-case "attr.sub" the value sits at. */
function compareOne(op: string, actual: Json, expected: Json, key: string, schema: ReferenceSchema): boolean {
  if (expected === null || actual === null || typeof actual !== typeof expected) return false;
  if (typeof actual === 'boolean') return (op === 'eq' && actual === expected) || (op === 'ne' && actual !== expected);
  let a: string | number = actual as string | number;
  let e: string | number = expected as string | number;
  if (typeof a === 'string' && typeof e === 'string') {
    if (['co', 'sw', 'ew'].includes(op)) {
      if (!schema.caseExact.includes(key)) [a, e] = [a.toLowerCase(), e.toLowerCase()];
      return op === 'co' ? a.indexOf(e) !== -1 : op === 'sw' ? a.slice(0, e.length) === e : a.length >= e.length && a.slice(a.length - e.length) === e;
    }
    if (schema.dateTime.includes(key)) {
      const [ia, ie] = [instantOf(a), instantOf(e)];
      if (ia === null || ie === null) return false;
      [a, e] = [ia, ie];
    } else if (!schema.caseExact.includes(key)) {
      [a, e] = [a.toLowerCase(), e.toLowerCase()];
    }
  } else if (['co', 'sw', 'ew'].includes(op)) {
    return false;
  }
  const s = sign(a, e);
  return { eq: s === 0, ne: s !== 0, gt: s > 0, ge: s >= 0, lt: s < 0, le: s <= 0 }[op] ?? false;
}

/** The values at `path` in `scope` (a lower-cased object): extension, core schema or top level. */
function valuesAt(scope: Obj, path: AttributePath): Json[] {
  let base: Json | undefined = scope;
  if (path.schema !== undefined) {
    const urn = path.schema.toLowerCase();
    const listed = asList(scope.schemas).some((s) => typeof s === 'string' && s.toLowerCase() === urn);
    base = isObj(scope[urn]) ? scope[urn] : listed ? scope : undefined;
  }
  if (!isObj(base)) return [];
  const own = asList(base[path.name.toLowerCase()]);
  if (path.subAttribute === undefined) return own;
  return own.flatMap((v) => (isObj(v) ? asList(v[path.subAttribute!.toLowerCase()]) : []));
}

function reference(filter: Filter, scope: Obj, schema: ReferenceSchema, parent = ''): boolean {
  if (filter.kind === 'And') return filter.filters.every((x) => reference(x, scope, schema, parent));
  if (filter.kind === 'Or') return filter.filters.some((x) => reference(x, scope, schema, parent));
  if (filter.kind === 'Not') return !reference(filter.filter, scope, schema, parent);
  if (filter.kind === 'ValuePath') {
    const elements = valuesAt(scope, filter.path).filter(isObj);
    return elements.some((el) => reference(filter.filter, el, schema, filter.path.name.toLowerCase()));
  }
  const values = valuesAt(scope, filter.path);
  if (filter.kind === 'Present') return values.some(present);
  const written = [parent, filter.path.name, filter.path.subAttribute].filter((x) => x).join('.').toLowerCase();
  if (filter.value === null) {
    if (filter.operator === 'eq') return !values.some(present);
    if (filter.operator === 'ne') return values.some(present);
    return false;
  }
  for (const v of values) {
    const [targets, key] = isObj(v) && filter.path.subAttribute === undefined ? [asList(v.value), `${written}.value`] : [[v], written];
    for (const t of targets) if (compareOne(filter.operator, t, filter.value, key, schema)) return true;
  }
  return false;
}

/** What the reference knows of a schema: the lower-case "attr.sub" keys that are caseExact or dateTime. */
export interface ReferenceSchema {
  caseExact: readonly string[];
  dateTime: readonly string[];
}

/** The small schema of `arbitraryUser`: "id" is caseExact and "meta.created" a dateTime. */
export const SMALL_USER_SCHEMA: ReferenceSchema = { caseExact: ['id'], dateTime: ['meta.created'] };

/** Whether `resource` matches `filter`, by the reference reading of RFC 7644 §3.4.2.2. */
export function referenceMatches(filter: Filter, resource: unknown, schema: ReferenceSchema = SMALL_USER_SCHEMA): boolean {
  return reference(filter, lowerKeys(resource as Json) as Obj, schema);
}
