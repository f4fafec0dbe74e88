// Every inline-policy write is validated like Access Analyzer's ValidatePolicy: an ERROR refuses it
// with a ValidationException naming the problem, a warning lets it through.

import { CreatePermissionSetCommand, GetInlinePolicyForPermissionSetCommand, PutInlinePolicyToPermissionSetCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';
import { signedFetch } from './audit-coverage-helpers.js';

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
      // A key given twice: JSON.parse would keep the last, so the text reviewed is not the one enforced.
      ['{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Effect":"Allow"}]}', /repeats the key "Effect" in one object/],
      [policy({ Effect: 'Deny', Action: 's3:*', Resource: '*', Condition: { StringNotEquals: { 'aws:username': 'alice', 'AWS:UserName': 'bob' } } }), /condition key AWS:UserName appears more than once with different capitalization/],
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

  it("refuses, in IAM's words, a customer-managed policy that gives a key twice", async () => {
    const create = (name: string, document: string) =>
      signedFetch(
        server,
        'iam',
        'POST',
        '/',
        { 'content-type': 'application/x-www-form-urlencoded' },
        new URLSearchParams({ Action: 'CreatePolicy', Version: '2010-05-08', PolicyName: name, PolicyDocument: document }).toString(),
      );
    const name = `Dup${Date.now()}`;
    const refusals = [
      ['{"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":"s3:*","Resource":"*","Effect":"Allow"}]}', /repeats the key &#34;Effect&#34; in one object/],
      [policy({ Effect: 'Allow', Action: 's3:GetObject', Resource: '*', Condition: { StringEquals: { 'aws:username': 'alice', 'AWS:USERNAME': 'bob' } } }), /AWS:USERNAME appears more than once with different capitalization/],
    ] as const;
    for (const [document, message] of refusals) {
      const refused = await create(name, document).then(
        () => 'created',
        (err: Error) => err.message,
      );
      expect(refused).toMatch(/^POST \/: 400 .*<Code>MalformedPolicyDocument<\/Code>/s);
      expect(refused).toMatch(message);
    }
    expect((await server.reg.customerPolicies.listPolicies(server.init.managementAccountId, '/', undefined, 1000)).map((p) => p.policyName)).not.toContain(name);
  });
});
