// STS GetCallerIdentity with temporary role credentials, as the real JS SDK and the Debian AWS CLI
// see it: the assumed-role identity, tampered, expired and revoked credentials refused with AWS's
// errors (never a 500), and the revocation hooks of DeleteUser, DeleteGroupMembership and the
// assignment-deletion job.

import {
  CreateGroupCommand,
  CreateGroupMembershipCommand,
  DeleteGroupCommand,
  DeleteGroupMembershipCommand,
  DeleteUserCommand,
  IdentitystoreClient,
  ListUsersCommand,
} from '@aws-sdk/client-identitystore';
import type { PrincipalType } from '@aws-sdk/client-sso-admin';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RoleCredentials } from '../../src/credentials/index.js';
import { systemContext } from '../../src/shared/context.js';
import { AWS_CLI, hasAwsCli, hasBoto3, peerAvailable, peerEnv, PYTHON, run } from '../helpers/peers.js';
import { outcome, portalFixture, suffix } from '../helpers/portal-fixture.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

const ctx = () => systemContext('sso.amazonaws.com', 'us-east-1', `req-${suffix()}`, 'sts-test');

describe.each(dialects())('STS GetCallerIdentity with temporary credentials on %s', (dialect) => {
  let server: TestServer;
  let ids: IdentitystoreClient;
  let IdentityStoreId: string;
  let account: string;
  let f: ReturnType<typeof portalFixture>;

  beforeAll(async () => {
    server = await startServer(dialect);
    ids = new IdentitystoreClient(sdkOptions(server));
    IdentityStoreId = server.init.identityStoreId;
    f = portalFixture(server);
    account = (await f.newAccount()).accountId;
  });
  afterAll(async () => {
    await server?.close();
  });

  const sts = (c: RoleCredentials | { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
    new STSClient({ ...sdkOptions(server), credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: 'sessionToken' in c ? c.sessionToken : undefined } });
  const whoAmI = (c: Parameters<typeof sts>[0]) => sts(c).send(new GetCallerIdentityCommand({}));

  const newUser = () => f.newUser();
  /** A permission set and the role name its provisioned role would have. */
  const newPermissionSet = async () => {
    const ps = await f.newPermissionSet(`ps-${suffix()}`);
    return { permissionSetArn: ps.arn, roleName: `AWSReservedSSO_${ps.name}_0123456789abcdef` };
  };
  const issue = (user: { userId: string; userName: string }, role: { permissionSetArn: string; roleName: string }, more: { sessionId?: string; durationSeconds?: number } = {}) =>
    server.reg.temporaryCredentials.issueRoleCredentials(ctx(), {
      ...user,
      ...role,
      accountId: account,
      sessionId: more.sessionId ?? `session-${suffix()}`,
      durationSeconds: more.durationSeconds ?? 3600,
    });

  /** Create or delete an assignment in the test's account and wait until it has SUCCEEDED. */
  const assignment = (kind: 'create' | 'delete', permissionSetArn: string, type: PrincipalType, principalId: string) =>
    f.assignment(kind, account, permissionSetArn, type, principalId);

  it('answers with the assumed-role identity, and audits the issue without its secrets', async () => {
    const user = await newUser();
    const role = await newPermissionSet();
    const creds = await issue(user, role);
    expect(creds.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    expect(creds.secretAccessKey).toHaveLength(40);
    expect(creds.expiration).toBeGreaterThan(Date.now() + 3500_000);
    const me = await whoAmI(creds);
    expect(me.Arn).toBe(`arn:aws:sts::${account}:assumed-role/${role.roleName}/${user.userName}`);
    expect(me.Account).toBe(account);
    expect(me.UserId).toMatch(new RegExp(`^AROA[A-Z2-7]{17}:${user.userName}$`));
    // The role id is stable: another credential for the same role has the same one.
    expect((await whoAmI(await issue(user, role))).UserId).toBe(me.UserId);

    const events = await server.reg.database.db
      .selectFrom('audit_events')
      .selectAll()
      .where('event_name', '=', 'GetRoleCredentials')
      .where('response_elements', 'like', `%${creds.accessKeyId}%`)
      .execute();
    expect(events).toHaveLength(1);
    expect(events[0]!.event_source).toBe('sso.amazonaws.com');
    const row = JSON.stringify(events[0]);
    expect(row).not.toContain(creds.secretAccessKey);
    expect(row).not.toContain(creds.sessionToken);
  });

  it('answers the administrator access key with its IAM user, and refuses an unknown action', async () => {
    const me = await whoAmI(server.credentials);
    expect(me.Arn).toMatch(/^arn:aws:iam::\d{12}:user\//);
    expect(me.UserId).toMatch(/^AIDA/);

    const res = await fetch(`${server.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'Action=AssumeRole&Version=2011-06-15' });
    expect(res.status).toBe(403);
    expect(await res.text()).toContain('<Code>MissingAuthenticationToken</Code>');
    // Refused before STS's handler runs (a body over 1 MiB), still in STS's XML.
    const large = await fetch(`${server.url}/`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: `Action=GetCallerIdentity&Version=2011-06-15&Pad=${'x'.repeat(1024 * 1024)}` });
    expect(large.status).toBe(413);
    expect(large.headers.get('content-type')).toBe('text/xml');
    expect(await large.text()).toMatch(/^<ErrorResponse xmlns="https:\/\/sts\.amazonaws\.com\/doc\/2011-06-15\/"><Error><Type>Sender<\/Type><Code>RequestEntityTooLarge<\/Code>/);
  });

  it('refuses tampered tokens, wrong signatures, swapped tokens and expired credentials with AWS errors', async () => {
    const user = await newUser();
    const role = await newPermissionSet();
    const creds = await issue(user, role);
    const other = await issue(user, role);
    const mid = Math.floor(creds.sessionToken.length / 2);
    const flipped = creds.sessionToken.slice(0, mid) + (creds.sessionToken[mid] === 'A' ? 'B' : 'A') + creds.sessionToken.slice(mid + 1);
    expect(await outcome(whoAmI({ ...creds, sessionToken: flipped }))).toBe('InvalidClientTokenId 403');
    expect(await outcome(whoAmI({ ...creds, sessionToken: 'not a token' }))).toBe('InvalidClientTokenId 403');
    expect(await outcome(whoAmI({ ...creds, sessionToken: other.sessionToken }))).toBe('InvalidClientTokenId 403');
    expect(await outcome(whoAmI({ accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey }))).toBe('InvalidClientTokenId 403');
    expect(await outcome(whoAmI({ ...creds, secretAccessKey: other.secretAccessKey }))).toBe('SignatureDoesNotMatch 403');
    expect(await outcome(whoAmI({ ...server.credentials, sessionToken: creds.sessionToken }))).toBe('InvalidClientTokenId 403');
    // Signed for another region than the instance's (us-east-1): refused, as AWS refuses it, for
    // temporary credentials and for an access key alike.
    const elsewhere = (c: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }) =>
      new STSClient({ ...sdkOptions(server), region: 'eu-west-1', credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken } }).send(
        new GetCallerIdentityCommand({}),
      );
    expect(await outcome(elsewhere(creds))).toBe('SignatureDoesNotMatch 403');
    expect(await outcome(elsewhere(server.credentials))).toBe('SignatureDoesNotMatch 403');
    const admin = new IdentitystoreClient({ ...sdkOptions(server), region: 'eu-west-1' });
    await expect(admin.send(new ListUsersCommand({ IdentityStoreId }))).rejects.toMatchObject({ name: 'InvalidSignatureException', message: expect.stringMatching(/scoped to a valid region/) });

    const shortLived = await issue(user, role, { durationSeconds: 1 });
    expect(await outcome(whoAmI(shortLived))).toBe('ok');
    await new Promise((r) => setTimeout(r, 1100));
    expect(await outcome(whoAmI(shortLived))).toBe('ExpiredToken 400');
    expect(await outcome(whoAmI(creds))).toBe('ok');
  });

  it('makes revoked credentials fail at once, by user, by session and by role, and audits each revocation', async () => {
    const user = await newUser();
    const role = await newPermissionSet();
    const otherRole = await newPermissionSet();
    const bySession = await issue(user, role, { sessionId: 'session-to-end' });
    const sameRoleOtherSession = await issue(user, role);
    const byRole = await issue(user, otherRole);
    for (const c of [bySession, sameRoleOtherSession, byRole]) expect(await outcome(whoAmI(c))).toBe('ok');

    await server.reg.revocation.revokeFollowing(ctx(), [{ kind: 'session', sessionId: 'session-to-end' }], 'test');
    expect(await outcome(whoAmI(bySession))).toBe('InvalidClientTokenId 403');
    expect(await outcome(whoAmI(sameRoleOtherSession))).toBe('ok');

    await server.reg.revocation.revokeFollowing(ctx(), [{ kind: 'role', userId: user.userId, accountId: account, permissionSetArn: otherRole.permissionSetArn }], 'test');
    expect(await outcome(whoAmI(byRole))).toBe('InvalidClientTokenId 403');
    expect(await outcome(whoAmI(sameRoleOtherSession))).toBe('ok');
    // Credentials issued after a revocation work.
    expect(await outcome(whoAmI(await issue(user, otherRole)))).toBe('ok');

    await server.reg.revocation.revokeFollowing(ctx(), [{ kind: 'user', userId: user.userId }], 'test');
    expect(await outcome(whoAmI(sameRoleOtherSession))).toBe('InvalidClientTokenId 403');

    const events = await server.reg.database.db
      .selectFrom('audit_events')
      .selectAll()
      .where('event_name', '=', 'RevokeCredentials')
      .where('request_parameters', 'like', `%${user.userId}%`)
      .execute();
    expect(events.map((e) => e.error_code)).toEqual([null, null]);
  });

  it('revokes on DeleteUser', async () => {
    const user = await newUser();
    const creds = await issue(user, await newPermissionSet());
    expect(await outcome(whoAmI(creds))).toBe('ok');
    const deleted = await ids.send(new DeleteUserCommand({ IdentityStoreId, UserId: user.userId }));
    expect(await outcome(whoAmI(creds))).toBe('InvalidClientTokenId 403');
    const [event] = await server.reg.database.db
      .selectFrom('audit_events')
      .selectAll()
      .where('event_name', '=', 'RevokeCredentials')
      .where('request_parameters', 'like', `%${deleted.$metadata.requestId!}%`)
      .execute();
    expect(event).toMatchObject({ event_type: 'AwsServiceEvent', error_code: null });
    expect(event!.request_parameters).toContain(user.userId);
  });

  it('revokes when the assignment-deletion job removes a user or group assignment', async () => {
    const user = await newUser();
    const member = await newUser();
    const role = await newPermissionSet();
    await assignment('create', role.permissionSetArn, 'USER', user.userId);
    const { GroupId } = await ids.send(new CreateGroupCommand({ IdentityStoreId, DisplayName: `g-${suffix()}` }));
    await ids.send(new CreateGroupMembershipCommand({ IdentityStoreId, GroupId, MemberId: { UserId: member.userId } }));
    await assignment('create', role.permissionSetArn, 'GROUP', GroupId!);
    const direct = await issue(user, role);
    const viaGroup = await issue(member, role);
    expect(await outcome(whoAmI(direct))).toBe('ok');
    expect(await outcome(whoAmI(viaGroup))).toBe('ok');

    await assignment('delete', role.permissionSetArn, 'USER', user.userId);
    expect(await outcome(whoAmI(direct))).toBe('InvalidClientTokenId 403');
    expect(await outcome(whoAmI(viaGroup))).toBe('ok');
    await assignment('delete', role.permissionSetArn, 'GROUP', GroupId!);
    expect(await outcome(whoAmI(viaGroup))).toBe('InvalidClientTokenId 403');
  });

  it('revokes on DeleteGroupMembership and DeleteGroup the roles that group granted, and only those', async () => {
    const [user, stays] = [await newUser(), await newUser()];
    const granted = await newPermissionSet();
    const elsewhere = await newPermissionSet();
    const { GroupId } = await ids.send(new CreateGroupCommand({ IdentityStoreId, DisplayName: `g-${suffix()}` }));
    const { MembershipId } = await ids.send(new CreateGroupMembershipCommand({ IdentityStoreId, GroupId, MemberId: { UserId: user.userId } }));
    await ids.send(new CreateGroupMembershipCommand({ IdentityStoreId, GroupId, MemberId: { UserId: stays.userId } }));
    await assignment('create', granted.permissionSetArn, 'GROUP', GroupId!);
    const viaGroup = await issue(user, granted);
    const notViaGroup = await issue(user, elsewhere);
    const othersViaGroup = await issue(stays, granted);
    await ids.send(new DeleteGroupMembershipCommand({ IdentityStoreId, MembershipId }));
    expect(await outcome(whoAmI(viaGroup))).toBe('InvalidClientTokenId 403');
    expect(await outcome(whoAmI(notViaGroup))).toBe('ok');
    expect(await outcome(whoAmI(othersViaGroup))).toBe('ok');
    await ids.send(new DeleteGroupCommand({ IdentityStoreId, GroupId }));
    expect(await outcome(whoAmI(othersViaGroup))).toBe('InvalidClientTokenId 403');
    expect(await outcome(whoAmI(notViaGroup))).toBe('ok');
  });

  it.runIf(peerAvailable('aws-cli', hasAwsCli))('works for the Debian AWS CLI, and stops working after revocation', async () => {
    const user = await newUser();
    const role = await newPermissionSet();
    const creds = await issue(user, role);
    const env = { ...peerEnv(server.url, creds), AWS_SESSION_TOKEN: creds.sessionToken };
    const ok = await run(AWS_CLI, ['sts', 'get-caller-identity', '--output', 'json'], env);
    expect(ok.stderr).toBe('');
    expect((JSON.parse(ok.stdout) as { Arn: string }).Arn).toBe(`arn:aws:sts::${account}:assumed-role/${role.roleName}/${user.userName}`);
    await server.reg.revocation.revokeFollowing(ctx(), [{ kind: 'user', userId: user.userId }], 'test');
    const refused = await run(AWS_CLI, ['sts', 'get-caller-identity'], env);
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain('InvalidClientTokenId');
  });

  // boto3 presigns a GET (HttpMethod='GET'; its default is the operation's POST, which AWS refuses
  // as well), and the URL goes to whoever wants proof of the caller's identity, who fetches it.
  it.runIf(peerAvailable('python3-boto3', hasBoto3))("answers boto3's presigned GetCallerIdentity URL fetched by someone else, until the credentials are revoked or the URL expires", async () => {
    const user = await newUser();
    const role = await newPermissionSet();
    const creds = await issue(user, role);
    const presign = async (c: { accessKeyId: string; secretAccessKey: string; sessionToken?: string }, expiresIn = 60, method = 'GET') => {
      const env = { ...peerEnv(server.url, c), ...(c.sessionToken ? { AWS_SESSION_TOKEN: c.sessionToken } : {}) };
      const script = `import boto3, sys\nprint(boto3.client('sts', endpoint_url=sys.argv[1]).generate_presigned_url('get_caller_identity', ExpiresIn=int(sys.argv[2]), HttpMethod=sys.argv[3]))`;
      const r = await run(PYTHON, ['-c', script, server.url, String(expiresIn), method], env);
      expect(r.stderr).toBe('');
      return r.stdout.trim();
    };
    const fetchXml = async (url: string, init: RequestInit = {}) => {
      const res = await fetch(url, init);
      const text = await res.text();
      const code = /<Code>([^<]+)<\/Code>/.exec(text)?.[1];
      return { status: res.status, text, code, type: res.headers.get('content-type') };
    };

    const url = await presign(creds);
    expect(url).toContain('X-Amz-Security-Token=');
    const ok = await fetchXml(url);
    expect(ok).toMatchObject({ status: 200, type: 'text/xml' });
    expect(ok.text).toContain(`<Arn>arn:aws:sts::${account}:assumed-role/${role.roleName}/${user.userName}</Arn>`);
    // The same URL works again while it lives (AWS's too), and for an access key as well.
    expect((await fetchXml(url)).status).toBe(200);
    expect((await fetchXml(await presign(server.credentials))).text).toMatch(/<Arn>arn:aws:iam::\d{12}:user\//);

    // A changed URL, a URL sent as a POST, and a URL signed for POST are refused in STS's own shape.
    expect(await fetchXml(url.replace('Version=2011-06-15', 'Version=2011-06-15&Extra=1'))).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    // Anything appended after a second "?" is part of the query too, and unsigned.
    const appended = await fetchXml(`${url}?Action=AssumeRole`);
    expect(appended.status, appended.text).toBe(400);
    expect(appended.code).toBe('IncompleteSignature');
    expect(await fetchXml(url, { method: 'POST' })).toMatchObject({ status: 403, code: 'MissingAuthenticationToken' });
    expect(await fetchXml(await presign(creds, 60, 'POST'))).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    // Another operation's parameters, signed: the action is not one STS has here.
    expect(await fetchXml(url.replace('GetCallerIdentity', 'AssumeRole'))).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });

    // It expires with X-Amz-Expires ...
    const brief = await presign(creds, 1);
    await new Promise((r) => setTimeout(r, 2100));
    expect(await fetchXml(brief)).toMatchObject({ status: 403, code: 'SignatureDoesNotMatch' });
    expect((await fetchXml(brief)).text).toContain('Signature expired');
    // ... and dies with the credentials' revocation.
    await server.reg.revocation.revokeFollowing(ctx(), [{ kind: 'user', userId: user.userId }], 'test');
    expect(await fetchXml(url)).toMatchObject({ status: 403, code: 'InvalidClientTokenId' });
  });
});
