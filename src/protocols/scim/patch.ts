// PATCH (RFC 7644 §3.5.2) applied in memory to a User's SCIM representation: the request is
// checked and parsed, every operation applied to a copy, and the result goes through the same
// mapping as a PUT, so one bad operation refuses the whole request.
//
// As the IdPs send it: op names in any case ("Replace"), paths with value filters
// (`emails[type eq "work"].value`), path-less values whose keys are paths or the extension's URN,
// and Entra ID's `manager` given as the manager's id alone, or on the path `manager` (no URN) as a
// list of one `{"$ref", "value"}`. `add` through a filter that matches nothing creates the element
// the filter's equalities describe; `replace` then answers noTarget.

import { ScimError } from './errors.js';
import type { Filter } from './filter.js';
import { matches } from './filter-match.js';
import { parsePath, type PatchPath } from './path.js';
import { ENTERPRISE_USER_SCHEMA, PATCH_OP_SCHEMA, USER_SCHEMA, userAttribute, type AttributeDefinition } from './schemas.js';
import { isUnkeptDisplay, qualifiedUserPath, type ScimObject } from './user-mapping.js';

export type PatchOp = 'add' | 'replace' | 'remove';

export interface PatchOperation {
  op: PatchOp;
  path?: PatchPath;
  /** The path as sent, for messages. */
  pathText?: string;
  value?: unknown;
}

/** More operations than this in one request is a 400 tooMany. */
export const MAX_PATCH_OPERATIONS = 1000;

const isObject = (v: unknown): v is ScimObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const lower = (s: string) => s.toLowerCase();
const invalidSyntax = (detail: string) => new ScimError(400, 'invalidSyntax', detail);
const invalidValue = (detail: string) => new ScimError(400, 'invalidValue', detail);
const invalidPath = (detail: string) => new ScimError(400, 'invalidPath', detail);
const noTarget = (detail: string) => new ScimError(400, 'noTarget', detail);
const memberOf = (o: ScimObject, name: string) => Object.keys(o).find((k) => lower(k) === lower(name));

/** The PatchOp message's operations, checked; throws ScimError 400. */
export function parsePatchRequest(body: unknown): PatchOperation[] {
  if (!isObject(body)) throw invalidSyntax('The request body must be a JSON object.');
  const schemas = body[memberOf(body, 'schemas') ?? 'schemas'];
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && lower(s) === lower(PATCH_OP_SCHEMA))) {
    throw invalidSyntax(`"schemas" must be ["${PATCH_OP_SCHEMA}"].`);
  }
  const operations = body[memberOf(body, 'Operations') ?? 'Operations'];
  if (!Array.isArray(operations) || operations.length === 0) throw invalidSyntax('"Operations" must be a non-empty list.');
  if (operations.length > MAX_PATCH_OPERATIONS) throw new ScimError(400, 'tooMany', `At most ${MAX_PATCH_OPERATIONS} operations are allowed in one request.`);
  return operations.map((raw, i): PatchOperation => {
    if (!isObject(raw)) throw invalidSyntax(`Operations[${i}] must be an object.`);
    const field = (name: string) => raw[memberOf(raw, name) ?? name];
    const op = field('op');
    if (typeof op !== 'string' || !['add', 'replace', 'remove'].includes(lower(op))) {
      throw invalidSyntax(`Operations[${i}].op must be "add", "replace" or "remove".`);
    }
    const pathText = field('path');
    if (pathText !== undefined && typeof pathText !== 'string') throw invalidPath(`Operations[${i}].path must be a string.`);
    const value = field('value');
    return {
      op: lower(op) as PatchOp,
      ...(pathText === undefined || pathText === '' ? {} : { path: parsePath(pathText), pathText }),
      ...(value === undefined ? {} : { value }),
    };
  });
}

