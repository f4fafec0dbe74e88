// Two `atrium serve` processes writing to one PostgreSQL at once: users, memberships and
// assignments. Nothing is lost, nothing is duplicated, and racing duplicates get a clean conflict.

import {
  CreateGroupCommand,
  CreateGroupMembershipCommand,
  CreateUserCommand,
  IdentitystoreClient,
  ListGroupMembershipsCommand,
  paginateListUsers,
} from '@aws-sdk/client-identitystore';
import {
  CreateAccountAssignmentCommand,
  CreatePermissionSetCommand,
  DeleteAccountAssignmentCommand,
  ListPermissionSetsProvisionedToAccountCommand,
  ListAccountAssignmentsCommand,
  ListInstancesCommand,
  SSOAdminClient,
  paginateListAccountAssignments,
} from '@aws-sdk/client-sso-admin';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServe, type ServeProcess } from '../helpers/cli.js';
import { dialects, freshPostgresDatabase } from '../helpers/server.js';

const PER_PROCESS = 60;
const CONTESTED = 20;

describe.runIf(dialects().includes('postgres'))('two atrium serve processes on one PostgreSQL', () => {
  let dataDir: string;
  let procs: ServeProcess[] = [];
  let init: { identityStoreId: string; instanceArn: string; managementAccountId: string; adminAccessKeyId: string; adminSecretAccessKey: string };

  beforeAll(async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-multi-'));
    const args = ['--data-dir', dataDir, '--database-url', await freshPostgresDatabase()];
    const r = await runCli(['init', ...args, '--json']);
    expect(r.code).toBe(0);
    init = JSON.parse(r.stdout) as typeof init;
    procs = await Promise.all([startServe(args), startServe(args)]);
  });
  afterAll(async () => {
    await Promise.all(procs.map((p) => p.stop()));
    rmSync(dataDir, { recursive: true, force: true });
  });

  const clients = () => {
    const credentials = { accessKeyId: init.adminAccessKeyId, secretAccessKey: init.adminSecretAccessKey };
    return procs.map((p) => ({
      ids: new IdentitystoreClient({ endpoint: p.url, region: 'us-east-1', credentials, maxAttempts: 1 }),
      sso: new SSOAdminClient({ endpoint: p.url, region: 'us-east-1', credentials, maxAttempts: 1 }),
    }));
  };

  it('loses nothing, duplicates nothing, and answers racing duplicates with ConflictException', async () => {
    const [a, b] = clients() as [ReturnType<typeof clients>[0], ReturnType<typeof clients>[0]];
    const IdentityStoreId = init.identityStoreId;
    const group = await a.ids.send(new CreateGroupCommand({ IdentityStoreId, DisplayName: 'shared-group' }));
    const ps = await b.sso.send(new CreatePermissionSetCommand({ InstanceArn: init.instanceArn, Name: 'MultiProc' }));
    const psArn = ps.PermissionSet!.PermissionSetArn!;

    const create = (c: typeof a, name: string) =>
      c.ids.send(new CreateUserCommand({ IdentityStoreId, UserName: name, DisplayName: name, Name: { GivenName: 'M', FamilyName: name } })).then(
        (r) => ({ ok: true as const, id: r.UserId! }),
        (e: { name: string }) => ({ ok: false as const, error: e.name }),
      );
    // Each process gets its own names, plus CONTESTED names that both try to create (in different case).
    const jobs = [
      ...Array.from({ length: PER_PROCESS }, (_, i) => create(a, `mp-a-${i}`)),
      ...Array.from({ length: PER_PROCESS }, (_, i) => create(b, `mp-b-${i}`)),
      ...Array.from({ length: CONTESTED }, (_, i) => create(a, `mp-both-${i}`)),
      ...Array.from({ length: CONTESTED }, (_, i) => create(b, `MP-BOTH-${i}`)),
    ];
    const results = await Promise.all(jobs);
    const created = results.filter((r) => r.ok).map((r) => r.id);
    expect(results.filter((r) => !r.ok).map((r) => r.error)).toEqual(Array(CONTESTED).fill('ConflictException'));
    expect(created).toHaveLength(2 * PER_PROCESS + CONTESTED);

    const listed: string[] = [];
    for await (const page of paginateListUsers({ client: a.ids, pageSize: 50 }, { IdentityStoreId })) listed.push(...page.Users!.map((u) => u.UserId!));
    expect(listed.sort()).toEqual([...created].sort());

    // Memberships and assignments, alternating between the processes, all at once.
    await Promise.all(
      created.map((UserId, i) => (i % 2 ? a : b).ids.send(new CreateGroupMembershipCommand({ IdentityStoreId, GroupId: group.GroupId, MemberId: { UserId } }))),
    );
    await Promise.all(
      created.map((PrincipalId, i) =>
        (i % 2 ? b : a).sso.send(
          new CreateAccountAssignmentCommand({
            InstanceArn: init.instanceArn, TargetId: init.managementAccountId, TargetType: 'AWS_ACCOUNT',
            PermissionSetArn: psArn, PrincipalType: 'USER', PrincipalId,
          }),
        ),
      ),
    );
    const members: string[] = [];
    let token: string | undefined;
    do {
      const page = await b.ids.send(new ListGroupMembershipsCommand({ IdentityStoreId, GroupId: group.GroupId, NextToken: token }));
      members.push(...page.GroupMemberships!.map((m) => m.MemberId!.UserId!));
      token = page.NextToken;
    } while (token);
    expect(members.sort()).toEqual([...created].sort());

    await expect
      .poll(async () => {
        const ids: string[] = [];
        for await (const page of paginateListAccountAssignments({ client: a.sso }, { InstanceArn: init.instanceArn, AccountId: init.managementAccountId, PermissionSetArn: psArn })) {
          ids.push(...page.AccountAssignments!.map((x) => x.PrincipalId!));
        }
        return ids.sort();
      }, { timeout: 20_000, interval: 250 })
      .toEqual([...created].sort());
    // Both processes see the same result.
    const fromB = await b.sso.send(new ListAccountAssignmentsCommand({ InstanceArn: init.instanceArn, AccountId: init.managementAccountId, PermissionSetArn: psArn, MaxResults: 100 }));
    expect(fromB.AccountAssignments!.length).toBe(100);
  });
});

