// Seed 002's boto3 script, run by Debian's python3-boto3 exactly as published: only the three IDs
// it tells the reader to replace are replaced, and the endpoint is redirected through AWS_DATA_PATH.

import { CreateGroupCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import {
  ListAccountAssignmentsCommand,
  ListManagedPoliciesInPermissionSetCommand,
  ListPermissionSetsCommand,
  DescribePermissionSetCommand,
  SSOAdminClient,
} from '@aws-sdk/client-sso-admin';
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hasBoto3, peerAvailable, peerEnv, PYTHON, run } from '../helpers/peers.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

const SEED = path.resolve(import.meta.dirname, 'seed-002-create-and-assign.py');

describe.runIf(peerAvailable('python3-boto3', hasBoto3)).each(dialects())('seed 002 boto3 script on %s', (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(dialect);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('creates the permission set, attaches SecurityAudit, assigns the group, and prints the status', async () => {
    const group = await new IdentitystoreClient(sdkOptions(server)).send(
      new CreateGroupCommand({ IdentityStoreId: server.init.identityStoreId, DisplayName: 'SecurityAuditors' }),
    );
    const script = readFileSync(SEED, 'utf8')
      .replace('arn:aws:sso:::instance/ssoins-1234567890abcdef', server.init.instanceArn)
      .replace("'111122223333'", `'${server.init.managementAccountId}'`)
      .replace('906731adeb-1234-5678-90ab-cdef12345678', group.GroupId!);
    const file = path.join(server.dataDir, 'seed-002.py');
    writeFileSync(file, script);

    const result = await run(PYTHON, [file], peerEnv(server.url, server.credentials));
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.trim()).toBe('Assignment status: IN_PROGRESS');

    const sso = new SSOAdminClient(sdkOptions(server));
    const sets = await sso.send(new ListPermissionSetsCommand({ InstanceArn: server.init.instanceArn }));
    expect(sets.PermissionSets).toHaveLength(1);
    const psArn = sets.PermissionSets![0]!;
    const ps = await sso.send(new DescribePermissionSetCommand({ InstanceArn: server.init.instanceArn, PermissionSetArn: psArn }));
    expect(ps.PermissionSet).toMatchObject({ Name: 'SecurityAuditAccess', SessionDuration: 'PT4H' });
    const policies = await sso.send(new ListManagedPoliciesInPermissionSetCommand({ InstanceArn: server.init.instanceArn, PermissionSetArn: psArn }));
    expect(policies.AttachedManagedPolicies).toEqual([{ Name: 'SecurityAudit', Arn: 'arn:aws:iam::aws:policy/SecurityAudit' }]);
    await expect
      .poll(
        async () =>
          (
            await sso.send(
              new ListAccountAssignmentsCommand({ InstanceArn: server.init.instanceArn, AccountId: server.init.managementAccountId, PermissionSetArn: psArn }),
            )
          ).AccountAssignments,
        { timeout: 10_000 },
      )
      .toEqual([{ AccountId: server.init.managementAccountId, PermissionSetArn: psArn, PrincipalType: 'GROUP', PrincipalId: group.GroupId }]);
  });

  it('gets AWS-shaped errors that botocore understands', async () => {
    const probe = `
import boto3, botocore
c = boto3.client('identitystore')
try:
    c.describe_user(IdentityStoreId='${server.init.identityStoreId}', UserId='${server.init.identityStoreId.slice(2)}-00000000-0000-0000-0000-000000000000')
except botocore.exceptions.ClientError as e:
    print(e.response['Error']['Code'], e.response['ResponseMetadata']['HTTPStatusCode'])
try:
    c.describe_user(IdentityStoreId='d-0000000000', UserId='0000000000-00000000-0000-0000-0000-000000000000')
except c.exceptions.ResourceNotFoundException as e:
    print('modeled', e.response['Error']['Code'])
`;
    const result = await run(PYTHON, ['-c', probe], peerEnv(server.url, server.credentials));
    expect(result.stderr).toBe('');
    expect(result.stdout.trim().split('\n')).toEqual(['ResourceNotFoundException 404', 'modeled ResourceNotFoundException']);
  });
});
