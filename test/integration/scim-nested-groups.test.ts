// Nested groups through SCIM /Groups on both databases: a group as a member (by type or looked up),
// access on the flattened membership through the real portal API and STS, cycles refused (also
// under concurrent writers), and everything a removed edge or a deleted group takes away revoked at
// once, in one bulk revocation, except what a user still holds another way.

import { IdentitystoreClient, IsMemberInGroupsCommand, ListGroupMembershipsCommand, ListGroupMembershipsForMemberCommand } from '@aws-sdk/client-identitystore';
import { GetRoleCredentialsCommand, ListAccountsCommand, SSOClient, type RoleCredentials } from '@aws-sdk/client-sso';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCIM_ERROR_SCHEMA as ERROR } from '../../src/protocols/scim/errors.js';
import { GROUP_SCHEMA as GROUP, LIST_RESPONSE_SCHEMA as LIST, PATCH_OP_SCHEMA as PATCH_OP, SEARCH_REQUEST_SCHEMA as SEARCH } from '../../src/protocols/scim/schemas.js';
import { SCIM_ADMIN_SOURCE } from '../../src/provisioning/index.js';
import { systemContext } from '../../src/shared/context.js';
import { outcome, portalFixture, seedUsers as seedStoreUsers, suffix, type PortalUser } from '../helpers/portal-fixture.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface ScimGroup extends Json {
  id: string;
  displayName: string;
}
interface Reply {
  status: number;
  json: Json;
}