/** The resource after every operation, applied in order to a copy. Throws ScimError 400. */
export function applyPatch(resource: ScimObject, operations: readonly PatchOperation[]): ScimObject {
  const next = structuredClone(resource);
  for (const operation of operations) applyOperation(next, operation);
  const enterprise = next[ENTERPRISE_USER_SCHEMA];
  if (isObject(enterprise) && Object.keys(enterprise).length === 0) delete next[ENTERPRISE_USER_SCHEMA];
  return next;
}

function applyOperation(resource: ScimObject, operation: PatchOperation): void {
  const { op, path, value } = operation;
  if (path === undefined) {
    if (op === 'remove') throw noTarget('A "remove" operation needs a "path".');
    if (!isObject(value)) throw invalidValue(`An "${op}" operation without a "path" needs an object "value".`);
    for (const [key, member] of Object.entries(value)) {
      // What IdPs echo from a GET along with the change (as for groups): the resource's schemas and
      // meta, and its own id. Another id is still an attempt to change it (mutability).
      if (['schemas', 'meta'].includes(lower(key)) || (lower(key) === 'id' && member === resource.id)) continue;
      if (lower(key) === lower(ENTERPRISE_USER_SCHEMA)) {
        if (!isObject(member)) throw invalidValue(`"${ENTERPRISE_USER_SCHEMA}" must be an object.`);
        for (const [name, inner] of Object.entries(member)) applyOperation(resource, { op, path: parsePath(`${ENTERPRISE_USER_SCHEMA}:${name}`), value: inner });
      } else {
        applyOperation(resource, { op, path: parsePath(key), pathText: key, value: member });
      }
    }
    return;
  }
  const { filter } = path;
  const attribute = qualifiedUserPath(path.attribute);
  if (attribute.schema !== undefined && lower(`${attribute.schema}:${attribute.name}`) === lower(ENTERPRISE_USER_SCHEMA) && filter === undefined) {
    // The whole extension: `path` is its URN.
    if (op === 'remove') delete resource[ENTERPRISE_USER_SCHEMA];
    else applyOperation(resource, { op, value: { [ENTERPRISE_USER_SCHEMA]: value } });
    return;
  }
  const text = operation.pathText ?? attribute.name;
  const def = userAttribute({ schema: attribute.schema, name: attribute.name });
  if (def === undefined) throw invalidPath(`"${text}" is not an attribute Atrium supports; see /Schemas.`);
  if (def.mutability === 'readOnly') throw new ScimError(400, 'mutability', `"${def.name}" is read-only.`);
  const sub = attribute.subAttribute === undefined ? undefined : userAttribute(attribute);
  if (attribute.subAttribute !== undefined && sub === undefined) throw invalidPath(`"${text}" is not an attribute Atrium supports; see /Schemas.`);
  if (sub?.mutability === 'readOnly') throw new ScimError(400, 'mutability', `"${def.name}.${sub.name}" is read-only.`);
  if (op !== 'remove' && value === undefined) throw invalidValue(`An "${op}" operation needs a "value".`);
  const container = containerOf(resource, attribute.schema, op);
  if (container === undefined) return;
  if (filter !== undefined) return applyFiltered(container, def, sub, filter, operation);
  if (sub !== undefined) return applySubAttribute(container, def, sub, operation);
  applyWhole(container, def, operation);
}

/** Where the attribute lives: the resource, or the extension's object (made when adding). */
function containerOf(resource: ScimObject, schema: string | undefined, op: PatchOp): ScimObject | undefined {
  if (schema === undefined || lower(schema) === lower(USER_SCHEMA)) return resource;
  const existing = resource[ENTERPRISE_USER_SCHEMA];
  if (isObject(existing)) return existing;
  if (op === 'remove') return undefined;
  const created: ScimObject = {};
  resource[ENTERPRISE_USER_SCHEMA] = created;
  return created;
}

