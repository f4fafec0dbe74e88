// PATCH on a Group (RFC 7644 §3.5.2) as Entra ID and Okta send it: the operations are checked and
// turned into group changes before any read, then applied to the group and the members they name.
//
// Entra ID: `{"op":"Add","path":"members","value":[{"value":"<id>"},…]}`, and removal either as
// `{"op":"Remove","path":"members[value eq \"<id>\"]"}` or with the ids in `value`. Okta: `replace`
// of displayName (path-less, with the group's id in the value) and member add and remove. No cap on
// members per request; a member is a user or a group (`type` "Group", or looked up). Only the
// members an operation names are read, unless one needs them all (`replace` of members, `remove` of
// all members, or a value filter other than `value eq "…"`).

import type { GroupMember, PrincipalType } from '../../directory/index.js';
import { ScimError } from './errors.js';
import type { AttributePath, Filter } from './filter.js';
import { assertFilterComparable, matches, type AttributeCharacteristics } from './filter-match.js';
import { displayNameOf, externalIdOf, memberRefsOf, scimMemberOf, type MemberRef } from './group-mapping.js';
import type { PatchOperation } from './patch.js';
import { parsePath, type PatchPath } from './path.js';
import { GROUP_SCHEMA, groupAttribute } from './schemas.js';

/** One change to a group, checked. */
export type GroupChange =
  | { kind: 'displayName'; value: string }
  | { kind: 'externalId'; value: string | undefined }
  | { kind: 'addMembers'; members: MemberRef[] }
  | { kind: 'removeMembers'; memberIds: string[] }
  | { kind: 'removeMembersWhere'; filter: Filter }
  /** RFC 7644 §3.5.2.3: the members the filter matches are replaced by `members`; none matched is noTarget. */
  | { kind: 'replaceMembersWhere'; filter: Filter; members: MemberRef[] }
  | { kind: 'setMembers'; members: MemberRef[] };

/** The group as PATCH sees it: what SCIM can change, and the types the request gave the members it added. */
export interface GroupState {
  displayName: string;
  externalId: string | undefined;
  memberIds: Set<string>;
  memberTypes?: Map<string, PrincipalType>;
}

const lower = (s: string) => s.toLowerCase();
const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const invalidPath = (detail: string) => new ScimError(400, 'invalidPath', detail);

/** Inside `members[...]`, names are the member's sub-attributes. */
const memberCharacteristics: AttributeCharacteristics = Object.freeze({
  caseExact: (p: AttributePath) => groupAttribute({ name: 'members', subAttribute: p.name })?.caseExact ?? false,
  type: (p: AttributePath) => groupAttribute({ name: 'members', subAttribute: p.name })?.type,
});

/** `value eq "<id>"`: the one filter that names a member without reading the others. */
function namedMember(filter: Filter): string | undefined {
  const isValueEq = filter.kind === 'Comparison' && filter.operator === 'eq' && lower(filter.path.name) === 'value' && filter.path.subAttribute === undefined;
  return isValueEq && typeof filter.value === 'string' ? filter.value : undefined;
}

function changesOfPath(op: PatchOperation['op'], path: PatchPath, value: unknown, text: string): GroupChange[] {
  const { attribute, filter } = path;
  const def = groupAttribute({ schema: attribute.schema, name: attribute.name });
  if (def === undefined) throw invalidPath(`"${text}" is not an attribute of a Group; see /Schemas.`);
  if (def.mutability === 'readOnly') throw new ScimError(400, 'mutability', `"${def.name}" is read-only.`);
  if (attribute.subAttribute !== undefined) throw new ScimError(400, 'mutability', `"${text}": a member's attributes cannot be changed; remove it and add another.`);
  if (op !== 'remove' && value === undefined) throw new ScimError(400, 'invalidValue', `An "${op}" operation needs a "value".`);
  if (def.name === 'displayName') {
    if (filter !== undefined) throw invalidPath('"displayName" takes no value filter.');
    if (op === 'remove') throw new ScimError(400, 'invalidValue', '"displayName" is required: the directory names every group.');
    return [{ kind: 'displayName', value: displayNameOf(value) }];
  }
  if (def.name === 'externalId') {
    if (filter !== undefined) throw invalidPath('"externalId" takes no value filter.');
    return [{ kind: 'externalId', value: op === 'remove' ? undefined : externalIdOf(value) }];
  }
  if (def.name !== 'members') throw new ScimError(400, 'mutability', `"${def.name}" is read-only.`);
  if (filter !== undefined) {
    if (op === 'add') throw invalidPath(`"${text}": a member is added with "path": "members", not through a value filter.`);
    // Refused before any member is read, even when there is none to match.
    assertFilterComparable(filter, memberCharacteristics);
    if (op === 'replace') return [{ kind: 'replaceMembersWhere', filter, members: memberRefsOf(value) }];
    const memberId = namedMember(filter);
    return [memberId === undefined ? { kind: 'removeMembersWhere', filter } : { kind: 'removeMembers', memberIds: [memberId] }];
  }
  if (op === 'add') return [{ kind: 'addMembers', members: memberRefsOf(value) }];
  if (op === 'replace') return [{ kind: 'setMembers', members: memberRefsOf(value) }];
  // Entra ID also removes with the ids in "value"; without one, every member goes (RFC 7644 §3.5.2.2).
  return [
    value === undefined || value === null ? { kind: 'setMembers', members: [] } : { kind: 'removeMembers', memberIds: memberRefsOf(value).map((m) => m.id) },
  ];
}

