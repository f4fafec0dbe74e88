// The reference semantics of a SCIM filter over a plain JSON resource, in memory. The SQL
// translation must give the same answer as `matches` on every resource; the rules are below.
//
// Resolving an attribute path against a resource:
// - Names and schema URIs compare case-insensitively (RFC 7643 §2.1). Should a resource hold two
//   keys that differ only in case, the values of both count.
// - `urn:…:Schema:attr` looks in the resource's key "urn:…:Schema" (an extension) when that is an
//   object; otherwise, when "urn:…:Schema" is listed in `schemas` (the core schema), at the top
//   level; otherwise nothing is there. A bare name only looks at the top level.
// - Arrays are flattened (multi-valued attributes, and multi-valued sub-attributes), so an
//   expression is about the set of values, and it matches when ANY value matches (§3.4.2.2).
//   `not` negates the whole expression: `not (emails co "x")` means no email contains "x".
// - A comparison without a sub-attribute on a complex value compares its "value" sub-attribute
//   (`emails co "@x"` is `emails.value co "@x"`). `pr` looks at the attribute itself.
// - `attr[filter]` matches when some element of `attr` that is an object matches `filter`, with
//   the element's sub-attributes as the names. Elements that are not objects never match.
// - Unknown attributes have no values, so they match nothing but `pr`'s and `eq null`'s negations.
//
// Operators, for one value v of the attribute and the filter's literal x:
// - `pr`: some value is present: not null, not "", not an empty array, not an object whose
//   values are all absent (RFC 7643 §2.5: null and [] mean "unassigned"). 0 and false are present.
// - `eq null` is `not pr`, `ne null` is `pr` (§2.5 again). Any other operator with null: no match.
// - Types must agree; nothing is coerced: `age eq "5"` never matches age 5.
// - Strings: case-insensitive (NFC, then String.prototype.toLowerCase, on both sides) unless the attribute is
//   caseExact; eq, ne, co (contains), sw, ew, and gt/ge/lt/le by UTF-16 code units (lexicographic).
//   If the attribute's type is dateTime, eq/ne/gt/ge/lt/le compare instants instead (an xsd:dateTime
//   without zone is UTC); a value that is not a dateTime then matches nothing.
// - Numbers: numeric eq, ne, gt, ge, lt, le. co/sw/ew never match a number.
// - Booleans: eq and ne only. Ordering on an attribute whose type is boolean or binary is a 400
//   invalidFilter (§3.4.2.2), checked on the filter before any resource is read; where the type is
//   unknown, ordering on a boolean value just does not match.
// - `ne` is "some value differs" (existential, as every operator), so an absent attribute does not
//   match `ne "x"`, just as SQL's `col <> 'x'` is not true for NULL.

import { uniqueKeyOf } from '../../directory/index.js';
import { ScimError } from './errors.js';
import { filterNode, printAttributePath } from './filter.js';
import type { AttributePath, CompareOperator, CompareValue, Filter } from './filter.js';

export type AttributeType = 'string' | 'boolean' | 'decimal' | 'integer' | 'dateTime' | 'binary' | 'reference' | 'complex';

/**
 * What the evaluator needs from a schema. Paths are absolute: inside `emails[...]`, `type` is
 * asked as `emails.type`; `emails co "x"` on a complex value is asked as `emails.value`.
 */
export interface AttributeCharacteristics {
  caseExact(path: AttributePath): boolean;
  type(path: AttributePath): AttributeType | undefined;
}

const COMMON_CASE_EXACT = new Set(['id', 'externalid', 'meta.resourcetype', 'meta.location', 'meta.version']);
const COMMON_DATE_TIMES = new Set(['meta.created', 'meta.lastmodified']);
const pathKey = (path: AttributePath) =>
  path.subAttribute === undefined ? path.name.toLowerCase() : `${path.name}.${path.subAttribute}`.toLowerCase();

/**
 * RFC 7643's common attributes (§3.1): id, externalId and meta's resourceType, location and version
 * are caseExact, as is any `$ref`; meta.created and meta.lastModified are dateTime. Everything else
 * is case-insensitive with its type taken from the JSON value.
 */
