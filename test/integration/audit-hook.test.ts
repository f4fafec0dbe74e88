// Every change leaves one audit event, written with it: who (key and principal), what, when, from
// where, the parameters without secrets, and the result or error. Secrets never reach the log.

import { SSOAdminClient, UpdateInstanceCommand } from '@aws-sdk/client-sso-admin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

describe.each(dialects())('audit hook on %s', (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(dialect);
  });
  afterAll(async () => {
    await server?.close();
  });

  const events = (name: string) =>
    server.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', '=', name).orderBy('seq').execute();

  it('records a change with who, what, when and from where', async () => {
    const before = Date.now();
    await new SSOAdminClient(sdkOptions(server)).send(new UpdateInstanceCommand({ InstanceArn: server.init.instanceArn, Name: 'audited-name' }));
    const [event] = await events('UpdateInstance');
    expect(event).toMatchObject({
      event_source: 'sso.amazonaws.com',
      aws_region: 'us-east-1',
      source_ip: '127.0.0.1',
      error_code: null,
      read_only: 0,
      event_type: 'AwsApiCall',
    });
    expect(event!.event_time).toBeGreaterThanOrEqual(before - 1000);
    expect(event!.user_agent).toContain('aws-sdk-js');
    expect(JSON.parse(event!.user_identity)).toMatchObject({
      type: 'IAMUser',
      accessKeyId: server.credentials.accessKeyId,
      userName: 'atrium-admin',
      arn: `arn:aws:iam::${server.init.managementAccountId}:user/atrium-admin`,
    });
    expect(JSON.parse(event!.request_parameters!)).toEqual({ instanceArn: server.init.instanceArn, name: 'audited-name' });
  });

  it('records a refused change as a failure event, and the change is not made', async () => {
    const wrongArn = 'arn:aws:sso:::instance/ssoins-0000000000000000';
    await expect(new SSOAdminClient(sdkOptions(server)).send(new UpdateInstanceCommand({ InstanceArn: wrongArn, Name: 'nope' }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
    const failures = (await events('UpdateInstance')).filter((e) => e.error_code !== null);
    expect(failures).toHaveLength(1);
    expect(failures[0]!.error_code).toBe('instance.not_found');
    expect((await server.reg.instance.get()).name).not.toBe('nope');
  });

  it('leaves the name as it is when UpdateInstance has none, and refuses an EncryptionConfiguration it cannot honour', async () => {
    const client = new SSOAdminClient(sdkOptions(server));
    await client.send(new UpdateInstanceCommand({ InstanceArn: server.init.instanceArn, Name: 'kept-name' }));
    await client.send(new UpdateInstanceCommand({ InstanceArn: server.init.instanceArn }));
    expect((await server.reg.instance.get()).name).toBe('kept-name');
    await expect(
      client.send(new UpdateInstanceCommand({ InstanceArn: server.init.instanceArn, EncryptionConfiguration: { KeyType: 'CUSTOMER_MANAGED_KEY', KmsKeyArn: 'arn:aws:kms:us-east-1:111111111111:key/x' } })),
    ).rejects.toMatchObject({ name: 'ValidationException', message: expect.stringMatching(/EncryptionConfiguration is not supported/) as unknown });
    expect((await server.reg.instance.get()).name).toBe('kept-name');
    const last = (await events('UpdateInstance')).slice(-2);
    expect(last.map((e) => e.error_code)).toEqual([null, 'ValidationException']);
    expect(JSON.parse(last[0]!.request_parameters!)).toEqual({ instanceArn: server.init.instanceArn });
  });

  it('never writes a secret into the log', async () => {
    const rows = await server.reg.database.db.selectFrom('audit_events').selectAll().execute();
    expect(rows.some((r) => r.event_name === 'CreateAccessKey')).toBe(true);
    expect(JSON.stringify(rows)).not.toContain(server.credentials.secretAccessKey);
  });
});
