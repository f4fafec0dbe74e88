// A write that cannot get SQLite's lock in time (another process holds it past busy_timeout) is
// answered in each protocol's own shape as "retry", a 503 with Retry-After, never as a 500, and
// nothing of it is written. The real SDK retries such an answer by itself.

import SqliteDatabase from 'better-sqlite3';
import { CreateUserCommand, IdentitystoreClient, ListUsersCommand } from '@aws-sdk/client-identitystore';
import { sql } from 'kysely';
import path from 'node:path';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { sdkOptions, startServer, type TestServer } from '../helpers/server.js';

describe('a busy SQLite database', () => {
  let server: TestServer;
  let scimToken: string;
  let other: SqliteDatabase.Database;
  /** What the server logged, one JSON object a line. */
  const logged: Record<string, unknown>[] = [];
  beforeAll(async () => {
    const log = pino({ level: 'info' }, { write: (line: string) => void logged.push(JSON.parse(line) as Record<string, unknown>) });
    server = await startServer('sqlite', {}, { log });
    scimToken = (await server.reg.scimTokens.createToken(systemContext('sso-directory.amazonaws.com', 'us-east-1', 'busy'))).token;
    // Wait 100 ms for the lock, not 5 s, so that the test is quick; the behaviour past it is the same.
    await sql`pragma busy_timeout = 100`.execute(server.reg.database.db);
    other = new SqliteDatabase(path.join(server.dataDir, 'atrium.db'));
  });
  afterAll(async () => {
    if (other?.inTransaction) other.exec('rollback');
    other?.close();
    await server?.close();
  });

  const userCount = (name: string) => (other.prepare('select count(*) as n from directory_users where user_name = ?').get(name) as { n: number }).n;

  it('answers identitystore CreateUser with ServiceUnavailableException (503, Retry-After) and writes nothing', async () => {
    const client = new IdentitystoreClient(sdkOptions(server));
    other.exec('begin immediate');
    try {
      const err = await client.send(new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: 'busy-sdk', DisplayName: 'B', Name: { GivenName: 'B', FamilyName: 'S' } })).catch((e: unknown) => e);
      expect(err).toMatchObject({ name: 'ServiceUnavailableException', $metadata: { httpStatusCode: 503 } });
      expect((err as { $response?: { headers: Record<string, string> } }).$response?.headers['retry-after']).toBe('1');
    } finally {
      other.exec('rollback');
    }
    expect(userCount('busy-sdk')).toBe(0);
    // Whoever runs the server is told, once, with the count and SQLite's code, and nothing of the request.
    const warnings = logged.filter((l) => typeof l.msg === 'string' && l.msg.includes('database was busy'));
    expect(warnings).toEqual([expect.objectContaining({ level: 40, refused: 1, codes: ['SQLITE_BUSY'] })]);
    expect(JSON.stringify(warnings)).not.toContain(server.credentials.secretAccessKey);
    expect(JSON.stringify(warnings)).not.toContain('busy-sdk');
  });

  it('is retried by the real SDK, which then succeeds once the lock is free', async () => {
    const client = new IdentitystoreClient({ ...sdkOptions(server), maxAttempts: 3 });
    other.exec('begin immediate');
    // Freed after the first attempt has been refused, before the SDK's retry.
    const release = setTimeout(() => other.exec('rollback'), 300);
    try {
      const out = await client.send(new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: 'busy-retried', DisplayName: 'B', Name: { GivenName: 'B', FamilyName: 'R' } }));
      expect(out.$metadata.attempts).toBeGreaterThan(1);
      expect(out.UserId).toMatch(/^[0-9a-f]{10}-[0-9a-f-]{36}$/);
    } finally {
      clearTimeout(release);
      if (other.inTransaction) other.exec('rollback');
    }
    const listed = await client.send(new ListUsersCommand({ IdentityStoreId: server.init.identityStoreId, Filters: [{ AttributePath: 'UserName', AttributeValue: 'busy-retried' }] }));
    expect(listed.Users).toHaveLength(1);
  });

  it('answers a sign-in (the password step) with 503 "busy" and Retry-After, not a 500', async () => {
    const login = await fetch(`${server.url}/login`);
    const cookie = login.headers.getSetCookie()[0]!.split(';')[0]!;
    const csrf = /name="csrf" value="([^"]+)"/.exec(await login.text())![1]!;
    other.exec('begin immediate');
    let res: Response;
    try {
      res = await fetch(`${server.url}/login/password`, {
        method: 'POST',
        redirect: 'manual',
        headers: { cookie, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ csrf, return_to: '/start', username: 'nobody-here', password: 'not the password' }).toString(),
      });
    } finally {
      other.exec('rollback');
    }
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.text()).toBe('Atrium is busy. Try again in a moment.');
  });

  it('answers SCIM POST /Users with a SCIM error of status 503 and Retry-After, and writes nothing', async () => {
    other.exec('begin immediate');
    let res: Response;
    try {
      res = await fetch(`${server.url}/scim/v2/Users`, {
        method: 'POST',
        headers: { authorization: `Bearer ${scimToken}`, 'content-type': 'application/scim+json' },
        body: JSON.stringify({ schemas: ['urn:ietf:params:scim:schemas:core:2.0:User'], userName: 'busy-scim', name: { givenName: 'B', familyName: 'S' }, displayName: 'B S' }),
      });
    } finally {
      other.exec('rollback');
    }
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toEqual({ schemas: ['urn:ietf:params:scim:api:messages:2.0:Error'], status: '503', detail: 'The service is busy. Retry the request.' });
    expect(userCount('busy-scim')).toBe(0);
  });

  it('answers sso-oidc RegisterClient with 503 and Retry-After, not a 500, and keeps no client', async () => {
    const clients = () => (other.prepare("select count(*) as n from oidc_models where model = 'Client'").get() as { n: number }).n;
    const before = clients();
    other.exec('begin immediate');
    let res: Response;
    try {
      res = await fetch(`${server.url}/client/register`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ clientName: 'busy-cli', clientType: 'public' }) });
    } finally {
      other.exec('rollback');
    }
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toEqual({ error: 'temporarily_unavailable', error_description: 'The service is busy. Retry the request.' });
    expect(clients()).toBe(before);
    expect(logged.filter((l) => l.msg === 'unexpected error in sso-oidc')).toEqual([]);
  });

  it("answers the OIDC provider's device authorization with 503 temporarily_unavailable and Retry-After, and keeps no device code", async () => {
    const reg = await fetch(`${server.url}/client/register`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ clientName: 'busy-rp', clientType: 'public', scopes: ['openid'] }),
    });
    expect(reg.status).toBe(200);
    const client = (await reg.json()) as { clientId: string; clientSecret: string };
    const deviceCodes = () => (other.prepare("select count(*) as n from oidc_models where model = 'DeviceCode'").get() as { n: number }).n;
    const before = deviceCodes();
    other.exec('begin immediate');
    let res: Response;
    try {
      res = await fetch(`${server.url}/oidc/device/auth`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
        body: new URLSearchParams({ client_id: client.clientId, client_secret: client.clientSecret, scope: 'openid' }).toString(),
      });
    } finally {
      other.exec('rollback');
    }
    expect(res.status).toBe(503);
    expect(res.headers.get('retry-after')).toBe('1');
    expect(await res.json()).toEqual({ error: 'temporarily_unavailable', error_description: 'The service is busy. Retry the request.' });
    expect(deviceCodes()).toBe(before);
    // Once the lock is free, the same request succeeds.
    const again = await fetch(`${server.url}/oidc/device/auth`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ client_id: client.clientId, client_secret: client.clientSecret, scope: 'openid' }).toString(),
    });
    expect(again.status).toBe(200);
    expect(deviceCodes()).toBe(before + 1);
  });
});
