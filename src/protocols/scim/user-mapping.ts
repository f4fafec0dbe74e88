// SCIM User (RFC 7643 §4.1 + the enterprise extension) ↔ the directory's UserRecord. The directory
// was shaped after SCIM, so most attributes keep their names; the table is in docs/ARCHITECTURE.md.
//
// Input is made canonical first: attribute names take the schema's spelling (names are
// case-insensitive), "True"/"False" become booleans (Entra ID sends them so), null, "" and []
// mean unassigned (RFC 7643 §2.5), and read-only attributes (id, meta, groups, manager.$ref) are
// ignored. An attribute the schema does not define is a 400 invalidSyntax, never dropped silently.

import type { NewUser, UserRecord, UserReplacement } from '../../directory/index.js';
import { ScimError } from './errors.js';
import { filterNode, type AttributePath, type Filter } from './filter.js';
import {
  COMMON_ATTRIBUTES,
  ENTERPRISE_USER_ATTRIBUTES,
  ENTERPRISE_USER_SCHEMA,
  USER_ATTRIBUTES,
  USER_SCHEMA,
  userAttribute,
  type AttributeDefinition,
} from './schemas.js';

/** The issuer of the externalId a SCIM client sets, among the user's ExternalIds in identitystore. */
export const SCIM_EXTERNAL_ID_ISSUER = 'scim';
/** The directory's extension that holds the enterprise attributes. */
const ENTERPRISE_EXTENSION = 'aws:identitystore:enterprise';
/** Directory attributes with no SCIM counterpart (AWS's): kept as they are by PUT and PATCH. */
const DIRECTORY_ONLY = ['website', 'birthdate'] as const;

export type ScimObject = Record<string, unknown>;

/** A SCIM User after canonicalisation: schema spelling, real booleans, no read-only or empty values. */
export interface CanonicalUser extends ScimObject {
  /** null: sent as null or "", which a PUT asserts as unassigned (RFC 7643 §2.5); left out: not asserted. */
  externalId?: string | null;
  active?: boolean;
}

const isObject = (v: unknown): v is ScimObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const lower = (s: string) => s.toLowerCase();
const invalidSyntax = (detail: string) => new ScimError(400, 'invalidSyntax', detail);
const invalidValue = (detail: string) => new ScimError(400, 'invalidValue', detail);
const isEmpty = (v: unknown) => v === null || v === undefined || v === '' || (Array.isArray(v) && v.length === 0);

/** A boolean, or Entra ID's "True"/"False" in any case. */
export function booleanOf(value: unknown, path: string): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string' && /^(true|false)$/i.test(value)) return lower(value) === 'true';
  throw invalidValue(`The value of "${path}" must be a boolean.`);
}

function canonicalValue(def: AttributeDefinition, value: unknown, path: string): unknown {
  switch (def.type) {
    case 'boolean':
      return booleanOf(value, path);
    case 'complex': {
      if (!isObject(value)) throw invalidValue(`The value of "${path}" must be an object.`);
      const out = canonicalObject(value, def.subAttributes ?? [], `${path}.`, def.multiValued);
      return Object.keys(out).length > 0 ? out : undefined;
    }
    default:
      if (typeof value !== 'string') throw invalidValue(`The value of "${path}" must be a string.`);
      return value;
  }
}

function canonicalAttribute(def: AttributeDefinition, value: unknown, path: string): unknown {
  if (isEmpty(value)) return undefined;
  if (!def.multiValued) {
    if (Array.isArray(value)) throw invalidValue(`"${path}" takes a single value, not a list.`);
    return canonicalValue(def, value, path);
  }
  const items = (Array.isArray(value) ? value : [value]).map((item, i) => (isEmpty(item) ? undefined : canonicalValue(def, item, `${path}[${i}]`)));
  const kept = items.filter((item) => item !== undefined);
  return kept.length > 0 ? kept : undefined;
}

/**
 * `display` of an email, phone number or address (RFC 7643 §2.4's sub-attribute of every
 * multi-valued attribute): Okta sends back what a GET showed it, and the directory, like AWS's,
 * has nowhere to keep it (photos aside). It is ignored, as `manager.displayName` is; the schema
 * publishes it as never returned.
 */
export const isUnkeptDisplay = (key: string, subAttributes: readonly AttributeDefinition[] = []) =>
  lower(key) === 'display' && !subAttributes.some((d) => d.name === 'display' && d.returned !== 'never');

/**
 * Entra ID's `manager` (and any other enterprise attribute named without its URN, which the core
 * schema does not have) as the enterprise extension's attribute, in PATCH paths and filters.
 */
export function qualifiedUserPath(path: AttributePath): AttributePath {
  if (path.schema !== undefined || userAttribute({ name: path.name }) !== undefined) return path;
  if (userAttribute({ schema: ENTERPRISE_USER_SCHEMA, name: path.name }) === undefined) return path;
  return filterNode.path(path.name, path.subAttribute, ENTERPRISE_USER_SCHEMA);
}

