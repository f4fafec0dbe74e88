// sso-admin account assignments and provisioning as the real JS SDK sees them: asynchronous
// creation and deletion with their status, checks on account, permission set and principal,
// group-inherited assignments, provisioning versions, idempotent jobs, and the audit trail.

import { CreateGroupCommand, CreateGroupMembershipCommand, CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { CreateAccountCommand, DescribeCreateAccountStatusCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import {
  AttachCustomerManagedPolicyReferenceToPermissionSetCommand,
  CreateAccountAssignmentCommand,
  CreatePermissionSetCommand,
  DeleteAccountAssignmentCommand,
  DeleteInlinePolicyFromPermissionSetCommand,
  DeletePermissionsBoundaryFromPermissionSetCommand,
  DeletePermissionSetCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  DescribePermissionSetProvisioningStatusCommand,
  ListAccountAssignmentCreationStatusCommand,
  ListAccountAssignmentDeletionStatusCommand,
  ListAccountAssignmentsCommand,
  ListAccountAssignmentsForPrincipalCommand,
  ListAccountsForProvisionedPermissionSetCommand,
  ListPermissionSetProvisioningStatusCommand,
  ListPermissionSetsProvisionedToAccountCommand,
  paginateListAccountAssignments,
  ProvisionPermissionSetCommand,
  PutInlinePolicyToPermissionSetCommand,
  SSOAdminClient,
  UpdatePermissionSetCommand,
  type AccountAssignmentOperationStatus,
  type PermissionSetProvisioningStatus,
  type PrincipalType,
} from '@aws-sdk/client-sso-admin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

const suffix = () => Math.random().toString(36).slice(2, 10);
const POLICY = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 'ec2:Describe*', Resource: '*' }] });