export const commonAttributeCharacteristics: AttributeCharacteristics = Object.freeze({
  caseExact: (path: AttributePath) => COMMON_CASE_EXACT.has(pathKey(path)) || path.subAttribute === '$ref' || path.name === '$ref',
  type: (path: AttributePath) => (COMMON_DATE_TIMES.has(pathKey(path)) ? ('dateTime' as const) : undefined),
});

type JsonObject = Record<string, unknown>;
const isObject = (v: unknown): v is JsonObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const ORDERING = new Set<CompareOperator>(['gt', 'ge', 'lt', 'le']);

/** Does `resource` satisfy `filter`? Throws ScimError 400 invalidFilter for ordering on booleans or binaries. */
export function matches(filter: Filter, resource: JsonObject, characteristics: AttributeCharacteristics = commonAttributeCharacteristics): boolean {
  assertFilterComparable(filter, characteristics);
  return evaluate(filter, { containers: topLevel(resource), parent: undefined }, characteristics);
}

/** RFC 7644 §3.4.2.2: gt/ge/lt/le on a boolean or binary attribute is a 400 invalidFilter. */
export function assertFilterComparable(filter: Filter, characteristics: AttributeCharacteristics, parent?: AttributePath): void {
  switch (filter.kind) {
    case 'Comparison': {
      if (!ORDERING.has(filter.operator)) return;
      const path = absolute(filter.path, parent);
      const type = characteristics.type(path) === 'complex' ? characteristics.type(withValue(path)) : characteristics.type(path);
      if (type === 'boolean' || type === 'binary') {
        throw new ScimError(400, 'invalidFilter', `Operator "${filter.operator}" cannot compare ${printAttributePath(path)}, a ${type} attribute.`);
      }
      return;
    }
    case 'Present':
      return;
    case 'And':
    case 'Or':
      for (const f of filter.filters) assertFilterComparable(f, characteristics, parent);
      return;
    case 'Not':
      return assertFilterComparable(filter.filter, characteristics, parent);
    case 'ValuePath':
      return assertFilterComparable(filter.filter, characteristics, absolute(filter.path, parent));
  }
}

/** Where names resolve: the top level (or an extension), or one element of a multi-valued attribute. */
interface Scope {
  containers: (schema: string | undefined) => JsonObject[];
  /** Set inside `attr[...]`: the attribute whose element this is. */
  parent: AttributePath | undefined;
}

function topLevel(resource: JsonObject): Scope['containers'] {
  return (schema) => {
    if (schema === undefined) return [resource];
    const urn = schema.toLowerCase();
    const extensions = keysNamed(resource, urn).map((k) => resource[k]).filter(isObject);
    if (extensions.length > 0) return extensions;
    const listed = resource.schemas;
    const isCore = Array.isArray(listed) && listed.some((s) => typeof s === 'string' && s.toLowerCase() === urn);
    return isCore ? [resource] : [];
  };
}

function keysNamed(object: JsonObject, lowerName: string): string[] {
  return Object.keys(object).filter((k) => k.toLowerCase() === lowerName);
}

/** The values under `name` in each object, arrays flattened one level. */
function valuesNamed(objects: readonly unknown[], name: string): unknown[] {
  const lower = name.toLowerCase();
  const out: unknown[] = [];
  for (const o of objects) {
    if (!isObject(o)) continue;
    for (const key of keysNamed(o, lower)) {
      const v = o[key];
      if (Array.isArray(v)) out.push(...(v as unknown[]));
      else out.push(v);
    }
  }
  return out;
}

function attributeValues(path: AttributePath, scope: Scope): unknown[] {
  const values = valuesNamed(scope.containers(path.schema), path.name);
  return path.subAttribute === undefined ? values : valuesNamed(values, path.subAttribute);
}

function absolute(path: AttributePath, parent: AttributePath | undefined): AttributePath {
  return parent === undefined ? path : filterNode.path(parent.name, path.name, parent.schema);
}