describe.runIf(dialects().includes('postgres'))('assignment jobs from two processes on one permission set', () => {
  it('removes the role with the last assignment even when both assignments are deleted at once', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-race-'));
    const args = ['--data-dir', dataDir, '--database-url', await freshPostgresDatabase()];
    const init = JSON.parse((await runCli(['init', ...args, '--json'])).stdout) as { identityStoreId: string; instanceArn: string; managementAccountId: string; adminAccessKeyId: string; adminSecretAccessKey: string };
    const procs = await Promise.all([startServe(args), startServe(args)]);
    try {
      const credentials = { accessKeyId: init.adminAccessKeyId, secretAccessKey: init.adminSecretAccessKey };
      const [a, b] = procs.map((p) => ({
        ids: new IdentitystoreClient({ endpoint: p.url, region: 'us-east-1', credentials, maxAttempts: 1 }),
        sso: new SSOAdminClient({ endpoint: p.url, region: 'us-east-1', credentials, maxAttempts: 1 }),
      })) as [{ ids: IdentitystoreClient; sso: SSOAdminClient }, { ids: IdentitystoreClient; sso: SSOAdminClient }];
      const IdentityStoreId = init.identityStoreId;
      const target = { InstanceArn: init.instanceArn, TargetId: init.managementAccountId, TargetType: 'AWS_ACCOUNT' as const };
      const users = await Promise.all(
        ['race-1', 'race-2'].map(async (UserName) => (await a.ids.send(new CreateUserCommand({ IdentityStoreId, UserName, DisplayName: UserName, Name: { GivenName: 'R', FamilyName: UserName } }))).UserId!),
      );
      const sets = await Promise.all(
        Array.from({ length: 15 }, async (_, i) => (await a.sso.send(new CreatePermissionSetCommand({ InstanceArn: init.instanceArn, Name: `Race${i}` }))).PermissionSet!.PermissionSetArn!),
      );
      const each = (fn: (c: typeof a, PermissionSetArn: string, PrincipalId: string) => Promise<unknown>) =>
        Promise.all(sets.flatMap((ps) => users.map((u, i) => fn(i ? b : a, ps, u))));
      await each((c, PermissionSetArn, PrincipalId) => c.sso.send(new CreateAccountAssignmentCommand({ ...target, PermissionSetArn, PrincipalType: 'USER', PrincipalId })));
      const provisioned = async () =>
        (await a.sso.send(new ListPermissionSetsProvisionedToAccountCommand({ InstanceArn: init.instanceArn, AccountId: init.managementAccountId, MaxResults: 100 }))).PermissionSets ?? [];
      await expect.poll(async () => (await provisioned()).length, { timeout: 20_000 }).toBe(sets.length);
      await each((c, PermissionSetArn, PrincipalId) => c.sso.send(new DeleteAccountAssignmentCommand({ ...target, PermissionSetArn, PrincipalType: 'USER', PrincipalId })));
      await expect.poll(provisioned, { timeout: 20_000 }).toEqual([]);
    } finally {
      await Promise.all(procs.map((p) => p.stop()));
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});

describe.runIf(dialects().includes('postgres'))('two atrium serve processes starting at once on an empty PostgreSQL', () => {
  it('agree on one instance and one bootstrap key, printed once', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-first-'));
    const args = ['--data-dir', dataDir, '--database-url', await freshPostgresDatabase()];
    const procs = await Promise.all([startServe(args), startServe(args)]);
    try {
      const instances = procs.map((p) => /instance: +(\S+)/.exec(p.banner)?.[1]);
      expect(instances[0]).toMatch(/^arn:aws:sso:::instance\/ssoins-/);
      expect(instances[1]).toBe(instances[0]);
      const printed = procs.filter((p) => p.banner.includes('AWS_SECRET_ACCESS_KEY='));
      expect(printed).toHaveLength(1);
      const credentials = {
        accessKeyId: /AWS_ACCESS_KEY_ID=(\S+)/.exec(printed[0]!.banner)![1]!,
        secretAccessKey: /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(printed[0]!.banner)![1]!,
      };
      for (const p of procs) {
        const sso = new SSOAdminClient({ endpoint: p.url, region: 'us-east-1', credentials, maxAttempts: 1 });
        const out = await sso.send(new ListInstancesCommand({}));
        expect(out.Instances?.map((i) => i.InstanceArn)).toEqual([instances[0]]);
      }
    } finally {
      await Promise.all(procs.map((p) => p.stop()));
      rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