/** A complex value with its sub-attributes in the schema's spelling; a bare string is its `value`. */
function complexValue(def: AttributeDefinition, value: unknown, text: string): ScimObject {
  if (typeof value === 'string' && def.subAttributes?.some((s) => s.name === 'value')) return { value };
  // Entra ID sends a single-valued reference (manager) as a list of one: `[{"$ref": …, "value": …}]`.
  if (!def.multiValued && Array.isArray(value) && value.length === 1 && def.subAttributes?.some((s) => s.name === 'value')) return complexValue(def, value[0], text);
  if (!isObject(value)) throw invalidValue(`The value for "${text}" must be an object.`);
  const out: ScimObject = {};
  for (const [key, member] of Object.entries(value)) {
    if (def.multiValued && isUnkeptDisplay(key, def.subAttributes)) continue;
    const sub = def.subAttributes?.find((s) => lower(s.name) === lower(key));
    if (sub === undefined) throw invalidSyntax(`"${text}.${key}" is not an attribute Atrium supports; see /Schemas.`);
    out[sub.name] = member;
  }
  return out;
}

const listOf = (v: unknown): unknown[] => (Array.isArray(v) ? [...(v as unknown[])] : v === undefined || v === null ? [] : [v]);
const isPrimary = (v: unknown) => isObject(v) && (v.primary === true || (typeof v.primary === 'string' && lower(v.primary) === 'true'));

/** RFC 7644 §3.5.2: setting one value primary makes the others not primary. */
function keepOnePrimary(list: unknown[], touched: readonly unknown[]): unknown[] {
  const chosen = [...touched].reverse().find(isPrimary);
  if (chosen === undefined) return list;
  return list.map((item) => (item !== chosen && isPrimary(item) ? { ...(item as ScimObject), primary: false } : item));
}

function store(container: ScimObject, name: string, value: unknown): void {
  if (value === undefined || (Array.isArray(value) && value.length === 0) || (isObject(value) && Object.keys(value).length === 0)) delete container[name];
  else container[name] = value;
}

/** Strings compare without regard to case (no multi-valued user attribute is caseExact), the rest strictly. */
const sameScalar = (a: unknown, b: unknown) => (typeof a === 'string' && typeof b === 'string' ? lower(a) === lower(b) : a === b);

/**
 * Whether `element` has every sub-attribute that `described` gives (but primary and display), with
 * the same values: the same value of a multi-valued attribute. A description that gives none
 * describes nothing, so that `[{}]` cannot remove every value.
 */
function describes(described: unknown, element: unknown): boolean {
  if (!isObject(described) || !isObject(element)) return sameScalar(described, element);
  const given = Object.entries(described).filter(([k]) => k !== 'primary' && k !== 'display');
  return given.length > 0 && given.every(([k, v]) => sameScalar(v, element[k]));
}

/** An added element is the one already there with the same `value` and `type` (or the same simple value). */
const sameElement = (a: unknown, b: unknown) => (isObject(a) && isObject(b) ? sameScalar(a.value, b.value) && sameScalar(a.type, b.type) : sameScalar(a, b));

function applyWhole(container: ScimObject, def: AttributeDefinition, { op, value, pathText }: PatchOperation): void {
  const text = pathText ?? def.name;
  if (op === 'remove') {
    // RFC 7644 §3.5.2.2: a remove whose value names some of a multi-valued attribute's values
    // removes those (as Entra ID sends for group members); without one, the whole attribute.
    if (!def.multiValued || value === undefined || value === null) return void delete container[def.name];
    const named = listOf(value).map((v) => (def.type === 'complex' ? complexValue(def, v, text) : v));
    return store(container, def.name, listOf(container[def.name]).filter((e) => !named.some((n) => describes(n, e))));
  }
  if (def.multiValued) {
    const added = listOf(value).map((v) => (def.type === 'complex' ? complexValue(def, v, text) : v));
    if (op === 'replace') return store(container, def.name, keepOnePrimary(added, added));
    // RFC 7644 §3.5.2.1: a value already there is not added again; what else the added one says
    // of it (primary) is merged into it, its value and type kept as they are spelled.
    const list = listOf(container[def.name]);
    const touched: unknown[] = [];
    for (const a of added) {
      const i = list.findIndex((e) => sameElement(e, a));
      const there = list[i];
      const merged = i < 0 ? a : isObject(a) && isObject(there) ? { ...there, ...withoutKey(withoutKey(a, 'value'), 'type') } : there;
      if (i < 0) list.push(merged);
      else list[i] = merged;
      touched.push(merged);
    }
    return store(container, def.name, keepOnePrimary(list, touched));
  }
  if (def.type === 'complex') {
    const current = isObject(container[def.name]) ? (container[def.name] as ScimObject) : {};
    return store(container, def.name, value === null ? undefined : { ...current, ...complexValue(def, value, text) });
  }
  store(container, def.name, value === null ? undefined : value);
}

