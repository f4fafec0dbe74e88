// SCIM Group (RFC 7643 §4.2) ↔ the directory's GroupRecord and its memberships: displayName is
// the group's DisplayName, externalId one of its ExternalIds (issuer `scim`, as for users), and
// members[] its direct members, users and groups, each `{value: id, type: "User"|"Group", $ref, display}`.
//
// Input is made canonical as for users: names in any case, read-only attributes (id, meta, a
// member's display and $ref) ignored, anything not in /Schemas a 400 invalidSyntax. A member's
// `type` is kept as what the directory checks the id against; without one, the directory looks it up.

import type { GroupMember, GroupRecord, GroupReplacement, MemberTypes, PrincipalType } from '../../directory/index.js';
import { ScimError } from './errors.js';
import { GROUP_SCHEMA } from './schemas.js';
import { SCIM_EXTERNAL_ID_ISSUER, etagOf, userLocation, type ScimObject } from './user-mapping.js';

/** One member a request names: its id, and its type when the request gives one. */
export interface MemberRef {
  id: string;
  type?: PrincipalType;
}

/** A Group as POST and PUT send it, made canonical: members in order, without repeats. */
export interface CanonicalGroup {
  displayName?: string;
  /** null: sent as null or "" (a PUT clears it); left out: not asserted. */
  externalId?: string | null;
  members: MemberRef[];
}

const isObject = (v: unknown): v is ScimObject => typeof v === 'object' && v !== null && !Array.isArray(v);
const lower = (s: string) => s.toLowerCase();
const invalidSyntax = (detail: string) => new ScimError(400, 'invalidSyntax', detail);
const invalidValue = (detail: string) => new ScimError(400, 'invalidValue', detail);

const MEMBER_TYPES: Record<string, PrincipalType> = { user: 'USER', group: 'GROUP' };

/** The member one element of `members` names: `{"value": id, "type"?: "User"|"Group"}` (Entra ID, Okta) or the id alone. */
export function memberRefOf(element: unknown, path: string): MemberRef {
  if (typeof element === 'string' && element !== '') return { id: element };
  if (!isObject(element)) throw invalidValue(`"${path}" must be an object with a "value".`);
  let value: unknown;
  let type: PrincipalType | undefined;
  for (const [key, member] of Object.entries(element)) {
    const name = lower(key);
    if (name === 'value') value = member;
    else if (name === 'type') {
      if (member === null) continue;
      if (typeof member !== 'string' || !Object.hasOwn(MEMBER_TYPES, lower(member))) throw invalidValue(`"${path}.type" must be "User" or "Group".`);
      type = MEMBER_TYPES[lower(member)];
    } else if (name !== '$ref' && name !== 'display') {
      throw invalidSyntax(`"${path}.${key}" is not an attribute of a group member; see /Schemas.`);
    }
  }
  if (typeof value !== 'string' || value === '') throw invalidValue(`"${path}.value" must be the id of a user or a group.`);
  return type === undefined ? { id: value } : { id: value, type };
}