/** The filter with `qualifiedUserPath` applied to its top-level attribute paths. */
export function qualifiedUserFilter(filter: Filter): Filter {
  switch (filter.kind) {
    case 'Comparison':
      return filterNode.compare(qualifiedUserPath(filter.path), filter.operator, filter.value);
    case 'Present':
      return filterNode.present(qualifiedUserPath(filter.path));
    case 'And':
      return filterNode.and(filter.filters.map(qualifiedUserFilter));
    case 'Or':
      return filterNode.or(filter.filters.map(qualifiedUserFilter));
    case 'Not':
      return filterNode.not(qualifiedUserFilter(filter.filter));
    case 'ValuePath':
      // Inside "[...]" the names are the element's sub-attributes.
      return filterNode.valuePath(qualifiedUserPath(filter.path), filter.filter);
  }
}

/** The object's attributes by `defs`, read-only ones left out; an unknown name is a 400. */
function canonicalObject(value: ScimObject, defs: readonly AttributeDefinition[], prefix: string, element = false): ScimObject {
  const out: ScimObject = {};
  for (const [key, member] of Object.entries(value)) {
    if (element && isUnkeptDisplay(key, defs)) continue;
    const def = defs.find((d) => lower(d.name) === lower(key));
    if (def === undefined) throw invalidSyntax(`"${prefix}${key}" is not an attribute Atrium supports; see /Schemas.`);
    if (def.mutability === 'readOnly') continue;
    const canonical = canonicalAttribute(def, member, `${prefix}${def.name}`);
    if (canonical !== undefined) out[def.name] = canonical;
  }
  return out;
}

/** The enterprise extension; Entra ID sends `manager` as the manager's id alone. */
function canonicalEnterprise(value: unknown): ScimObject | undefined {
  if (isEmpty(value)) return undefined;
  if (!isObject(value)) throw invalidValue(`"${ENTERPRISE_USER_SCHEMA}" must be an object.`);
  const managerKey = Object.keys(value).find((k) => lower(k) === 'manager');
  const manager = managerKey === undefined ? undefined : value[managerKey];
  const input = typeof manager === 'string' && managerKey !== undefined ? { ...value, [managerKey]: { value: manager } } : value;
  const out = canonicalObject(input, ENTERPRISE_USER_ATTRIBUTES, `${ENTERPRISE_USER_SCHEMA}:`);
  return Object.keys(out).length > 0 ? out : undefined;
}

/** A request's User (POST, PUT, or the result of PATCH) made canonical; throws ScimError 400. */
export function canonicalUser(body: unknown): CanonicalUser {
  if (!isObject(body)) throw invalidSyntax('The request body must be a JSON object.');
  const out: CanonicalUser = {};
  let sawSchemas = false;
  for (const [key, value] of Object.entries(body)) {
    const name = lower(key);
    if (name === 'schemas') {
      sawSchemas = true;
      if (!Array.isArray(value) || !value.every((s) => typeof s === 'string')) throw invalidSyntax('"schemas" must be a list of schema URIs.');
      const listed = value.map(lower);
      if (!listed.includes(lower(USER_SCHEMA))) throw invalidSyntax(`"schemas" must include ${USER_SCHEMA}.`);
      const unknown = value.find((s) => lower(s) !== lower(USER_SCHEMA) && lower(s) !== lower(ENTERPRISE_USER_SCHEMA));
      if (unknown !== undefined) throw invalidSyntax(`The schema ${unknown} is not supported; see /Schemas.`);
    } else if (name === lower(ENTERPRISE_USER_SCHEMA)) {
      const enterprise = canonicalEnterprise(value);
      if (enterprise !== undefined) out[ENTERPRISE_USER_SCHEMA] = enterprise;
    } else if (name === 'password') {
      throw invalidValue('Passwords cannot be set through SCIM: users sign in through the identity provider.');
    } else if (name === 'groups') {
      // Read-only in RFC 7643: memberships are changed through /Groups.
    } else {
      const def = [...USER_ATTRIBUTES, ...COMMON_ATTRIBUTES].find((d) => lower(d.name) === name);
      if (def === undefined) throw invalidSyntax(`"${key}" is not an attribute Atrium supports; see /Schemas.`);
      if (def.mutability === 'readOnly') continue;
      const canonical = canonicalAttribute(def, value, def.name);
      if (canonical !== undefined) out[def.name] = canonical;
      else if (def.name === 'externalId') out.externalId = null;
    }
  }
  if (!sawSchemas) {
    throw invalidSyntax(`"schemas" is required and must include ${USER_SCHEMA}.`);
  }
  return out;
}

/** RFC 7643 does not require displayName, the directory (like AWS) does: the name stands in. */
function displayNameOf(user: CanonicalUser): string | undefined {
  if (typeof user.displayName === 'string') return user.displayName;
  const name = isObject(user.name) ? user.name : {};
  if (typeof name.formatted === 'string') return name.formatted;
  const parts = [name.givenName, name.familyName].filter((p) => typeof p === 'string');
  return parts.length > 0 ? parts.join(' ') : (user.userName as string | undefined);
}

