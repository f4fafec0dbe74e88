// `attributes` and `excludedAttributes` (RFC 7644 §3.4.2.5, §3.9): which attributes a response
// carries. Names are case-insensitive, may be schema-qualified and may name a sub-attribute;
// `id` and `schemas` are always returned (RFC 7643: returned "always").

import { ScimError } from './errors.js';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA } from './schemas.js';

type Json = Record<string, unknown>;

const ALWAYS = new Set(['id', 'schemas']);
const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const lower = (s: string) => s.toLowerCase();

/** One requested attribute: the container (core or an extension URN) and the name (and sub-attribute). */
interface Selector {
  extension?: string;
  name?: string;
  sub?: string;
}

function selectorOf(text: string, core: typeof USER_SCHEMA | typeof GROUP_SCHEMA): Selector {
  const trimmed = text.trim();
  if (!/^[A-Za-z0-9:._$-]+$/.test(trimmed)) throw new ScimError(400, 'invalidValue', `"${trimmed}" is not an attribute name.`);
  let rest = trimmed;
  let extension: string | undefined;
  for (const urn of core === USER_SCHEMA ? [ENTERPRISE_USER_SCHEMA, USER_SCHEMA] : [GROUP_SCHEMA]) {
    if (lower(rest) === lower(urn)) return urn === core ? {} : { extension: urn };
    if (lower(rest).startsWith(`${lower(urn)}:`)) {
      rest = rest.slice(urn.length + 1);
      extension = urn === core ? undefined : urn;
    }
  }
  const [name, sub] = rest.split('.', 2) as [string, string | undefined];
  return { ...(extension === undefined ? {} : { extension }), name, ...(sub === undefined ? {} : { sub }) };
}

/** A comma-separated list from the query, or undefined when absent or empty; names may be qualified by the resource's core schema. */
export function selectorsOf(list: string | undefined, core: typeof USER_SCHEMA | typeof GROUP_SCHEMA = USER_SCHEMA): Selector[] | undefined {
  if (list === undefined || list.trim() === '') return undefined;
  return list.split(',').map((text) => selectorOf(text, core));
}

const keyOf = (o: Json, name: string) => Object.keys(o).find((k) => lower(k) === lower(name));

function pick(source: Json, target: Json, name: string, sub: string | undefined): void {
  const key = keyOf(source, name);
  if (key === undefined) return;
  const value = source[key];
  if (sub === undefined) return void (target[key] = value);
  const part = (v: unknown): Json => {
    const k = isObject(v) ? keyOf(v, sub) : undefined;
    return k === undefined ? {} : { [k]: (v as Json)[k] };
  };
  if (Array.isArray(value)) {
    const before: unknown[] = Array.isArray(target[key]) ? target[key] : [];
    target[key] = value.map((v, i) => ({ ...(isObject(before[i]) ? before[i] : {}), ...part(v) }));
  } else if (isObject(value)) {
    target[key] = { ...(isObject(target[key]) ? target[key] : {}), ...part(value) };
  }
}

function drop(target: Json, name: string, sub: string | undefined): void {
  const key = keyOf(target, name);
  if (key === undefined || (sub === undefined && ALWAYS.has(lower(key)))) return;
  if (sub === undefined) return void delete target[key];
  const without = (v: unknown) => (isObject(v) ? Object.fromEntries(Object.entries(v).filter(([k]) => lower(k) !== lower(sub))) : v);
  target[key] = Array.isArray(target[key]) ? target[key].map(without) : without(target[key]);
}

/** The resource with only the requested attributes (plus id and schemas), or without the excluded ones. */
export function project(resource: Json, attributes: Selector[] | undefined, excluded: Selector[] | undefined): Json {
  if (attributes !== undefined) {
    const out: Json = {};
    for (const key of Object.keys(resource)) if (ALWAYS.has(lower(key))) out[key] = resource[key];
    for (const s of attributes) {
      if (s.extension !== undefined && s.name === undefined) {
        if (resource[s.extension] !== undefined) out[s.extension] = resource[s.extension];
      } else if (s.extension !== undefined) {
        const ext = resource[s.extension];
        if (!isObject(ext)) continue;
        const target = isObject(out[s.extension]) ? (out[s.extension] as Json) : {};
        pick(ext, target, s.name!, s.sub);
        if (Object.keys(target).length > 0) out[s.extension] = target;
      } else if (s.name !== undefined) {
        pick(resource, out, s.name, s.sub);
      }
    }
    return out;
  }
  if (excluded === undefined) return resource;
  const out = structuredClone(resource);
  for (const s of excluded) {
    if (s.extension !== undefined && s.name === undefined) delete out[s.extension];
    else if (s.extension !== undefined && isObject(out[s.extension])) drop(out[s.extension] as Json, s.name!, s.sub);
    else if (s.name !== undefined && s.extension === undefined) drop(out, s.name, s.sub);
  }
  return out;
}