/** The request's operations as group changes; throws ScimError 400 before anything is read. */
export function groupChangesOf(operations: readonly PatchOperation[]): GroupChange[] {
  return operations.flatMap(({ op, path, pathText, value }) => {
    if (path !== undefined) return changesOfPath(op, path, value, pathText ?? path.attribute.name);
    // Path-less: each key of the value is a path (Okta sends the group's id along; ids are read-only).
    if (op === 'remove') throw new ScimError(400, 'noTarget', 'A "remove" operation needs a "path".');
    if (!isObject(value)) throw new ScimError(400, 'invalidValue', `An "${op}" operation without a "path" needs an object "value".`);
    return Object.entries(value).flatMap(([key, member]) => {
      const name = lower(key).startsWith(`${lower(GROUP_SCHEMA)}:`) ? key.slice(GROUP_SCHEMA.length + 1) : key;
      if (['id', 'meta', 'schemas'].includes(lower(name))) return [];
      return changesOfPath(op, parsePath(key), member, key);
    });
  });
}

/** The members the changes need to see: those they name, or all of them. */
export function membersToRead(changes: readonly GroupChange[]): 'all' | string[] {
  const named = new Set<string>();
  for (const change of changes) {
    if (change.kind === 'setMembers' || change.kind === 'removeMembersWhere' || change.kind === 'replaceMembersWhere') return 'all';
    if (change.kind === 'addMembers') for (const m of change.members) named.add(m.id);
    if (change.kind === 'removeMembers') for (const id of change.memberIds) named.add(id);
  }
  return [...named];
}

/** The group after the changes, in order; `members` are the current members the changes read. */
export function applyGroupChanges(state: GroupState, changes: readonly GroupChange[], members: ReadonlyMap<string, GroupMember>, baseUrl: string): GroupState {
  const next: GroupState = { ...state, memberIds: new Set(state.memberIds), memberTypes: new Map(state.memberTypes) };
  const add = (refs: readonly MemberRef[]) => {
    for (const m of refs) {
      next.memberIds.add(m.id);
      if (m.type !== undefined) next.memberTypes!.set(m.id, m.type);
    }
  };
  /** The members a value filter matches. A member added earlier in this request has no display name yet, and a type only if the request gave one: it is matched with what is known. */
  const matching = (filter: Filter) =>
    [...next.memberIds].filter((id) => {
      const known = members.get(id);
      return matches(filter, known ? scimMemberOf(known, baseUrl) : addedMemberOf(id, next.memberTypes!.get(id)), memberCharacteristics);
    });
  for (const change of changes) {
    switch (change.kind) {
      case 'displayName':
        next.displayName = change.value;
        break;
      case 'externalId':
        next.externalId = change.value;
        break;
      case 'addMembers':
        add(change.members);
        break;
      case 'removeMembers':
        for (const id of change.memberIds) next.memberIds.delete(id);
        break;
      case 'setMembers':
        next.memberIds = new Set();
        add(change.members);
        break;
      case 'removeMembersWhere':
        for (const id of matching(change.filter)) next.memberIds.delete(id);
        break;
      case 'replaceMembersWhere': {
        const matched = matching(change.filter);
        if (matched.length === 0) throw new ScimError(400, 'noTarget', 'No member matches the filter of a "replace".');
        for (const id of matched) next.memberIds.delete(id);
        add(change.members);
        break;
      }
    }
  }
  return next;
}

/** A member this request added, as a value filter sees it before the directory has looked it up. */
const addedMemberOf = (id: string, type: PrincipalType | undefined) => ({ value: id, ...(type === undefined ? {} : { type: type === 'GROUP' ? 'Group' : 'User' }) });
