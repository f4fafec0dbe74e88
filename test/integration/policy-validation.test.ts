// Every inline-policy write is validated like Access Analyzer's ValidatePolicy: an ERROR refuses it
// with a ValidationException naming the problem, a warning lets it through.

import { CreatePermissionSetCommand, GetInlinePolicyForPermissionSetCommand, PutInlinePolicyToPermissionSetCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

const policy = (...Statement: object[]) => JSON.stringify({ Version: '2012-10-17', Statement });

describe.each(dialects())('policy validation on write on %s', (dialect) => {
  let server: TestServer;
  let client: SSOAdminClient;

  beforeAll(async () => {
    server = await startServer(dialect);
    client = new SSOAdminClient(sdkOptions(server));
  });
  afterAll(async () => {
    await server?.close();
  });

  it('refuses unknown actions, condition keys and malformed ARNs, and accepts broad grants', async () => {
    const InstanceArn = server.init.instanceArn;
    const created = await client.send(new CreatePermissionSetCommand({ InstanceArn, Name: `validate-${Date.now()}` }));
    const target = { InstanceArn, PermissionSetArn: created.PermissionSet!.PermissionSetArn! };
    const refused = [
      [policy({ Effect: 'Allow', Action: 's3:GetObjekt', Resource: '*' }), /Statement\[0\]\.Action: The action s3:GetObjekt does not exist/],
      [policy({ Effect: 'Allow', Action: 'nosuch:Get', Resource: '*' }), /service nosuch .* does not exist/],
      [policy({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { StringEquals: { 'aws:Nope': 'x' } } }), /condition key aws:Nope does not exist/],
      [policy({ Effect: 'Allow', Action: 's3:GetObject', Resource: 'arn:aws:ec2:us-east-1:12:instance/*' }), /malformed account 12/],
      // Too deep or with a hostile wildcard: refused at once with a clear message, never a 500 or a hang.
      [`{"Version":"2012-10-17","Statement":${'['.repeat(3000)}${']'.repeat(3000)}}`, /nests deeper than 8 levels/],
      [policy({ Effect: 'Allow', Action: 's3:GetObject', Resource: `arn:aws:s3:::${'*a'.repeat(1100)}` }), /longer than 2048 characters/],
    ] as const;
    for (const [InlinePolicy, message] of refused) {
      await expect(client.send(new PutInlinePolicyToPermissionSetCommand({ ...target, InlinePolicy }))).rejects.toMatchObject({
        name: 'ValidationException',
        $metadata: { httpStatusCode: 400 },
        message: expect.stringMatching(message),
      });
    }
    expect((await client.send(new GetInlinePolicyForPermissionSetCommand(target))).InlinePolicy ?? '').toBe('');
    // A warning (Action * on Resource *) does not block the write.
    const admin = policy({ Effect: 'Allow', Action: '*', Resource: '*' });
    await client.send(new PutInlinePolicyToPermissionSetCommand({ ...target, InlinePolicy: admin }));
    expect((await client.send(new GetInlinePolicyForPermissionSetCommand(target))).InlinePolicy).toBe(admin);
  });
});
