import { describe, expect, it } from 'vitest';
import type { GroupMember, GroupRecord } from '../../directory/index.js';
import { ScimError } from './errors.js';
import { canonicalGroup, groupReplacementOf, memberRefOf, memberRefsOf, toScimGroup } from './group-mapping.js';
import { applyGroupChanges, groupChangesOf, membersToRead } from './group-patch.js';
import { parsePatchRequest } from './patch.js';
import { GROUP_SCHEMA as GROUP, PATCH_OP_SCHEMA } from './schemas.js';

const BASE = 'https://id.example.com/scim/v2';

const group: GroupRecord = {
  identityStoreId: 'd-1234567890',
  groupId: 'g-1',
  profile: { displayName: 'Engineering', description: 'Set through identitystore' },
  externalIds: [
    { issuer: 'https://other.example.com', id: 'o-1' },
    { issuer: 'scim', id: 'okta-g1' },
  ],
  created: { at: Date.UTC(2026, 0, 2, 3, 4, 5), by: 'x' },
  updated: { at: Date.UTC(2026, 1, 2, 3, 4, 5), by: 'x' },
  version: 3,
};
const member = (memberId: string, displayName?: string, type: GroupMember['type'] = 'USER'): GroupMember => ({
  type,
  memberId,
  membershipId: `m-${memberId}`,
  ...(displayName ? { displayName } : {}),
});

/** The status and scimType a call is refused with. */
const refusal = (fn: () => unknown) => {
  try {
    fn();
  } catch (err) {
    if (err instanceof ScimError) return `${err.status} ${err.scimType}`;
    throw err;
  }
  throw new Error('not refused');
};

describe('SCIM Group mapping', () => {
  it('shows a group with its members, its externalId under the scim issuer, and meta', () => {
    expect(toScimGroup(group, [member('u-1', 'Ann'), member('u-2'), member('g-2', 'Platform', 'GROUP')], BASE)).toEqual({
      schemas: [GROUP],
      id: 'g-1',
      externalId: 'okta-g1',
      displayName: 'Engineering',
      members: [
        { value: 'u-1', type: 'User', $ref: `${BASE}/Users/u-1`, display: 'Ann' },
        { value: 'u-2', type: 'User', $ref: `${BASE}/Users/u-2` },
        { value: 'g-2', type: 'Group', $ref: `${BASE}/Groups/g-2`, display: 'Platform' },
      ],
      meta: { resourceType: 'Group', created: '2026-01-02T03:04:05.000Z', lastModified: '2026-02-02T03:04:05.000Z', location: `${BASE}/Groups/g-1`, version: 'W/"3"' },
    });
    // No members, or members not read: no attribute.
    expect(toScimGroup(group, [], BASE).members).toBeUndefined();
    expect(toScimGroup({ ...group, externalIds: [] }, undefined, BASE)).not.toHaveProperty('externalId');
  });

  it('reads POST and PUT bodies in any case, ignoring read-only attributes and repeated members', () => {
    const body = {
      Schemas: [GROUP],
      id: 'ignored',
      DISPLAYNAME: 'Sales',
      externalId: 'e-1',
      members: [{ value: 'u-1', type: 'user', display: 'Ann', $ref: 'https://x/Users/u-1' }, { Value: 'u-2' }, { value: 'u-1' }, { value: 'g-2', TYPE: 'Group' }],
      meta: { resourceType: 'Group' },
    };
    expect(canonicalGroup(body)).toEqual({
      displayName: 'Sales',
      externalId: 'e-1',
      members: [{ id: 'u-1', type: 'USER' }, { id: 'u-2' }, { id: 'g-2', type: 'GROUP' }],
    });
    expect(canonicalGroup({ schemas: [GROUP], displayName: 'x', members: null, externalId: '' })).toEqual({ displayName: 'x', members: [], externalId: null });
    // Entra ID's POST /Groups, as its provisioning documentation shows it: its own schema listed too.
    const entra = {
      schemas: [GROUP, 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group'],
      externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159',
      displayName: 'displayName',
      meta: { resourceType: 'Group' },
    };
    expect(canonicalGroup(entra)).toEqual({ displayName: 'displayName', externalId: '8aa1a0c0-c4c3-4bc0-b4a5-2ef676900159', members: [] });
  });

  it('refuses what the directory cannot hold: no name, unknown attributes, bad members', () => {
    expect(refusal(() => canonicalGroup({ displayName: 'x' }))).toBe('400 invalidSyntax');
    expect(refusal(() => canonicalGroup({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], displayName: 'x' }))).toBe('400 invalidSyntax');
    expect(refusal(() => canonicalGroup({ schemas: [GROUP, 'urn:example:ext'], displayName: 'x', 'urn:example:ext': { a: 1 } }))).toBe('400 invalidSyntax');
    expect(refusal(() => canonicalGroup({ schemas: [GROUP] }))).toBe('400 invalidValue');
    expect(refusal(() => canonicalGroup({ schemas: [GROUP], displayName: 'x', owner: 'u-1' }))).toBe('400 invalidSyntax');
    expect(refusal(() => canonicalGroup({ schemas: [GROUP], displayName: 7 }))).toBe('400 invalidValue');
    expect(memberRefOf({ value: 'g-2', type: 'Group' }, 'members[0]')).toEqual({ id: 'g-2', type: 'GROUP' });
    expect(refusal(() => memberRefOf({ value: 'u-1', type: 'Device' }, 'members[0]'))).toBe('400 invalidValue');
    expect(refusal(() => memberRefOf({ value: 'u-1', type: 7 }, 'members[0]'))).toBe('400 invalidValue');
    expect(refusal(() => memberRefOf({ type: 'User' }, 'members[0]'))).toBe('400 invalidValue');
    expect(refusal(() => memberRefOf({ value: 'u-1', primary: true }, 'members[0]'))).toBe('400 invalidSyntax');
    expect(refusal(() => memberRefsOf([{ value: 'x-1', type: 'User' }, { value: 'x-1', type: 'Group' }]))).toBe('400 invalidValue');
    expect(memberRefsOf('u-9')).toEqual([{ id: 'u-9' }]);
  });

  it('turns the new member set into additions and removals, keeping the description and other issuers', () => {
    const known = new Map([member('u-1'), member('u-2'), member('g-9', 'Old', 'GROUP')].map((m) => [m.memberId, m]));
    const memberTypes = new Map([['g-3', 'GROUP' as const], ['u-2', 'USER' as const]]);
    const replacement = groupReplacementOf(group, { displayName: 'Renamed', externalId: undefined, memberIds: new Set(['u-2', 'u-3', 'g-3']), memberTypes }, known);
    expect(replacement).toEqual({
      profile: { displayName: 'Renamed', description: 'Set through identitystore' },
      externalIds: [{ issuer: 'https://other.example.com', id: 'o-1' }],
      addMembers: ['u-3', 'g-3'],
      removeMembers: ['u-1', 'g-9'],
      // The types given go to the directory, which checks them against what the ids are.
      memberTypes,
    });
  });
});