describe.each(dialects())('sso-admin account assignments on %s', (dialect) => {
  let server: TestServer;
  let sso: SSOAdminClient;
  let ids: IdentitystoreClient;
  let orgs: OrganizationsClient;
  let InstanceArn: string;
  let IdentityStoreId: string;
  let account: string;

  beforeAll(async () => {
    server = await startServer(dialect);
    sso = new SSOAdminClient(sdkOptions(server));
    ids = new IdentitystoreClient(sdkOptions(server));
    orgs = new OrganizationsClient(sdkOptions(server));
    InstanceArn = server.init.instanceArn;
    IdentityStoreId = server.init.identityStoreId;
    account = await newAccount();
  });
  afterAll(async () => {
    await server?.close();
  });

  async function until<T>(what: string, probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
    for (let i = 0; i < 400; i++) {
      const value = await probe();
      if (done(value)) return value;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error(`${what} never completed`);
  }

  async function newAccount(): Promise<string> {
    const name = `acct-${suffix()}`;
    const { CreateAccountStatus } = await orgs.send(new CreateAccountCommand({ Email: `${name}@example.com`, AccountName: name }));
    const done = await until(
      'CreateAccount',
      async () => (await orgs.send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: CreateAccountStatus!.Id! }))).CreateAccountStatus!,
      (s) => s.State !== 'IN_PROGRESS',
    );
    expect(done.State).toBe('SUCCEEDED');
    return done.AccountId!;
  }

  const newUser = async () => {
    const UserName = `user-${suffix()}`;
    return (await ids.send(new CreateUserCommand({ IdentityStoreId, UserName, DisplayName: UserName, Name: { GivenName: 'A', FamilyName: 'B' } }))).UserId!;
  };
  const newGroup = async () => (await ids.send(new CreateGroupCommand({ IdentityStoreId, DisplayName: `group-${suffix()}` }))).GroupId!;
  const newPermissionSet = async () =>
    (await sso.send(new CreatePermissionSetCommand({ InstanceArn, Name: `ps-${suffix()}` }))).PermissionSet!.PermissionSetArn!;

  const assignment = (PermissionSetArn: string, PrincipalId: string, PrincipalType: PrincipalType = 'USER', TargetId = account) => ({
    InstanceArn,
    TargetId,
    TargetType: 'AWS_ACCOUNT' as const,
    PermissionSetArn,
    PrincipalType,
    PrincipalId,
  });

  async function assign(...args: Parameters<typeof assignment>): Promise<AccountAssignmentOperationStatus> {
    const { AccountAssignmentCreationStatus: started } = await sso.send(new CreateAccountAssignmentCommand(assignment(...args)));
    return until(
      'CreateAccountAssignment',
      async () =>
        (await sso.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn, AccountAssignmentCreationRequestId: started!.RequestId! })))
          .AccountAssignmentCreationStatus!,
      (s) => s.Status !== 'IN_PROGRESS',
    );
  }

  async function provision(PermissionSetArn: string, target: { TargetType: 'AWS_ACCOUNT'; TargetId: string } | { TargetType: 'ALL_PROVISIONED_ACCOUNTS' }) {
    const { PermissionSetProvisioningStatus: started } = await sso.send(new ProvisionPermissionSetCommand({ InstanceArn, PermissionSetArn, ...target }));
    return until<PermissionSetProvisioningStatus>(
      'ProvisionPermissionSet',
      async () =>
        (await sso.send(new DescribePermissionSetProvisioningStatusCommand({ InstanceArn, ProvisionPermissionSetRequestId: started!.RequestId! })))
          .PermissionSetProvisioningStatus!,
      (s) => s.Status !== 'IN_PROGRESS',
    );
  }

  const assignmentsOf = async (PermissionSetArn: string, AccountId = account) =>
    (await sso.send(new ListAccountAssignmentsCommand({ InstanceArn, AccountId, PermissionSetArn }))).AccountAssignments ?? [];
  const provisionedAccounts = async (PermissionSetArn: string, ProvisioningStatus?: 'LATEST_PERMISSION_SET_PROVISIONED' | 'LATEST_PERMISSION_SET_NOT_PROVISIONED') =>
    (await sso.send(new ListAccountsForProvisionedPermissionSetCommand({ InstanceArn, PermissionSetArn, ProvisioningStatus }))).AccountIds ?? [];
  const provisionedTo = async (AccountId: string, ProvisioningStatus?: 'LATEST_PERMISSION_SET_PROVISIONED' | 'LATEST_PERMISSION_SET_NOT_PROVISIONED') =>
    (await sso.send(new ListPermissionSetsProvisionedToAccountCommand({ InstanceArn, AccountId, ProvisioningStatus }))).PermissionSets ?? [];

  it('creates an assignment asynchronously: IN_PROGRESS, then SUCCEEDED and visible', async () => {
    const ps = await newPermissionSet();
    const user = await newUser();
    const { AccountAssignmentCreationStatus: started } = await sso.send(new CreateAccountAssignmentCommand(assignment(ps, user)));
    expect(started).toMatchObject({ Status: 'IN_PROGRESS', TargetId: account, TargetType: 'AWS_ACCOUNT', PermissionSetArn: ps, PrincipalType: 'USER', PrincipalId: user });
    expect(started!.RequestId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    expect(started!.CreatedDate).toBeInstanceOf(Date);

    const done = await until(
      'assignment',
      async () =>
        (await sso.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn, AccountAssignmentCreationRequestId: started!.RequestId! })))
          .AccountAssignmentCreationStatus!,
      (s) => s.Status !== 'IN_PROGRESS',
    );
    expect(done).toMatchObject({ Status: 'SUCCEEDED', RequestId: started!.RequestId, PrincipalId: user });
    expect(await assignmentsOf(ps)).toEqual([{ AccountId: account, PermissionSetArn: ps, PrincipalType: 'USER', PrincipalId: user }]);
    expect(await provisionedTo(account)).toContain(ps);
    expect(await provisionedAccounts(ps, 'LATEST_PERMISSION_SET_PROVISIONED')).toEqual([account]);

    const succeeded = await sso.send(new ListAccountAssignmentCreationStatusCommand({ InstanceArn, Filter: { Status: 'SUCCEEDED' } }));
    expect(succeeded.AccountAssignmentsCreationStatus).toContainEqual({ Status: 'SUCCEEDED', RequestId: started!.RequestId, CreatedDate: started!.CreatedDate });
    const failed = await sso.send(new ListAccountAssignmentCreationStatusCommand({ InstanceArn, Filter: { Status: 'FAILED' } }));
    expect(failed.AccountAssignmentsCreationStatus?.map((s) => s.RequestId)).not.toContain(started!.RequestId);

    const events = await server.reg.database.db
      .selectFrom('audit_events')
      .select(['error_code', 'response_elements'])
      .where('event_name', '=', 'CreateAccountAssignment')
      .where('request_parameters', 'like', `%${user}%`)
      .execute();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ error_code: null, response_elements: expect.stringContaining(started!.RequestId!) });
  });

  it('is idempotent: assigning twice succeeds and keeps one assignment; a job run twice changes nothing', async () => {
    const ps = await newPermissionSet();
    const user = await newUser();
    expect((await assign(ps, user)).Status).toBe('SUCCEEDED');
    const again = await assign(ps, user);
    expect(again.Status).toBe('SUCCEEDED');
    expect(await assignmentsOf(ps)).toHaveLength(1);

    // A worker that crashed after committing runs the same job again.
    const now = Date.now();
    await server.reg.read.jobs.enqueueJob({ id: `replay-${suffix()}`, kind: 'access.create_account_assignment', payload: { requestId: again.RequestId }, runAfter: now, now });
    await server.reg.jobs.drain();
    const replayed = await sso.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn, AccountAssignmentCreationRequestId: again.RequestId! }));
    expect(replayed.AccountAssignmentCreationStatus?.Status).toBe('SUCCEEDED');
    expect(await assignmentsOf(ps)).toHaveLength(1);
  });

  it('refuses an unknown account, permission set or principal at once, records nothing, and audits the refusal', async () => {
    const ps = await newPermissionSet();
    const user = await newUser();
    const before = (await sso.send(new ListAccountAssignmentCreationStatusCommand({ InstanceArn }))).AccountAssignmentsCreationStatus!.length;
    const missingPs = ps.replace(/ps-[0-9a-f]{16}$/, 'ps-0000000000000000');
    const missingUser = `${IdentityStoreId.slice(2)}-00000000-0000-4000-8000-000000000000`;

    await expect(sso.send(new CreateAccountAssignmentCommand(assignment(ps, user, 'USER', '999999999999')))).rejects.toMatchObject({
      name: 'ValidationException',
      $metadata: { httpStatusCode: 400 },
      message: expect.stringMatching(/999999999999/),
    });
    await expect(sso.send(new CreateAccountAssignmentCommand(assignment(missingPs, user)))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      $metadata: { httpStatusCode: 404 },
    });
    await expect(sso.send(new CreateAccountAssignmentCommand(assignment(ps, missingUser)))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: expect.stringMatching(/User .* does not exist/),
    });
    await expect(sso.send(new CreateAccountAssignmentCommand(assignment(ps, missingUser, 'GROUP')))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
      message: expect.stringMatching(/Group .* does not exist/),
    });
    await expect(sso.send(new CreateAccountAssignmentCommand({ ...assignment(ps, 'not-an-id') }))).rejects.toMatchObject({ name: 'ValidationException' });

    expect((await sso.send(new ListAccountAssignmentCreationStatusCommand({ InstanceArn }))).AccountAssignmentsCreationStatus).toHaveLength(before);
    expect(await assignmentsOf(ps)).toEqual([]);
    const refused = await server.reg.database.db
      .selectFrom('audit_events')
      .select('error_code')
      .where('event_name', '=', 'CreateAccountAssignment')
      .where('request_parameters', 'like', `%${missingUser}%`)
      .execute();
    expect(refused.map((r) => r.error_code)).toEqual(['access.principal_not_found', 'access.principal_not_found']);
  });

  it("lists a user's assignments, including those through their groups, reported as the group's", async () => {
    const ps = await newPermissionSet();
    const ps2 = await newPermissionSet();
    const other = await newAccount();
    const user = await newUser();
    const group = await newGroup();
    await ids.send(new CreateGroupMembershipCommand({ IdentityStoreId, GroupId: group, MemberId: { UserId: user } }));
    expect((await assign(ps, user)).Status).toBe('SUCCEEDED');
    expect((await assign(ps2, group, 'GROUP')).Status).toBe('SUCCEEDED');
    expect((await assign(ps, group, 'GROUP', other)).Status).toBe('SUCCEEDED');

    const forUser = await sso.send(new ListAccountAssignmentsForPrincipalCommand({ InstanceArn, PrincipalId: user, PrincipalType: 'USER' }));
    expect(forUser.AccountAssignments).toHaveLength(3);
    expect(forUser.AccountAssignments).toEqual(
      expect.arrayContaining([
        { AccountId: account, PermissionSetArn: ps, PrincipalType: 'USER', PrincipalId: user },
        { AccountId: account, PermissionSetArn: ps2, PrincipalType: 'GROUP', PrincipalId: group },
        { AccountId: other, PermissionSetArn: ps, PrincipalType: 'GROUP', PrincipalId: group },
      ]),
    );
    const filtered = await sso.send(
      new ListAccountAssignmentsForPrincipalCommand({ InstanceArn, PrincipalId: user, PrincipalType: 'USER', Filter: { AccountId: other } }),
    );
    expect(filtered.AccountAssignments).toEqual([{ AccountId: other, PermissionSetArn: ps, PrincipalType: 'GROUP', PrincipalId: group }]);
    const paged = await sso.send(new ListAccountAssignmentsForPrincipalCommand({ InstanceArn, PrincipalId: user, PrincipalType: 'USER', MaxResults: 2 }));
    expect(paged.AccountAssignments).toHaveLength(2);
    const rest = await sso.send(
      new ListAccountAssignmentsForPrincipalCommand({ InstanceArn, PrincipalId: user, PrincipalType: 'USER', MaxResults: 2, NextToken: paged.NextToken }),
    );
    expect(rest.AccountAssignments).toHaveLength(1);
    expect(rest.NextToken).toBeUndefined();
    const forGroup = await sso.send(new ListAccountAssignmentsForPrincipalCommand({ InstanceArn, PrincipalId: group, PrincipalType: 'GROUP' }));
    expect(forGroup.AccountAssignments).toHaveLength(2);
  });

  it('pages through the assignments of an account and permission set', async () => {
    const ps = await newPermissionSet();
    const users = await Promise.all(Array.from({ length: 5 }, () => newUser()));
    for (const u of users) await sso.send(new CreateAccountAssignmentCommand(assignment(ps, u)));
    await until('assignments', () => assignmentsOf(ps), (a) => a.length === 5);
    const seen: string[] = [];
    for await (const page of paginateListAccountAssignments({ client: sso, pageSize: 2 }, { InstanceArn, AccountId: account, PermissionSetArn: ps })) {
      expect(page.AccountAssignments!.length).toBeLessThanOrEqual(2);
      seen.push(...page.AccountAssignments!.map((a) => a.PrincipalId!));
    }
    expect(seen.sort()).toEqual([...users].sort());
  });

  it('deletes an assignment asynchronously, removes the role with the last one, and then lets the permission set go', async () => {
    const ps = await newPermissionSet();
    const user = await newUser();
    expect((await assign(ps, user)).Status).toBe('SUCCEEDED');
    await expect(sso.send(new DeletePermissionSetCommand({ InstanceArn, PermissionSetArn: ps }))).rejects.toMatchObject({
      name: 'ConflictException',
      $metadata: { httpStatusCode: 409 },
    });

    const { AccountAssignmentDeletionStatus: started } = await sso.send(new DeleteAccountAssignmentCommand(assignment(ps, user)));
    expect(started).toMatchObject({ Status: 'IN_PROGRESS', PrincipalId: user, TargetId: account, PermissionSetArn: ps });
    const done = await until(
      'deletion',
      async () =>
        (await sso.send(new DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn, AccountAssignmentDeletionRequestId: started!.RequestId! })))
          .AccountAssignmentDeletionStatus!,
      (s) => s.Status !== 'IN_PROGRESS',
    );
    expect(done.Status).toBe('SUCCEEDED');
    expect(await assignmentsOf(ps)).toEqual([]);
    expect(await provisionedTo(account)).not.toContain(ps);
    const listed = await sso.send(new ListAccountAssignmentDeletionStatusCommand({ InstanceArn, Filter: { Status: 'SUCCEEDED' } }));
    expect(listed.AccountAssignmentsDeletionStatus?.map((s) => s.RequestId)).toContain(started!.RequestId);
    await expect(
      sso.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn, AccountAssignmentCreationRequestId: started!.RequestId! })),
    ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });

    await sso.send(new DeletePermissionSetCommand({ InstanceArn, PermissionSetArn: ps }));
    const conflicts = await server.reg.database.db
      .selectFrom('audit_events')
      .select('error_code')
      .where('event_name', '=', 'DeletePermissionSet')
      .where('request_parameters', 'like', `%${ps}%`)
      .orderBy('seq')
      .execute();
    expect(conflicts.map((r) => r.error_code)).toEqual(['access.permission_set_in_use', null]);
  });

  it('carries out a creation and a deletion of one assignment in the order they were asked, even when the deletion job runs first', async () => {
    const ps = await newPermissionSet();
    const user = await newUser();
    await server.reg.jobs.stop();
    try {
      const { AccountAssignmentCreationStatus: created } = await sso.send(new CreateAccountAssignmentCommand(assignment(ps, user)));
      const { AccountAssignmentDeletionStatus: deleted } = await sso.send(new DeleteAccountAssignmentCommand(assignment(ps, user)));
      // The creation's job is held back, as a retry after a failed attempt or a slow process would hold it.
      const jobs = server.reg.read.jobs;
      const now = Date.now();
      for (const job of await jobs.claimJobs('test-holder', now, now + 60_000, 100)) {
        const held = job.kind === 'access.create_account_assignment' && (job.payload as { requestId: string }).requestId === created!.RequestId;
        await jobs.retryJob(job.id, now, held ? now + 3_600_000 : now, 'held by the test');
      }
      await server.reg.jobs.drain();
      const creation = await sso.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn, AccountAssignmentCreationRequestId: created!.RequestId! }));
      const deletion = await sso.send(new DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn, AccountAssignmentDeletionRequestId: deleted!.RequestId! }));
      expect(creation.AccountAssignmentCreationStatus?.Status).toBe('SUCCEEDED');
      expect(deletion.AccountAssignmentDeletionStatus?.Status).toBe('SUCCEEDED');
      // The user asked last for no assignment, and has none; the role went with it.
      expect(await assignmentsOf(ps)).toEqual([]);
      expect(await provisionedTo(account)).not.toContain(ps);
    } finally {
      server.reg.jobs.start();
    }
  });

  it('tracks whether accounts have the latest version of a permission set until it is provisioned again', async () => {
    const ps = await newPermissionSet();
    const second = await newAccount();
    const user = await newUser();
    expect((await assign(ps, user)).Status).toBe('SUCCEEDED');
    expect((await assign(ps, user, 'USER', second)).Status).toBe('SUCCEEDED');
    expect((await provisionedAccounts(ps, 'LATEST_PERMISSION_SET_PROVISIONED')).sort()).toEqual([account, second].sort());
    expect(await provisionedAccounts(ps, 'LATEST_PERMISSION_SET_NOT_PROVISIONED')).toEqual([]);

    // Calls that leave the permission set as it was do not make it need provisioning again.
    await sso.send(new DeletePermissionsBoundaryFromPermissionSetCommand({ InstanceArn, PermissionSetArn: ps }));
    await sso.send(new DeleteInlinePolicyFromPermissionSetCommand({ InstanceArn, PermissionSetArn: ps }));
    await sso.send(new UpdatePermissionSetCommand({ InstanceArn, PermissionSetArn: ps }));
    await sso.send(new PutInlinePolicyToPermissionSetCommand({ InstanceArn, PermissionSetArn: ps, InlinePolicy: POLICY }));
    await provision(ps, { TargetType: 'ALL_PROVISIONED_ACCOUNTS' });
    await sso.send(new PutInlinePolicyToPermissionSetCommand({ InstanceArn, PermissionSetArn: ps, InlinePolicy: POLICY }));
    expect(await provisionedAccounts(ps, 'LATEST_PERMISSION_SET_NOT_PROVISIONED')).toEqual([]);
    await sso.send(new DeleteInlinePolicyFromPermissionSetCommand({ InstanceArn, PermissionSetArn: ps }));
    expect((await provisionedAccounts(ps, 'LATEST_PERMISSION_SET_NOT_PROVISIONED')).sort()).toEqual([account, second].sort());
    expect(await provisionedTo(second, 'LATEST_PERMISSION_SET_NOT_PROVISIONED')).toContain(ps);

    const one = await provision(ps, { TargetType: 'AWS_ACCOUNT', TargetId: second });
    expect(one).toMatchObject({ Status: 'SUCCEEDED', AccountId: second, PermissionSetArn: ps });
    expect(await provisionedAccounts(ps, 'LATEST_PERMISSION_SET_PROVISIONED')).toEqual([second]);
    expect(await provisionedAccounts(ps, 'LATEST_PERMISSION_SET_NOT_PROVISIONED')).toEqual([account]);

    await sso.send(new UpdatePermissionSetCommand({ InstanceArn, PermissionSetArn: ps, SessionDuration: 'PT8H' }));
    expect(await provisionedAccounts(ps, 'LATEST_PERMISSION_SET_PROVISIONED')).toEqual([]);
    const all = await provision(ps, { TargetType: 'ALL_PROVISIONED_ACCOUNTS' });
    expect(all.Status).toBe('SUCCEEDED');
    expect(all.AccountId).toBeUndefined();
    expect((await provisionedAccounts(ps, 'LATEST_PERMISSION_SET_PROVISIONED')).sort()).toEqual([account, second].sort());
    expect((await provisionedAccounts(ps)).sort()).toEqual([account, second].sort());

    const statuses = await sso.send(new ListPermissionSetProvisioningStatusCommand({ InstanceArn, Filter: { Status: 'SUCCEEDED' } }));
    expect(statuses.PermissionSetsProvisioningStatus?.map((s) => s.RequestId)).toEqual(expect.arrayContaining([one.RequestId, all.RequestId]));

    await expect(sso.send(new ProvisionPermissionSetCommand({ InstanceArn, PermissionSetArn: ps, TargetType: 'AWS_ACCOUNT' }))).rejects.toMatchObject({
      name: 'ValidationException',
    });
    await expect(
      sso.send(new ProvisionPermissionSetCommand({ InstanceArn, PermissionSetArn: ps, TargetType: 'AWS_ACCOUNT', TargetId: '999999999999' })),
    ).rejects.toMatchObject({ name: 'ValidationException' });
  });

  it('fails provisioning to all accounts where any of them, the thousand-and-first included, lacks a referenced policy', async () => {
    const ps = await newPermissionSet();
    const name = `Fleet${suffix()}`;
    await sso.send(new AttachCustomerManagedPolicyReferenceToPermissionSetCommand({ InstanceArn, PermissionSetArn: ps, CustomerManagedPolicyReference: { Name: name, Path: '/' } }));
    // A fleet of 1,001 accounts where the permission set is provisioned, written as a release that
    // provisioned it there left them; the policy exists in each but the last.
    const db = server.reg.database.db;
    const base = 700_000_000_000 + Math.floor(Math.random() * 1_000_000) * 10_000;
    const fleet = Array.from({ length: 1001 }, (_, i) => String(base + i));
    const now = Date.now();
    for (let i = 0; i < fleet.length; i += 250) {
      const slice = fleet.slice(i, i + 250);
      await db.insertInto('permission_set_provisions').values(slice.map((accountId) => ({ permission_set_arn: ps, account_id: accountId, role_name: `AWSReservedSSO_fleet_${accountId}`, provisioned_version: 1, provisioned_at: now }))).execute();
      const withPolicy = slice.filter((accountId) => accountId !== fleet.at(-1));
      if (withPolicy.length === 0) continue;
      const arn = (accountId: string) => `arn:aws:iam::${accountId}:policy/${name}`;
      await db
        .insertInto('customer_policies')
        .values(withPolicy.map((accountId) => ({ policy_arn: arn(accountId), account_id: accountId, policy_name: name, path: '/', policy_id: `ANPA${accountId}${suffix()}`.slice(0, 32), description: null, default_version_id: 'v1', next_version: 2, created_at: now, updated_at: now })))
        .execute();
      await db.insertInto('customer_policy_versions').values(withPolicy.map((accountId) => ({ policy_arn: arn(accountId), version_id: 'v1', document: POLICY, created_at: now }))).execute();
    }
    const all = await provision(ps, { TargetType: 'ALL_PROVISIONED_ACCOUNTS' });
    expect(all).toMatchObject({ Status: 'FAILED', FailureReason: `Received a 404 status error: Not supported policy arn:aws:iam::${fleet.at(-1)}:policy/${name}.` });
  });

  it('provisions to the management account too', async () => {
    const ps = await newPermissionSet();
    const done = await provision(ps, { TargetType: 'AWS_ACCOUNT', TargetId: server.init.managementAccountId });
    expect(done.Status).toBe('SUCCEEDED');
    expect(await provisionedTo(server.init.managementAccountId, 'LATEST_PERMISSION_SET_PROVISIONED')).toContain(ps);
    expect(await provisionedAccounts(ps)).toEqual([server.init.managementAccountId]);
  });

  it('fails a queued assignment whose permission set was deleted before the job ran', async () => {
    const ps = await newPermissionSet();
    const user = await newUser();
    await server.reg.jobs.stop();
    try {
      const { AccountAssignmentCreationStatus: started } = await sso.send(new CreateAccountAssignmentCommand(assignment(ps, user)));
      await sso.send(new DeletePermissionSetCommand({ InstanceArn, PermissionSetArn: ps }));
      await server.reg.jobs.drain();
      const status = await sso.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn, AccountAssignmentCreationRequestId: started!.RequestId! }));
      expect(status.AccountAssignmentCreationStatus).toMatchObject({ Status: 'FAILED', FailureReason: expect.stringMatching(/no longer exists/) });
    } finally {
      server.reg.jobs.start();
    }
  });
});
