// SCIM 2.0 /Groups on both databases, over HTTP as an IdP calls it: create with members, every
// member returned, filters and excludedAttributes, Entra ID's member PATCHes with 1,000 users in one
// request, Okta's rename, PUT, DELETE, a removed member losing the group's role, the same group
// through identitystore, and refusals that write nothing.

import {
  DescribeGroupCommand,
  GetGroupIdCommand,
  IdentitystoreClient,
  ListGroupMembershipsCommand,
  type GroupMembership,
} from '@aws-sdk/client-identitystore';
import { GetRoleCredentialsCommand, SSOClient } from '@aws-sdk/client-sso';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCIM_ERROR_SCHEMA as ERROR } from '../../src/protocols/scim/errors.js';
import { GROUP_SCHEMA as GROUP, LIST_RESPONSE_SCHEMA as LIST, PATCH_OP_SCHEMA as PATCH_OP } from '../../src/protocols/scim/schemas.js';
import { SCIM_ADMIN_SOURCE } from '../../src/provisioning/index.js';
import { systemContext } from '../../src/shared/context.js';
import { portalFixture, seedUsers as seedStoreUsers, suffix } from '../helpers/portal-fixture.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface ScimGroup extends Json {
  id: string;
  displayName: string;
  meta: { version: string; lastModified?: string };
}
interface Reply {
  status: number;
  headers: Headers;
  json: Json;
}

