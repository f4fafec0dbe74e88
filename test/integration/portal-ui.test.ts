// The JSON routes behind the access portal app, over HTTP with a portal session cookie: accounts
// with their roles, the aws configure sso values, and role credentials that STS accepts.

import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';
import { portalFixture, type PortalUser } from '../helpers/portal-fixture.js';

const PASSWORD = 'Portal#ui-9Wd!x';

/** What the routes answer: an error message, or one of their bodies. */
interface Answer {
  message?: string;
  csrfToken?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  expiration?: number;
  [field: string]: unknown;
}

describe.each(dialects())('access portal routes on %s', (dialect) => {
  let server: TestServer;
  let account: { accountId: string; name: string; email: string };
  let user: PortalUser;
  let roleName: string;
  /** The signed-in user's cookie header and CSRF token. */
  let cookie: string;
  let csrf: string;

  const call = async (path: string, init: { method?: string; body?: unknown; headers?: Record<string, string> } = {}) => {
    const res = await fetch(server.url + path, {
      method: init.method ?? 'GET',
      headers: { ...(init.body !== undefined ? { 'content-type': 'application/json' } : {}), ...init.headers },
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    });
    return { status: res.status, headers: res.headers, body: (await res.json()) as Answer };
  };
  const signedIn = (headers: Record<string, string> = {}) => ({ cookie, ...headers });
  const requestCredentials = (body: unknown, headers: Record<string, string> = signedIn({ 'x-csrf-token': csrf })) => call('/api/portal/credentials', { method: 'POST', body, headers });
  const auditRows = (eventName: string) => server.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', '=', eventName).orderBy('seq').execute();

  async function signIn(userName: string): Promise<string> {
    const ctx = systemContext('signin.amazonaws.com', 'us-east-1', 'portal-ui-test');
    await server.reg.auth.setPassword(ctx, userName, { password: PASSWORD, oneTime: false });
    const result = await server.reg.auth.signIn(ctx, userName, PASSWORD);
    if (result.kind !== 'ok') throw new Error(`sign-in ${result.kind}`);
    return `atrium_session=${result.token}`;
  }

  beforeAll(async () => {
    server = await startServer(dialect);
    const f = portalFixture(server);
    [account, user] = await Promise.all([f.newAccount(), f.newUser()]);
    const ps = await f.newPermissionSet(undefined, 'PT2H');
    roleName = ps.name;
    await f.assignment('create', account.accountId, ps.arn, 'USER', user.userId);
    cookie = await signIn(user.userName);
    csrf = (await call('/api/portal/session', { headers: signedIn() })).body.csrfToken!;
  });
  afterAll(async () => {
    await server?.close();
  });

  it('lists the signed-in user’s accounts with their roles, and nothing to anyone else', async () => {
    const anonymous = await call('/api/portal/accounts');
    expect(anonymous.status).toBe(401);
    expect(anonymous.body.message).toBe('You are not signed in.');

    const listed = await call('/api/portal/accounts', { headers: signedIn() });
    expect(listed.status).toBe(200);
    expect(listed.headers.get('cache-control')).toBe('no-store');
    expect(listed.body).toEqual({ accounts: [{ accountId: account.accountId, accountName: account.name, emailAddress: account.email, roles: [roleName] }] });

    const stranger = await portalFixture(server).newUser();
    const strangerAccounts = await call('/api/portal/accounts', { headers: { cookie: await signIn(stranger.userName) } });
    expect(strangerAccounts.body).toEqual({ accounts: [] });
  });

  it('gives the values for aws configure sso', async () => {
    const { status, body } = await call('/api/portal/configuration', { headers: signedIn() });
    expect(status).toBe(200);
    expect(body).toEqual({ startUrl: server.init.startUrl, region: server.init.region });
  });

  it('issues role credentials that STS accepts, and audits the issue', async () => {
    const before = Date.now();
    const { status, headers, body } = await requestCredentials({ accountId: account.accountId, roleName });
    expect(status).toBe(200);
    expect(headers.get('cache-control')).toBe('no-store');
    expect(body.accessKeyId).toMatch(/^ASIA[A-Z0-9]{16}$/);
    // The permission set's two-hour session duration.
    expect(body.expiration! * 1000).toBeGreaterThanOrEqual(Math.floor(before / 1000) * 1000 + 2 * 3600_000 - 1000);
    expect(body.expiration! * 1000).toBeLessThanOrEqual(Date.now() + 2 * 3600_000 + 1000);

    const sts = new STSClient({ ...sdkOptions(server), credentials: { accessKeyId: body.accessKeyId!, secretAccessKey: body.secretAccessKey!, sessionToken: body.sessionToken } });
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    expect(identity.Arn).toMatch(new RegExp(`^arn:aws:sts::${account.accountId}:assumed-role/AWSReservedSSO_${roleName}_[0-9a-f]{16}/${user.userName}$`));

    const issued = (await auditRows('GetRoleCredentials')).filter((r) => !r.error_code);
    expect(issued).toHaveLength(1);
    expect(JSON.parse(issued[0]!.user_identity)).toMatchObject({ type: 'IdentityCenterUser', principalId: user.userId, userName: user.userName });
  });

  it('refuses a change without the session’s CSRF token', async () => {
    for (const headers of [signedIn(), signedIn({ 'x-csrf-token': 'forged' })]) {
      const { status, body } = await requestCredentials({ accountId: account.accountId, roleName }, headers);
      expect(status).toBe(403);
      expect(body.message).toBe('The CSRF token is missing or wrong.');
    }
    expect((await requestCredentials({ accountId: account.accountId, roleName }, { 'x-csrf-token': csrf })).status).toBe(401);
  });

  it('refuses bad input and a role the user does not hold, with audited refusals and never a 500', async () => {
    for (const bad of [{ accountId: '12', roleName }, { accountId: account.accountId }, { accountId: account.accountId, roleName, extra: 1 }, 'text']) {
      const { status, body } = await requestCredentials(bad);
      expect(status).toBe(400);
      expect(body.message).toMatch(/validation error/);
    }
    expect((await auditRows('GetRoleCredentials')).filter((r) => r.error_code === 'validation_error')).toHaveLength(4);
    const unparsable = await fetch(`${server.url}/api/portal/credentials`, { method: 'POST', headers: { ...signedIn({ 'x-csrf-token': csrf }), 'content-type': 'application/json' }, body: '{' });
    expect(unparsable.status).toBe(400);
    expect(await unparsable.json()).toEqual({ message: 'The request could not be read.' });

    for (const target of [{ accountId: account.accountId, roleName: 'NotMine' }, { accountId: '999999999999', roleName }]) {
      const { status, body } = await requestCredentials(target);
      expect(status).toBe(403);
      expect(body.message).toBe('No access');
    }
    const refused = (await auditRows('GetRoleCredentials')).filter((r) => r.error_code === 'access.no_access');
    expect(refused.map((r) => JSON.parse(r.request_parameters!) as unknown)).toEqual([
      { accountId: account.accountId, roleName: 'NotMine' },
      { accountId: '999999999999', roleName },
    ]);
  });
});
