// The device approval of `aws sso login` behind MFA for a session that never passed a second factor
// (opened before an administrator turned MFA on): the device page asks for one first (step-up), a
// wrong or used code does not get through, and the right one leads back to the approval. The same
// session cannot add, rename or remove MFA devices (pages and portal JSON), approve an authorization
// code consent, or take role credentials from the portal until it passes MFA. Both databases.

import { createHash, randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { CreateTokenCommand, RegisterClientCommand, SSOOIDCClient, StartDeviceAuthorizationCommand } from '@aws-sdk/client-sso-oidc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTHORIZATION_CODE_GRANT } from '../../src/protocols/oidc/index.js';
import { systemContext } from '../../src/shared/context.js';
import { Browser } from '../helpers/browser.js';
import { OATHTOOL, oathtool, setMfaSettings, totpEnrolmentOf } from '../helpers/mfa.js';
import { portalFixture } from '../helpers/portal-fixture.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

const PASSWORD = 'Step#Up-Device-6Hn';

describe.skipIf(!existsSync(OATHTOOL)).each(dialects())('MFA step-up before device approval on %s', (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(dialect);
    await new IdentitystoreClient(sdkOptions(server)).send(
      new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: 'sam', DisplayName: 'Sam', Name: { GivenName: 'S', FamilyName: 'M' } }),
    );
    await server.reg.auth.setPassword(systemContext('sso.amazonaws.com', 'us-east-1', 'test'), 'sam', { password: PASSWORD, oneTime: false });
  });
  afterAll(() => server?.close());

  it('asks a session opened before MFA was required for a second factor before it approves a device code', async () => {
    // MFA off: sam registers an authenticator app anyway, then signs in again with the password alone.
    await setMfaSettings(server, { Mode: 'DISABLED' });
    const setup = new Browser(server.url);
    await setup.signIn('sam', PASSWORD);
    const e = totpEnrolmentOf((await setup.request('/mfa/devices/totp')).text);
    expect((await setup.request('/mfa/devices/totp', { form: { csrf: e.csrf, enrolment_id: e.enrolmentId, name: 'Phone', code: oathtool(e.secret, Date.now() - 30_000) } })).status).toBe(303);
    const b = new Browser(server.url);
    expect((await b.signIn('sam', PASSWORD)).headers.get('location')).toBe('/start');

    // Then the administrator requires MFA, and `aws sso login` starts.
    await setMfaSettings(server, { Mode: 'ALWAYS_ON' });
    const oidc = new SSOOIDCClient(sdkOptions(server));
    const client = await oidc.send(new RegisterClientCommand({ clientName: 'botocore-client-mfa', clientType: 'public' }));
    const device = await oidc.send(new StartDeviceAuthorizationCommand({ clientId: client.clientId, clientSecret: client.clientSecret, startUrl: server.init.startUrl }));
    const devicePath = `/device?user_code=${device.userCode}`;

    const first = await b.request(devicePath);
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe(`/login/mfa/step-up?return_to=${encodeURIComponent(devicePath)}`);
    // Approving without the second factor is refused the same way: no POST gets around the page.
    const sneaky = await b.request('/device', { form: { csrf: 'x', user_code: device.userCode!, decision: 'approve' } });
    expect(sneaky.status).toBe(303);

    const page = await b.request(first.headers.get('location')!);
    expect(page.status).toBe(200);
    const csrf = Browser.csrfOf(page.text);
    const wrong = await b.request('/login/mfa/step-up', { form: { csrf, return_to: devicePath, code: '000000' === oathtool(e.secret) ? '111111' : '000000' } });
    expect(wrong.status).toBe(401);
    expect(wrong.text).toContain('The code is not correct');
    // A copy of the session's cookie taken before MFA (a stolen cookie) ...
    const copy = new Browser(server.url);
    for (const [k, v] of b.cookies) copy.cookies.set(k, v);
    const before = b.cookies.get('atrium_session');
    const ok = await b.request('/login/mfa/step-up', { form: { csrf, return_to: devicePath, code: oathtool(e.secret, Date.now() + 30_000) } });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe(devicePath);
    // ... does not pass MFA with its owner: the session passed it under a new token, in a new cookie.
    expect(b.cookies.get('atrium_session')).not.toBe(before);
    expect((await copy.request(devicePath)).status).toBe(303);
    expect((await copy.request('/api/portal/session')).status).toBe(401);

    const shown = await b.request(devicePath);
    expect(shown.status).toBe(200);
    expect(shown.text).toContain(device.userCode);
    const approved = await b.request('/device', { form: { csrf: Browser.csrfOf(shown.text), user_code: device.userCode!, decision: 'approve' } });
    expect(approved.text).toContain('Request approved');
    const tokens = await oidc.send(
      new CreateTokenCommand({ clientId: client.clientId, clientSecret: client.clientSecret, grantType: 'urn:ietf:params:oauth:grant-type:device_code', deviceCode: device.deviceCode }),
    );
    expect(tokens.accessToken).toBeTruthy();
    const stepUps = await server.reg.database.db.selectFrom('audit_events').select(['response_elements', 'error_code']).where('event_name', '=', 'CredentialVerification').execute();
    expect(stepUps.some((s) => String(s.response_elements).includes('"stepUp":true'))).toBe(true);
    expect(stepUps.some((s) => s.error_code === 'mfa.wrong_code')).toBe(true);
  });

  /** A user with an authenticator app registered while MFA was off, and a browser signed in with the password alone; then MFA is required. */
  async function sessionWithoutMfa(userName: string) {
    await new IdentitystoreClient(sdkOptions(server)).send(
      new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: userName, DisplayName: userName, Name: { GivenName: 'N', FamilyName: 'M' } }),
    );
    await server.reg.auth.setPassword(systemContext('sso.amazonaws.com', 'us-east-1', 'test'), userName, { password: PASSWORD, oneTime: false });
    await setMfaSettings(server, { Mode: 'DISABLED' });
    const setup = new Browser(server.url);
    await setup.signIn(userName, PASSWORD);
    const e = totpEnrolmentOf((await setup.request('/mfa/devices/totp')).text);
    expect((await setup.request('/mfa/devices/totp', { form: { csrf: e.csrf, enrolment_id: e.enrolmentId, name: 'Phone', code: oathtool(e.secret, Date.now() - 30_000) } })).status).toBe(303);
    const b = new Browser(server.url);
    expect((await b.signIn(userName, PASSWORD)).headers.get('location')).toBe('/start');
    await setMfaSettings(server, { Mode: 'ALWAYS_ON', NoDevice: 'REGISTER', AllowedDeviceTypes: ['TOTP', 'WEBAUTHN'] });
    const csrf = (JSON.parse((await b.request('/api/portal/session')).text) as { csrfToken: string }).csrfToken;
    const user = await server.reg.mfa.userByName(userName);
    return { b, csrf, secret: e.secret, devices: () => server.reg.mfa.listDevices(user) };
  }

  it('does not let a session that never passed MFA add, rename or remove devices, nor count a new device as MFA', async () => {
    const { b, csrf, devices } = await sessionWithoutMfa('nell');
    const [phone] = await devices();
    const stepUp = `/login/mfa/step-up?return_to=${encodeURIComponent('/mfa/devices')}`;

    // The attacker tries to register an authenticator app of their own...
    const add = await b.request('/mfa/devices/totp');
    if (add.status === 200) {
      const e = totpEnrolmentOf(add.text);
      await b.request('/mfa/devices/totp', { form: { csrf: e.csrf, enrolment_id: e.enrolmentId, name: 'Attacker', code: oathtool(e.secret) } });
    }
    expect(add.status).toBe(303);
    expect(add.headers.get('location')).toBe(stepUp);
    const json = async (method: string, path: string, body?: unknown) => {
      const headers = { 'x-csrf-token': csrf, cookie: `atrium_session=${b.cookies.get('atrium_session')}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
      const res = await fetch(server.url + path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
      return { status: res.status, body: (await res.json()) as { stepUp?: string } };
    };
    expect((await json('POST', '/mfa/devices/webauthn/options', { passkey: true })).status).toBe(403);
    // ...to rename or remove the real one, on the page and through the portal's JSON...
    const page = await b.request('/mfa/devices');
    expect(page.text).toContain('id="step-up-first"');
    const removed = await b.request(`/mfa/devices/${phone!.deviceId}/delete`, { form: { csrf } });
    expect(removed.status).toBe(303);
    expect(removed.headers.get('location')).toBe(stepUp);
    expect((await b.request(`/mfa/devices/${phone!.deviceId}/rename`, { form: { csrf, name: 'Gone' } })).headers.get('location')).toBe(stepUp);
    const patched = await json('PATCH', `/api/portal/mfa/devices/${phone!.deviceId}`, { name: 'Gone' });
    expect(patched).toEqual({ status: 403, body: expect.objectContaining({ stepUp }) });
    expect((await json('DELETE', `/api/portal/mfa/devices/${phone!.deviceId}`)).status).toBe(403);
    // ...and nothing changed: one device, its name, and the session still has not passed MFA.
    expect((await devices()).map((d) => d.name)).toEqual(['Phone']);
    expect((await b.request('/device')).headers.get('location')).toMatch(/^\/login\/mfa\/step-up/);
    const refusedDelete = await server.reg.database.db.selectFrom('audit_events').select('event_name').where('event_name', '=', 'DeleteMfaDevice').where('user_name', '=', 'nell').execute();
    expect(refusedDelete).toHaveLength(0);
  });

  it('marks a session MFA-passed with an audit event only when its new device is the first', async () => {
    await new IdentitystoreClient(sdkOptions(server)).send(
      new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: 'owen', DisplayName: 'Owen', Name: { GivenName: 'O', FamilyName: 'W' } }),
    );
    await server.reg.auth.setPassword(systemContext('sso.amazonaws.com', 'us-east-1', 'test'), 'owen', { password: PASSWORD, oneTime: false });
    await setMfaSettings(server, { Mode: 'ALWAYS_ON', NoDevice: 'ALLOW', AllowedDeviceTypes: ['TOTP'] });
    const b = new Browser(server.url);
    expect((await b.signIn('owen', PASSWORD)).headers.get('location')).toBe('/start');
    const e = totpEnrolmentOf((await b.request('/mfa/devices/totp')).text);
    expect((await b.request('/mfa/devices/totp', { form: { csrf: e.csrf, enrolment_id: e.enrolmentId, name: 'Phone', code: oathtool(e.secret) } })).status).toBe(303);
    const marks = await server.reg.database.db.selectFrom('audit_events').select(['response_elements', 'user_name']).where('event_name', '=', 'CredentialVerification').where('user_name', '=', 'owen').execute();
    expect(marks.filter((m) => String(m.response_elements).includes('"firstDevice":true'))).toHaveLength(1);
    // The first device is this session's second factor: the device page approves without a step-up.
    expect((await b.request('/device')).status).toBe(200);
  });

  it('asks a session that never passed MFA for it before an authorization code consent or portal role credentials', async () => {
    const fixture = portalFixture(server);
    const account = await fixture.newAccount();
    const ps = await fixture.newPermissionSet();
    const { b, csrf, secret } = await sessionWithoutMfa('otto');
    const otto = await server.reg.mfa.userByName('otto');
    await fixture.assignment('create', account.accountId, ps.arn, 'USER', otto.userId);

    // Role credentials from the portal: refused until the session passes MFA.
    const creds = await b.portalCredentials(account.accountId, ps.name);
    expect(creds.status).toBe(403);
    expect(creds.creds.accessKeyId).toBeUndefined();

    // An authorization code + PKCE client: the consent page sends the session to the step-up first.
    const oidc = new SSOOIDCClient(sdkOptions(server));
    const client = await oidc.send(
      new RegisterClientCommand({ clientName: 'pkce-mfa', clientType: 'public', scopes: ['sso:account:access'], grantTypes: [AUTHORIZATION_CODE_GRANT, 'refresh_token'], redirectUris: ['http://127.0.0.1/oauth/callback'] }),
    );
    const verifier = randomBytes(32).toString('base64url');
    let location = `/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: client.clientId!,
      redirect_uri: 'http://127.0.0.1:49153/oauth/callback',
      state: 's',
      code_challenge_method: 'S256',
      scopes: 'sso:account:access',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    }).toString()}`;
    let uid: string | undefined;
    let last: Awaited<ReturnType<Browser['request']>> | undefined;
    for (let hop = 0; hop < 10 && !last; hop++) {
      uid = /^\/consent\/([A-Za-z0-9_-]+)/.exec(location)?.[1] ?? uid;
      const res = await b.request(location.startsWith('http') ? new URL(location).pathname + new URL(location).search : location);
      const next = res.headers.get('location');
      if (res.status >= 300 && res.status < 400 && next) location = next;
      else last = res;
    }
    expect(uid).toBeDefined();
    expect(location).toBe(`/login/mfa/step-up?return_to=${encodeURIComponent(`/consent/${uid}`)}`);
    expect(last!.text).not.toContain('value="approve"');
    // Posting the approval without the page gets no code either.
    const approved = await b.request(`/consent/${uid}`, { form: { csrf, decision: 'approve' } });
    expect(approved.status).toBe(303);
    expect(approved.headers.get('location')).toMatch(/^\/login\/mfa\/step-up/);

    // The second factor, then both work.
    const ok = await b.request('/login/mfa/step-up', { form: { csrf: Browser.csrfOf(last!.text), return_to: '/start', code: oathtool(secret, Date.now() + 30_000) } });
    expect(ok.status).toBe(303);
    const after = await b.portalCredentials(account.accountId, ps.name);
    expect(after.status).toBe(200);
    expect(after.creds.accessKeyId).toBeTruthy();
    const refusals = await server.reg.database.db.selectFrom('audit_events').select('error_code').where('event_name', '=', 'GetRoleCredentials').where('error_code', '=', 'auth.mfa_required').execute();
    expect(refusals).toHaveLength(1);
  });
});
