// The AWS wire layer as real SDK clients see it: SigV4, errors in AWS's shape, bad input.

import { DescribeInstanceCommand, ListInstancesCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
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
});
