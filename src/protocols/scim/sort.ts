// sortBy and sortOrder (RFC 7644 §3.4.2.3), in memory over SCIM resources: a multi-valued
// attribute sorts by its primary value (else its first), strings by the attribute's caseExact,
// and resources without a value sort last in ascending order (first in descending).

import { uniqueKeyOf } from '../../directory/index.js';
import { ScimError } from './errors.js';
import type { AttributePath } from './filter.js';
import { parsePath } from './path.js';
import { ENTERPRISE_USER_SCHEMA, GROUP_SCHEMA, USER_SCHEMA, groupAttribute, userAttribute } from './schemas.js';

type Json = Record<string, unknown>;

export interface SortOrder {
  path: AttributePath;
  descending: boolean;
  caseExact: boolean;
}

const isObject = (v: unknown): v is Json => typeof v === 'object' && v !== null && !Array.isArray(v);
const lower = uniqueKeyOf;
const member = (o: Json, name: string) => o[Object.keys(o).find((k) => lower(k) === lower(name)) ?? name];

/** The query's sort, or undefined without sortBy; an unknown attribute or order is a 400 invalidValue. */
export function sortOrderOf(sortBy: string | undefined, sortOrder: string | undefined, resource: 'User' | 'Group' = 'User'): SortOrder | undefined {
  if (sortOrder !== undefined && !/^(ascending|descending)$/i.test(sortOrder)) {
    throw new ScimError(400, 'invalidValue', '"sortOrder" must be "ascending" or "descending".');
  }
  if (sortBy === undefined || sortBy === '') return undefined;
  let path;
  try {
    path = parsePath(sortBy);
  } catch {
    throw new ScimError(400, 'invalidValue', `"sortBy" must name an attribute; "${sortBy}" does not.`);
  }
  const def = path.filter === undefined ? (resource === 'Group' ? groupAttribute : userAttribute)(path.attribute) : undefined;
  // A group's members are read only when the response carries them: they are no sort key.
  if (def === undefined || (resource === 'Group' && def.multiValued)) throw new ScimError(400, 'invalidValue', `"sortBy" must name an attribute Atrium supports; "${sortBy}" is not one.`);
  return { path: path.attribute, descending: lower(sortOrder ?? '') === 'descending', caseExact: def.caseExact ?? false };
}

/** The value a resource sorts by, or undefined. */
function sortValue(resource: Json, path: AttributePath): unknown {
  const schema = path.schema === undefined ? undefined : lower(path.schema);
  const core = schema === undefined || schema === lower(USER_SCHEMA) || schema === lower(GROUP_SCHEMA);
  const container = schema === lower(ENTERPRISE_USER_SCHEMA) ? resource[ENTERPRISE_USER_SCHEMA] : core ? resource : undefined;
  if (!isObject(container)) return undefined;
  let value = member(container, path.name);
  if (Array.isArray(value)) value = value.find((v) => isObject(v) && v.primary === true) ?? value[0];
  if (isObject(value)) value = member(value, path.subAttribute ?? 'value');
  return value === null || value === '' ? undefined : value;
}

/** The resources in the requested order; equal values keep their (id) order. */
export function sortResources<T extends Json>(resources: T[], order: SortOrder): T[] {
  const { caseExact } = order;
  const keyed = resources.map((resource) => {
    const v = sortValue(resource, order.path);
    return { resource, key: typeof v === 'string' && !caseExact ? lower(v) : v };
  });
  const direction = order.descending ? -1 : 1;
  keyed.sort((a, b) => {
    if (a.key === undefined || b.key === undefined) return a.key === b.key ? 0 : a.key === undefined ? direction : -direction;
    if (typeof a.key !== typeof b.key) return 0;
    const ka = a.key as string | number | boolean;
    const kb = b.key as string | number | boolean;
    return ka < kb ? -direction : ka > kb ? direction : 0;
  });
  return keyed.map((k) => k.resource);
}