/** Every member a `members` value names, without repeats; null and [] name none. One id given two types is refused. */
export function memberRefsOf(value: unknown, path = 'members'): MemberRef[] {
  if (value === null || value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  const byId = new Map<string, MemberRef>();
  list.forEach((element, i) => {
    const ref = memberRefOf(element, `${path}[${i}]`);
    const seen = byId.get(ref.id);
    if (seen?.type !== undefined && ref.type !== undefined && seen.type !== ref.type) throw invalidValue(`"${path}" names ${ref.id} as both a user and a group.`);
    byId.set(ref.id, seen?.type === undefined ? ref : seen);
  });
  return [...byId.values()];
}

/** The types the request gave its members, for the directory to check. */
export function memberTypesOf(refs: readonly MemberRef[]): Map<string, PrincipalType> {
  return new Map(refs.flatMap((r) => (r.type === undefined ? [] : [[r.id, r.type] as const])));
}

function stringOrUnset(value: unknown, path: string): string | undefined {
  if (value === null || value === undefined || value === '') return undefined;
  if (typeof value !== 'string') throw invalidValue(`The value of "${path}" must be a string.`);
  return value;
}

export const displayNameOf = (value: unknown): string => {
  const displayName = stringOrUnset(value, 'displayName');
  if (displayName === undefined) throw invalidValue('"displayName" is required: the directory names every group.');
  return displayName;
};

export const externalIdOf = (value: unknown) => stringOrUnset(value, 'externalId');

/** The Group of a POST or PUT body; throws ScimError 400. */
export function canonicalGroup(body: unknown): CanonicalGroup {
  if (!isObject(body)) throw invalidSyntax('The request body must be a JSON object.');
  const out: CanonicalGroup = { members: [] };
  let sawSchemas = false;
  for (const [key, value] of Object.entries(body)) {
    switch (lower(key)) {
      case 'schemas':
        sawSchemas = true;
        if (!Array.isArray(value) || !value.every((s) => typeof s === 'string')) throw invalidSyntax('"schemas" must be a list of schema URIs.');
        if (!value.some((s) => lower(s) === lower(GROUP_SCHEMA))) throw invalidSyntax(`"schemas" must include ${GROUP_SCHEMA}.`);
        // Entra ID also lists its own ".../ADSCIM/2.0/Group" schema, with no attribute under it: not
        // an extension we hold, so any attribute of it would be refused below as unknown.
        break;
      case 'displayname':
        out.displayName = displayNameOf(value);
        break;
      case 'externalid':
        // null or "": asserted as unassigned, which a PUT clears (RFC 7643 §2.5).
        out.externalId = externalIdOf(value) ?? null;
        break;
      case 'members':
        out.members = memberRefsOf(value);
        break;
      case 'id':
      case 'meta':
        // Read-only (RFC 7643 §3.1): ignored.
        break;
      default:
        throw invalidSyntax(`"${key}" is not an attribute of a Group; see /Schemas.`);
    }
  }
  if (!sawSchemas) throw invalidSyntax(`"schemas" is required and must include ${GROUP_SCHEMA}.`);
  if (out.displayName === undefined) throw invalidValue('"displayName" is required: the directory names every group.');
  return out;
}

/** The group's externalIds with ours set to `externalId` (or removed); other issuers' are kept. */
export function externalIdsWith(current: GroupRecord['externalIds'], externalId: string | undefined): GroupRecord['externalIds'] {
  const others = current.filter((e) => e.issuer !== SCIM_EXTERNAL_ID_ISSUER);
  return externalId === undefined ? others : [...others, { issuer: SCIM_EXTERNAL_ID_ISSUER, id: externalId }];
}

/** The externalId a SCIM client set on the group, if any. */
export const scimExternalIdOf = (group: Pick<GroupRecord, 'externalIds'>) => group.externalIds.find((e) => e.issuer === SCIM_EXTERNAL_ID_ISSUER)?.id;

/**
 * The group's new state as the directory takes it. The profile's description (AWS's, not in SCIM)
 * is kept; members are what `memberIds` holds now against what `known` held, with the types the
 * request gave them.
 */
export function groupReplacementOf(
  current: GroupRecord,
  next: { displayName: string; externalId: string | undefined; memberIds: ReadonlySet<string>; memberTypes?: MemberTypes },
  known: ReadonlyMap<string, GroupMember>,
): GroupReplacement {
  const memberTypes = new Map([...next.memberIds].flatMap((id) => (next.memberTypes?.has(id) ? [[id, next.memberTypes.get(id)!] as const] : [])));
  return {
    profile: { ...current.profile, displayName: next.displayName },
    externalIds: externalIdsWith(current.externalIds, next.externalId),
    addMembers: [...next.memberIds].filter((id) => !known.has(id)),
    removeMembers: [...known.keys()].filter((id) => !next.memberIds.has(id)),
    ...(memberTypes.size === 0 ? {} : { memberTypes }),
  };
}

export const groupLocation = (baseUrl: string, groupId: string) => `${baseUrl}/Groups/${groupId}`;

/** One member as SCIM shows it: a user, or a group with its $ref under /Groups. */
export const scimMemberOf = (member: GroupMember, baseUrl: string): ScimObject => ({
  value: member.memberId,
  type: member.type === 'GROUP' ? 'Group' : 'User',
  $ref: member.type === 'GROUP' ? groupLocation(baseUrl, member.memberId) : userLocation(baseUrl, member.memberId),
  ...(member.displayName === undefined ? {} : { display: member.displayName }),
});

/** The SCIM Group for a directory record; `members` undefined when they were not read (not asked for). */
export function toScimGroup(group: GroupRecord, members: readonly GroupMember[] | undefined, baseUrl: string): ScimObject {
  const externalId = scimExternalIdOf(group);
  return {
    schemas: [GROUP_SCHEMA],
    id: group.groupId,
    ...(externalId === undefined ? {} : { externalId }),
    displayName: group.profile.displayName,
    ...(members === undefined || members.length === 0 ? {} : { members: members.map((m) => scimMemberOf(m, baseUrl)) }),
    meta: recordMeta('Group', groupLocation(baseUrl, group.groupId), group),
  };
}

/** RFC 7643 §3.1's meta of a directory record (a user's would be the same). */
export const recordMeta = (resourceType: string, location: string, record: Pick<GroupRecord, 'created' | 'updated' | 'version'>) => ({
  resourceType,
  created: new Date(record.created.at).toISOString(),
  lastModified: new Date(record.updated.at).toISOString(),
  location,
  version: etagOf(record.version),
});
