// The AWS organizations API as the real JS SDK sees it: the tree of root, OUs and accounts,
// asynchronous CreateAccount, moves, tags, Organizations' own exception names, and the audit trail.

import {
  CreateAccountCommand,
  CreateOrganizationalUnitCommand,
  DescribeAccountCommand,
  DescribeCreateAccountStatusCommand,
  DescribeOrganizationalUnitCommand,
  DescribeOrganizationCommand,
  ListAccountsCommand,
  ListAccountsForParentCommand,
  ListChildrenCommand,
  ListOrganizationalUnitsForParentCommand,
  ListParentsCommand,
  ListRootsCommand,
  ListTagsForResourceCommand,
  MoveAccountCommand,
  OrganizationsClient,
  paginateListAccounts,
  paginateListChildren,
  TagResourceCommand,
  UntagResourceCommand,
  type CreateAccountStatus,
  type Tag,
} from '@aws-sdk/client-organizations';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

const suffix = () => Math.random().toString(36).slice(2, 10);

describe.each(dialects())('organizations API on %s', (dialect) => {
  let server: TestServer;
  let client: OrganizationsClient;
  let rootId: string;
  let orgId: string;
  let mgmt: string;

  beforeAll(async () => {
    server = await startServer(dialect);
    client = new OrganizationsClient(sdkOptions(server));
    const org = (await client.send(new DescribeOrganizationCommand({}))).Organization!;
    orgId = org.Id!;
    mgmt = org.MasterAccountId!;
    rootId = (await client.send(new ListRootsCommand({}))).Roots![0]!.Id!;
  });
  afterAll(async () => {
    await server?.close();
  });

  async function settle(requestId: string): Promise<CreateAccountStatus> {
    for (let i = 0; i < 200; i++) {
      const { CreateAccountStatus: s } = await client.send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: requestId }));
      if (s!.State !== 'IN_PROGRESS') return s!;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`CreateAccount ${requestId} never completed`);
  }

  async function newAccount(name = `acct-${suffix()}`, tags?: Tag[]): Promise<string> {
    const { CreateAccountStatus: s } = await client.send(new CreateAccountCommand({ Email: `${name}@example.com`, AccountName: name, Tags: tags }));
    const done = await settle(s!.Id!);
    expect(done.State).toBe('SUCCEEDED');
    return done.AccountId!;
  }

  async function newOu(parentId: string, name = `ou-${suffix()}`): Promise<string> {
    const { OrganizationalUnit } = await client.send(new CreateOrganizationalUnitCommand({ ParentId: parentId, Name: name }));
    return OrganizationalUnit!.Id!;
  }

  const auditRows = (eventName: string) =>
    server.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', '=', eventName).orderBy('seq').execute();

  it('describes the organization, its root and management account in AWS shapes', async () => {
    const { Organization: org } = await client.send(new DescribeOrganizationCommand({}));
    expect(org!.Id).toMatch(/^o-[a-z0-9]{10}$/);
    expect(org!.MasterAccountId).toBe(server.init.managementAccountId);
    expect(org!.Arn).toBe(`arn:aws:organizations::${mgmt}:organization/${orgId}`);
    expect(org!.MasterAccountArn).toBe(`arn:aws:organizations::${mgmt}:account/${orgId}/${mgmt}`);
    expect(org).toMatchObject({ FeatureSet: 'ALL', MasterAccountEmail: 'management@atrium.invalid', AvailablePolicyTypes: [] });

    const { Roots } = await client.send(new ListRootsCommand({ MaxResults: 1 }));
    expect(Roots).toEqual([{ Id: rootId, Arn: `arn:aws:organizations::${mgmt}:root/${orgId}/${rootId}`, Name: 'Root', PolicyTypes: [] }]);
    expect(rootId).toMatch(/^r-[a-z0-9]{4}$/);

    const { Account } = await client.send(new DescribeAccountCommand({ AccountId: mgmt }));
    expect(Account).toMatchObject({ Id: mgmt, Name: 'Management', Status: 'ACTIVE', State: 'ACTIVE', JoinedMethod: 'INVITED' });
    expect(Account!.JoinedTimestamp).toBeInstanceOf(Date);
    expect(await server.reg.organization.accountExists(mgmt)).toBe(true);
  });

  it('creates an account asynchronously through the durable job', async () => {
    const name = `dev-${suffix()}`;
    const { CreateAccountStatus: started } = await client.send(
      new CreateAccountCommand({
        Email: `${name}@Example.com`,
        AccountName: name,
        RoleName: 'OrganizationAccountAccessRole',
        IamUserAccessToBilling: 'DENY',
        Tags: [{ Key: 'team', Value: 'platform' }],
      }),
    );
    expect(started!.Id).toMatch(/^car-[a-z0-9]{8,32}$/);
    expect(started).toMatchObject({ AccountName: name, State: 'IN_PROGRESS' });
    expect(started!.RequestedTimestamp).toBeInstanceOf(Date);

    const done = await settle(started!.Id!);
    expect(done).toMatchObject({ Id: started!.Id, AccountName: name, State: 'SUCCEEDED' });
    expect(done.AccountId).toMatch(/^\d{12}$/);
    expect(done.CompletedTimestamp).toBeInstanceOf(Date);

    const { Account } = await client.send(new DescribeAccountCommand({ AccountId: done.AccountId }));
    expect(Account).toMatchObject({
      Id: done.AccountId,
      Arn: `arn:aws:organizations::${mgmt}:account/${orgId}/${done.AccountId}`,
      Email: `${name}@Example.com`,
      Name: name,
      Status: 'ACTIVE',
      JoinedMethod: 'CREATED',
    });
    const { Parents } = await client.send(new ListParentsCommand({ ChildId: done.AccountId }));
    expect(Parents).toEqual([{ Id: rootId, Type: 'ROOT' }]);
    const { Tags } = await client.send(new ListTagsForResourceCommand({ ResourceId: done.AccountId }));
    expect(Tags).toEqual([{ Key: 'team', Value: 'platform' }]);
    expect(await server.reg.organization.accountExists(done.AccountId!)).toBe(true);
    expect(await server.reg.organization.accountExists('999999999999')).toBe(false);

    const [created] = (await auditRows('CreateAccount')).filter((r) => r.response_elements?.includes(started!.Id!));
    expect(created).toMatchObject({ event_source: 'organizations.amazonaws.com', error_code: null });
    // Email and AccountName are sensitive: the record says they were sent, not what they were.
    expect(created!.request_parameters).not.toContain(name);
    expect(created!.request_parameters).toContain('HIDDEN_DUE_TO_SECURITY_REASONS');
    const results = (await auditRows('CreateAccountResult')).filter((r) => r.response_elements?.includes(done.AccountId!));
    expect(results).toHaveLength(1);
  });

  it('fails a CreateAccount whose email is taken (in any case) with EMAIL_ALREADY_EXISTS', async () => {
    const name = `dup-${suffix()}`;
    await newAccount(name);
    const { CreateAccountStatus: again } = await client.send(
      new CreateAccountCommand({ Email: `${name.toUpperCase()}@EXAMPLE.COM`, AccountName: `${name}-2` }),
    );
    expect(again!.State).toBe('IN_PROGRESS');
    const done = await settle(again!.Id!);
    expect(done).toMatchObject({ State: 'FAILED', FailureReason: 'EMAIL_ALREADY_EXISTS' });
    expect(done.AccountId).toBeUndefined();
    const all = [];
    for await (const p of paginateListAccounts({ client, pageSize: 20 }, {})) all.push(...p.Accounts!);
    expect(all.filter((a) => a.Email!.toLowerCase() === `${name}@example.com`)).toHaveLength(1);
    expect(all.some((a) => a.Name === `${name}-2`)).toBe(false);
  });

  it('builds a tree of nested OUs and moves accounts through it', async () => {
    const teams = await newOu(rootId, `teams-${suffix()}`);
    const platform = await newOu(teams, 'platform');
    expect(platform).toMatch(new RegExp(`^ou-${rootId.slice(2)}-[a-z0-9]{8}$`));
    const { OrganizationalUnit } = await client.send(new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: platform }));
    expect(OrganizationalUnit).toEqual({ Id: platform, Arn: `arn:aws:organizations::${mgmt}:ou/${orgId}/${platform}`, Name: 'platform' });

    const underRoot = await client.send(new ListOrganizationalUnitsForParentCommand({ ParentId: rootId }));
    expect(underRoot.OrganizationalUnits!.map((o) => o.Id)).toContain(teams);
    const underTeams = await client.send(new ListOrganizationalUnitsForParentCommand({ ParentId: teams }));
    expect(underTeams.OrganizationalUnits!.map((o) => o.Name)).toEqual(['platform']);
    expect((await client.send(new ListParentsCommand({ ChildId: platform }))).Parents).toEqual([{ Id: teams, Type: 'ORGANIZATIONAL_UNIT' }]);
    expect((await client.send(new ListParentsCommand({ ChildId: teams }))).Parents).toEqual([{ Id: rootId, Type: 'ROOT' }]);

    const acct = await newAccount();
    await client.send(new MoveAccountCommand({ AccountId: acct, SourceParentId: rootId, DestinationParentId: platform }));
    expect((await client.send(new ListParentsCommand({ ChildId: acct }))).Parents).toEqual([{ Id: platform, Type: 'ORGANIZATIONAL_UNIT' }]);
    const children = await client.send(new ListChildrenCommand({ ParentId: platform, ChildType: 'ACCOUNT' }));
    expect(children.Children).toEqual([{ Id: acct, Type: 'ACCOUNT' }]);
    const ous = await client.send(new ListChildrenCommand({ ParentId: teams, ChildType: 'ORGANIZATIONAL_UNIT' }));
    expect(ous.Children).toEqual([{ Id: platform, Type: 'ORGANIZATIONAL_UNIT' }]);
    const inPlatform = await client.send(new ListAccountsForParentCommand({ ParentId: platform }));
    expect(inPlatform.Accounts!.map((a) => a.Id)).toEqual([acct]);
    const rootAccounts = [];
    for await (const p of paginateListChildren({ client, pageSize: 20 }, { ParentId: rootId, ChildType: 'ACCOUNT' })) rootAccounts.push(...p.Children!);
    expect(rootAccounts.map((c) => c.Id)).not.toContain(acct);
    expect(rootAccounts.map((c) => c.Id)).toContain(mgmt);

    // Back to the root, then the refusals MoveAccount has.
    await client.send(new MoveAccountCommand({ AccountId: acct, SourceParentId: platform, DestinationParentId: rootId }));
    const move = (AccountId: string, SourceParentId: string, DestinationParentId: string) =>
      client.send(new MoveAccountCommand({ AccountId, SourceParentId, DestinationParentId }));
    const missingOu = `ou-${rootId.slice(2)}-zzzzzzzz`;
    await expect(move('999999999999', rootId, teams)).rejects.toMatchObject({ name: 'AccountNotFoundException', $metadata: { httpStatusCode: 400 } });
    await expect(move(acct, missingOu, teams)).rejects.toMatchObject({ name: 'SourceParentNotFoundException' });
    await expect(move(acct, rootId, missingOu)).rejects.toMatchObject({ name: 'DestinationParentNotFoundException' });
    await expect(move(acct, teams, platform)).rejects.toMatchObject({ name: 'SourceParentNotFoundException' });
    await expect(move(acct, rootId, rootId)).rejects.toMatchObject({ name: 'DuplicateAccountException', $metadata: { httpStatusCode: 400 } });
    expect((await client.send(new ListParentsCommand({ ChildId: acct }))).Parents).toEqual([{ Id: rootId, Type: 'ROOT' }]);

    const moves = await auditRows('MoveAccount');
    expect(moves.filter((r) => r.request_parameters?.includes(acct) && r.error_code === null)).toHaveLength(2);
    expect(moves.some((r) => r.error_code === 'organization.duplicate_account')).toBe(true);
  });

  it('refuses a duplicate OU name under one parent and leaves nothing behind', async () => {
    const parent = await newOu(rootId);
    await newOu(parent, 'Prod');
    await expect(client.send(new CreateOrganizationalUnitCommand({ ParentId: parent, Name: 'Prod' }))).rejects.toMatchObject({
      name: 'DuplicateOrganizationalUnitException',
      $metadata: { httpStatusCode: 400 },
    });
    const { OrganizationalUnits } = await client.send(new ListOrganizationalUnitsForParentCommand({ ParentId: parent }));
    expect(OrganizationalUnits!.map((o) => o.Name)).toEqual(['Prod']);
    // The same name under another parent is fine.
    await newOu(rootId, `Prod-${suffix()}`);
    await newOu(await newOu(rootId), 'Prod');

    const events = await auditRows('CreateOrganizationalUnit');
    expect(events.some((r) => r.error_code === null && r.response_elements?.includes('"Prod"'))).toBe(true);
    expect(events.filter((r) => r.error_code === 'organization.duplicate_ou')).toHaveLength(1);
  });

  it('limits OU nesting to five levels', async () => {
    let parent = rootId;
    for (let depth = 1; depth <= 5; depth++) parent = await newOu(parent, `level-${depth}`);
    await expect(client.send(new CreateOrganizationalUnitCommand({ ParentId: parent, Name: 'level-6' }))).rejects.toMatchObject({
      name: 'ConstraintViolationException',
      Reason: 'OU_DEPTH_LIMIT_EXCEEDED',
    });
  });

  it('answers unknown ids with Organizations’ own exceptions', async () => {
    const missingOu = `ou-${rootId.slice(2)}-zzzzzzzz`;
    const cases: [() => Promise<unknown>, string][] = [
      [() => client.send(new DescribeAccountCommand({ AccountId: '999999999999' })), 'AccountNotFoundException'],
      [() => client.send(new DescribeOrganizationalUnitCommand({ OrganizationalUnitId: missingOu })), 'OrganizationalUnitNotFoundException'],
      [() => client.send(new CreateOrganizationalUnitCommand({ ParentId: missingOu, Name: 'x' })), 'ParentNotFoundException'],
      [() => client.send(new CreateOrganizationalUnitCommand({ ParentId: 'r-zzzz', Name: 'x' })), 'ParentNotFoundException'],
      [() => client.send(new ListOrganizationalUnitsForParentCommand({ ParentId: missingOu })), 'ParentNotFoundException'],
      [() => client.send(new ListAccountsForParentCommand({ ParentId: missingOu })), 'ParentNotFoundException'],
      [() => client.send(new ListChildrenCommand({ ParentId: missingOu, ChildType: 'ACCOUNT' })), 'ParentNotFoundException'],
      [() => client.send(new ListParentsCommand({ ChildId: '999999999999' })), 'ChildNotFoundException'],
      [() => client.send(new ListParentsCommand({ ChildId: missingOu })), 'ChildNotFoundException'],
      [() => client.send(new TagResourceCommand({ ResourceId: '999999999999', Tags: [{ Key: 'a', Value: 'b' }] })), 'TargetNotFoundException'],
      [() => client.send(new ListTagsForResourceCommand({ ResourceId: 'p-FullAWSAccess' })), 'TargetNotFoundException'],
      [() => client.send(new UntagResourceCommand({ ResourceId: missingOu, TagKeys: ['a'] })), 'TargetNotFoundException'],
      [() => client.send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: 'car-0123456789abcdef' })), 'CreateAccountStatusNotFoundException'],
    ];
    for (const [call, name] of cases) {
      await expect(call()).rejects.toMatchObject({ name, $metadata: { httpStatusCode: 400 } });
    }
  });

  it('refuses bad input with InvalidInputException and a reason', async () => {
    await expect(client.send(new ListAccountsCommand({ NextToken: 'not-a-token' }))).rejects.toMatchObject({
      name: 'InvalidInputException',
      Reason: 'INVALID_NEXT_TOKEN',
      $metadata: { httpStatusCode: 400 },
    });
    await expect(
      client.send(new TagResourceCommand({ ResourceId: rootId, Tags: [{ Key: 'aws:owner', Value: 'x' }] })),
    ).rejects.toMatchObject({ name: 'InvalidInputException', Reason: 'INVALID_SYSTEM_TAGS_PARAMETER' });
    await expect(
      client.send(new TagResourceCommand({ ResourceId: rootId, Tags: [{ Key: 'k', Value: 'a' }, { Key: 'k', Value: 'b' }] })),
    ).rejects.toMatchObject({ name: 'InvalidInputException', Reason: 'DUPLICATE_TAG_KEY' });
    // Shape errors caught by the wire layer's schema.
    await expect(client.send(new ListAccountsCommand({ MaxResults: 21 }))).rejects.toMatchObject({ name: 'InvalidInputException', $metadata: { httpStatusCode: 400 } });
    await expect(
      client.send(new CreateAccountCommand({ Email: 'not-an-email', AccountName: 'x' })),
    ).rejects.toMatchObject({ name: 'InvalidInputException', $metadata: { httpStatusCode: 400 } });
    expect((await client.send(new ListTagsForResourceCommand({ ResourceId: rootId }))).Tags).toEqual([]);
  });

  it('pages through accounts, OUs and children with opaque tokens', async () => {
    const parent = await newOu(rootId);
    const made = [await newOu(parent), await newOu(parent), await newOu(parent)];
    const first = await client.send(new ListOrganizationalUnitsForParentCommand({ ParentId: parent, MaxResults: 2 }));
    expect(first.OrganizationalUnits).toHaveLength(2);
    expect(first.NextToken).toBeTruthy();
    const second = await client.send(new ListOrganizationalUnitsForParentCommand({ ParentId: parent, MaxResults: 2, NextToken: first.NextToken }));
    expect(second.OrganizationalUnits).toHaveLength(1);
    expect(second.NextToken).toBeUndefined();
    expect([...first.OrganizationalUnits!, ...second.OrganizationalUnits!].map((o) => o.Id).sort()).toEqual([...made].sort());

    const children = [];
    for await (const p of paginateListChildren({ client, pageSize: 1 }, { ParentId: parent, ChildType: 'ORGANIZATIONAL_UNIT' })) {
      expect(p.Children!.length).toBeLessThanOrEqual(1);
      children.push(...p.Children!.map((c) => c.Id));
    }
    expect(children.sort()).toEqual([...made].sort());

    await newAccount();
    await newAccount();
    const paged = [];
    let pages = 0;
    for await (const p of paginateListAccounts({ client, pageSize: 1 }, {})) {
      pages++;
      paged.push(...p.Accounts!.map((a) => a.Id));
    }
    const whole = (await client.send(new ListAccountsCommand({ MaxResults: 20 }))).Accounts!.map((a) => a.Id);
    expect(pages).toBeGreaterThanOrEqual(3);
    expect(new Set(paged).size).toBe(paged.length);
    expect(paged).toEqual(whole);
  });

  it('tags the root, OUs and accounts, and untags them', async () => {
    const ou = await client.send(new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: `tagged-${suffix()}`, Tags: [{ Key: 'env', Value: 'prod' }] }));
    const ouId = ou.OrganizationalUnit!.Id!;
    expect((await client.send(new ListTagsForResourceCommand({ ResourceId: ouId }))).Tags).toEqual([{ Key: 'env', Value: 'prod' }]);

    await client.send(new TagResourceCommand({ ResourceId: ouId, Tags: [{ Key: 'env', Value: 'staging' }, { Key: 'owner', Value: 'sre' }] }));
    expect((await client.send(new ListTagsForResourceCommand({ ResourceId: ouId }))).Tags).toEqual([
      { Key: 'env', Value: 'staging' },
      { Key: 'owner', Value: 'sre' },
    ]);
    await client.send(new UntagResourceCommand({ ResourceId: ouId, TagKeys: ['env'] }));
    expect((await client.send(new ListTagsForResourceCommand({ ResourceId: ouId }))).Tags).toEqual([{ Key: 'owner', Value: 'sre' }]);

    await client.send(new TagResourceCommand({ ResourceId: mgmt, Tags: [{ Key: 'role', Value: 'management' }] }));
    expect((await client.send(new ListTagsForResourceCommand({ ResourceId: mgmt }))).Tags).toEqual([{ Key: 'role', Value: 'management' }]);

    const acct = await newAccount();
    const fifty = Array.from({ length: 50 }, (_, i) => ({ Key: `k${i}`, Value: `v${i}` }));
    await client.send(new TagResourceCommand({ ResourceId: acct, Tags: fifty }));
    await expect(client.send(new TagResourceCommand({ ResourceId: acct, Tags: [{ Key: 'one-more', Value: 'x' }] }))).rejects.toMatchObject({
      name: 'ConstraintViolationException',
      Reason: 'MAX_TAG_LIMIT_EXCEEDED',
    });
    const after = (await client.send(new ListTagsForResourceCommand({ ResourceId: acct }))).Tags!;
    expect(after).toHaveLength(50);
    expect(after.some((t) => t.Key === 'one-more')).toBe(false);

    const tagEvents = await auditRows('TagResource');
    expect(tagEvents.some((r) => r.error_code === null && r.request_parameters?.includes(ouId))).toBe(true);
    expect(tagEvents.some((r) => r.error_code === 'organization.constraint_violation')).toBe(true);
    expect((await auditRows('UntagResource')).some((r) => r.request_parameters?.includes(ouId))).toBe(true);
  });

  it('ensureOrganization returns the existing organization instead of making a second', async () => {
    const ctx = { requestId: 'r', sourceIp: '127.0.0.1', userAgent: 'test', region: 'us-east-1', eventSource: 'test', principal: { type: 'Atrium', principalId: 'test' } };
    const again = await server.reg.organization.ensureOrganization(ctx, 'someone-else@example.com');
    expect(again).toMatchObject({ organizationId: orgId, rootId, managementAccountId: mgmt });
    const rows = await server.reg.database.db.selectFrom('organizations').selectAll().execute();
    expect(rows).toHaveLength(1);
    const created = await auditRows('CreateOrganization');
    expect(created.filter((r) => r.error_code === null)).toHaveLength(1);
  });
});
