// Customer-managed policies through the real AWS CLI v2 and boto3 (Debian's), on both databases:
// create, version, get, list and delete, the version limit, switching and deleting versions, IAM's errors, and a permission set whose
// customer-managed reference resolves (or not) in the account where it is used.

import {
  AttachCustomerManagedPolicyReferenceToPermissionSetCommand,
  DetachCustomerManagedPolicyReferenceFromPermissionSetCommand,
  CreateAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  SSOAdminClient,
} from '@aws-sdk/client-sso-admin';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AWS_CLI, hasAwsCli, hasBoto3, peerAvailable, peerEnv, PYTHON, run } from '../helpers/peers.js';
import { portalFixture, suffix, until } from '../helpers/portal-fixture.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

/** The parts of the CLI's JSON output the test reads. */
interface IamOutput {
  Policy?: Record<string, unknown>;
  PolicyVersion?: Record<string, unknown>;
  Policies?: { Arn: string; PolicyName: string }[];
  Versions?: { VersionId: string; IsDefaultVersion: boolean }[];
}

const DOC = (action: string) => JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Read', Effect: 'Allow', Action: action, Resource: 'arn:aws:s3:::reports/*' }] });

describe.runIf(peerAvailable('awscli', hasAwsCli) && peerAvailable('python3-boto3', hasBoto3)).each(dialects())('IAM customer-managed policies on %s', (dialect) => {
  let server: TestServer;
  let env: ReturnType<typeof peerEnv>;
  const aws = async (...args: string[]) => {
    const r = await run(AWS_CLI, ['iam', ...args, '--endpoint-url', server.url, '--output', 'json'], env);
    return { ...r, json: r.code === 0 && r.stdout.trim() ? (JSON.parse(r.stdout) as IamOutput) : undefined };
  };

  beforeAll(async () => {
    server = await startServer(dialect);
    env = peerEnv(server.url, server.credentials);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('creates, versions, reads, lists and deletes a policy with the AWS CLI', async () => {
    const name = `Reports${suffix()}`;
    const account = server.init.managementAccountId;
    const created = await aws('create-policy', '--policy-name', name, '--path', '/team/', '--policy-document', DOC('s3:GetObject'), '--description', 'read reports');
    expect(created.stderr).toBe('');
    const arn = `arn:aws:iam::${account}:policy/team/${name}`;
    expect(created.json!.Policy).toMatchObject({ PolicyName: name, Arn: arn, Path: '/team/', DefaultVersionId: 'v1', AttachmentCount: 0, IsAttachable: true, Description: 'read reports', PolicyId: expect.stringMatching(/^ANPA[A-Z2-7]{17}$/) });

    expect((await aws('create-policy', '--policy-name', name, '--policy-document', DOC('s3:GetObject'))).stderr).toMatch(/EntityAlreadyExists.*already exists/);
    expect((await aws('create-policy', '--policy-name', `Bad${suffix()}`, '--policy-document', DOC('s3:GetObjekt'))).stderr).toMatch(/MalformedPolicyDocument.*s3:GetObjekt does not exist/);

    const v2 = await aws('create-policy-version', '--policy-arn', arn, '--policy-document', DOC('s3:ListBucket'), '--set-as-default');
    expect(v2.json!.PolicyVersion).toMatchObject({ VersionId: 'v2', IsDefaultVersion: true });
    expect((await aws('get-policy', '--policy-arn', arn)).json!.Policy).toMatchObject({ DefaultVersionId: 'v2' });
    const got = await aws('get-policy-version', '--policy-arn', arn, '--version-id', 'v1');
    expect(got.json!.PolicyVersion).toMatchObject({ VersionId: 'v1', IsDefaultVersion: false, Document: JSON.parse(DOC('s3:GetObject')) });

    const local = await aws('list-policies', '--scope', 'Local');
    expect(local.json!.Policies!.map((p) => p.Arn)).toContain(arn);
    const managed = await aws('list-policies', '--scope', 'AWS', '--path-prefix', '/job-function/');
    expect(managed.json!.Policies!.map((p) => p.PolicyName)).toContain('ViewOnlyAccess');
    const aws1 = await aws('get-policy-version', '--policy-arn', 'arn:aws:iam::aws:policy/AdministratorAccess', '--version-id', 'v1');
    expect(aws1.json!.PolicyVersion!.Document).toEqual({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: '*', Resource: '*' }] });

    expect((await aws('delete-policy', '--policy-arn', arn)).stderr).toMatch(/DeleteConflict/);
    expect((await aws('get-policy', '--policy-arn', `arn:aws:iam::${account}:policy/Nope`)).stderr).toMatch(/NoSuchEntity/);
  });

  it('lists, switches and deletes versions, so a policy at its five-version limit takes a new one and can be deleted', async () => {
    const name = `Versions${suffix()}`;
    const arn = `arn:aws:iam::${server.init.managementAccountId}:policy/${name}`;
    expect((await aws('create-policy', '--policy-name', name, '--policy-document', DOC('s3:GetObject'))).code).toBe(0);
    // boto3 fills the policy to IAM's limit of five versions and tries a sixth, then gets IAM's errors.
    const script = `
import boto3, json, sys
iam = boto3.client('iam', endpoint_url=sys.argv[1], region_name='us-east-1')
arn, doc = sys.argv[2], sys.argv[3]
for i in range(4):
    iam.create_policy_version(PolicyArn=arn, PolicyDocument=doc)
errors = {}
def code(name, f, **kw):
    try:
        f(**kw)
    except iam.exceptions.ClientError as e:
        errors[name] = e.response['Error']['Code'] + ': ' + e.response['Error']['Message']
code('sixth', iam.create_policy_version, PolicyArn=arn, PolicyDocument=doc)
code('default', iam.delete_policy_version, PolicyArn=arn, VersionId='v1')
code('unknown', iam.delete_policy_version, PolicyArn=arn, VersionId='v9')
code('malformed', iam.delete_policy_version, PolicyArn=arn, VersionId='one')
code('foreign', iam.set_default_policy_version, PolicyArn=arn.replace(sys.argv[4], '210987654321'), VersionId='v1')
print(json.dumps(errors))
`;
    const file = path.join(server.dataDir, `versions-${suffix()}.py`);
    writeFileSync(file, script);
    const filled = await run(PYTHON, [file, server.url, arn, DOC('s3:ListBucket'), server.init.managementAccountId], env);
    expect(filled.stderr).toBe('');
    expect(JSON.parse(filled.stdout)).toEqual({
      sixth: expect.stringMatching(/^LimitExceeded: .*delete an existing version/),
      default: 'DeleteConflict: Cannot delete the default version of a policy.',
      unknown: expect.stringMatching(/^NoSuchEntity: .*version v9 does not exist/),
      malformed: expect.stringMatching(/^ValidationError: /),
      foreign: expect.stringMatching(/^NoSuchEntity: /),
    });

    const listed = async () => (await aws('list-policy-versions', '--policy-arn', arn)).json!.Versions!.map((v) => `${v.VersionId}${v.IsDefaultVersion ? '*' : ''}`);
    expect(await listed()).toEqual(['v5', 'v4', 'v3', 'v2', 'v1*']);
    // A version that is not the default can go, and then the sixth version fits.
    expect((await aws('delete-policy-version', '--policy-arn', arn, '--version-id', 'v2')).code).toBe(0);
    expect((await aws('create-policy-version', '--policy-arn', arn, '--policy-document', DOC('s3:GetObjectTagging'))).json!.PolicyVersion).toMatchObject({ VersionId: 'v6', IsDefaultVersion: false });
    expect((await aws('set-default-policy-version', '--policy-arn', arn, '--version-id', 'v6')).code).toBe(0);
    expect(await listed()).toEqual(['v6*', 'v5', 'v4', 'v3', 'v1']);
    // A deleted version cannot become the default.
    expect((await aws('set-default-policy-version', '--policy-arn', arn, '--version-id', 'v2')).stderr).toMatch(/NoSuchEntity/);

    // An AWS managed policy lists its one version.
    expect((await aws('list-policy-versions', '--policy-arn', 'arn:aws:iam::aws:policy/AdministratorAccess')).json!.Versions).toEqual([expect.objectContaining({ VersionId: 'v1', IsDefaultVersion: true })]);

    // With every version but the default deleted, the policy itself can be.
    for (const v of ['v1', 'v3', 'v4', 'v5']) expect((await aws('delete-policy-version', '--policy-arn', arn, '--version-id', v)).code).toBe(0);
    expect((await aws('delete-policy', '--policy-arn', arn)).code).toBe(0);
    expect((await aws('get-policy', '--policy-arn', arn)).stderr).toMatch(/NoSuchEntity/);
  });

  it('works from boto3, with paging', async () => {
    const prefix = `/boto${suffix()}/`;
    const script = `
import boto3, json, sys
iam = boto3.client('iam', endpoint_url=sys.argv[1], region_name='us-east-1')
for i in range(3):
    iam.create_policy(PolicyName='Boto%d%s' % (i, sys.argv[2].strip('/')), Path=sys.argv[2], PolicyDocument=sys.argv[3])
pages = iam.get_paginator('list_policies').paginate(Scope='Local', PathPrefix=sys.argv[2], PaginationConfig={'PageSize': 2})
names = [p['PolicyName'] for page in pages for p in page['Policies']]
arn = iam.list_policies(Scope='Local', PathPrefix=sys.argv[2])['Policies'][0]['Arn']
doc = iam.get_policy_version(PolicyArn=arn, VersionId='v1')['PolicyVersion']['Document']
iam.delete_policy(PolicyArn=arn)
try:
    iam.get_policy(PolicyArn=arn)
except iam.exceptions.NoSuchEntityException:
    print(json.dumps({'names': names, 'doc': doc, 'deleted': True}))
`;
    const file = path.join(server.dataDir, 'iam.py');
    writeFileSync(file, script);
    const r = await run(PYTHON, [file, server.url, prefix, DOC('s3:GetObject')], env);
    expect(r.stderr).toBe('');
    const out = JSON.parse(r.stdout) as { names: string[]; doc: unknown; deleted: boolean };
    const tag = prefix.slice(1, -1);
    expect(out).toEqual({ names: [`Boto0${tag}`, `Boto1${tag}`, `Boto2${tag}`], doc: JSON.parse(DOC('s3:GetObject')), deleted: true });
  });

  it('fails provisioning where a customer-managed reference does not resolve, and grants it where it does', async () => {
    const f = portalFixture(server);
    const sso = new SSOAdminClient(sdkOptions(server));
    const InstanceArn = server.init.instanceArn;
    const user = await f.newUser();
    const ps = await f.newPermissionSet(`Cmp${suffix()}`);
    const name = `Readers${suffix()}`;
    await sso.send(new AttachCustomerManagedPolicyReferenceToPermissionSetCommand({ InstanceArn, PermissionSetArn: ps.arn, CustomerManagedPolicyReference: { Name: name, Path: '/' } }));
    const management = server.init.managementAccountId;
    const other = (await f.newAccount()).accountId;
    /** Create the assignment and wait for its final status and reason. */
    const assign = async (accountId: string) => {
      const { AccountAssignmentCreationStatus: s } = await sso.send(
        new CreateAccountAssignmentCommand({ InstanceArn, TargetId: accountId, TargetType: 'AWS_ACCOUNT', PermissionSetArn: ps.arn, PrincipalType: 'USER', PrincipalId: user.userId }),
      );
      const done = await until(
        () => sso.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn, AccountAssignmentCreationRequestId: s!.RequestId! })),
        (r) => r.AccountAssignmentCreationStatus!.Status !== 'IN_PROGRESS',
      );
      return { status: done.AccountAssignmentCreationStatus!.Status, reason: done.AccountAssignmentCreationStatus!.FailureReason };
    };
    const simulate = (accountId: string) => server.reg.policy.simulate({ userName: user.userName, accountId, action: 's3:GetObject', resource: 'arn:aws:s3:::reports/q3.csv' });

    // Not created yet in the account: provisioning fails, and says which policy is missing.
    expect(await assign(management)).toEqual({ status: 'FAILED', reason: `Received a 404 status error: Not supported policy arn:aws:iam::${management}:policy/${name}.` });
    expect(await simulate(management)).toMatchObject({ decision: 'ImplicitDeny', permissionSets: [] });

    // Created in the management account (the admin key's): provisioning there succeeds and the policy grants.
    expect((await aws('create-policy', '--policy-name', name, '--policy-document', DOC('s3:GetObject'))).code).toBe(0);
    expect(await assign(management)).toEqual({ status: 'SUCCEEDED', reason: undefined });
    expect(await simulate(management)).toMatchObject({ decision: 'Allow', statement: { policyId: `arn:aws:iam::${management}:policy/${name}`, sid: 'Read' } });
    // Policies are per account: the other account still has none.
    expect((await assign(other)).status).toBe('FAILED');
    expect(await simulate(other)).toMatchObject({ decision: 'ImplicitDeny', permissionSets: [] });

    // As IAM refuses to delete a policy attached to a role: the permission set provisioned here
    // references it, and deleting it would silently drop what it says (a Deny among it).
    const refused = await aws('delete-policy', '--policy-arn', `arn:aws:iam::${management}:policy/${name}`);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toMatch(/DeleteConflict.*Cannot delete a policy attached to entities/);
    expect(await simulate(management)).toMatchObject({ decision: 'Allow' });
    // Detached, it can go; made again under the same ARN with another document and attached again, the new document applies.
    const ref = { InstanceArn, PermissionSetArn: ps.arn, CustomerManagedPolicyReference: { Name: name, Path: '/' } };
    await sso.send(new DetachCustomerManagedPolicyReferenceFromPermissionSetCommand(ref));
    expect((await aws('delete-policy', '--policy-arn', `arn:aws:iam::${management}:policy/${name}`)).code).toBe(0);
    expect((await aws('create-policy', '--policy-name', name, '--policy-document', DOC('s3:PutObject'))).code).toBe(0);
    await sso.send(new AttachCustomerManagedPolicyReferenceToPermissionSetCommand(ref));
    expect((await simulate(management)).decision).toBe('ImplicitDeny');
    expect((await server.reg.policy.simulate({ userName: user.userName, accountId: management, action: 's3:PutObject', resource: 'arn:aws:s3:::reports/q3.csv' })).decision).toBe('Allow');

    // A new version applies once it is the default, and the old one again once that is switched back.
    const policyArn = `arn:aws:iam::${management}:policy/${name}`;
    expect((await aws('create-policy-version', '--policy-arn', policyArn, '--policy-document', DOC('s3:GetObject'))).code).toBe(0);
    expect((await simulate(management)).decision).toBe('ImplicitDeny');
    expect((await aws('set-default-policy-version', '--policy-arn', policyArn, '--version-id', 'v2')).code).toBe(0);
    expect(await simulate(management)).toMatchObject({ decision: 'Allow', statement: { policyId: policyArn, sid: 'Read' } });
    expect((await aws('set-default-policy-version', '--policy-arn', policyArn, '--version-id', 'v1')).code).toBe(0);
    expect((await simulate(management)).decision).toBe('ImplicitDeny');
  });
});
