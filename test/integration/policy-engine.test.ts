// The policy engine as administrators and gateways use it, on both databases: simulation over the
// admin API and `atrium policy simulate` (decision, deciding statement, permission set, and the
// assignments and groups it came through), and POST /authorize with requests signed by the AWS
// SDK's own SigV4 signer (role credentials and access keys; tampered signatures refused).

import { CreateOrganizationalUnitCommand, DescribeOrganizationCommand, ListParentsCommand, ListRootsCommand, MoveAccountCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import {
  AttachManagedPolicyToPermissionSetCommand,
  DescribePermissionSetProvisioningStatusCommand,
  ProvisionPermissionSetCommand,
  PutInlinePolicyToPermissionSetCommand,
  PutPermissionsBoundaryToPermissionSetCommand,
  SSOAdminClient,
} from '@aws-sdk/client-sso-admin';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { runCli } from '../helpers/cli.js';
import { portalFixture, suffix, until, type PortalUser } from '../helpers/portal-fixture.js';
import { cliStorage, dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

type Creds = { accessKeyId: string; secretAccessKey: string; sessionToken?: string };

/** Signs a request as the AWS SDK does, for any service. */
async function signRequest(creds: Creds, service: string, method: string, url: URL, body: string) {
  const signer = new SignatureV4({ service, region: 'us-east-1', credentials: creds, sha256: Hash.bind(null, 'sha256') });
  const headers: Record<string, string> = { host: url.host, 'content-type': 'application/json' };
  const signed = await signer.sign({ method, protocol: url.protocol, hostname: url.hostname, port: Number(url.port) || undefined, path: url.pathname, headers, body });
  return signed.headers;
}

describe.each(dialects())('policy engine on %s', (dialect) => {
  let server: TestServer;
  let f: ReturnType<typeof portalFixture>;
  let accountId: string;
  let user: PortalUser;
  let groupName: string;
  let reader: { name: string; arn: string };
  let writer: { name: string; arn: string };

  const adminPost = async (path: string, input: unknown, creds: Creds = server.credentials) => {
    const url = new URL(server.url + path);
    const body = JSON.stringify(input);
    const res = await fetch(url, { method: 'POST', headers: await signRequest(creds, 'sso', 'POST', url, body), body });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };

  beforeAll(async () => {
    server = await startServer(dialect);
    f = portalFixture(server);
    const sso = new SSOAdminClient(sdkOptions(server));
    accountId = (await f.newAccount()).accountId;
    user = await f.newUser();
    const group = await f.newGroup(user);
    groupName = (await server.reg.directory.describeGroup(server.init.identityStoreId, group.groupId)).profile.displayName;
    reader = await f.newPermissionSet(`Reader${suffix()}`);
    writer = await f.newPermissionSet(`Writer${suffix()}`);
    const InstanceArn = server.init.instanceArn;
    await sso.send(new AttachManagedPolicyToPermissionSetCommand({ InstanceArn, PermissionSetArn: reader.arn, ManagedPolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' }));
    await sso.send(
      new PutInlinePolicyToPermissionSetCommand({
        InstanceArn,
        PermissionSetArn: writer.arn,
        InlinePolicy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Sid: 'OwnFolder', Effect: 'Allow', Action: ['s3:PutObject', 's3:DeleteObject'], Resource: 'arn:aws:s3:::team-bucket/${aws:username}/*' },
            { Sid: 'KeepArchive', Effect: 'Deny', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::team-bucket/*/archive/*' },
          ],
        }),
      }),
    );
    await f.assignment('create', accountId, reader.arn, 'GROUP', group.groupId);
    await f.assignment('create', accountId, writer.arn, 'USER', user.userId);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('simulates: the decision, the deciding statement and the permission set it came from', async () => {
    const simulate = (Action: string, Resource: string) => adminPost('/api/admin/policy/simulate', { UserName: user.userName, AccountId: accountId, Action, Resource });
    const read = await simulate('s3:GetObject', 'arn:aws:s3:::team-bucket/x');
    expect(read).toMatchObject({ status: 200, json: { Decision: 'Allow', PermissionSetName: reader.name, Statement: { PolicyId: 'arn:aws:iam::aws:policy/ReadOnlyAccess' } } });
    const put = await simulate('s3:PutObject', `arn:aws:s3:::team-bucket/${user.userName}/report.csv`);
    expect(put.json).toMatchObject({ Decision: 'Allow', PermissionSetArn: writer.arn, Statement: { PolicyId: 'inline', Sid: 'OwnFolder', Index: 0, Effect: 'Allow' } });
    expect((await simulate('s3:PutObject', 'arn:aws:s3:::team-bucket/someone-else/report.csv')).json).toMatchObject({ Decision: 'ImplicitDeny', Allowed: false });
    const del = await simulate('s3:DeleteObject', `arn:aws:s3:::team-bucket/${user.userName}/archive/2020.csv`);
    expect(del.json).toMatchObject({ Decision: 'ExplicitDeny', PermissionSetName: writer.name, Statement: { Sid: 'KeepArchive' } });
    expect((await simulate('iam:CreateUser', '*')).json).toMatchObject({ Decision: 'ImplicitDeny' });
  });

  it('lists what a user can do in an account, and through which assignments and groups', async () => {
    const r = await adminPost('/api/admin/policy/simulate', { UserName: user.userName, AccountId: accountId });
    const sets = (r.json.PermissionSets as { Name: string; Via: object[] }[]).sort((a, b) => a.Name.localeCompare(b.Name));
    expect(sets).toEqual([
      { PermissionSetArn: reader.arn, Name: reader.name, Via: [{ PrincipalType: 'GROUP', PrincipalId: expect.any(String), GroupName: groupName }], UnresolvedPolicies: [] },
      { PermissionSetArn: writer.arn, Name: writer.name, Via: [{ PrincipalType: 'USER', PrincipalId: user.userId }], UnresolvedPolicies: [] },
    ]);
    expect((await adminPost('/api/admin/policy/simulate', { UserName: 'nobody-here', AccountId: accountId })).json).toMatchObject({ __type: 'ResourceNotFoundException' });
    expect((await adminPost('/api/admin/policy/simulate', { UserName: user.userName, AccountId: '12' })).status).toBe(400);
  });

  it('answers the same through `atrium policy simulate`', async () => {
    const storage = cliStorage(server);
    const allowed = await runCli(['policy', 'simulate', '--user-name', user.userName, '--account-id', accountId, '--action', 's3:PutObject', '--resource', `arn:aws:s3:::team-bucket/${user.userName}/a`, ...storage]);
    expect(allowed).toMatchObject({ code: 0, stdout: `Allow by inline (OwnFolder) statement 0 in permission set ${writer.name}\n` });
    const denied = await runCli(['policy', 'simulate', '--user-name', user.userName, '--account-id', accountId, '--action', 'iam:CreateUser', '--json', ...storage]);
    expect(denied.code).toBe(3);
    expect(JSON.parse(denied.stdout)).toMatchObject({ decision: 'ImplicitDeny', allowed: false });
    // A typing mistake is refused as the admin API refuses it, not answered "ImplicitDeny".
    for (const [flag, value] of [['--action', 'bogus'], ['--context', '[1]'], ['--context', '"x"'], ['--context', 'null']]) {
      const refused = await runCli(['policy', 'simulate', '--user-name', user.userName, '--account-id', accountId, '--action', 's3:GetObject', flag!, value!, ...storage]);
      expect({ flag, value, code: refused.code, stdout: refused.stdout }).toEqual({ flag, value, code: 2, stdout: '' });
      expect(refused.stderr).toContain(flag);
    }
    const held = await runCli(['policy', 'simulate', '--user-name', user.userName, '--account-id', accountId, ...storage]);
    expect(held.stdout.split('\n').filter(Boolean).sort()).toEqual(
      [`${reader.name}\t${reader.arn}\tgroup ${groupName}`, `${writer.name}\t${writer.arn}\tdirect`].sort(),
    );
  });

  it('fails closed where a stored policy no longer reads or a boundary does not resolve, and names it', async () => {
    const sso = new SSOAdminClient(sdkOptions(server));
    const InstanceArn = server.init.instanceArn;
    const account = (await f.newAccount()).accountId;
    const someone = await f.newUser();
    const simulate = (Action: string) => adminPost('/api/admin/policy/simulate', { UserName: someone.userName, AccountId: account, Action, Resource: '*' });

    // An administrator's set whose inline policy keeps one thing out of reach.
    const legacy = await f.newPermissionSet(`Legacy${suffix()}`);
    await sso.send(new AttachManagedPolicyToPermissionSetCommand({ InstanceArn, PermissionSetArn: legacy.arn, ManagedPolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
    const keep = { Effect: 'Deny', Action: 's3:DeleteBucket', Resource: '*' };
    await sso.send(new PutInlinePolicyToPermissionSetCommand({ InstanceArn, PermissionSetArn: legacy.arn, InlinePolicy: JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Keep', ...keep }] }) }));
    await f.assignment('create', account, legacy.arn, 'USER', someone.userId);
    // The row as a release before Sids had to be unique stored it: today's parser refuses it, so
    // the engine cannot read its Denies. Left out, the administrator could delete the bucket.
    const oldRow = JSON.stringify({ Version: '2012-10-17', Statement: [{ Sid: 'Keep', ...keep }, { Sid: 'Keep', ...keep, Action: 's3:DeleteObject' }] });
    await server.reg.database.db.updateTable('permission_sets').set({ inline_policy: oldRow }).where('permission_set_arn', '=', legacy.arn).execute();
    const refused = await simulate('s3:DeleteBucket');
    expect(refused.json).toMatchObject({
      Decision: 'ImplicitDeny',
      Allowed: false,
      PermissionSets: [{ PermissionSetArn: legacy.arn, Decision: 'ImplicitDeny', Reason: 'unresolved_policy', UnresolvedPolicies: ['inline (unreadable)'] }],
    });
    // Everything else is refused too: what the unread policy denies is unknown.
    expect((await simulate('ec2:DescribeInstances')).json).toMatchObject({ Decision: 'ImplicitDeny' });
    expect((await adminPost('/api/admin/policy/simulate', { UserName: someone.userName, AccountId: account })).json).toMatchObject({
      PermissionSets: [{ PermissionSetArn: legacy.arn, UnresolvedPolicies: ['inline (unreadable)'] }],
    });

    // A boundary that does not resolve in the account bounds to nothing (never to "no boundary"),
    // and provisioning there fails, naming the missing policy, as on AWS.
    const bounded = await f.newPermissionSet(`Bounded${suffix()}`);
    await sso.send(new AttachManagedPolicyToPermissionSetCommand({ InstanceArn, PermissionSetArn: bounded.arn, ManagedPolicyArn: 'arn:aws:iam::aws:policy/AdministratorAccess' }));
    await f.assignment('create', account, bounded.arn, 'USER', someone.userId);
    expect((await simulate('s3:ListAllMyBuckets')).json).toMatchObject({ Decision: 'Allow', PermissionSetArn: bounded.arn });
    const name = `Bound${suffix()}`;
    await sso.send(new PutPermissionsBoundaryToPermissionSetCommand({ InstanceArn, PermissionSetArn: bounded.arn, PermissionsBoundary: { CustomerManagedPolicyReference: { Name: name, Path: '/' } } }));
    const unbounded = await simulate('s3:ListAllMyBuckets');
    expect(unbounded.json).toMatchObject({ Decision: 'ImplicitDeny', Allowed: false });
    expect((unbounded.json.PermissionSets as { PermissionSetArn: string }[]).find((p) => p.PermissionSetArn === bounded.arn)).toEqual({
      PermissionSetArn: bounded.arn,
      Name: bounded.name,
      Decision: 'ImplicitDeny',
      Reason: 'unresolved_policy',
      UnresolvedPolicies: [`boundary:customer-managed:/${name}`],
    });
    const { PermissionSetProvisioningStatus: started } = await sso.send(new ProvisionPermissionSetCommand({ InstanceArn, PermissionSetArn: bounded.arn, TargetType: 'AWS_ACCOUNT', TargetId: account }));
    const provisioned = await until(
      () => sso.send(new DescribePermissionSetProvisioningStatusCommand({ InstanceArn, ProvisionPermissionSetRequestId: started!.RequestId! })),
      (r) => r.PermissionSetProvisioningStatus!.Status !== 'IN_PROGRESS',
    );
    expect(provisioned.PermissionSetProvisioningStatus).toMatchObject({ Status: 'FAILED', FailureReason: `Received a 404 status error: Not supported policy arn:aws:iam::${account}:policy/${name}.` });
  });

  it('validates a policy through the admin API', async () => {
    const r = await adminPost('/api/admin/policy/validate', { PolicyDocument: JSON.stringify({ Version: '2012-10-17', Statement: { Effect: 'Allow', Action: 'iam:PassRole', Resource: '*' } }) });
    expect(r.json).toEqual({ Findings: [{ FindingType: 'WARNING', IssueCode: 'PASS_ROLE_WITH_STAR_IN_RESOURCE', Message: expect.stringContaining('iam:PassRole'), Location: 'Statement' }] });
  });

  describe('POST /authorize', () => {
    const ctx = () => systemContext('sso.amazonaws.com', 'us-east-1', server.reg.newRequestId(), 'test');
    const roleCredentials = () =>
      server.reg.temporaryCredentials.issueRoleCredentials(ctx(), {
        ...user,
        accountId,
        permissionSetArn: writer.arn,
        roleName: `AWSReservedSSO_${writer.name}_0123456789abcdef`,
        sessionId: `session-${suffix()}`,
        durationSeconds: 3600,
      });

    /** What a gateway sends: the client's signed request as it received it, and what it maps to. */
    async function authorize(creds: Creds, Action: string, Resource: string, tamper?: (h: Record<string, string>) => void, Context?: Record<string, unknown>) {
      const target = new URL('https://gateway.example.test/team-bucket/object');
      const body = '{"payload":true}';
      const headers = await signRequest(creds, 's3', 'PUT', target, body);
      tamper?.(headers);
      const input = { Method: 'PUT', Path: target.pathname, Headers: headers, BodySha256: createHash('sha256').update(body).digest('hex'), Action, Resource, ...(Context ? { Context } : {}) };
      const res = await fetch(`${server.url}/authorize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
      return { status: res.status, json: (await res.json()) as Record<string, unknown> };
    }

    it('allows or denies a role session by its permission set, naming the statement', async () => {
      const creds = await roleCredentials();
      const own = `arn:aws:s3:::team-bucket/${user.userName}/object`;
      expect(await authorize(creds, 's3:PutObject', own)).toEqual({
        status: 200,
        json: {
          Decision: 'Allow',
          Allowed: true,
          Statement: { PolicyId: 'inline', Sid: 'OwnFolder', Index: 0, Effect: 'Allow' },
          Principal: { Arn: `arn:aws:sts::${accountId}:assumed-role/AWSReservedSSO_${writer.name}_0123456789abcdef/${user.userName}`, AccountId: accountId, AccessKeyId: creds.accessKeyId },
          PermissionSetArn: writer.arn,
        },
      });
      expect((await authorize(creds, 's3:DeleteObject', `arn:aws:s3:::team-bucket/${user.userName}/archive/x`)).json).toMatchObject({ Decision: 'ExplicitDeny', Statement: { Sid: 'KeepArchive' } });
      expect((await authorize(creds, 's3:PutObject', 'arn:aws:s3:::team-bucket/other/object')).json).toMatchObject({ Decision: 'ImplicitDeny', Reason: 'no_allow' });
    });

    /** The writer permission set's inline policy: its own folder (on `ownFolderIf`), and these statements; applied within a second. */
    const writerPolicy = async (more: object[], ownFolderIf?: object) => {
      const OwnFolder = {
        Sid: 'OwnFolder',
        Effect: 'Allow',
        Action: ['s3:PutObject', 's3:DeleteObject'],
        Resource: 'arn:aws:s3:::team-bucket/${aws:username}/*',
        ...(ownFolderIf ? { Condition: ownFolderIf } : {}),
      };
      const InlinePolicy = JSON.stringify({ Version: '2012-10-17', Statement: [OwnFolder, ...more] });
      await new SSOAdminClient(sdkOptions(server)).send(new PutInlinePolicyToPermissionSetCommand({ InstanceArn: server.init.instanceArn, PermissionSetArn: writer.arn, InlinePolicy }));
      // A permission set's policies are read at most once a second per process.
      await new Promise((r) => setTimeout(r, 1100));
    };
    /** The writer's policy as the other tests expect it. */
    const usualWriterPolicy = () => writerPolicy([{ Sid: 'KeepArchive', Effect: 'Deny', Action: 's3:DeleteObject', Resource: 'arn:aws:s3:::team-bucket/*/archive/*' }]);

    it("gives a role session AWS's session keys: aws:TokenIssueTime (\"revoke active sessions\") and aws:PrincipalArn (the role's ARN)", async () => {
      const older = await roleCredentials();
      await new Promise((r) => setTimeout(r, 1100));
      const revokedBefore = new Date().toISOString();
      await new Promise((r) => setTimeout(r, 1100));
      const newer = await roleCredentials();
      await writerPolicy([
        // What the IAM console's "Revoke active sessions" adds.
        { Sid: 'Revoked', Effect: 'Deny', Action: '*', Resource: '*', Condition: { DateLessThan: { 'aws:TokenIssueTime': revokedBefore } } },
        { Sid: 'NoDeleteByIdentityCenterRoles', Effect: 'Deny', Action: 's3:DeleteObject', Resource: '*', Condition: { ArnLike: { 'aws:PrincipalArn': 'arn:aws:iam::*:role/aws-reserved/sso.amazonaws.com/AWSReservedSSO_*' } } },
      ]);
      const own = `arn:aws:s3:::team-bucket/${user.userName}/object`;
      expect((await authorize(older, 's3:PutObject', own)).json).toMatchObject({ Decision: 'ExplicitDeny', Statement: { Sid: 'Revoked' } });
      expect((await authorize(newer, 's3:PutObject', own)).json).toMatchObject({ Decision: 'Allow' });
      expect((await authorize(newer, 's3:DeleteObject', own)).json).toMatchObject({ Decision: 'ExplicitDeny', Statement: { Sid: 'NoDeleteByIdentityCenterRoles' } });
      // The permission set's policy as the other tests expect it, and the older credentials work again.
      await usualWriterPolicy();
      expect((await authorize(older, 's3:PutObject', own)).json).toMatchObject({ Decision: 'Allow' });
    });

    it('gives a role session aws:PrincipalOrgID and aws:PrincipalOrgPaths, and follows its account into another OU', async () => {
      const org = new OrganizationsClient(sdkOptions(server));
      const { Organization } = await org.send(new DescribeOrganizationCommand({}));
      const rootId = (await org.send(new ListRootsCommand({}))).Roots![0]!.Id!;
      const ou = (await org.send(new CreateOrganizationalUnitCommand({ ParentId: rootId, Name: `quarantine-${suffix()}` }))).OrganizationalUnit!;
      const parentBefore = (await org.send(new ListParentsCommand({ ChildId: accountId }))).Parents![0]!.Id!;
      // Writes only from this organization's accounts, and none from the quarantine OU.
      await writerPolicy(
        [{ Sid: 'Quarantined', Effect: 'Deny', Action: 's3:PutObject', Resource: '*', Condition: { 'ForAnyValue:StringLike': { 'aws:PrincipalOrgPaths': `${Organization!.Id}/${rootId}/${ou.Id}/*` } } }],
        { StringEquals: { 'aws:PrincipalOrgID': Organization!.Id } },
      );
      const creds = await roleCredentials();
      const own = `arn:aws:s3:::team-bucket/${user.userName}/object`;
      try {
        expect((await authorize(creds, 's3:PutObject', own)).json).toMatchObject({ Decision: 'Allow', Statement: { Sid: 'OwnFolder' } });
        await org.send(new MoveAccountCommand({ AccountId: accountId, SourceParentId: parentBefore, DestinationParentId: ou.Id }));
        await new Promise((r) => setTimeout(r, 1100));
        expect((await authorize(creds, 's3:PutObject', own)).json).toMatchObject({ Decision: 'ExplicitDeny', Statement: { Sid: 'Quarantined' } });
        // A caller cannot claim another path for the session: those keys come from it alone.
        const claimed = await authorize(creds, 's3:PutObject', own, undefined, { 'aws:PrincipalOrgPaths': [`${Organization!.Id}/${rootId}/`], 'aws:PrincipalOrgID': 'o-aaaaaaaaaa' });
        expect(claimed.json).toMatchObject({ Decision: 'ExplicitDeny', Statement: { Sid: 'Quarantined' } });
      } finally {
        await org.send(new MoveAccountCommand({ AccountId: accountId, SourceParentId: ou.Id, DestinationParentId: parentBefore })).catch(() => undefined);
        await usualWriterPolicy();
      }
    });

    it('verifies the body itself when the gateway sends it (base64) instead of its hash', async () => {
      const creds = await roleCredentials();
      const target = new URL('https://gateway.example.test/team-bucket/object');
      const body = '{"payload":true}';
      const Headers = await signRequest(creds, 's3', 'PUT', target, body);
      const post = async (sent: string) => {
        const input = { Method: 'PUT', Path: target.pathname, Headers, Body: Buffer.from(sent).toString('base64'), Action: 's3:PutObject', Resource: `arn:aws:s3:::team-bucket/${user.userName}/object` };
        const res = await fetch(`${server.url}/authorize`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(input) });
        return { status: res.status, json: (await res.json()) as Record<string, unknown> };
      };
      expect(await post(body)).toMatchObject({ status: 200, json: { Decision: 'Allow', Statement: { Sid: 'OwnFolder' } } });
      expect((await post('{"payload":false}')).status).toBe(403);
    });

    it('authorizes an access key by the policy it holds (the bootstrap key: AdministratorAccess)', async () => {
      expect((await authorize(server.credentials, 'organizations:CreateAccount', '*')).json).toMatchObject({
        Decision: 'Allow',
        Statement: { PolicyId: 'arn:aws:iam::aws:policy/AdministratorAccess' },
        PolicyArns: ['arn:aws:iam::aws:policy/AdministratorAccess'],
      });
    });

    it('refuses a tampered signature, a wrong body hash or a malformed request, never with a 500', async () => {
      const creds = await roleCredentials();
      const own = `arn:aws:s3:::team-bucket/${user.userName}/object`;
      const flipped = await authorize(creds, 's3:PutObject', own, (h) => {
        h.authorization = h.authorization!.replace(/Signature=(.)/, (_m, c: string) => `Signature=${c === 'a' ? 'b' : 'a'}`);
      });
      expect(flipped.status).toBe(403);
      const wrongBody = await fetch(`${server.url}/authorize`, {
        method: 'POST',
        body: JSON.stringify({ Method: 'PUT', Path: '/team-bucket/object', Headers: await signRequest(creds, 's3', 'PUT', new URL('https://gateway.example.test/team-bucket/object'), 'x'), BodySha256: 'a'.repeat(64), Action: 's3:PutObject', Resource: own }),
      });
      expect(wrongBody.status).toBe(403);
      for (const bad of ['not json', '{}', JSON.stringify({ Method: 'PUT', Path: '/', Headers: {}, Action: 's3:PutObject', Resource: '*' }), JSON.stringify({ Method: 'PUT', Path: '/', Headers: {}, Action: 'nope', Resource: '*' })]) {
        const res = await fetch(`${server.url}/authorize`, { method: 'POST', body: bad });
        expect(res.status, bad).toBe(400);
        expect(((await res.json()) as { __type: string }).__type).toBe('ValidationException');
      }
    });
  });
});