function applySubAttribute(container: ScimObject, def: AttributeDefinition, sub: AttributeDefinition, { op, value }: PatchOperation): void {
  if (!def.multiValued) {
    const current = isObject(container[def.name]) ? { ...(container[def.name] as ScimObject) } : {};
    if (op === 'remove' || value === null) delete current[sub.name];
    else current[sub.name] = value;
    return store(container, def.name, current);
  }
  const list = listOf(container[def.name]).filter(isObject);
  if (op === 'remove') return store(container, def.name, list.map(({ [sub.name]: _gone, ...rest }) => rest).filter((e) => Object.keys(e).length > 0));
  const next = list.length === 0 ? [{ [sub.name]: value }] : list.map((e) => ({ ...e, [sub.name]: value }));
  store(container, def.name, next);
}

function applyFiltered(container: ScimObject, def: AttributeDefinition, sub: AttributeDefinition | undefined, filter: Filter, operation: PatchOperation): void {
  const { op, value } = operation;
  const text = operation.pathText ?? def.name;
  if (!def.multiValued || def.type !== 'complex') throw invalidPath(`"${def.name}" is not a multi-valued complex attribute, so it takes no value filter.`);
  const list = listOf(container[def.name]);
  const matched = new Set(list.filter((e) => isObject(e) && matches(filter, e)));
  if (op === 'remove') {
    const next = sub === undefined ? list.filter((e) => !matched.has(e)) : list.map((e) => (matched.has(e) ? withoutKey(e as ScimObject, sub.name) : e));
    return store(container, def.name, next);
  }
  if (matched.size === 0) {
    const seed = op === 'add' ? seedOf(filter, def) : undefined;
    if (seed === undefined) throw noTarget(`No value of "${def.name}" matches "${text}".`);
    list.push(seed);
    matched.add(seed);
  }
  const touched: unknown[] = [];
  const next = list.map((e) => {
    if (!matched.has(e)) return e;
    const element = e as ScimObject;
    const changed =
      sub !== undefined
        ? { ...element, [sub.name]: value }
        : op === 'add'
          ? { ...element, ...complexValue(def, value, text) }
          : complexValue(def, value, text);
    touched.push(changed);
    return changed;
  });
  store(container, def.name, keepOnePrimary(next, touched));
}

const withoutKey = (o: ScimObject, key: string) => Object.fromEntries(Object.entries(o).filter(([k]) => k !== key));

/** The element that `type eq "work"` (or an `and` of such equalities) describes, if it describes one. */
function seedOf(filter: Filter, def: AttributeDefinition): ScimObject | undefined {
  if (filter.kind === 'Comparison' && filter.operator === 'eq' && filter.value !== null && filter.path.subAttribute === undefined) {
    const name = def.subAttributes?.find((s) => lower(s.name) === lower(filter.path.name))?.name;
    return name === undefined ? undefined : { [name]: filter.value };
  }
  if (filter.kind === 'And') {
    const parts = filter.filters.map((f) => seedOf(f, def));
    return parts.every((p) => p !== undefined) ? (Object.assign({}, ...parts) as ScimObject) : undefined;
  }
  return undefined;
}
