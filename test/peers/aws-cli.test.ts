// Debian's AWS CLI v2 (/usr/bin/aws), unchanged, redirected through AWS_DATA_PATH: list users,
// create a permission set, create an assignment, and see AWS-shaped errors.

import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { DescribeAccountAssignmentCreationStatusCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_CLI, hasAwsCli, peerAvailable, peerEnv, run, type PeerEnv } from '../helpers/peers.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

describe.runIf(peerAvailable('awscli', hasAwsCli)).each(dialects())('AWS CLI v2 on %s', (dialect) => {
  let server: TestServer;
  let env: PeerEnv;
  const aws = async (...args: string[]) => {
    const r = await run(AWS_CLI, [...args, '--output', 'json'], env);
    return { ...r, json: r.code === 0 && r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : undefined };
  };
  beforeAll(async () => {
    server = await startServer(dialect);
    env = peerEnv(server.url, server.credentials);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('lists users, creates a permission set and an assignment that completes', async () => {
    const ids = new IdentitystoreClient(sdkOptions(server));
    const user = await ids.send(
      new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: 'cli-user', DisplayName: 'Cli User', Name: { GivenName: 'Cli', FamilyName: 'User' } }),
    );
    const listed = await aws('identitystore', 'list-users', '--identity-store-id', server.init.identityStoreId);
    expect(listed.stderr).toBe('');
    expect(listed.json?.Users).toEqual([expect.objectContaining({ UserName: 'cli-user', UserId: user.UserId })]);

    const created = await aws('sso-admin', 'create-permission-set', '--instance-arn', server.init.instanceArn, '--name', 'CliOps', '--session-duration', 'PT2H');
    expect(created.stderr).toBe('');
    const psArn = (created.json?.PermissionSet as { PermissionSetArn: string }).PermissionSetArn;
    expect(psArn).toMatch(/^arn:aws:sso:::permissionSet\/ssoins-[0-9a-f]{16}\/ps-[0-9a-f]{16}$/);

    const assigned = await aws(
      'sso-admin', 'create-account-assignment', '--instance-arn', server.init.instanceArn,
      '--target-id', server.init.managementAccountId, '--target-type', 'AWS_ACCOUNT',
      '--permission-set-arn', psArn, '--principal-type', 'USER', '--principal-id', user.UserId!,
    );
    expect(assigned.stderr).toBe('');
    const status = assigned.json?.AccountAssignmentCreationStatus as { Status: string; RequestId: string };
    expect(status.Status).toBe('IN_PROGRESS');
    const sso = new SSOAdminClient(sdkOptions(server));
    await expect
      .poll(
        async () =>
          (await sso.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: server.init.instanceArn, AccountAssignmentCreationRequestId: status.RequestId })))
            .AccountAssignmentCreationStatus?.Status,
        { timeout: 10_000 },
      )
      .toBe('SUCCEEDED');
  });

  it('shows AWS error names for bad input and a bad key', async () => {
    const bad = await aws('sso-admin', 'create-permission-set', '--instance-arn', server.init.instanceArn, '--name', 'Bad', '--session-duration', 'PT13H');
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('ValidationException');
    const forged = await run(AWS_CLI, ['identitystore', 'list-users', '--identity-store-id', server.init.identityStoreId], { ...env, AWS_SECRET_ACCESS_KEY: 'x'.repeat(40) });
    expect(forged.code).not.toBe(0);
    expect(forged.stderr).toContain('InvalidSignatureException');
  });
});
