// The JSON routes behind the access portal app, over HTTP with a portal session cookie: accounts
// with their roles, the aws configure sso values, role credentials that STS accepts, and the
// user's own sessions, which they can end and no one else can.

import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';
import { portalFixture, until, type PortalUser } from '../helpers/portal-fixture.js';

const PASSWORD = 'Portal#ui-9Wd!x';

/** What the routes answer: an error message, or one of their bodies. */
interface Answer {
  message?: string;
  csrfToken?: string;
  accessKeyId?: string;
  secretAccessKey?: string;
  sessionToken?: string;
  expiration?: number;
  sessionId?: string;
  sessions?: { sessionId: string; createdAt: number; expiresAt: number; sourceIp: string; userAgent: string; current: boolean }[];
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
    const text = await res.text();
    return { status: res.status, headers: res.headers, body: (text ? JSON.parse(text) : {}) as Answer };
  };
  const signedIn = (headers: Record<string, string> = {}) => ({ cookie, ...headers });
  const requestCredentials = (body: unknown, headers: Record<string, string> = signedIn({ 'x-csrf-token': csrf })) => call('/api/portal/credentials', { method: 'POST', body, headers });
  const auditRows = (eventName: string) => server.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', '=', eventName).orderBy('seq').execute();

  const adminContext = () => systemContext('signin.amazonaws.com', 'us-east-1', 'portal-ui-test');

  /** Another session (another browser) of a user whose password is set; `userAgent` tells it apart. */
  async function openSession(userName: string, userAgent = 'portal-ui-test'): Promise<string> {
    const result = await server.reg.auth.signIn({ ...adminContext(), userAgent }, userName, PASSWORD);
    if (result.kind !== 'ok') throw new Error(`sign-in ${result.kind}`);
    return `atrium_session=${result.token}`;
  }

  async function signIn(userName: string, userAgent?: string): Promise<string> {
    await server.reg.auth.setPassword(adminContext(), userName, { password: PASSWORD, oneTime: false });
    return openSession(userName, userAgent);
  }

  const sessionOf = async (sessionCookie: string) => (await call('/api/portal/session', { headers: { cookie: sessionCookie } })).body;
  const listSessions = (sessionCookie: string) => call('/api/portal/sessions', { headers: { cookie: sessionCookie } });
  const endSession = (headers: Record<string, string>, sessionId: string) => call(`/api/portal/sessions/${sessionId}`, { method: 'DELETE', headers });

  beforeAll(async () => {
    server = await startServer(dialect);
    const f = portalFixture(server);
    [account, user] = await Promise.all([f.newAccount(), f.newUser()]);
    const ps = await f.newPermissionSet(undefined, 'PT2H');
    roleName = ps.name;
    await f.assignment('create', account.accountId, ps.arn, 'USER', user.userId);
    cookie = await signIn(user.userName);
    csrf = (await sessionOf(cookie)).csrfToken!;
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

  it('lists the signed-in user’s own sessions, marks the current one, and shows no one else’s', async () => {
    const f = portalFixture(server);
    const [owner, stranger] = await Promise.all([f.newUser(), f.newUser()]);
    const laptop = await signIn(owner.userName, 'laptop');
    const phone = await openSession(owner.userName, 'phone');
    const strangers = await signIn(stranger.userName);

    expect((await call('/api/portal/sessions')).status).toBe(401);
    expect((await listSessions('atrium_session=forged')).status).toBe(401);

    const listed = await listSessions(laptop);
    expect(listed.status).toBe(200);
    expect(listed.headers.get('cache-control')).toBe('no-store');
    const sessions = listed.body.sessions!;
    // The session id names a session without being its cookie: nothing else is shown.
    expect(sessions.map((s) => Object.keys(s).sort())).toEqual(Array(2).fill(['createdAt', 'current', 'expiresAt', 'sessionId', 'sourceIp', 'userAgent']));
    const byAgent = Object.fromEntries(sessions.map((s) => [s.userAgent, s]));
    expect(byAgent.laptop).toMatchObject({ sessionId: (await sessionOf(laptop)).sessionId, sourceIp: '127.0.0.1', current: true });
    expect(byAgent.phone).toMatchObject({ sessionId: (await sessionOf(phone)).sessionId, sourceIp: '127.0.0.1', current: false });
    // The default duration is 8 hours.
    expect(byAgent.laptop!.expiresAt - byAgent.laptop!.createdAt).toBe(8 * 3600);

    // The other browser sees the same sessions, with itself marked.
    const fromPhone = (await listSessions(phone)).body.sessions!;
    expect(fromPhone.filter((s) => s.current).map((s) => s.userAgent)).toEqual(['phone']);
    expect(fromPhone.map((s) => s.sessionId).sort()).toEqual(sessions.map((s) => s.sessionId).sort());
    expect((await listSessions(strangers)).body.sessions!.map((s) => s.sessionId)).toEqual([(await sessionOf(strangers)).sessionId]);
  });

  it('ends another of the user’s sessions: that browser is signed out, this one is not, and its credentials stop working', async () => {
    const other = await openSession(user.userName, 'other browser');
    const otherSession = await sessionOf(other);
    const issued = await requestCredentials({ accountId: account.accountId, roleName }, { cookie: other, 'x-csrf-token': otherSession.csrfToken! });
    expect(issued.status).toBe(200);
    const sts = new STSClient({ ...sdkOptions(server), credentials: { accessKeyId: issued.body.accessKeyId!, secretAccessKey: issued.body.secretAccessKey!, sessionToken: issued.body.sessionToken } });
    await sts.send(new GetCallerIdentityCommand({}));

    const ended = await endSession(signedIn({ 'x-csrf-token': csrf }), otherSession.sessionId!);
    expect(ended.status).toBe(204);
    // Only ending the current session clears this browser's cookie.
    expect(ended.headers.get('set-cookie')).toBeNull();
    for (const path of ['/api/portal/session', '/api/portal/sessions', '/api/portal/accounts']) expect((await call(path, { headers: { cookie: other } })).status).toBe(401);
    expect((await listSessions(cookie)).body.sessions!.map((s) => s.current)).toEqual([true]);
    const refused = await until(
      () => sts.send(new GetCallerIdentityCommand({})).then(() => 'valid', (err: { name: string }) => err.name),
      (outcome) => outcome !== 'valid',
    );
    expect(refused).toBe('InvalidClientTokenId');

    const again = await endSession(signedIn({ 'x-csrf-token': csrf }), otherSession.sessionId!);
    expect(again.status).toBe(404);
    expect(again.body.message).toBe('The session does not exist or has ended.');
    const revoked = (await auditRows('RevokeSession')).filter((r) => r.request_parameters?.includes(otherSession.sessionId!));
    expect(revoked.map((r) => r.error_code)).toEqual([null, 'auth.session_not_found']);
    expect(JSON.parse(revoked[0]!.user_identity)).toMatchObject({ type: 'IdentityCenterUser', principalId: user.userId });
  });

  it('never lets anyone else end a user’s session: not another user, not a forged or borrowed CSRF token, not a password still to be changed', async () => {
    const f = portalFixture(server);
    const [owner, attacker, pending] = await Promise.all([f.newUser(), f.newUser(), f.newUser()]);
    const ownerCookie = await signIn(owner.userName);
    const attackerCookie = await signIn(attacker.userName);
    const [ownerSession, attackerSession] = await Promise.all([sessionOf(ownerCookie), sessionOf(attackerCookie)]);
    const ownerId = ownerSession.sessionId!;
    const asAttacker = { cookie: attackerCookie, 'x-csrf-token': attackerSession.csrfToken! };

    // Another user's session is as unknown as one that never was, whatever the spelling of its id.
    const unknown = await endSession(asAttacker, 'f'.repeat(32));
    expect(unknown).toMatchObject({ status: 404, body: { message: 'The session does not exist or has ended.' } });
    for (const id of [ownerId, ownerId.toUpperCase(), `${ownerId}%20`, `..%2F${ownerId}`, encodeURIComponent(`${ownerId}' OR '1'='1`), 'x'.repeat(100)]) {
      const { status, body } = await endSession(asAttacker, id);
      expect({ id, status, body }).toEqual({ id, status: 404, body: unknown.body });
    }
    // The CSRF token belongs to one session: neither user can use the other's.
    expect((await endSession({ cookie: attackerCookie, 'x-csrf-token': ownerSession.csrfToken! }, ownerId)).status).toBe(403);
    expect((await endSession({ cookie: ownerCookie, 'x-csrf-token': attackerSession.csrfToken! }, ownerId)).status).toBe(403);
    expect((await endSession({ cookie: ownerCookie }, ownerId)).status).toBe(403);
    expect((await endSession({ 'x-csrf-token': ownerSession.csrfToken! }, ownerId)).status).toBe(401);

    // Whoever holds only a one-time password (the administrator reset it) cannot list or end the
    // user's sessions; the reset itself ended the session from before it.
    const pendingCookie = await signIn(pending.userName);
    const pendingId = (await sessionOf(pendingCookie)).sessionId!;
    const { password } = await server.reg.auth.setPassword(adminContext(), pending.userName, { oneTime: true });
    expect((await sessionOf(pendingCookie)).sessionId).toBeUndefined();
    const oneTime = await server.reg.auth.signIn(adminContext(), pending.userName, password);
    if (oneTime.kind !== 'ok') throw new Error(`sign-in ${oneTime.kind}`);
    const oneTimeCookie = `atrium_session=${oneTime.token}`;
    expect((await listSessions(oneTimeCookie)).status).toBe(401);
    expect((await endSession({ cookie: oneTimeCookie, 'x-csrf-token': 'x' }, pendingId)).status).toBe(401);
    expect((await endSession({ cookie: oneTimeCookie, 'x-csrf-token': 'x' }, oneTime.session.sessionId)).status).toBe(401);

    // Nothing was ended, and every attempt on a real session is in the audit log under the attacker's name.
    expect((await sessionOf(ownerCookie)).sessionId).toBe(ownerId);
    expect((await listSessions(ownerCookie)).body.sessions!.map((s) => s.sessionId)).toEqual([ownerId]);
    expect((await listSessions(attackerCookie)).body.sessions!.map((s) => s.sessionId)).toEqual([attackerSession.sessionId]);
    const attempts = (await auditRows('RevokeSession')).filter((r) => r.request_parameters === JSON.stringify({ sessionId: ownerId }));
    expect(attempts.map((r) => [r.error_code, (JSON.parse(r.user_identity) as { principalId: string }).principalId])).toEqual([['auth.session_not_found', attacker.userId]]);
  });

  it('ends the current session: the cookie is cleared and the browser is signed out', async () => {
    const mine = await signIn((await portalFixture(server).newUser()).userName);
    const session = await sessionOf(mine);
    const ended = await endSession({ cookie: mine, 'x-csrf-token': session.csrfToken! }, session.sessionId!);
    expect(ended.status).toBe(204);
    expect(ended.headers.get('set-cookie')).toMatch(/^atrium_session=; Max-Age=0;/);
    expect((await call('/api/portal/session', { headers: { cookie: mine } })).status).toBe(401);
  });
});
