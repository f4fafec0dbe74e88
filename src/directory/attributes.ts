// The attribute rules of users and groups (lengths, patterns, required members, multi-valued
// lists with one primary) and UpdateUser/UpdateGroup operations applied by attribute path.

import { invalidAttribute } from './directory-errors.js';
import type { ExternalId, GroupProfile, UserExtensions, UserProfile, UserStatus } from './directory-store.js';

export const TEXT_PATTERN = /^[\p{L}\p{M}\p{S}\p{N}\p{P}\t\n\r \u00a0\u3000]+$/u;
export const GROUP_NAME_PATTERN = /^[\p{L}\p{M}\p{S}\p{N}\p{P}\t\n\r \u00a0]+$/u;
export const USER_NAME_PATTERN = /^[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u;
export const EXTERNAL_ID_PATTERN = USER_NAME_PATTERN;
export const ISSUER_PATTERN = /^(?![Aa][Rr][Nn]:|[Aa][Ww][Ss]:)[\p{L}\p{M}\p{S}\p{N}\p{P}]+$/u;
/** AWS allows one value per multi-valued attribute; Atrium allows this many, with one primary. */
export const MAX_MULTI_VALUES = 50;
export const MAX_PHOTOS = 3;
export const MAX_EXTERNAL_IDS = 10;
const RESERVED_NAMES = new Set(['administrator', 'awsadministrators']);

type Rule =
  | { kind: 'text'; max: number; pattern: RegExp }
  | { kind: 'bool' }
  | ObjectRule
  | { kind: 'list'; item: Rule; max: number };
interface ObjectRule {
  kind: 'object';
  fields: Record<string, Rule>;
  required: readonly string[];
}

const text = (max = 1024, pattern = TEXT_PATTERN): Rule => ({ kind: 'text', max, pattern });
const bool: Rule = { kind: 'bool' };
const object = (fields: Record<string, Rule>, required: readonly string[] = []): ObjectRule => ({ kind: 'object', fields, required });
const list = (item: Rule, max = MAX_MULTI_VALUES): Rule => ({ kind: 'list', item, max });
const multiValue = () => list(object({ value: text(), type: text(), primary: bool }));

const USER = object(
  {
    userName: text(128, USER_NAME_PATTERN),
    name: object(
      { formatted: text(), familyName: text(), givenName: text(), middleName: text(), honorificPrefix: text(), honorificSuffix: text() },
      ['givenName', 'familyName'],
    ),
    displayName: text(),
    nickName: text(),
    profileUrl: text(),
    emails: multiValue(),
    addresses: list(
      object({
        streetAddress: text(),
        locality: text(),
        region: text(),
        postalCode: text(),
        country: text(),
        formatted: text(),
        type: text(),
        primary: bool,
      }),
    ),
    phoneNumbers: multiValue(),
    userType: text(),
    title: text(),
    preferredLanguage: text(),
    locale: text(),
    timezone: text(),
    photos: list(object({ value: text(), type: text(), display: text(), primary: bool }, ['value']), MAX_PHOTOS),
    website: text(),
    birthdate: text(),
    roles: multiValue(),
  },
  // IAM Identity Center requires these although the API model marks them optional.
  ['userName', 'name', 'displayName'],
);

const GROUP = object({ displayName: text(1024, GROUP_NAME_PATTERN), description: text() }, ['displayName']);

const EXTERNAL_IDS = list(object({ issuer: text(100, ISSUER_PATTERN), id: text(256, EXTERNAL_ID_PATTERN) }, ['issuer', 'id']), MAX_EXTERNAL_IDS);

const EXTENSIONS: Record<string, Rule> = {
  'aws:identitystore:enterprise': object({
    employeeNumber: text(),
    costCenter: text(),
    organization: text(),
    division: text(),
    department: text(),
    manager: object({ value: text() }, ['value']),
  }),
};
export const EXTENSION_NAMES = Object.keys(EXTENSIONS);

export interface AttributeOperation {
  attributePath: string;
  /** Absent or null removes the attribute. */
  attributeValue?: unknown;
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const at = (path: string, key: string) => (path ? `${path}.${key}` : key);
const invalid = (path: string, problem: string) => invalidAttribute(`The value at '${path}' ${problem}.`);

/** The value checked against its rule, with null members dropped; empty lists count as absent. */
function check(rule: Rule, value: unknown, path: string): unknown {
  switch (rule.kind) {
    case 'text':
      if (typeof value !== 'string') throw invalid(path, 'must be a string');
      if (value.length < 1 || value.length > rule.max) throw invalid(path, `must be 1 to ${rule.max} characters long`);
      if (!rule.pattern.test(value)) throw invalid(path, 'contains characters that are not allowed');
      return value;
    case 'bool':
      if (typeof value !== 'boolean') throw invalid(path, 'must be a boolean');
      return value;
    case 'object': {
      if (!isRecord(value)) throw invalid(path, 'must be an object');
      const out: Record<string, unknown> = {};
      for (const [key, member] of Object.entries(value)) {
        const field = Object.hasOwn(rule.fields, key) ? rule.fields[key] : undefined;
        if (!field) throw invalid(at(path, key), 'is not a known attribute');
        const checked = member === null || member === undefined ? undefined : check(field, member, at(path, key));
        if (checked !== undefined) out[key] = checked;
      }
      const missing = rule.required.find((key) => out[key] === undefined);
      if (missing) throw invalid(at(path, missing), 'is required');
      return out;
    }
    case 'list': {
      if (!Array.isArray(value)) throw invalid(path, 'must be a list');
      if (value.length > rule.max) throw invalid(path, `may have at most ${rule.max} items`);
      const items = value.map((item, i) => check(rule.item, item, `${path}[${i}]`) as { primary?: boolean });
      if (items.filter((item) => item.primary === true).length > 1) throw invalid(path, 'may have only one primary item');
      return items.length > 0 ? items : undefined;
    }
  }
}

function checkName(name: string, path: string): void {
  if (RESERVED_NAMES.has(uniqueKeyOf(name))) throw invalid(path, `is a reserved name`);
}

export function checkUserProfile(value: unknown): UserProfile {
  const profile = check(USER, value, '') as UserProfile;
  checkName(profile.userName, 'userName');
  return profile;
}

export function checkGroupProfile(value: unknown): GroupProfile {
  const profile = check(GROUP, value, '') as GroupProfile;
  checkName(profile.displayName, 'displayName');
  return profile;
}

export function checkExternalIds(value: unknown): ExternalId[] {
  return (check(EXTERNAL_IDS, value, 'externalIds') as ExternalId[] | undefined) ?? [];
}

export function checkExtensionNames(names: readonly string[]): void {
  const unknown = names.find((n) => !Object.hasOwn(EXTENSIONS, n));
  if (unknown !== undefined) throw invalidAttribute(`Unknown extension ${unknown}; supported: ${EXTENSION_NAMES.join(', ')}.`);
}

export function checkUserExtensions(value: Record<string, unknown>): UserExtensions | undefined {
  checkExtensionNames(Object.keys(value));
  const out: UserExtensions = {};
  for (const [name, doc] of Object.entries(value)) {
    const checked = doc === null || doc === undefined ? undefined : check(EXTENSIONS[name] as Rule, doc, name);
    if (checked !== undefined) out[name] = checked as Record<string, unknown>;
  }
  return Object.keys(out).length > 0 ? out : undefined;
}

/** Apply every operation to a copy, then check the result as a whole: all apply or none. */
function applyOperations(root: ObjectRule, current: object, operations: readonly AttributeOperation[]): Record<string, unknown> {
  const next = structuredClone(current) as Record<string, unknown>;
  for (const { attributePath, attributeValue } of operations) {
    let rule: Rule = root;
    let target = next;
    const segments = attributePath.split('.');
    for (const [i, segment] of segments.entries()) {
      const key = rule.kind === 'object' ? Object.keys(rule.fields).find((k) => k.toLowerCase() === segment.toLowerCase()) : undefined;
      if (rule.kind !== 'object' || key === undefined) throw invalidAttribute(`Unknown attribute path '${attributePath}'.`);
      if (i < segments.length - 1) {
        rule = rule.fields[key] as Rule;
        const child = target[key];
        target = target[key] = isRecord(child) ? child : {};
      } else if (attributeValue === null || attributeValue === undefined) {
        delete target[key];
      } else {
        target[key] = attributeValue;
      }
    }
  }
  return next;
}

const USER_STATUS_PATH = 'userstatus';
const USER_STATUSES: readonly unknown[] = ['ENABLED', 'DISABLED'] satisfies UserStatus[];

/** Whether an operation sets the user's status rather than a profile attribute (paths are case-insensitive). */
export const isUserStatusOperation = (o: AttributeOperation) => o.attributePath.toLowerCase() === USER_STATUS_PATH;

/**
 * UpdateUser's operations split into the status they set (the last one wins) and the profile
 * operations. The status cannot be removed, only set to ENABLED or DISABLED.
 */
export function splitUserStatus(operations: readonly AttributeOperation[]): { status?: UserStatus; profileOperations: AttributeOperation[] } {
  let status: UserStatus | undefined;
  for (const o of operations.filter(isUserStatusOperation)) {
    if (!USER_STATUSES.includes(o.attributeValue)) throw invalid('userStatus', `must be one of: ${USER_STATUSES.join(', ')}`);
    status = o.attributeValue as UserStatus;
  }
  return { status, profileOperations: operations.filter((o) => !isUserStatusOperation(o)) };
}

export const updatedUserProfile = (current: UserProfile, operations: readonly AttributeOperation[]) =>
  checkUserProfile(applyOperations(USER, current, operations));

export const updatedGroupProfile = (current: GroupProfile, operations: readonly AttributeOperation[]) =>
  checkGroupProfile(applyOperations(GROUP, current, operations));

/** UserNames and group display names are unique without regard to case. */
export const uniqueKeyOf = (value: string) => value.normalize('NFC').toLowerCase();

/** The email GetUserId's `emails.value` finds: the primary one, else the first. */
export function primaryEmail(profile: UserProfile): string | undefined {
  return (profile.emails?.find((e) => e.primary) ?? profile.emails?.[0])?.value;
}