const PROFILE_ATTRIBUTES = USER_ATTRIBUTES.map((a) => a.name).filter((n) => n !== 'active');

/** The directory's profile, extensions and status from a canonical SCIM User. */
export function directoryUserOf(user: CanonicalUser): { profile: ScimObject; extensions?: ScimObject; active?: boolean; externalId?: string | null } {
  const profile: ScimObject = {};
  for (const name of PROFILE_ATTRIBUTES) if (user[name] !== undefined) profile[name] = user[name];
  const displayName = displayNameOf(user);
  if (displayName !== undefined) profile.displayName = displayName;
  const enterprise = user[ENTERPRISE_USER_SCHEMA] as ScimObject | undefined;
  return {
    profile,
    ...(enterprise === undefined ? {} : { extensions: { [ENTERPRISE_EXTENSION]: enterprise } }),
    ...(user.active === undefined ? {} : { active: user.active }),
    ...(user.externalId === undefined ? {} : { externalId: user.externalId }),
  };
}

/** POST /Users: a new, enabled user unless `active` is false. */
export function newUserOf(user: CanonicalUser): { user: NewUser; active: boolean } {
  const mapped = directoryUserOf(user);
  return {
    user: {
      profile: mapped.profile,
      ...(mapped.extensions === undefined ? {} : { extensions: mapped.extensions }),
      ...(mapped.externalId == null ? {} : { externalIds: [{ issuer: SCIM_EXTERNAL_ID_ISSUER, id: mapped.externalId }] }),
    },
    active: mapped.active ?? true,
  };
}

/**
 * PUT and PATCH: the whole user replaced by `user`. Kept from `current`: AWS-only attributes
 * (website, birthdate), other issuers' external ids, the status when `user` has no `active`
 * (RFC 7643 gives it no default: a PATCH that removes it, or sets it to null, must not turn a
 * deprovisioned user back on), and, when `keepUnasserted` (PUT, where RFC 7644 §3.5.1 lets us
 * treat an omitted attribute as not asserted), `externalId` (one sent as null or "" is cleared).
 */
export function replacementOf(current: UserRecord, user: CanonicalUser, keepUnasserted: boolean): UserReplacement {
  const mapped = directoryUserOf(user);
  const profile = { ...mapped.profile };
  for (const name of DIRECTORY_ONLY) if (current.profile[name] !== undefined) profile[name] = current.profile[name];
  const extensions = { ...current.extensions };
  if (mapped.extensions === undefined) delete extensions[ENTERPRISE_EXTENSION];
  else Object.assign(extensions, mapped.extensions);
  const others = current.externalIds.filter((e) => e.issuer !== SCIM_EXTERNAL_ID_ISSUER);
  const ours = current.externalIds.filter((e) => e.issuer === SCIM_EXTERNAL_ID_ISSUER);
  // Sent as null or "": cleared, by PUT too.
  const externalId = mapped.externalId === null ? undefined : (mapped.externalId ?? (keepUnasserted ? ours[0]?.id : undefined));
  const active = mapped.active ?? current.status === 'ENABLED';
  return {
    profile,
    ...(Object.keys(extensions).length > 0 ? { extensions } : {}),
    status: active ? 'ENABLED' : 'DISABLED',
    externalIds: [...others, ...(externalId === undefined ? [] : [{ issuer: SCIM_EXTERNAL_ID_ISSUER, id: externalId }])],
  };
}

export const userLocation = (baseUrl: string, userId: string) => `${baseUrl}/Users/${userId}`;
export const etagOf = (version: number) => `W/"${version}"`;

/** The SCIM User for a directory record, with its meta; `baseUrl` ends in /scim/v2. */
export function toScimUser(user: UserRecord, baseUrl: string): ScimObject {
  const { website: _website, birthdate: _birthdate, ...profile } = user.profile;
  const enterprise = user.extensions?.[ENTERPRISE_EXTENSION];
  const manager = enterprise?.manager as { value?: string } | undefined;
  const externalId = user.externalIds.find((e) => e.issuer === SCIM_EXTERNAL_ID_ISSUER)?.id;
  return {
    schemas: enterprise === undefined ? [USER_SCHEMA] : [USER_SCHEMA, ENTERPRISE_USER_SCHEMA],
    id: user.userId,
    ...(externalId === undefined ? {} : { externalId }),
    ...profile,
    active: user.status === 'ENABLED',
    ...(enterprise === undefined
      ? {}
      : {
          [ENTERPRISE_USER_SCHEMA]: {
            ...enterprise,
            ...(manager?.value === undefined ? {} : { manager: { value: manager.value, $ref: userLocation(baseUrl, manager.value) } }),
          },
        }),
    meta: {
      resourceType: 'User',
      created: new Date(user.created.at).toISOString(),
      lastModified: new Date(user.updated.at).toISOString(),
      location: userLocation(baseUrl, user.userId),
      version: etagOf(user.version),
    },
  };
}
