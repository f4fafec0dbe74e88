// IAM called with a role session's credentials: the permission set's policies decide, against the
// resource the call acts on. CreatePolicy acts on the policy it makes, so a Deny on a path holds
// for policies created under it (it used to be checked against "*", which such a Deny never names).

import { PutInlinePolicyToPermissionSetCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { portalFixture, suffix } from '../helpers/portal-fixture.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';
import { signedFetch } from './audit-coverage-helpers.js';

describe.each(dialects())('IAM authorization of role sessions on %s', (dialect) => {
  let server: TestServer;
  let f: ReturnType<typeof portalFixture>;
  beforeAll(async () => {
    server = await startServer(dialect);
    f = portalFixture(server);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('checks CreatePolicy against the new policy\'s ARN: a Deny on a path refuses it there, and only there', async () => {
    const { accountId } = await f.newAccount();
    const user = await f.newUser();
    const ps = await f.newPermissionSet();
    const guardrails = {
      Version: '2012-10-17',
      Statement: [
        { Effect: 'Allow', Action: 'iam:*', Resource: '*' },
        { Effect: 'Deny', Action: 'iam:CreatePolicy', Resource: 'arn:aws:iam::*:policy/guardrails/*' },
      ],
    };
    await new SSOAdminClient(sdkOptions(server)).send(
      new PutInlinePolicyToPermissionSetCommand({ InstanceArn: server.init.instanceArn, PermissionSetArn: ps.arn, InlinePolicy: JSON.stringify(guardrails) }),
    );
    await f.assignment('create', accountId, ps.arn, 'USER', user.userId);
    const creds = await server.reg.temporaryCredentials.issueRoleCredentials(systemContext('sso.amazonaws.com', 'us-east-1', 'iam-authz'), {
      userId: user.userId,
      userName: user.userName,
      permissionSetArn: ps.arn,
      roleName: `AWSReservedSSO_${ps.name}_0123456789abcdef`,
      accountId,
      sessionId: `session-${suffix()}`,
      durationSeconds: 3600,
    });
    const session = { accessKeyId: creds.accessKeyId, secretAccessKey: creds.secretAccessKey, sessionToken: creds.sessionToken };
    const document = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });
    const create = (path: string, name = `p${suffix()}`) =>
      signedFetch(
        server,
        'iam',
        'POST',
        '/',
        { 'content-type': 'application/x-www-form-urlencoded' },
        new URLSearchParams({ Action: 'CreatePolicy', Version: '2010-05-08', PolicyName: name, Path: path, PolicyDocument: document }).toString(),
        {},
        session,
      );
    await expect(create('/guardrails/', 'evil')).rejects.toThrow(/403.*not authorized to perform: iam:CreatePolicy/s);
    expect((await server.reg.customerPolicies.listPolicies(accountId, '/', undefined, 100)).map((p) => p.policyName)).not.toContain('evil');
    await expect(create('/team/')).resolves.toContain(`<Arn>arn:aws:iam::${accountId}:policy/team/`);
  });
});