describe('SCIM Group PATCH', () => {
  const changesOf = (...Operations: unknown[]) => groupChangesOf(parsePatchRequest({ schemas: [PATCH_OP_SCHEMA], Operations }));
  const state = () => ({ displayName: 'Engineering', externalId: 'okta-g1', memberIds: new Set(['u-1', 'u-2', 'g-1']) });
  const known = new Map([member('u-1', 'Ann'), member('u-2', 'Bob'), member('g-1', 'Ops', 'GROUP')].map((m) => [m.memberId, m]));

  it("reads Entra ID's member operations without reading other members", () => {
    const changes = changesOf(
      { op: 'Add', path: 'members', value: [{ value: 'u-3' }, { value: 'u-4' }] },
      { op: 'Remove', path: 'members[value eq "u-1"]' },
      { op: 'Remove', path: 'members', value: [{ value: 'u-4' }] },
    );
    expect(membersToRead(changes)).toEqual(['u-3', 'u-4', 'u-1']);
    expect([...applyGroupChanges(state(), changes, known, BASE).memberIds].sort()).toEqual(['g-1', 'u-2', 'u-3']);
  });

  it('adds and removes groups as members, keeping the types the request gave', () => {
    const changes = changesOf(
      { op: 'add', path: 'members', value: [{ value: 'g-2', type: 'Group' }, { value: 'u-5' }] },
      { op: 'remove', path: 'members[type eq "Group" and value eq "g-1"]' },
    );
    expect(membersToRead(changes)).toBe('all');
    const next = applyGroupChanges(state(), changes, known, BASE);
    expect([...next.memberIds].sort()).toEqual(['g-2', 'u-1', 'u-2', 'u-5']);
    expect(next.memberTypes).toEqual(new Map([['g-2', 'GROUP']]));
    // Every group goes, known or added in the same request with its type.
    const groupsGone = applyGroupChanges(state(), [...changes, ...changesOf({ op: 'remove', path: 'members[type eq "Group"]' })], known, BASE);
    expect([...groupsGone.memberIds].sort()).toEqual(['u-1', 'u-2', 'u-5']);
  });

  it("reads Okta's path-less rename with the group's id, and a replace of externalId", () => {
    const changes = changesOf({ op: 'replace', value: { id: 'g-1', displayName: 'Eng' } }, { op: 'Replace', path: 'externalId', value: 'okta-g2' });
    expect(membersToRead(changes)).toEqual([]);
    expect(applyGroupChanges(state(), changes, known, BASE)).toMatchObject({ displayName: 'Eng', externalId: 'okta-g2' });
  });

  it('reads every member for a whole replacement, a remove of all, or another value filter', () => {
    expect(membersToRead(changesOf({ op: 'replace', path: 'members', value: [{ value: 'u-9' }] }))).toBe('all');
    expect(membersToRead(changesOf({ op: 'remove', path: 'members' }))).toBe('all');
    const byDisplay = changesOf({ op: 'remove', path: 'members[display sw "a"]' });
    expect(membersToRead(byDisplay)).toBe('all');
    expect([...applyGroupChanges(state(), byDisplay, known, BASE).memberIds]).toEqual(['u-2', 'g-1']);
    expect([...applyGroupChanges(state(), changesOf({ op: 'remove', path: 'members' }), known, BASE).memberIds]).toEqual([]);
  });

  it('refuses what a group cannot take', () => {
    expect(refusal(() => changesOf({ op: 'remove', path: 'displayName' }))).toBe('400 invalidValue');
    expect(refusal(() => changesOf({ op: 'add', path: 'members[value eq "u-1"]', value: { value: 'u-1' } }))).toBe('400 invalidPath');
    expect(refusal(() => changesOf({ op: 'replace', path: 'members[value eq "u-1"].value', value: 'u-2' }))).toBe('400 mutability');
    expect(refusal(() => changesOf({ op: 'replace', path: 'id', value: 'g-2' }))).toBe('400 mutability');
    expect(refusal(() => changesOf({ op: 'add', path: 'owners', value: 'u-1' }))).toBe('400 invalidPath');
    expect(refusal(() => changesOf({ op: 'add', path: 'members' }))).toBe('400 invalidValue');
    expect(refusal(() => changesOf({ op: 'remove', value: { members: [] } }))).toBe('400 noTarget');
    expect(refusal(() => changesOf({ op: 'add', path: 'members', value: [{ value: 'g-2', type: 'Role' }] }))).toBe('400 invalidValue');
  });
});
