// The AWS wire layer as real SDK clients see it: SigV4, errors in AWS's shape, bad input.

import { CreateGroupCommand, CreateUserCommand, DescribeUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import {
  CreateAccountAssignmentCommand,
  CreatePermissionSetCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeInstanceCommand,
  ListAccountAssignmentCreationStatusCommand,
  ListInstancesCommand,
  SSOAdminClient,
} from '@aws-sdk/client-sso-admin';
import { CreateAccountCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { signatureFor } from '../../src/credentials/index.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

describe.each(dialects())('AWS wire layer on %s', (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(dialect);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('answers a signed call from the real SDK', async () => {
    const client = new SSOAdminClient(sdkOptions(server));
    const out = await client.send(new ListInstancesCommand({}));
    expect(out.Instances?.[0]?.InstanceArn).toBe(server.init.instanceArn);
    expect(out.Instances?.[0]?.IdentityStoreId).toBe(server.init.identityStoreId);
    const one = await client.send(new DescribeInstanceCommand({ InstanceArn: server.init.instanceArn }));
    expect(one.Status).toBe('ACTIVE');
    expect(one.CreatedDate).toBeInstanceOf(Date);
  });

  it('rejects a wrong secret as AWS does', async () => {
    const client = new SSOAdminClient(sdkOptions(server, { accessKeyId: server.credentials.accessKeyId, secretAccessKey: 'x'.repeat(40) }));
    await expect(client.send(new ListInstancesCommand({}))).rejects.toMatchObject({
      name: 'InvalidSignatureException',
      $metadata: { httpStatusCode: 403 },
    });
  });

  it('rejects an unknown access key as AWS does', async () => {
    const client = new SSOAdminClient(sdkOptions(server, { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 'x'.repeat(40) }));
    await expect(client.send(new ListInstancesCommand({}))).rejects.toMatchObject({ name: 'UnrecognizedClientException' });
  });

  it('rejects an unsigned request', async () => {
    const res = await fetch(server.url + '/', {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'SWBExternalService.ListInstances' },
      body: '{}',
    });
    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(((await res.json()) as { __type: string }).__type).toBe('MissingAuthenticationTokenException');
  });

  it('answers an unknown target and an oversized body with AWS-shaped 4xx errors', async () => {
    const unknown = await fetch(server.url + '/', {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'SWBExternalService.DropAllTables' },
      body: '{}',
    });
    expect(unknown.status).toBe(400);
    expect(unknown.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    const big = await fetch(server.url + '/', {
      method: 'POST',
      headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'SWBExternalService.ListInstances' },
      body: '{"a":"' + 'x'.repeat(1024 * 1024 + 10) + '"}',
    });
    expect(big.status).toBe(413);
    expect(((await big.json()) as { __type: string }).__type).toBe('RequestEntityTooLargeException');
  });

  it('shows a browser a page, not an AWS error body to download, for a broken link or an unknown page; other clients keep AWS errors', async () => {
    const browser = { accept: 'text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8' };
    for (const [path, status, text] of [
      ['/start/users/%E0%A4%A', 400, 'could not be read'],
      ['/no-such-page', 404, 'no page at this address'],
    ] as const) {
      const page = await fetch(server.url + path, { headers: browser });
      expect(page.status).toBe(status);
      expect(page.headers.get('content-type')).toMatch(/^text\/html/);
      expect(page.headers.get('content-security-policy')).toContain("default-src 'none'");
      expect(await page.text()).toContain(text);
      // The same address asked for by an SDK or curl (no HTML in Accept) keeps AWS's JSON error.
      const api = await fetch(server.url + path, { headers: { accept: '*/*' } });
      expect(api.status).toBe(status);
      expect(api.headers.get('x-amzn-errortype')).toBe(status === 400 ? 'SerializationException' : 'UnknownOperationException');
    }
    // A path that echoes into the page cannot inject markup.
    const hostile = await fetch(server.url + '/%3Cscript%3Ealert(1)%3C/script%3E', { headers: browser });
    expect(await hostile.text()).not.toContain('<script>');
  });

  /** A raw awsJson call signed over `signed` headers only, as an attacker might craft it. */
  function rawCall(target: string, body: string, signed: string[], extra: Record<string, string> = {}) {
    const url = new URL(server.url);
    const amzDate = new Date().toISOString().replace(/[-:]|\.\d+/g, '');
    const headers: Record<string, string> = { host: url.host, 'x-amz-date': amzDate, 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target };
    const auth = { accessKeyId: server.credentials.accessKeyId, date: amzDate.slice(0, 8), region: 'us-east-1', service: 'identitystore', signedHeaders: signed, signature: '', amzDate };
    const signature = signatureFor({ method: 'POST', path: '/', query: '', headers, body: Buffer.from(body) }, auth, server.credentials.secretAccessKey);
    headers.authorization = `AWS4-HMAC-SHA256 Credential=${auth.accessKeyId}/${auth.date}/us-east-1/identitystore/aws4_request, SignedHeaders=${signed.join(';')}, Signature=${signature}`;
    return fetch(server.url + '/', { method: 'POST', headers: { ...headers, ...extra }, body });
  }

  it('refuses a signed request whose unsigned X-Amz-Target was swapped for another operation', async () => {
    const ids = new IdentitystoreClient(sdkOptions(server));
    const IdentityStoreId = server.init.identityStoreId;
    const user = await ids.send(new CreateUserCommand({ IdentityStoreId, UserName: `swap-${dialect}`, DisplayName: 'S', Name: { GivenName: 'S', FamilyName: 'W' } }));
    const body = JSON.stringify({ IdentityStoreId, UserId: user.UserId });
    const describe = await rawCall('AWSIdentityStore.DescribeUser', body, ['host', 'x-amz-date']);
    expect(describe.status).toBe(400);
    expect(describe.headers.get('x-amzn-errortype')).toBe('IncompleteSignatureException');
    const swapped = await rawCall('AWSIdentityStore.DescribeUser', body, ['host', 'x-amz-date'], { 'x-amz-target': 'AWSIdentityStore.DeleteUser' });
    expect(swapped.status).toBe(400);
    expect((await ids.send(new DescribeUserCommand({ IdentityStoreId, UserId: user.UserId }))).UserName).toBe(`swap-${dialect}`);
    const proper = await rawCall('AWSIdentityStore.DescribeUser', body, ['content-type', 'host', 'x-amz-date', 'x-amz-target']);
    expect(proper.status).toBe(200);
  });

  it('answers hostile bodies and targets with AWS-shaped 4xx errors, never a 500', async () => {
    const all = ['content-type', 'host', 'x-amz-date', 'x-amz-target'];
    const deep = '{"IdentityStoreId":"d-0000000000","UserId":"x","Operations":[{"AttributePath":"nickName","AttributeValue":' + '['.repeat(2000) + ']'.repeat(2000) + '}]}';
    const nested = await rawCall('AWSIdentityStore.UpdateUser', deep, all);
    expect(nested.status).toBe(400);
    expect(nested.headers.get('x-amzn-errortype')).toBe('SerializationException');
    for (const [body, type] of [
      ['{not json', 'SerializationException'],
      ['[1,2,3]', 'SerializationException'],
      ['{"IdentityStoreId": 5}', 'ValidationException'],
      [`{"IdentityStoreId":"${server.init.identityStoreId}","Unknown":true}`, 'ValidationException'],
    ]) {
      const res = await rawCall('AWSIdentityStore.ListUsers', body!, all);
      expect(res.status).toBe(400);
      expect(res.headers.get('x-amzn-errortype')).toBe(type);
      expect(((await res.json()) as { __type: string; message: string }).message.length).toBeGreaterThan(0);
    }
    const extra = await rawCall('AWSIdentityStore.ListUsers.Extra', '{}', all);
    expect(extra.status).toBe(400);
    expect(extra.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    const oddHeader = await rawCall('AWSIdentityStore.ListUsers', '{}', ['constructor', ...all]);
    expect(oddHeader.status).toBe(400);
    expect(oddHeader.headers.get('x-amzn-errortype')).toBe('IncompleteSignatureException');
  });

  it('records a change refused by the schema as a failure event', async () => {
    const all = ['content-type', 'host', 'x-amz-date', 'x-amz-target'];
    const res = await rawCall('AWSIdentityStore.CreateGroup', JSON.stringify({ IdentityStoreId: server.init.identityStoreId, DisplayName: 'x'.repeat(5000), Surprise: 1 }), all);
    expect(res.status).toBe(400);
    const rows = await server.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', '=', 'CreateGroup').where('error_code', '=', 'ValidationException').execute();
    expect(rows).toHaveLength(1);
    // Bounded: the log keeps a prefix of an oversized value, not all of it.
    expect(rows[0]!.request_parameters!.length).toBeLessThan(2000);
  });

  it('refuses NUL characters and forged page positions as bad input, on every database', async () => {
    const ids = new IdentitystoreClient(sdkOptions(server));
    await expect(
      ids.send(new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: 'nul\u0000user', DisplayName: 'N', Name: { GivenName: 'N', FamilyName: 'U' } })),
    ).rejects.toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
    await expect(new OrganizationsClient(sdkOptions(server)).send(new CreateAccountCommand({ Email: 'a\u0000b@example.com', AccountName: 'nul' }))).rejects.toMatchObject({
      name: 'InvalidInputException',
    });
    const forged = Buffer.from(JSON.stringify({ v: 1, p: { '0': 1.5, '1': 'x' } })).toString('base64');
    await expect(
      new SSOAdminClient(sdkOptions(server)).send(new ListAccountAssignmentCreationStatusCommand({ InstanceArn: server.init.instanceArn, NextToken: forged })),
    ).rejects.toMatchObject({ name: 'ValidationException', $metadata: { httpStatusCode: 400 } });
  });

  it('puts the outcome of an asynchronous assignment on the record', async () => {
    const sso = new SSOAdminClient(sdkOptions(server));
    const group = await new IdentitystoreClient(sdkOptions(server)).send(new CreateGroupCommand({ IdentityStoreId: server.init.identityStoreId, DisplayName: `outcome-${dialect}` }));
    const ps = await sso.send(new CreatePermissionSetCommand({ InstanceArn: server.init.instanceArn, Name: 'OutcomeAudit' }));
    const created = await sso.send(
      new CreateAccountAssignmentCommand({
        InstanceArn: server.init.instanceArn, TargetId: server.init.managementAccountId, TargetType: 'AWS_ACCOUNT',
        PermissionSetArn: ps.PermissionSet!.PermissionSetArn, PrincipalType: 'GROUP', PrincipalId: group.GroupId,
      }),
    );
    const requestId = created.AccountAssignmentCreationStatus!.RequestId!;
    await expect
      .poll(async () => (await sso.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: server.init.instanceArn, AccountAssignmentCreationRequestId: requestId }))).AccountAssignmentCreationStatus?.Status)
      .toBe('SUCCEEDED');
    const rows = await server.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', '=', 'CreateAccountAssignmentResult').execute();
    const mine = rows.filter((r) => r.request_parameters?.includes(requestId));
    expect(mine).toHaveLength(1);
    expect(mine[0]).toMatchObject({ event_type: 'AwsServiceEvent', error_code: null });
  });
});
