// ABAC end to end: the instance's access control attributes turn a user's attributes into session
// tags in the credentials they get, and a permission set's conditions match them as
// aws:PrincipalTag/<key> when a gateway asks POST /authorize.

import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { CreateInstanceAccessControlAttributeConfigurationCommand, PutInlinePolicyToPermissionSetCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { portalFixture, suffix } from '../helpers/portal-fixture.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

describe.each(dialects())('ABAC session tags on %s', (dialect) => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startServer(dialect);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('carries mapped attributes as session tags that aws:PrincipalTag conditions match', async () => {
    const f = portalFixture(server);
    const sso = new SSOAdminClient(sdkOptions(server));
    const ids = new IdentitystoreClient(sdkOptions(server));
    const InstanceArn = server.init.instanceArn;
    await sso.send(
      new CreateInstanceAccessControlAttributeConfigurationCommand({
        InstanceArn,
        InstanceAccessControlAttributeConfiguration: {
          AccessControlAttributes: [
            { Key: 'team', Value: { Source: ['${path:enterprise.department}'] } },
            { Key: 'given', Value: { Source: ['${path:name.givenName}'] } },
            { Key: 'mail', Value: { Source: ['${path:emails[primary eq true].value}'] } },
            { Key: 'missing', Value: { Source: ['${path:enterprise.costCenter}'] } },
          ],
        },
      }),
    );
    const newUser = async (department: string) => {
      const UserName = `abac-${suffix()}`;
      const { UserId } = await ids.send(
        new CreateUserCommand({
          IdentityStoreId: server.init.identityStoreId,
          UserName,
          DisplayName: UserName,
          Name: { GivenName: 'Ana', FamilyName: 'B' },
          Emails: [{ Value: `${UserName}@example.com`, Primary: true }],
          Extensions: { 'aws:identitystore:enterprise': { department } },
        }),
      );
      return { userId: UserId!, userName: UserName };
    };
    const ps = await f.newPermissionSet(`Abac${suffix()}`);
    await sso.send(
      new PutInlinePolicyToPermissionSetCommand({
        InstanceArn,
        PermissionSetArn: ps.arn,
        InlinePolicy: JSON.stringify({
          Version: '2012-10-17',
          Statement: [
            { Sid: 'OwnTeamSecrets', Effect: 'Allow', Action: 'secretsmanager:GetSecretValue', Resource: '*', Condition: { StringEquals: { 'aws:ResourceTag/team': '${aws:PrincipalTag/team}' } } },
            { Sid: 'TeamBucket', Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:s3:::data/${aws:PrincipalTag/team}/*' },
            { Sid: 'RoleSessionsOnly', Effect: 'Allow', Action: 's3:ListBucket', Resource: '*', Condition: { StringLike: { 'aws:userid': 'AROA*:${aws:username}' } } },
            { Sid: 'IrelandOnly', Effect: 'Allow', Action: 'dynamodb:GetItem', Resource: '*', Condition: { StringEquals: { 'aws:RequestedRegion': 'eu-west-1' } } },
            { Sid: 'MfaOnly', Effect: 'Allow', Action: 'ec2:StopInstances', Resource: '*', Condition: { Bool: { 'aws:MultiFactorAuthPresent': 'true' } } },
          ],
        }),
      }),
    );

    const ctx = systemContext('sso.amazonaws.com', 'us-east-1', server.reg.newRequestId(), 'test');
    const credentialsOf = (user: { userId: string; userName: string }) =>
      server.reg.temporaryCredentials.issueRoleCredentials(ctx, { ...user, accountId: '111122223333', permissionSetArn: ps.arn, roleName: `AWSReservedSSO_${ps.name}_0123456789abcdef`, sessionId: `s-${suffix()}`, durationSeconds: 900 });
    const authorize = async (creds: { accessKeyId: string; secretAccessKey: string; sessionToken: string }, Action: string, Resource: string, Context: Record<string, string> = {}, region = 'us-east-1') => {
      const signer = new SignatureV4({ service: Action.split(':')[0]!, region, credentials: creds, sha256: Hash.bind(null, 'sha256') });
      const signed = await signer.sign({ method: 'GET', protocol: 'https:', hostname: 'gw.example.test', path: '/x', headers: { host: 'gw.example.test' } });
      const res = await fetch(`${server.url}/authorize`, { method: 'POST', body: JSON.stringify({ Method: 'GET', Path: '/x', Headers: signed.headers, Body: '', Action, Resource, Context }) });
      return (await res.json()) as { Decision: string; Statement?: { Sid?: string } };
    };

    const red = await credentialsOf(await newUser('red'));
    const blue = await credentialsOf(await newUser('blue'));
    expect(await authorize(red, 'secretsmanager:GetSecretValue', '*', { 'aws:ResourceTag/team': 'red' })).toMatchObject({ Decision: 'Allow', Statement: { Sid: 'OwnTeamSecrets' } });
    expect(await authorize(blue, 'secretsmanager:GetSecretValue', '*', { 'aws:ResourceTag/team': 'red' })).toMatchObject({ Decision: 'ImplicitDeny' });
    expect(await authorize(blue, 's3:GetObject', 'arn:aws:s3:::data/blue/report.csv')).toMatchObject({ Decision: 'Allow', Statement: { Sid: 'TeamBucket' } });
    expect(await authorize(blue, 's3:GetObject', 'arn:aws:s3:::data/red/report.csv')).toMatchObject({ Decision: 'ImplicitDeny' });
    // A caller cannot claim another team by sending the principal tag in the context: the session's tags win.
    expect(await authorize(blue, 's3:GetObject', 'arn:aws:s3:::data/red/report.csv', { 'aws:PrincipalTag/team': 'red' })).toMatchObject({ Decision: 'ImplicitDeny' });
    expect(await authorize(blue, 's3:ListBucket', 'arn:aws:s3:::data')).toMatchObject({ Decision: 'Allow', Statement: { Sid: 'RoleSessionsOnly' } });
    // The region is the signed request's (a gateway's service, in its own region, not Atrium's),
    // and the Context cannot claim another; nor can it claim the session passed MFA.
    expect(await authorize(blue, 'dynamodb:GetItem', '*', {}, 'eu-west-1')).toMatchObject({ Decision: 'Allow', Statement: { Sid: 'IrelandOnly' } });
    expect(await authorize(blue, 'dynamodb:GetItem', '*', { 'AWS:REQUESTEDREGION': 'eu-west-1' })).toMatchObject({ Decision: 'ImplicitDeny' });
    expect(await authorize(blue, 'ec2:StopInstances', '*', { 'aws:MultiFactorAuthPresent': 'true' })).toMatchObject({ Decision: 'ImplicitDeny' });

    // Simulation answers as the real session would: the same ABAC tags, the role's aws:userid.
    const { accountId } = await f.newAccount();
    const green = await newUser('green');
    await f.assignment('create', accountId, ps.arn, 'USER', green.userId);
    const simulate = (action: string, resource: string) => server.reg.policy.simulate({ userName: green.userName, accountId, action, resource });
    expect(await simulate('s3:GetObject', 'arn:aws:s3:::data/green/report.csv')).toMatchObject({ decision: 'Allow', statement: { sid: 'TeamBucket' } });
    expect(await simulate('s3:GetObject', 'arn:aws:s3:::data/blue/report.csv')).toMatchObject({ decision: 'ImplicitDeny' });
    expect(await simulate('s3:ListBucket', 'arn:aws:s3:::data')).toMatchObject({ decision: 'Allow', statement: { sid: 'RoleSessionsOnly' } });
    const role = await server.reg.access.portal.roleFor(green.userId, accountId, ps.name);
    const greenCreds = await server.reg.temporaryCredentials.issueRoleCredentials(ctx, { ...green, accountId, ...role, sessionId: `s-${suffix()}` });
    expect(await authorize(greenCreds, 's3:GetObject', 'arn:aws:s3:::data/green/report.csv')).toMatchObject({ Decision: 'Allow', Statement: { Sid: 'TeamBucket' } });
  });
});
