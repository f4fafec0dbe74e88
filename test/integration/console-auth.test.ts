// The admin console's way into the JSON APIs, on both databases: a portal session cookie plus its
// CSRF header instead of SigV4. An administrator's calls run as them (audit events name them); a
// ReadOnlyAccess grant reads but changes nothing; a non-administrator, a missing or wrong CSRF
// header, a cross-site request and an ended session are all refused in the AWS error shape. The
// grants themselves come from the CLI (`atrium admin grant|revoke|list`), which is how the first
// administrator is made. The console's MFA pieces go through the admin API's MFA routes the same way.

import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { Browser } from '../helpers/browser.js';
import { adminCall } from '../helpers/mfa.js';
import { runCli } from '../helpers/cli.js';
import { portalFixture, type PortalUser } from '../helpers/portal-fixture.js';
import { cliStorage, dialects, startServer, type TestServer } from '../helpers/server.js';

const PASSWORD = 'Console#Auth-7Lq!';

/** A signed-in browser's calls as the console makes them: cookie, CSRF header, same origin. */
async function consoleClient(server: TestServer, user: PortalUser) {
  const browser = new Browser(server.url);
  const signedIn = await browser.signIn(user.userName, PASSWORD, '/console');
  expect(signedIn.status).toBe(303);
  const session = JSON.parse((await browser.request('/api/portal/session')).text) as { csrfToken: string; sessionId: string };
  const cookie = () => [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  const host = new URL(server.url).host;
  const call = async (target: string, body: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(server.url + '/', {
      method: 'POST',
      headers: { cookie: cookie(), 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target, 'x-csrf-token': session.csrfToken, origin: `http://${host}`, 'sec-fetch-site': 'same-origin', ...headers },
      body: JSON.stringify(body),
    });
    return { status: res.status, type: res.headers.get('x-amzn-errortype'), json: (await res.json()) as Record<string, unknown> };
  };
  const admin = async (method: string, urlPath: string, body?: unknown, headers: Record<string, string> = {}) => {
    const res = await fetch(server.url + urlPath, {
      method,
      headers: { cookie: cookie(), 'x-csrf-token': session.csrfToken, ...(body === undefined ? {} : { 'content-type': 'application/json' }), ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    return { status: res.status, json: (await res.json()) as Record<string, unknown> };
  };
  return { browser, session, call, admin };
}

describe.each(dialects())('console authentication on %s', (dialect) => {
  let server: TestServer;
  let storage: string[];
  let root: PortalUser;
  let reader: PortalUser;
  let nobody: PortalUser;
  const cli = (...args: string[]) => runCli([...args, ...storage]);
  const IdentityStoreId = () => server.init.identityStoreId;

  beforeAll(async () => {
    server = await startServer(dialect);
    storage = cliStorage(server);
    const f = portalFixture(server);
    [root, reader, nobody] = await Promise.all([f.newUser(), f.newUser(), f.newUser()]);
    const ctx = systemContext('sso.amazonaws.com', 'us-east-1', 'console-auth-test');
    for (const u of [root, reader, nobody]) await server.reg.auth.setPassword(ctx, u.userName, { password: PASSWORD, oneTime: false });
  }, 120_000);
  afterAll(async () => server?.close());

  it('grants console access from the CLI (the bootstrap path), lists and revokes it, and audits each change', async () => {
    const bad = await cli('admin', 'grant', '--user-name', root.userName, '--policy', 'PowerUserAccess');
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('--policy must be AdministratorAccess or ReadOnlyAccess');
    const unknown = await cli('admin', 'grant', '--user-name', 'no-such-user', '--policy', 'AdministratorAccess');
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('The user no-such-user does not exist.');

    for (const [u, policy] of [[root, 'AdministratorAccess'], [reader, 'ReadOnlyAccess'], [nobody, 'AdministratorAccess']] as const) {
      const r = await cli('admin', 'grant', '--user-name', u.userName, '--policy', policy, '--json');
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout)).toEqual({ userName: u.userName, userId: u.userId, policy });
    }
    const revoked = await cli('admin', 'revoke', '--user-name', nobody.userName);
    expect(revoked.code, revoked.stderr).toBe(0);
    const again = await cli('admin', 'revoke', '--user-name', nobody.userName);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain('has no console access');

    const list = await cli('admin', 'list', '--json');
    const grants = (JSON.parse(list.stdout) as { grants: { userName: string; policy: string }[] }).grants;
    expect(grants.map((g) => `${g.userName} ${g.policy}`).sort()).toEqual([`${reader.userName} ReadOnlyAccess`, `${root.userName} AdministratorAccess`].sort());
    const events = await server.reg.database.db.selectFrom('audit_events').select(['event_name', 'error_code']).where('event_source', '=', 'console.atrium.local').execute();
    expect(events.filter((e) => e.event_name === 'GrantConsoleAccess' && !e.error_code)).toHaveLength(3);
    expect(events.filter((e) => e.event_name === 'RevokeConsoleAccess' && !e.error_code)).toHaveLength(1);
  });

  it('lets an administrator call identitystore and the admin API with the session, and audits the change as them', async () => {
    const c = await consoleClient(server, root);
    const created = await c.call('AWSIdentityStore.CreateGroup', { IdentityStoreId: IdentityStoreId(), DisplayName: `console-${dialect}` });
    expect(created.status, JSON.stringify(created.json)).toBe(200);
    expect(created.json.GroupId).toEqual(expect.any(String));
    const listed = await c.call('AWSIdentityStore.ListGroups', { IdentityStoreId: IdentityStoreId(), Filters: [{ AttributePath: 'DisplayName', AttributeValue: `console-${dialect}` }] });
    expect((listed.json.Groups as unknown[]).length).toBe(1);
    const [event] = await server.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', '=', 'CreateGroup').orderBy('seq', 'desc').limit(1).execute();
    const identity = JSON.parse(event!.user_identity) as { type: string; principalId: string; userName: string };
    expect(identity).toMatchObject({ type: 'IdentityCenterUser', principalId: root.userId, userName: root.userName });

    const settings = await c.admin('PUT', '/api/admin/settings', { SessionDurationMinutes: 600 });
    expect(settings.status).toBe(200);
    expect(settings.json.SessionDurationMinutes).toBe(600);
    const refused = await c.admin('PUT', '/api/admin/settings', { SessionDurationMinutes: 5 });
    expect(refused.status).toBe(400);
    expect(refused.json.__type).toBe('ValidationException');
    expect(String(refused.json.message)).toMatch(/session/i);
    expect((await c.admin('GET', '/api/admin/settings')).json.SessionDurationMinutes).toBe(600);
    const newcomer = await portalFixture(server).newUser();
    const otp = await c.admin('POST', `/api/admin/users/${encodeURIComponent(newcomer.userName)}/password`);
    expect(otp.status).toBe(200);
    expect(otp.json).toMatchObject({ UserName: newcomer.userName, OneTime: true, Password: expect.any(String) });
    const signIn = await new Browser(server.url).signIn(newcomer.userName, otp.json.Password as string);
    expect(signIn.headers.get('location')).toContain('/login/change-password');
    const overview = await c.admin('GET', '/api/admin/overview');
    expect(overview.json).toMatchObject({ IdentityStoreId: IdentityStoreId(), Region: 'us-east-1', IdentitySource: 'INTERNAL', UserCount: 4 });
    // The dashboard's other counts come from the database too, and agree with the lists.
    const groups = (await c.call('AWSIdentityStore.ListGroups', { IdentityStoreId: IdentityStoreId(), MaxResults: 100 })).json.Groups as unknown[];
    const accounts = (await c.call('AWSOrganizationsV20161128.ListAccounts', { MaxResults: 20 })).json.Accounts as unknown[];
    const sets = (await c.call('SWBExternalService.ListPermissionSets', { InstanceArn: server.init.instanceArn, MaxResults: 100 })).json.PermissionSets as unknown[];
    expect(groups.length).toBeGreaterThan(0);
    expect(overview.json).toMatchObject({ GroupCount: groups.length, AccountCount: accounts.length, PermissionSetCount: sets.length });
  });

  it('lets a ReadOnlyAccess administrator list but not create, on both APIs', async () => {
    const c = await consoleClient(server, reader);
    expect((await c.call('AWSIdentityStore.ListUsers', { IdentityStoreId: IdentityStoreId() })).status).toBe(200);
    const create = await c.call('AWSIdentityStore.CreateGroup', { IdentityStoreId: IdentityStoreId(), DisplayName: 'reader-made' });
    expect(create).toMatchObject({ status: 403, type: 'AccessDeniedException' });
    expect(String(create.json.message)).toContain('ReadOnlyAccess');
    expect((await c.call('SWBExternalService.ListPermissionSets', { InstanceArn: server.init.instanceArn })).status).toBe(200);
    expect((await c.call('SWBExternalService.CreatePermissionSet', { InstanceArn: server.init.instanceArn, Name: 'ReaderMade' })).status).toBe(403);
    expect((await c.admin('GET', '/api/admin/settings')).status).toBe(200);
    expect(await c.admin('PUT', '/api/admin/settings', { SessionDurationMinutes: 60 })).toMatchObject({ status: 403, json: { __type: 'AccessDeniedException' } });
    const groups = await c.call('AWSIdentityStore.ListGroups', { IdentityStoreId: IdentityStoreId(), Filters: [{ AttributePath: 'DisplayName', AttributeValue: 'reader-made' }] });
    expect(groups.json.Groups).toEqual([]);
  });

  it("reaches the MFA settings and a user's MFA devices with the session: ReadOnlyAccess reads only, an administrator changes them as themselves", async () => {
    const ctx = systemContext('sso.amazonaws.com', 'us-east-1', 'console-auth-test');
    const owner = await server.reg.mfa.userByName(nobody.userName);
    const enrol = async (name: string) => {
      const e = await server.reg.mfa.beginTotpEnrolment(owner);
      const code = new TOTP({ secret: Secret.fromBase32(e.secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate();
      return server.reg.mfa.confirmTotpEnrolment(ctx, owner, { enrolmentId: e.enrolmentId, name, code });
    };
    const phone = await enrol('Phone');
    const devices = `/api/admin/users/${encodeURIComponent(nobody.userName)}/mfa-devices`;

    const r = await consoleClient(server, reader);
    expect(await r.admin('GET', '/api/admin/mfa/settings')).toMatchObject({ status: 200, json: { Mode: 'DISABLED', RememberDays: 30 } });
    expect(await r.admin('GET', '/api/admin/sign-in-protection')).toMatchObject({ status: 200, json: { LockoutMinutes: 15 } });
    expect(await r.admin('GET', devices)).toMatchObject({ status: 200, json: { Devices: [{ DeviceId: phone.deviceId, Name: 'Phone', Type: 'TOTP' }] } });
    const denied = { status: 403, json: { __type: 'AccessDeniedException' } };
    expect(await r.admin('PUT', '/api/admin/mfa/settings', { Mode: 'ALWAYS_ON' })).toMatchObject(denied);
    expect(await r.admin('PUT', '/api/admin/sign-in-protection', { LockoutMinutes: 30 })).toMatchObject(denied);
    expect(await r.admin('DELETE', `${devices}/${phone.deviceId}`)).toMatchObject(denied);
    expect(await r.admin('DELETE', devices)).toMatchObject(denied);
    expect(await server.reg.mfa.listDevices(owner)).toHaveLength(1);

    const [last] = await server.reg.database.db.selectFrom('audit_events').select('seq').orderBy('seq', 'desc').limit(1).execute();
    const a = await consoleClient(server, root);
    const refused = await a.admin('PUT', '/api/admin/mfa/settings', { Mode: 'CONTEXT_AWARE', RememberDays: 0 });
    expect(refused).toMatchObject({ status: 400, json: { __type: 'ValidationException' } });
    expect(String(refused.json.message)).toContain('rememberDays');
    expect(await a.admin('PUT', '/api/admin/mfa/settings', { RememberDays: 7, PasskeySignIn: true })).toMatchObject({ status: 200, json: { Mode: 'DISABLED', RememberDays: 7, PasskeySignIn: true } });
    expect(await a.admin('PUT', '/api/admin/sign-in-protection', { LockoutMinutes: 30 })).toMatchObject({ status: 200, json: { LockoutMinutes: 30 } });
    expect(await a.admin('DELETE', `${devices}/${phone.deviceId}`)).toMatchObject({ status: 200 });
    await enrol('Tablet');
    expect(await a.admin('DELETE', devices)).toMatchObject({ status: 200, json: { DeletedDeviceIds: [expect.any(String)] } });
    expect(await server.reg.mfa.listDevices(owner)).toEqual([]);
    const events = await server.reg.database.db
      .selectFrom('audit_events')
      .select(['event_name', 'user_identity'])
      .where('event_name', 'in', ['DeleteMfaDevice', 'ResetUserMfa', 'UpdateInstanceSettings'])
      .where('error_code', 'is', null)
      .where('seq', '>', last!.seq)
      .execute();
    expect(events.map((e) => e.event_name).sort()).toEqual(['DeleteMfaDevice', 'ResetUserMfa', 'UpdateInstanceSettings', 'UpdateInstanceSettings']);
    for (const e of events) expect(JSON.parse(e.user_identity)).toMatchObject({ principalId: root.userId, userName: root.userName });
  });

  it('refuses a non-administrator, a missing or wrong CSRF header, a cross-site request and an ended session, AWS-shaped', async () => {
    const outsider = await consoleClient(server, nobody);
    const list = { IdentityStoreId: IdentityStoreId() };
    expect(await outsider.call('AWSIdentityStore.ListUsers', list)).toMatchObject({ status: 403, type: 'AccessDeniedException', json: { __type: 'AccessDeniedException' } });
    expect((await outsider.admin('GET', '/api/admin/sessions')).json.__type).toBe('AccessDeniedException');
    const page = await outsider.browser.request('/console');
    expect(page.status).toBe(403);
    expect(page.text).toContain('atrium admin grant');

    const c = await consoleClient(server, root);
    for (const headers of [{ 'x-csrf-token': '' }, { 'x-csrf-token': 'x'.repeat(43) }, { 'x-csrf-token': outsider.session.csrfToken }]) {
      const r = await c.call('AWSIdentityStore.ListUsers', list, headers);
      expect(r).toMatchObject({ status: 403, type: 'UnrecognizedClientException' });
      expect(String(r.json.message)).toContain('CSRF');
    }
    expect((await c.admin('DELETE', `/api/admin/sessions/${outsider.session.sessionId}`, undefined, { 'x-csrf-token': 'wrong' })).status).toBe(403);
    expect((await c.admin('GET', '/api/admin/sessions', undefined, { 'sec-fetch-site': 'cross-site' })).status).toBe(403);
    const crossSite = await c.call('AWSIdentityStore.ListUsers', list, { origin: 'https://evil.example', 'sec-fetch-site': 'cross-site' });
    expect(crossSite).toMatchObject({ status: 403, type: 'UnrecognizedClientException' });
    expect(await c.call('AWSIdentityStore.ListUsers', list, { origin: 'https://evil.example' })).toMatchObject({ status: 403 });
    // The outsider's session still works for the portal: only the console refused it.
    expect((await outsider.browser.request('/api/portal/accounts')).status).toBe(200);

    // An expired session, then a revoked one: refused, and nothing else falls back to SigV4.
    await server.reg.database.db.updateTable('auth_sessions').set({ expires_at: Date.now() - 1000 }).where('session_id', '=', c.session.sessionId).execute();
    const expired = await c.call('AWSIdentityStore.ListUsers', list);
    expect(expired).toMatchObject({ status: 403, type: 'UnrecognizedClientException' });
    expect(String(expired.json.message)).toContain('sign in again');
    const d = await consoleClient(server, root);
    await server.reg.auth.revokeSessions(systemContext('sso.amazonaws.com', 'us-east-1', 'test'), { sessionId: d.session.sessionId });
    expect((await d.admin('GET', '/api/admin/overview')).status).toBe(403);
  });

  it('sends a session that never passed a second factor the MFA settings now require to step-up first, and records the refused change', async () => {
    // Signed in while MFA was off; then MFA is required for everyone.
    const c = await consoleClient(server, root);
    expect((await c.admin('PUT', '/api/admin/mfa/settings', { Mode: 'ALWAYS_ON' })).status).toBe(200);
    try {
      const read = await c.call('AWSIdentityStore.ListUsers', { IdentityStoreId: IdentityStoreId() });
      expect(read).toMatchObject({ status: 403, type: 'AccessDeniedException' });
      expect(String(read.json.message)).toContain('/login/mfa/step-up');
      const [last] = await server.reg.database.db.selectFrom('audit_events').select('seq').orderBy('seq', 'desc').limit(1).execute();
      // Turning MFA off again, or resetting someone's devices, is exactly what such a session must not do.
      expect((await c.admin('PUT', '/api/admin/mfa/settings', { Mode: 'DISABLED' })).status).toBe(403);
      expect((await c.admin('DELETE', `/api/admin/users/${encodeURIComponent(nobody.userName)}/mfa-devices`)).status).toBe(403);
      expect((await server.reg.mfa.settings()).mode).toBe('ALWAYS_ON');
      const refusals = await server.reg.database.db.selectFrom('audit_events').select(['event_name', 'error_code', 'user_identity']).where('seq', '>', last!.seq).orderBy('seq').execute();
      expect(refusals.map((e) => e.error_code)).toEqual(['auth.mfa_required', 'auth.mfa_required']);
      for (const e of refusals) expect(JSON.parse(e.user_identity)).toMatchObject({ principalId: root.userId });
      const page = await c.browser.request('/console');
      expect(page.status).toBe(303);
      expect(page.headers.get('location')).toBe('/login/mfa/step-up?return_to=%2Fconsole');
    } finally {
      expect((await adminCall(server, 'PUT', '/api/admin/mfa/settings', { Mode: 'DISABLED' })).status).toBe(200);
    }
  });

  it('records a change refused before it could be read: a body that is not JSON, a revoke that names nobody', async () => {
    const c = await consoleClient(server, root);
    const [last] = await server.reg.database.db.selectFrom('audit_events').select('seq').orderBy('seq', 'desc').limit(1).execute();
    const cookie = [...c.browser.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    const notJson = await fetch(`${server.url}/api/admin/settings`, { method: 'PUT', headers: { cookie, 'x-csrf-token': c.session.csrfToken, 'content-type': 'application/json' }, body: '{' });
    expect(notJson.status).toBe(400);
    expect(await c.admin('DELETE', '/api/admin/sessions')).toMatchObject({ status: 400, json: { message: expect.stringContaining('userName') as unknown } });
    const refused = await server.reg.database.db.selectFrom('audit_events').select(['event_name', 'error_code', 'user_identity']).where('seq', '>', last!.seq).orderBy('seq').execute();
    expect(refused.map((e) => [e.event_name, e.error_code])).toEqual([
      ['UpdateInstanceSettings', 'ValidationException'],
      ['RevokeSession', 'auth.missing_user_name'],
    ]);
    for (const e of refused) expect(JSON.parse(e.user_identity)).toMatchObject({ principalId: root.userId });
  });

  it("keeps a renamed administrator's grant (it is their user id's), and names them as they are called now in the trail and the grants list", async () => {
    const f = portalFixture(server);
    const carol = await f.newUser();
    await server.reg.auth.setPassword(systemContext('sso.amazonaws.com', 'us-east-1', 'console-auth-test'), carol.userName, { password: PASSWORD, oneTime: false });
    expect((await cli('admin', 'grant', '--user-name', carol.userName, '--policy', 'AdministratorAccess')).code).toBe(0);
    const before = await consoleClient(server, carol);
    const renamed = { userId: carol.userId, userName: `${carol.userName}.smith` };
    const root_ = await consoleClient(server, root);
    const rename = await root_.call('AWSIdentityStore.UpdateUser', { IdentityStoreId: IdentityStoreId(), UserId: carol.userId, Operations: [{ AttributePath: 'userName', AttributeValue: renamed.userName }] });
    expect(rename.status, JSON.stringify(rename.json)).toBe(200);

    const madeBy = async (c: Awaited<ReturnType<typeof consoleClient>>, name: string) => {
      const made = await c.call('AWSIdentityStore.CreateGroup', { IdentityStoreId: IdentityStoreId(), DisplayName: name });
      expect(made.status, JSON.stringify(made.json)).toBe(200);
      const [event] = await server.reg.database.db.selectFrom('audit_events').select(['user_identity', 'user_name']).where('event_name', '=', 'CreateGroup').where('error_code', 'is', null).orderBy('seq', 'desc').limit(1).execute();
      return { identity: JSON.parse(event!.user_identity) as Record<string, unknown>, column: event!.user_name };
    };
    // A session from before the rename, and one signed in with the new name: both act as the new name.
    for (const [c, name] of [[before, `renamed-before-${dialect}`], [await consoleClient(server, renamed), `renamed-after-${dialect}`]] as const) {
      expect(await madeBy(c, name)).toEqual({ identity: expect.objectContaining({ principalId: carol.userId, userName: renamed.userName }) as unknown, column: renamed.userName });
    }
    const after = await consoleClient(server, renamed);
    expect(JSON.parse((await after.browser.request('/api/portal/session')).text)).toMatchObject({ userId: carol.userId, userName: renamed.userName });
    const grants = (await after.admin('GET', '/api/admin/console/grants')).json.Grants as { UserId: string; UserName: string; Policy: string }[];
    expect(grants.find((g) => g.UserId === carol.userId)).toMatchObject({ UserName: renamed.userName, Policy: 'AdministratorAccess' });
    const listed = JSON.parse((await cli('admin', 'list', '--json')).stdout) as { grants: { userId: string; userName: string }[] };
    expect(listed.grants.find((g) => g.userId === carol.userId)?.userName).toBe(renamed.userName);

    // Disabled, the renamed user administers nothing, as before.
    expect((await root_.call('AWSIdentityStore.UpdateUser', { IdentityStoreId: IdentityStoreId(), UserId: carol.userId, Operations: [{ AttributePath: 'UserStatus', AttributeValue: 'DISABLED' }] })).status).toBe(200);
    expect((await after.call('AWSIdentityStore.ListUsers', { IdentityStoreId: IdentityStoreId() })).status).toBe(403);
  });

  it('refuses a revoked administrator at their next call', async () => {
    const c = await consoleClient(server, reader);
    expect((await c.call('AWSIdentityStore.ListUsers', { IdentityStoreId: IdentityStoreId() })).status).toBe(200);
    expect((await cli('admin', 'revoke', '--user-name', reader.userName)).code).toBe(0);
    expect(await c.call('AWSIdentityStore.ListUsers', { IdentityStoreId: IdentityStoreId() })).toMatchObject({ status: 403, type: 'AccessDeniedException' });
  });
});