describe.each(dialects())('SCIM nested groups on %s', (dialect) => {
  let server: TestServer;
  let token: string;
  let storeId: string;
  let identitystore: IdentitystoreClient;
  let portal: SSOClient;
  let f: ReturnType<typeof portalFixture>;
  let account: { accountId: string };

  async function scim(method: string, path: string, body?: unknown): Promise<Reply> {
    const headers: Record<string, string> = { authorization: `Bearer ${token}` };
    if (body !== undefined) headers['content-type'] = 'application/scim+json';
    const res = await fetch(`${server.url}/scim/v2${path}`, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, json: text === '' ? {} : (JSON.parse(text) as Json) };
  }
  function expectError(r: Reply, status: number, scimType?: string) {
    expect(r.status, JSON.stringify(r.json)).toBe(status);
    expect(r.json).toMatchObject({ schemas: [ERROR], status: String(status), detail: expect.any(String) });
    expect(r.json.scimType).toBe(scimType);
  }
  const createGroup = async (members: Json[] = [], displayName = `nest-${suffix()}`): Promise<ScimGroup> => {
    const r = await scim('POST', '/Groups', { schemas: [GROUP], displayName, members });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    return r.json as ScimGroup;
  };
  const patch = (id: string, ...Operations: Json[]) => scim('PATCH', `/Groups/${id}`, { schemas: [PATCH_OP], Operations });
  const addMembers = async (id: string, ...members: Json[]) => {
    const r = await patch(id, { op: 'add', path: 'members', value: members });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    return r.json;
  };
  const asGroup = (g: ScimGroup) => ({ value: g.id, type: 'Group' });
  const asUser = (u: { userId: string }) => ({ value: u.userId });
  const membersOf = async (id: string) => ((((await scim('GET', `/Groups/${id}`)).json.members ?? []) as Json[]).map((m) => m.value as string)).sort();

  /** A permission set assigned to the group in the test's account, and the user's portal token. */
  const credentialsOf = async (user: PortalUser, role: { name: string }) => {
    const { accessToken } = await f.login(user);
    return () => portal.send(new GetRoleCredentialsCommand({ accessToken, accountId: account.accountId, roleName: role.name })).then((r) => r.roleCredentials!);
  };
  const whoAmI = (c: RoleCredentials) =>
    new STSClient({ ...sdkOptions(server), credentials: { accessKeyId: c.accessKeyId!, secretAccessKey: c.secretAccessKey!, sessionToken: c.sessionToken } }).send(
      new GetCallerIdentityCommand({}),
    );
  const revocationEvents = async () =>
    (await server.reg.database.db.selectFrom('audit_events').select('request_parameters').where('event_name', '=', 'RevokeCredentials').execute()).map(
      (e) => e.request_parameters ?? '',
    );

  const seedUsers = (n: number) => seedStoreUsers(server, n, `nm-${suffix()}`);

  beforeAll(async () => {
    server = await startServer(dialect);
    token = (await server.reg.scimTokens.createToken(systemContext(SCIM_ADMIN_SOURCE, 'us-east-1', `test-${suffix()}`))).token;
    storeId = server.init.identityStoreId;
    identitystore = new IdentitystoreClient(sdkOptions(server));
    portal = new SSOClient({ endpoint: server.url, region: 'us-east-1', maxAttempts: 1 });
    f = portalFixture(server);
    account = await f.newAccount();
  });
  afterAll(() => server?.close());

  it('takes a group as a member, by type or looked up, shows it with its $ref, and finds it by filter and .search', async () => {
    const user = await f.newUser();
    const child = await createGroup([asUser(user)]);
    const other = await createGroup();
    const parent = await createGroup([asGroup(child)]);
    expect(parent.members).toEqual([{ value: child.id, type: 'Group', $ref: `${server.url}/scim/v2/Groups/${child.id}`, display: child.displayName }]);

    // Without a type, the id is looked up: this one is a group.
    const added = await addMembers(parent.id, { value: other.id });
    expect((added.members as Json[]).map((m): string => `${m.value} ${m.type}`).sort()).toEqual([`${child.id} Group`, `${other.id} Group`].sort());
    expect((await scim('GET', `/Groups/${parent.id}`)).json.members).toEqual(added.members);

    // Filters on the members' type, by GET and by POST /Groups/.search.
    const filter = `displayName eq "${parent.displayName}" and members[type eq "Group" and value eq "${other.id}"]`;
    const listed = await scim('GET', `/Groups?excludedAttributes=members&filter=${encodeURIComponent(filter)}`);
    expect(listed.json).toMatchObject({ schemas: [LIST], totalResults: 1 });
    expect(listed.json.Resources[0]).toMatchObject({ id: parent.id });
    const searched = await scim('POST', '/Groups/.search', { schemas: [SEARCH], filter, attributes: ['displayName'] });
    expect(searched.status).toBe(200);
    expect(searched.json).toMatchObject({ schemas: [LIST], totalResults: 1, Resources: [{ id: parent.id, displayName: parent.displayName }] });
    expect(searched.json.Resources[0].members).toBeUndefined();
    const users = await scim('POST', '/Groups/.search', { schemas: [SEARCH], filter: `members[type eq "User" and value eq "${user.userId}"]` });
    expect((users.json.Resources as ScimGroup[]).map((g) => g.id)).toEqual([child.id]);
    expectError(await scim('POST', '/Groups/.search', { schemas: [SEARCH], filter: 'members[type eq' }), 400, 'invalidFilter');
    expectError(await scim('POST', '/Groups/.search', { filter: 'displayName pr' }), 400, 'invalidSyntax');
    expectError(await scim('POST', '/Groups/.search', { schemas: [SEARCH], owner: 'x' }), 400, 'invalidSyntax');
    expectError(await scim('POST', '/Groups/.search', { schemas: [SEARCH], count: 'ten' }), 400, 'invalidValue');

    // Removed by a value filter on the type, and PUT sets users and groups alike.
    const removed = await patch(parent.id, { op: 'remove', path: 'members[type eq "Group" and value eq "' + other.id + '"]' });
    expect(removed.status).toBe(200);
    expect(await membersOf(parent.id)).toEqual([child.id]);
    const put = await scim('PUT', `/Groups/${parent.id}`, { schemas: [GROUP], displayName: parent.displayName, members: [asUser(user), { value: other.id, type: 'Group' }] });
    expect(put.status, JSON.stringify(put.json)).toBe(200);
    expect(await membersOf(parent.id)).toEqual([user.userId, other.id].sort());
  });

  it('keeps the identitystore API on direct user memberships, as AWS answers', async () => {
    const user = await f.newUser();
    const child = await createGroup([asUser(user)]);
    const parent = await createGroup([asGroup(child)]);
    const { GroupMemberships } = await identitystore.send(new ListGroupMembershipsCommand({ IdentityStoreId: storeId, GroupId: parent.id }));
    expect(GroupMemberships).toEqual([]);
    const ofChild = await identitystore.send(new ListGroupMembershipsCommand({ IdentityStoreId: storeId, GroupId: child.id }));
    expect(ofChild.GroupMemberships!.map((m) => m.MemberId)).toEqual([{ UserId: user.userId }]);
    const forMember = await identitystore.send(new ListGroupMembershipsForMemberCommand({ IdentityStoreId: storeId, MemberId: { UserId: user.userId } }));
    expect(forMember.GroupMemberships!.map((m) => m.GroupId)).toEqual([child.id]);
    const check = await identitystore.send(new IsMemberInGroupsCommand({ IdentityStoreId: storeId, MemberId: { UserId: user.userId }, GroupIds: [parent.id, child.id] }));
    expect(check.Results!.map((r) => [r.GroupId, r.MembershipExists])).toEqual([
      [parent.id, false],
      [child.id, true],
    ]);
  });

  it('gives a user in a child group, at any depth, the roles of the groups above it', async () => {
    const user = await f.newUser();
    const [top, middle, bottom] = [await createGroup(), await createGroup(), await createGroup([asUser(user)])];
    await addMembers(top.id, asGroup(middle));
    await addMembers(middle.id, asGroup(bottom));
    const role = await f.newPermissionSet();
    await f.assignment('create', account.accountId, role.arn, 'GROUP', top.id);

    const { accessToken } = await f.login(user);
    const accounts = await portal.send(new ListAccountsCommand({ accessToken }));
    expect(accounts.accountList!.map((a) => a.accountId)).toContain(account.accountId);
    const credentials = await portal.send(new GetRoleCredentialsCommand({ accessToken, accountId: account.accountId, roleName: role.name }));
    expect(credentials.roleCredentials?.accessKeyId).toMatch(/^ASIA/);
    expect((await whoAmI(credentials.roleCredentials!)).Arn).toContain(`/${user.userName}`);
  });

  it('refuses a group in itself and cycles of two and three, and writes nothing', async () => {
    const [a, b, c] = [await createGroup(), await createGroup(), await createGroup()];
    const self = await patch(a.id, { op: 'add', path: 'members', value: [asGroup(a)] });
    expectError(self, 400, 'invalidValue');
    expect(self.json.detail).toBe(`Group ${a.id} cannot be a member of itself.`);

    await addMembers(a.id, asGroup(b));
    expectError(await patch(b.id, { op: 'add', path: 'members', value: [{ value: a.id }] }), 400, 'invalidValue');
    await addMembers(b.id, asGroup(c));
    // c is in b, which is in a: a in c closes a cycle of three, by PATCH or by PUT, with a rename that is not kept.
    const three = await patch(c.id, { op: 'replace', path: 'displayName', value: `${c.displayName}-x` }, { op: 'add', path: 'members', value: [asGroup(a)] });
    expectError(three, 400, 'invalidValue');
    expect(three.json.detail).toMatch(new RegExp(`${a.id} cannot be a member of group ${c.id}: .* cycle`));
    expectError(await scim('PUT', `/Groups/${c.id}`, { schemas: [GROUP], displayName: c.displayName, members: [asGroup(a)] }), 400, 'invalidValue');
    const got = await scim('GET', `/Groups/${c.id}`);
    expect(got.json.displayName).toBe(c.displayName);
    expect(got.json.members).toBeUndefined();
    expect(await membersOf(a.id)).toEqual([b.id]);
    // A group named as a user, a user named as a group, and an unknown id.
    const user = await f.newUser();
    expectError(await patch(a.id, { op: 'add', path: 'members', value: [{ value: c.id, type: 'User' }] }), 400, 'invalidValue');
    expectError(await patch(a.id, { op: 'add', path: 'members', value: [{ value: user.userId, type: 'Group' }] }), 400, 'invalidValue');
    expectError(await patch(a.id, { op: 'add', path: 'members', value: [{ value: `${storeId.slice(2)}-00000000-0000-4000-8000-000000000000`, type: 'Group' }] }), 400, 'invalidValue');
    expect(await membersOf(a.id)).toEqual([b.id]);
  });

  it('never lets concurrent writers close a cycle', async () => {
    for (let round = 0; round < 8; round++) {
      const [x, y] = [await createGroup(), await createGroup()];
      const [one, two] = await Promise.all([patch(x.id, { op: 'add', path: 'members', value: [asGroup(y)] }), patch(y.id, { op: 'add', path: 'members', value: [asGroup(x)] })]);
      expect([one.status, two.status].sort()).toEqual([200, 400]);
      expect([...(await membersOf(x.id)), ...(await membersOf(y.id))]).toHaveLength(1);
    }
    // Three groups, three edges that together close a cycle: at most two are written.
    for (let round = 0; round < 4; round++) {
      const g = [await createGroup(), await createGroup(), await createGroup()];
      const replies = await Promise.all(g.map((group, i) => patch(group.id, { op: 'add', path: 'members', value: [asGroup(g[(i + 1) % 3]!)] })));
      expect(replies.filter((r) => r.status === 200)).toHaveLength(2);
      expect(replies.filter((r) => r.status !== 200).map((r) => r.status)).toEqual([400]);
    }
  });

  it('revokes at once what a removed nested group took away, and only from users who hold it no other way', async () => {
    const role = await f.newPermissionSet();
    const [leaver, viaOtherGroup, direct] = [await f.newUser(), await f.newUser(), await f.newUser()];
    const team = await createGroup([asUser(leaver), asUser(viaOtherGroup), asUser(direct)]);
    const otherTeam = await createGroup([asUser(viaOtherGroup)]);
    const department = await createGroup([asGroup(team), asGroup(otherTeam)]);
    await f.assignment('create', account.accountId, role.arn, 'GROUP', department.id);
    await f.assignment('create', account.accountId, role.arn, 'USER', direct.userId);
    const roleOf = { leaver: await credentialsOf(leaver, role), viaOtherGroup: await credentialsOf(viaOtherGroup, role), direct: await credentialsOf(direct, role) };
    const issued = { leaver: await roleOf.leaver(), viaOtherGroup: await roleOf.viaOtherGroup(), direct: await roleOf.direct() };
    for (const c of Object.values(issued)) expect(await outcome(whoAmI(c))).toBe('ok');
    const before = (await revocationEvents()).length;

    const removed = await patch(department.id, { op: 'Remove', path: `members[value eq "${team.id}"]` });
    expect(removed.status, JSON.stringify(removed.json)).toBe(200);
    expect(await outcome(whoAmI(issued.leaver))).toBe('InvalidClientTokenId 403');
    await expect(roleOf.leaver()).rejects.toMatchObject({ name: 'ForbiddenException' });
    expect(await outcome(whoAmI(issued.viaOtherGroup))).toBe('ok');
    expect(await outcome(whoAmI(issued.direct))).toBe('ok');
    // One revocation for the request, naming the leaver only.
    const events = (await revocationEvents()).slice(before);
    expect(events).toHaveLength(1);
    expect(events[0]).toContain(leaver.userId);
    expect(events[0]).toContain('DeleteGroupMembership');
    expect(events[0]).not.toContain(viaOtherGroup.userId);
    expect(events[0]).not.toContain(direct.userId);

    // The user who kept it through the other group loses it when that group leaves too.
    expect((await patch(department.id, { op: 'remove', path: 'members', value: [{ value: otherTeam.id }] })).status).toBe(200);
    expect(await outcome(whoAmI(issued.viaOtherGroup))).toBe('InvalidClientTokenId 403');
    expect(await outcome(whoAmI(issued.direct))).toBe('ok');
  });

  it('keeps the credentials of a user whose group is swapped for another holding them in one request', async () => {
    const role = await f.newPermissionSet();
    const [mover, leaver] = [await f.newUser(), await f.newUser()];
    const oldTeam = await createGroup([asUser(mover), asUser(leaver)]);
    const newTeam = await createGroup([asUser(mover)]);
    const department = await createGroup([asGroup(oldTeam)]);
    await f.assignment('create', account.accountId, role.arn, 'GROUP', department.id);
    const issued = { mover: await (await credentialsOf(mover, role))(), leaver: await (await credentialsOf(leaver, role))() };
    const swapped = await patch(
      department.id,
      { op: 'remove', path: `members[value eq "${oldTeam.id}"]` },
      { op: 'add', path: 'members', value: [asGroup(newTeam)] },
    );
    expect(swapped.status, JSON.stringify(swapped.json)).toBe(200);
    expect(await outcome(whoAmI(issued.mover))).toBe('ok');
    expect(await outcome(whoAmI(issued.leaver))).toBe('InvalidClientTokenId 403');
  });

  it('a deleted child or middle group takes its users out of the groups above it at once', async () => {
    const role = await f.newPermissionSet();
    const [inChild, inMiddle] = [await f.newUser(), await f.newUser()];
    const child = await createGroup([asUser(inChild)]);
    const middle = await createGroup([asGroup(child), asUser(inMiddle)]);
    const top = await createGroup([asGroup(middle)]);
    await f.assignment('create', account.accountId, role.arn, 'GROUP', top.id);
    const roleOf = { inChild: await credentialsOf(inChild, role), inMiddle: await credentialsOf(inMiddle, role) };
    const issued = { inChild: await roleOf.inChild(), inMiddle: await roleOf.inMiddle() };

    expect((await scim('DELETE', `/Groups/${child.id}`)).status).toBe(204);
    expect(await outcome(whoAmI(issued.inChild))).toBe('InvalidClientTokenId 403');
    await expect(roleOf.inChild()).rejects.toMatchObject({ name: 'ForbiddenException' });
    expect(await outcome(whoAmI(issued.inMiddle))).toBe('ok');
    expect(await membersOf(middle.id)).toEqual([inMiddle.userId]);

    expect((await scim('DELETE', `/Groups/${middle.id}`)).status).toBe(204);
    expect(await outcome(whoAmI(issued.inMiddle))).toBe('InvalidClientTokenId 403');
    expect(await membersOf(top.id)).toEqual([]);
  });

  it('revokes for 1,000 removed members in one bulk revocation', async () => {
    const role = await f.newPermissionSet();
    const users = await seedUsers(1000);
    const group = await createGroup();
    expect((await patch(group.id, { op: 'add', path: 'members', value: users.map((value) => ({ value })) })).status).toBe(200);
    const parent = await createGroup([asGroup(group)]);
    await f.assignment('create', account.accountId, role.arn, 'GROUP', parent.id);
    const before = (await revocationEvents()).length;
    const started = performance.now();
    const removed = await patch(group.id, { op: 'remove', path: 'members', value: users.map((value) => ({ value })) });
    console.log(`[${dialect}] PATCH removing 1,000 members of a nested group with a role: ${(performance.now() - started).toFixed(0)} ms`);
    expect(removed.status).toBe(200);
    // One audit event (its list of subjects is cut at 100) and a mark per user.
    expect((await revocationEvents()).slice(before)).toHaveLength(1);
    const marks = await server.reg.database.db
      .selectFrom('revocations')
      .select('subject_key')
      .where(
        'subject_key',
        'in',
        users.map((u) => `role:${u}:${account.accountId}:${role.arn}`),
      )
      .execute();
    expect(new Set(marks.map((m) => m.subject_key)).size).toBe(1000);
  }, 60_000);
});