function withValue(path: AttributePath): AttributePath {
  return path.subAttribute === undefined ? filterNode.path(path.name, 'value', path.schema) : path;
}

function evaluate(filter: Filter, scope: Scope, characteristics: AttributeCharacteristics): boolean {
  switch (filter.kind) {
    case 'And':
      return filter.filters.every((f) => evaluate(f, scope, characteristics));
    case 'Or':
      return filter.filters.some((f) => evaluate(f, scope, characteristics));
    case 'Not':
      return !evaluate(filter.filter, scope, characteristics);
    case 'Present':
      return attributeValues(filter.path, scope).some(isPresent);
    case 'ValuePath': {
      const parent = absolute(filter.path, scope.parent);
      return attributeValues(filter.path, scope)
        .filter(isObject)
        .some((element) => evaluate(filter.filter, { containers: () => [element], parent }, characteristics));
    }
    case 'Comparison': {
      const { operator, value } = filter;
      if (value === null) {
        if (operator === 'eq') return !attributeValues(filter.path, scope).some(isPresent);
        if (operator === 'ne') return attributeValues(filter.path, scope).some(isPresent);
        return false;
      }
      const path = absolute(filter.path, scope.parent);
      return attributeValues(filter.path, scope).some((v) => {
        // A complex value without a sub-attribute stands for its "value" sub-attribute.
        if (isObject(v) && filter.path.subAttribute === undefined) {
          const at = withValue(path);
          return valuesNamed([v], 'value').some((inner) => compare(inner, operator, value, at, characteristics));
        }
        return compare(v, operator, value, path, characteristics);
      });
    }
  }
}

function isPresent(v: unknown): boolean {
  if (v === null || v === undefined || v === '') return false;
  if (Array.isArray(v)) return v.some(isPresent);
  if (isObject(v)) return Object.values(v).some(isPresent);
  return true;
}

function compare(actual: unknown, operator: CompareOperator, expected: Exclude<CompareValue, null>, path: AttributePath, characteristics: AttributeCharacteristics): boolean {
  if (typeof expected === 'boolean') {
    if (typeof actual !== 'boolean') return false;
    return operator === 'eq' ? actual === expected : operator === 'ne' && actual !== expected;
  }
  if (typeof expected === 'number') return typeof actual === 'number' && order(actual, operator, expected);
  if (typeof actual !== 'string') return false;
  if (characteristics.type(path) === 'dateTime' && operator !== 'co' && operator !== 'sw' && operator !== 'ew') {
    const a = instant(actual);
    const x = instant(expected);
    return a !== undefined && x !== undefined && order(a, operator, x);
  }
  const exact = characteristics.caseExact(path);
  // Folded as the directory folds its unique names (NFC, then lower case): a name the index finds,
  // and uniqueness says exists, must match here too, however its accents were composed.
  const a = exact ? actual : uniqueKeyOf(actual);
  const x = exact ? expected : uniqueKeyOf(expected);
  if (operator === 'co') return a.includes(x);
  if (operator === 'sw') return a.startsWith(x);
  if (operator === 'ew') return a.endsWith(x);
  return order(a, operator, x);
}

function order<T extends number | string>(a: T, operator: CompareOperator, x: T): boolean {
  switch (operator) {
    case 'eq':
      return a === x;
    case 'ne':
      return a !== x;
    case 'gt':
      return a > x;
    case 'ge':
      return a >= x;
    case 'lt':
      return a < x;
    case 'le':
      return a <= x;
    default:
      return false; // co, sw, ew on numbers
  }
}

const XSD_DATE_TIME = /^-?\d{4,}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?(Z|[+-]\d{2}:\d{2})?$/;

/** Milliseconds since the epoch of an xsd:dateTime, or undefined; no zone means UTC. */
function instant(text: string): number | undefined {
  const m = XSD_DATE_TIME.exec(text);
  if (m === null) return undefined;
  const ms = Date.parse(m[1] === undefined ? `${text}Z` : text);
  return Number.isNaN(ms) ? undefined : ms;
}