describe.each(dialects())('SCIM /Groups on %s', (dialect) => {
  let server: TestServer;
  let token: string;
  let identitystore: IdentitystoreClient;
  let storeId: string;
  const adminCtx = () => systemContext(SCIM_ADMIN_SOURCE, 'us-east-1', `test-${suffix()}`);

  async function scim(method: string, path: string, opts: { body?: unknown; headers?: Record<string, string> } = {}): Promise<Reply> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...opts.headers };
    if (opts.body !== undefined) headers['content-type'] = 'application/scim+json';
    const res = await fetch(`${server.url}/scim/v2${path}`, { method, headers, body: opts.body === undefined ? undefined : JSON.stringify(opts.body) });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text === '' ? {} : (JSON.parse(text) as Json) };
  }

  function expectError(r: Reply, status: number, scimType?: string) {
    expect(r.status, JSON.stringify(r.json)).toBe(status);
    expect(r.json).toMatchObject({ schemas: [ERROR], status: String(status), detail: expect.any(String) });
    expect(r.json.scimType).toBe(scimType);
  }

  const seedUsers = (n: number, prefix?: string) => seedStoreUsers(server, n, prefix);

  const createGroup = async (body: Json): Promise<ScimGroup> => {
    const r = await scim('POST', '/Groups', { body });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    return r.json as ScimGroup;
  };
  const newGroup = (members: string[] = [], displayName = `group-${suffix()}`, externalId?: string) => ({
    schemas: [GROUP],
    displayName,
    ...(externalId === undefined ? {} : { externalId }),
    members: members.map((value) => ({ value })),
  });
  const patch = (id: string, Operations: Json[], headers?: Record<string, string>) => scim('PATCH', `/Groups/${id}`, { body: { schemas: [PATCH_OP], Operations }, headers });
  const resourcesOf = (r: Reply) => r.json.Resources as ScimGroup[];
  const memberIds = (group: Json): string[] => ((group.members ?? []) as Json[]).map((m) => m.value as string).sort();
  async function identitystoreMembers(groupId: string): Promise<string[]> {
    const all: GroupMembership[] = [];
    let NextToken: string | undefined;
    do {
      const page = await identitystore.send(new ListGroupMembershipsCommand({ IdentityStoreId: storeId, GroupId: groupId, MaxResults: 100, NextToken }));
      all.push(...page.GroupMemberships!);
      NextToken = page.NextToken;
    } while (NextToken !== undefined);
    return all.map((m) => m.MemberId!.UserId!).sort();
  }
  /** The group's successful audit events, oldest first: one per SCIM operation, listing the memberships it changed. */
  type MemberChange = { membershipId: string; memberId: { userId?: string; groupId?: string } };
  const groupEvents = async (groupId: string) =>
    (
      await server.reg.database.db
        .selectFrom('audit_events')
        .select(['event_name', 'request_parameters', 'response_elements'])
        .where('error_code', 'is', null)
        .where('event_source', '=', 'identitystore-scim.amazonaws.com')
        .orderBy('seq')
        .execute()
    )
      .filter((e) => `${e.request_parameters}${e.response_elements}`.includes(groupId))
      .map((e) => ({
        name: e.event_name,
        ...(JSON.parse(e.response_elements ?? '{}') as { membersAdded?: MemberChange[]; membersRemoved?: MemberChange[] }),
      }));
  const userIdsOf = (changes: MemberChange[] | undefined) => (changes ?? []).map((c) => c.memberId.userId).sort();

  beforeAll(async () => {
    server = await startServer(dialect);
    token = (await server.reg.scimTokens.createToken(adminCtx())).token;
    identitystore = new IdentitystoreClient(sdkOptions(server));
    storeId = server.init.identityStoreId;
  });
  afterAll(() => server?.close());

  it('publishes the Group schema and resource type', async () => {
    const schema = await scim('GET', `/Schemas/${GROUP}`);
    expect(schema.json).toMatchObject({ id: GROUP, name: 'Group' });
    const attributes = schema.json.attributes as Json[];
    expect(attributes.map((a) => a.name as string)).toEqual(['displayName', 'members']);
    expect(attributes[1]).toMatchObject({ type: 'complex', multiValued: true });
    expect((attributes[1]!.subAttributes as Json[]).map((a) => a.name as string)).toEqual(['value', '$ref', 'type', 'display']);
    expect((attributes[1]!.subAttributes as Json[]).find((a) => a.name === 'type')).toMatchObject({ canonicalValues: ['User', 'Group'] });
    const type = await scim('GET', '/ResourceTypes/Group');
    expect(type.json).toMatchObject({ id: 'Group', endpoint: '/Groups', schema: GROUP, meta: { location: `${server.url}/scim/v2/ResourceTypes/Group` } });
    expect(resourcesOf(await scim('GET', '/ResourceTypes')).map((t) => t.id)).toEqual(['User', 'Group']);
  });

  it('creates a group with its members and returns every member, as identitystore sees them', async () => {
    const users = await seedUsers(3);
    const externalId = `okta-${suffix()}`;
    const r = await scim('POST', '/Groups', { body: newGroup(users, `Engineering ${suffix()}`, externalId) });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    const id = (r.json as ScimGroup).id;
    expect(r.headers.get('location')).toBe(`${server.url}/scim/v2/Groups/${id}`);
    expect(r.headers.get('etag')).toBe('W/"1"');
    expect(r.json).toMatchObject({ schemas: [GROUP], id, externalId, meta: { resourceType: 'Group', location: `${server.url}/scim/v2/Groups/${id}`, version: 'W/"1"' } });
    expect(r.json.members).toEqual(
      users.map((value) => ({ value, type: 'User', $ref: `${server.url}/scim/v2/Users/${value}`, display: expect.stringMatching(/^Member /) })),
    );

    const got = await scim('GET', `/Groups/${id}`);
    expect(got.status).toBe(200);
    expect(got.json).toEqual(r.json);
    expect((await scim('GET', `/Groups/${id}`, { headers: { 'if-none-match': 'W/"1"' } })).status).toBe(304);

    // The same group through the AWS identitystore API: members, and the IdP's externalId.
    expect(await identitystoreMembers(id)).toEqual(users);
    const described = await identitystore.send(new DescribeGroupCommand({ IdentityStoreId: storeId, GroupId: id }));
    expect(described.ExternalIds).toEqual([{ Issuer: 'scim', Id: externalId }]);
    const found = await identitystore.send(new GetGroupIdCommand({ IdentityStoreId: storeId, AlternateIdentifier: { ExternalId: { Issuer: 'scim', Id: externalId } } }));
    expect(found.GroupId).toBe(id);
    // One event for the POST, naming each membership it made.
    const [created, ...others] = await groupEvents(id);
    expect(others).toEqual([]);
    expect(created?.name).toBe('CreateGroup');
    expect(userIdsOf(created?.membersAdded)).toEqual(users);
  });

  it('lists groups by indexed and in-memory filters, with paging, and leaves members out when asked', async () => {
    const tag = suffix();
    const users = await seedUsers(2);
    const a = await createGroup(newGroup(users, `list-${tag}-a`, `ext-${tag}-a`));
    const b = await createGroup(newGroup([users[0]!], `list-${tag}-b`));
    await createGroup(newGroup([], `list-${tag}-c`));

    const byName = await scim('GET', `/Groups?filter=${encodeURIComponent(`displayName eq "LIST-${tag}-A"`)}`);
    expect(byName.json).toMatchObject({ schemas: [LIST], totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    expect(byName.json.Resources[0]).toEqual(a);
    const byExternal = await scim('GET', `/Groups?filter=${encodeURIComponent(`externalId eq "ext-${tag}-a"`)}`);
    expect(resourcesOf(byExternal).map((g) => g.id)).toEqual([a.id]);
    const byId = await scim('GET', `/Groups?filter=${encodeURIComponent(`id eq "${b.id}"`)}`);
    expect(resourcesOf(byId).map((g) => g.id)).toEqual([b.id]);
    expect((await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq "no-such-group"')}`)).json).toMatchObject({ totalResults: 0, Resources: [] });

    // Entra ID's existence check: no members in the answer.
    const entra = await scim('GET', `/Groups?excludedAttributes=members&filter=${encodeURIComponent(`displayName eq "list-${tag}-a"`)}`);
    expect(entra.json.Resources[0].members).toBeUndefined();
    expect(entra.json.Resources[0]).toMatchObject({ id: a.id, displayName: `list-${tag}-a` });
    const single = await scim('GET', `/Groups/${a.id}?excludedAttributes=members`);
    expect(single.json.members).toBeUndefined();
    expect(Object.keys((await scim('GET', `/Groups/${a.id}?attributes=displayName`)).json).sort()).toEqual(['displayName', 'id', 'schemas']);

    const prefixed = `filter=${encodeURIComponent(`displayName sw "list-${tag}"`)}`;
    const all = await scim('GET', `/Groups?${prefixed}&sortBy=displayName&sortOrder=descending`);
    expect(all.json.totalResults).toBe(3);
    expect(resourcesOf(all).map((g) => g.displayName)).toEqual(['c', 'b', 'a'].map((x) => `list-${tag}-${x}`));
    const second = await scim('GET', `/Groups?${prefixed}&sortBy=displayName&startIndex=2&count=1`);
    expect(second.json).toMatchObject({ totalResults: 3, startIndex: 2, itemsPerPage: 1 });
    expect(second.json.Resources[0]).toEqual(b);
    // Names qualified by the Group schema's URN are the same names; User attributes are not Group ones.
    const G = 'urn:ietf:params:scim:schemas:core:2.0:Group';
    expect((await scim('GET', `/Groups/${a.id}?excludedAttributes=${encodeURIComponent(`${G}:members`)}`)).json.members).toBeUndefined();
    expect(Object.keys((await scim('GET', `/Groups/${a.id}?attributes=${encodeURIComponent(`${G}:displayName`)}`)).json).sort()).toEqual(['displayName', 'id', 'schemas']);
    const qualified = await scim('GET', `/Groups?${prefixed}&sortBy=${encodeURIComponent(`${G}:displayName`)}&sortOrder=descending`);
    expect(resourcesOf(qualified).map((g) => g.displayName)).toEqual(['c', 'b', 'a'].map((x) => `list-${tag}-${x}`));
    expectError(await scim('GET', `/Groups?${prefixed}&sortBy=userName`), 400, 'invalidValue');

    // A filter on members reads them: which groups hold this user.
    const holding = await scim('GET', `/Groups?excludedAttributes=members&filter=${encodeURIComponent(`displayName sw "list-${tag}" and members[value eq "${users[0]}"]`)}`);
    expect(resourcesOf(holding).map((g) => g.id).sort()).toEqual([a.id, b.id].sort());
    expect(resourcesOf(holding).every((g) => g.members === undefined)).toBe(true);

    expectError(await scim('GET', `/Groups?filter=${encodeURIComponent('displayName eq')}`), 400, 'invalidFilter');
    expectError(await scim('GET', `/Groups?filter=${encodeURIComponent('displayName zz "x"')}`), 400, 'invalidFilter');
    expectError(await scim('GET', '/Groups?count=ten'), 400, 'invalidValue');
  });

  it("takes Entra ID's member PATCHes: 1,000 users added in one request, removed by filter and by value", async () => {
    const users = await seedUsers(1000);
    // Entra ID's POST /Groups, with its own schema listed, then its existence check.
    const displayName = `entra-${suffix()}`;
    const group = await createGroup({
      schemas: [GROUP, 'http://schemas.microsoft.com/2006/11/ResourceManagement/ADSCIM/2.0/Group'],
      externalId: crypto.randomUUID(),
      displayName,
      meta: { resourceType: 'Group' },
    });
    const check = await scim('GET', `/Groups?excludedAttributes=members&filter=${encodeURIComponent(`displayName eq "${displayName}"`)}`);
    expect(resourcesOf(check).map((g) => g.id)).toEqual([group.id]);
    const added = await patch(group.id, [{ op: 'Add', path: 'members', value: users.map((value) => ({ value })) }]);
    expect(added.status, JSON.stringify(added.json)).toBe(200);
    expect(memberIds(added.json)).toEqual(users);
    expect(added.json.meta.version).toBe('W/"2"');
    expect(await identitystoreMembers(group.id)).toEqual(users);
    // One UpdateGroup event for the PATCH of 1,000 members, naming every one.
    const [, patched, ...more] = await groupEvents(group.id);
    expect(more).toEqual([]);
    expect(patched?.name).toBe('UpdateGroup');
    expect(userIdsOf(patched?.membersAdded)).toEqual(users);
    expect(new Set(patched?.membersAdded?.map((m) => m.membershipId)).size).toBe(1000);

    // Adding members again changes nothing; removal by a value filter, and by values.
    expect(memberIds((await patch(group.id, [{ op: 'Add', path: 'members', value: [{ value: users[0] }] }])).json)).toHaveLength(1000);
    const byFilter = await patch(group.id, [{ op: 'Remove', path: `members[value eq "${users[0]}"]` }]);
    expect(memberIds(byFilter.json)).toEqual(users.slice(1));
    const byValue = await patch(group.id, [{ op: 'Remove', path: 'members', value: users.slice(1, 501).map((value) => ({ value })) }]);
    expect(byValue.status).toBe(200);
    expect(memberIds(byValue.json)).toEqual(users.slice(501));
    // Removing one who is not a member is no change.
    expect(memberIds((await patch(group.id, [{ op: 'Remove', path: `members[value eq "${users[0]}"]` }])).json)).toEqual(users.slice(501));
    expect(await identitystoreMembers(group.id)).toEqual(users.slice(501));
    // Four PATCHes since, four events; together they name the 501 memberships that ended.
    const since = (await groupEvents(group.id)).slice(2);
    expect(since.map((e) => e.name)).toEqual(Array(4).fill('UpdateGroup'));
    expect(since.flatMap((e) => userIdsOf(e.membersRemoved)).sort()).toEqual(users.slice(0, 501).sort());

    // The response leaves the members out when asked.
    const quiet = await scim('PATCH', `/Groups/${group.id}?excludedAttributes=members`, {
      body: { schemas: [PATCH_OP], Operations: [{ op: 'Add', path: 'members', value: [{ value: users[0] }] }] },
    });
    expect(quiet.status).toBe(200);
    expect(quiet.json.members).toBeUndefined();

    // Remove without a value: every member goes.
    const emptied = await patch(group.id, [{ op: 'remove', path: 'members' }]);
    expect(emptied.json.members).toBeUndefined();
    expect(await identitystoreMembers(group.id)).toEqual([]);
  });

  it('applies concurrent member PATCHes to one group one after the other: none is lost', async () => {
    const users = await seedUsers(20);
    const group = await createGroup(newGroup());
    const replies = await Promise.all(users.map((value) => patch(group.id, [{ op: 'Add', path: 'members', value: [{ value }] }])));
    expect(replies.map((r) => r.status)).toEqual(users.map(() => 200));
    const got = await scim('GET', `/Groups/${group.id}`);
    expect(memberIds(got.json)).toEqual(users);
    expect(got.json.meta.version).toBe(`W/"${users.length + 1}"`);
  });

  it('changes nothing, not even the version, for a member added again, a non-member removed or the same name', async () => {
    const [member, other] = await seedUsers(2);
    const group = await createGroup(newGroup([member!]));
    const version = group.meta.version;
    for (const operations of [
      [{ op: 'add', path: 'members', value: [{ value: member }] }],
      [{ op: 'remove', path: `members[value eq "${other}"]` }],
      [{ op: 'remove', path: 'members', value: [{ value: other }] }],
      [{ op: 'replace', path: 'displayName', value: group.displayName }],
    ]) {
      const r = await patch(group.id, operations, { 'if-match': version });
      expect(r.status, JSON.stringify(r.json)).toBe(200);
      expect(r.headers.get('etag')).toBe(version);
    }
    const got = await scim('GET', `/Groups/${group.id}`);
    expect(got.json.meta).toMatchObject({ version, lastModified: group.meta.lastModified });
    expect(memberIds(got.json)).toEqual([member]);
  });

  it('replaces the members a value filter matches (RFC 7644 §3.5.2.3), answers noTarget when none does, and adds none through a filter', async () => {
    const [a, b, c] = await seedUsers(3);
    const group = await createGroup(newGroup([a!, b!]));
    const replaced = await patch(group.id, [{ op: 'replace', path: `members[value eq "${a}"]`, value: [{ value: c }] }]);
    expect(replaced.status, JSON.stringify(replaced.json)).toBe(200);
    expect(memberIds(replaced.json)).toEqual([b, c].sort());
    expect(await identitystoreMembers(group.id)).toEqual([b, c].sort());
    // Nothing matches: noTarget, and nothing is written.
    const version = replaced.json.meta.version;
    expectError(await patch(group.id, [{ op: 'replace', path: `members[value eq "${a}"]`, value: [{ value: a }] }]), 400, 'noTarget');
    const after = await scim('GET', `/Groups/${group.id}`);
    expect(after.json.meta.version).toBe(version);
    expect(memberIds(after.json)).toEqual([b, c].sort());
    expectError(await patch(group.id, [{ op: 'add', path: `members[value eq "${a}"]`, value: [{ value: a }] }]), 400, 'invalidPath');
  });

  it("takes Okta's rename and member changes, PUT's whole member set, and DELETE", async () => {
    const users = await seedUsers(4);
    const group = await createGroup(newGroup(users.slice(0, 2), `okta-${suffix()}`, 'okta-ext'));
    const renamed = `okta-renamed-${suffix()}`;
    const r = await patch(group.id, [{ op: 'replace', value: { id: group.id, displayName: renamed } }]);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json).toMatchObject({ displayName: renamed, externalId: 'okta-ext' });
    expect(memberIds(r.json)).toEqual(users.slice(0, 2));
    const moved = await patch(group.id, [
      { op: 'add', path: 'members', value: [{ value: users[2], display: 'ignored' }] },
      { op: 'remove', path: 'members', value: [{ value: users[0] }] },
      { op: 'replace', path: 'displayName', value: `${renamed}-2` },
    ]);
    expect(moved.json.displayName).toBe(`${renamed}-2`);
    expect(memberIds(moved.json)).toEqual([users[1], users[2]].sort());

    // PUT: the whole member set; the externalId, not sent, is kept.
    const put = await scim('PUT', `/Groups/${group.id}`, { body: { schemas: [GROUP], displayName: `${renamed}-3`, members: [{ value: users[2] }, { value: users[3] }] } });
    expect(put.status, JSON.stringify(put.json)).toBe(200);
    expect(put.json).toMatchObject({ displayName: `${renamed}-3`, externalId: 'okta-ext' });
    expect(memberIds(put.json)).toEqual([users[2], users[3]].sort());
    expect(await identitystoreMembers(group.id)).toEqual([users[2], users[3]].sort());
    // Sent as null, the externalId is asserted unassigned: PUT clears it (RFC 7643 §2.5).
    const cleared = await scim('PUT', `/Groups/${group.id}`, { body: { schemas: [GROUP], displayName: `${renamed}-3`, externalId: null, members: [{ value: users[2] }, { value: users[3] }] } });
    expect(cleared.status, JSON.stringify(cleared.json)).toBe(200);
    expect(cleared.json).not.toHaveProperty('externalId');

    // If-Match on another version refuses; the current one is accepted.
    expectError(await patch(group.id, [{ op: 'replace', path: 'displayName', value: 'x' }], { 'if-match': 'W/"1"' }), 412);
    expectError(await scim('DELETE', `/Groups/${group.id}`, { headers: { 'if-match': 'W/"1"' } }), 412);
    const deleted = await scim('DELETE', `/Groups/${group.id}`, { headers: { 'if-match': (cleared.json as ScimGroup).meta.version } });
    expect(deleted.status).toBe(204);
    expectError(await scim('GET', `/Groups/${group.id}`), 404);
    expectError(await patch(group.id, [{ op: 'add', path: 'members', value: [{ value: users[0] }] }]), 404);
  });

  it('refuses unknown members, members of the wrong type and taken names, and writes nothing', async () => {
    const firstSeq = Number((await server.reg.database.db.selectFrom('audit_events').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirstOrThrow()).m ?? 0);
    const [user] = await seedUsers(1);
    const other = await createGroup(newGroup([], `taken-${suffix()}`));
    const missing = `${storeId.slice(2)}-00000000-0000-4000-8000-000000000000`;
    const name = `refusals-${suffix()}`;

    expectError(await scim('POST', '/Groups', { body: newGroup([user!, missing], name) }), 400, 'invalidValue');
    expect((await scim('GET', `/Groups?filter=${encodeURIComponent(`displayName eq "${name}"`)}`)).json.totalResults).toBe(0);

    const group = await createGroup(newGroup([user!], name));
    const before = (await scim('GET', `/Groups/${group.id}`)).json;
    const unknown = await patch(group.id, [
      { op: 'replace', path: 'displayName', value: `${name}-renamed` },
      { op: 'add', path: 'members', value: [{ value: missing }] },
    ]);
    expectError(unknown, 400, 'invalidValue');
    expect(unknown.json.detail).toContain(missing);
    // A group said to be a user, or a user said to be a group (nesting itself is in scim-nested-groups.test.ts).
    const mistyped = await patch(group.id, [{ op: 'add', path: 'members', value: [{ value: other.id, type: 'User' }] }]);
    expectError(mistyped, 400, 'invalidValue');
    expect(mistyped.json.detail).toBe(`${other.id} is not a user of the identity store.`);
    expectError(await patch(group.id, [{ op: 'add', path: 'members', value: [{ value: user!, type: 'Group' }] }]), 400, 'invalidValue');
    expectError(await scim('PUT', `/Groups/${group.id}`, { body: { schemas: [GROUP], displayName: name, members: [{ value: missing }] } }), 400, 'invalidValue');
    expect((await scim('GET', `/Groups/${group.id}`)).json).toEqual(before);

    expectError(await scim('POST', '/Groups', { body: newGroup([], other.displayName.toUpperCase()) }), 409, 'uniqueness');
    expectError(await patch(group.id, [{ op: 'replace', path: 'displayName', value: other.displayName }]), 409, 'uniqueness');
    expectError(await patch(group.id, [{ op: 'remove', path: 'displayName' }]), 400, 'invalidValue');
    expectError(await patch(group.id, [{ op: 'add', path: 'members.value', value: 'x' }]), 400, 'mutability');
    expectError(await patch(group.id, [{ op: 'add', path: 'owners', value: 'x' }]), 400, 'invalidPath');
    expectError(await scim('POST', '/Groups', { body: { schemas: [GROUP], displayName: `x-${suffix()}`, owner: 'x' } }), 400, 'invalidSyntax');
    expectError(await scim('POST', '/Groups', { body: { schemas: [GROUP] } }), 400, 'invalidValue');
    // The query is read before anything is written.
    expectError(await scim('POST', '/Groups?attributes=a%20b', { body: newGroup([], `${name}-query`) }), 400, 'invalidValue');
    expect((await scim('GET', `/Groups?filter=${encodeURIComponent(`displayName eq "${name}-query"`)}`)).json.totalResults).toBe(0);
    expect((await scim('GET', `/Groups/${group.id}`)).json).toEqual(before);
    // Each refused change is on the record, those refused while parsing too (the unknown path, the
    // unknown attribute, the bad query), with the group it named.
    const failures = await server.reg.database.db
      .selectFrom('audit_events')
      .select(['event_name', 'error_code', 'request_parameters'])
      .where('error_code', 'is not', null)
      .where('event_name', 'in', ['CreateGroup', 'UpdateGroup'])
      .where('seq', '>', firstSeq)
      .orderBy('seq')
      .execute();
    expect(failures.map((e) => `${e.event_name} ${e.error_code}`)).toEqual(
      expect.arrayContaining(['UpdateGroup scim.invalidPath', 'CreateGroup scim.invalidSyntax', 'CreateGroup scim.invalidValue', 'UpdateGroup scim.mutability']),
    );
    expect(failures.filter((e) => e.error_code === 'scim.invalidPath')[0]!.request_parameters).toContain(group.id);
  });

  it('answers bad input with a 4xx SCIM error, never a 500', async () => {
    const group = await createGroup(newGroup());
    const operations: unknown[] = [
      null,
      [],
      'x',
      { op: 'add' },
      { op: 'move', path: 'members', value: [] },
      { op: 'add', path: 'members', value: 7 },
      { op: 'add', path: 'members', value: [null] },
      { op: 'add', path: 'members', value: [{ value: 7 }] },
      { op: 'add', path: 'members', value: [{ value: ['a'] }] },
      { op: 'add', path: 'members[', value: [] },
      { op: 'remove', path: 'members[display eq "a"].value' },
      { op: 'replace', path: 'displayName', value: { a: 1 } },
      { op: 'replace', path: 'displayName', value: 'x'.repeat(2000) },
      { op: 'replace', path: 'externalId', value: 5 },
      { op: 'replace', value: { members: 'not-a-user' } },
      { op: 'replace', value: [] },
      { op: 'replace', path: 'meta.version', value: 'W/"9"' },
    ];
    for (const operation of operations) {
      const r = await patch(group.id, [operation as Json]);
      expect(r.status, JSON.stringify(operation)).toBeGreaterThanOrEqual(400);
      expect(r.status, JSON.stringify(operation)).toBeLessThan(500);
    }
    const bodies: unknown[] = [null, [], 'x', { schemas: GROUP }, { schemas: [GROUP], displayName: 'x', members: { value: {} } }, { schemas: [GROUP], displayName: ['x'] }];
    for (const body of bodies) {
      for (const [method, path] of [['POST', '/Groups'], ['PUT', `/Groups/${group.id}`]] as const) {
        const r = await scim(method, path, { body });
        expect(r.status, `${method} ${JSON.stringify(body)}`).toBeGreaterThanOrEqual(400);
        expect(r.status, `${method} ${JSON.stringify(body)}`).toBeLessThan(500);
      }
    }
    for (const query of ['filter=members[value eq "x"', 'filter=members.value gt', 'sortBy=members', 'sortBy=x[', 'startIndex=1e3', 'attributes=a%20b', 'filter=a&filter=b']) {
      const r = await scim('GET', `/Groups?${query}`);
      expect(r.status, query).toBeGreaterThanOrEqual(400);
      expect(r.status, query).toBeLessThan(500);
    }
    expectError(await scim('GET', '/Groups/no-such-group'), 404);
    expectError(await scim('DELETE', '/Groups/no-such-group'), 404);
  });

  it('a member removed through SCIM, or the group deleted, loses the role the group granted at once', async () => {
    const f = portalFixture(server);
    const portal = new SSOClient({ endpoint: server.url, region: 'us-east-1', maxAttempts: 1 });
    const account = await f.newAccount();
    const [leaver, stayer] = [await f.newUser(), await f.newUser()];
    const group = await createGroup(newGroup([leaver.userId, stayer.userId]));
    const role = await f.newPermissionSet();
    await f.assignment('create', account.accountId, role.arn, 'GROUP', group.id);
    const credentialsOf = async (user: typeof leaver) => {
      const { accessToken } = await f.login(user);
      return () => portal.send(new GetRoleCredentialsCommand({ accessToken, accountId: account.accountId, roleName: role.name }));
    };
    const [leaverCredentials, stayerCredentials] = [await credentialsOf(leaver), await credentialsOf(stayer)];
    expect((await leaverCredentials()).roleCredentials?.accessKeyId).toMatch(/^ASIA/);

    expect((await patch(group.id, [{ op: 'Remove', path: `members[value eq "${leaver.userId}"]` }])).status).toBe(200);
    await expect(leaverCredentials()).rejects.toMatchObject({ name: 'ForbiddenException' });
    expect((await stayerCredentials()).roleCredentials?.accessKeyId).toMatch(/^ASIA/);
    const revoked = await server.reg.database.db.selectFrom('audit_events').select('request_parameters').where('event_name', '=', 'RevokeCredentials').execute();
    expect(revoked.some((e) => (e.request_parameters ?? '').includes(leaver.userId) && (e.request_parameters ?? '').includes('DeleteGroupMembership'))).toBe(true);

    expect((await scim('DELETE', `/Groups/${group.id}`)).status).toBe(204);
    await expect(stayerCredentials()).rejects.toMatchObject({ name: 'ForbiddenException' });
  });

  it('returns all 10,000 members of a large group', async () => {
    const users = await seedUsers(10_000);
    const group = await createGroup(newGroup());
    for (let i = 0; i < users.length; i += 1000) {
      const r = await patch(group.id, [{ op: 'add', path: 'members', value: users.slice(i, i + 1000).map((value) => ({ value })) }], { 'content-type': 'application/scim+json' });
      expect(r.status).toBe(200);
    }
    await scim('GET', `/Groups/${group.id}`);
    const started = performance.now();
    const got = await scim('GET', `/Groups/${group.id}`);
    const elapsed = performance.now() - started;
    console.log(`[${dialect}] GET /Groups/{id} with ${got.json.members.length} members: ${elapsed.toFixed(0)} ms`);
    expect(memberIds(got.json)).toEqual(users);
  }, 120_000);
});
