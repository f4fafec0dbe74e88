// The AWS sso-oidc API as the real JS SDK sees it: registration, the device code grant (pending, approved,
// denied, expired), authorization code + PKCE, refresh rotation with family revocation, and bad input.

import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { CreateTokenCommand, RegisterClientCommand, SSOOIDCClient, StartDeviceAuthorizationCommand } from '@aws-sdk/client-sso-oidc';
import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUTHORIZATION_CODE_GRANT, DEVICE_CODE_GRANT, oidcServiceOf } from '../../src/protocols/oidc/index.js';
import { systemContext } from '../../src/shared/context.js';
import { Browser } from '../helpers/browser.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

const PASSWORD = 'Vq7#mXw2!pLz';

/**
 * Follow same-origin redirects as a browser would, until a page, or until a redirect to `stopAt`
 * (the client's own redirect URI, which nobody listens on here).
 */
async function walk(browser: Browser, start: string, stopAt?: string) {
  let location = start;
  for (let hop = 0; hop < 10; hop++) {
    if (stopAt && location.startsWith(stopAt)) return { status: 0, text: '', headers: new Headers(), location };
    const path = location.startsWith('http') ? new URL(location).pathname + new URL(location).search : location;
    const res = await browser.request(path);
    const next = res.headers.get('location');
    if (res.status < 300 || res.status >= 400 || !next) return { ...res, location };
    location = next;
  }
  throw new Error(`too many redirects from ${start}`);
}

describe.each(dialects())('sso-oidc on %s', (dialect) => {
  let server: TestServer;
  let oidc: SSOOIDCClient;
  let user: { userId: string; userName: string };
  const ctx = () => systemContext('sso.amazonaws.com', 'us-east-1', server.reg.newRequestId(), 'device-page');
  const service = () => oidcServiceOf(server.reg);

  beforeAll(async () => {
    server = await startServer(dialect);
    oidc = new SSOOIDCClient({ endpoint: server.url, region: 'us-east-1', maxAttempts: 1 });
    const ids = new IdentitystoreClient(sdkOptions(server));
    const created = await ids.send(
      new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: 'device-user', DisplayName: 'Device User', Name: { GivenName: 'Device', FamilyName: 'User' } }),
    );
    user = { userId: created.UserId!, userName: 'device-user' };
    await server.reg.auth.setPassword(ctx(), 'device-user', { password: PASSWORD, oneTime: false });
  });
  afterAll(async () => {
    await server?.close();
  });

  async function registerAndStart() {
    const client = await oidc.send(new RegisterClientCommand({ clientName: 'test-client', clientType: 'public', scopes: ['sso:account:access'] }));
    const auth = await oidc.send(new StartDeviceAuthorizationCommand({ clientId: client.clientId, clientSecret: client.clientSecret, startUrl: server.init.startUrl }));
    const poll = () => oidc.send(new CreateTokenCommand({ clientId: client.clientId, clientSecret: client.clientSecret, grantType: DEVICE_CODE_GRANT, deviceCode: auth.deviceCode }));
    return { client, auth, poll };
  }

  /** Ten minutes pass for one device code: both our expiry column and the provider's `exp`. */
  async function expireDeviceCode(userCode: string) {
    const db = server.reg.database.db;
    const row = await db.selectFrom('oidc_models').selectAll().where('user_code', '=', userCode.replace('-', '')).executeTakeFirstOrThrow();
    const payload = { ...(JSON.parse(row.payload) as Record<string, unknown>), exp: Math.floor(Date.now() / 1000) - 1 };
    await db.updateTable('oidc_models').set({ expires_at: Date.now() - 1000, payload: JSON.stringify(payload) }).where('model', '=', row.model).where('id', '=', row.id).execute();
  }

  const auditRows = (eventName: string) =>
    server.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', '=', eventName).orderBy('seq').execute();

  it('registers a client, waits for the user, issues tokens once', async () => {
    const before = Date.now() / 1000;
    const { client, auth, poll } = await registerAndStart();
    expect(client.clientId).toBeTruthy();
    expect(client.clientSecretExpiresAt! - client.clientIdIssuedAt!).toBe(90 * 24 * 3600);
    expect(client.clientIdIssuedAt!).toBeGreaterThanOrEqual(Math.floor(before));
    // The registration is kept as long as its secret, then purged with the other expired rows.
    const stored = await server.reg.database.db.selectFrom('oidc_models').select('expires_at').where('model', '=', 'Client').where('id', '=', client.clientId!).executeTakeFirstOrThrow();
    expect(Math.abs(Number(stored.expires_at) - client.clientSecretExpiresAt! * 1000)).toBeLessThan(2000);
    expect(auth.userCode).toMatch(/^[B-DF-HJ-NP-TV-XZ]{4}-[B-DF-HJ-NP-TV-XZ]{4}$/);
    expect(auth.verificationUri).toBe(`${server.url}/device`);
    expect(auth.verificationUriComplete).toBe(`${server.url}/device?user_code=${auth.userCode}`);
    expect(auth).toMatchObject({ expiresIn: 600, interval: 1 });

    await expect(poll()).rejects.toMatchObject({ name: 'AuthorizationPendingException', $metadata: { httpStatusCode: 400 } });
    await expect(poll()).rejects.toMatchObject({ name: 'AuthorizationPendingException' });
    await expect(poll()).rejects.toMatchObject({ name: 'SlowDownException', error: 'slow_down', $metadata: { httpStatusCode: 400 } });

    expect(await service().describeDevice(auth.userCode!.toLowerCase().replace('-', ''))).toMatchObject({ userCode: auth.userCode, clientName: 'test-client' });
    await service().approveDevice(ctx(), auth.userCode!, user, 'approve');
    const token = await poll();
    expect(token).toMatchObject({ tokenType: 'Bearer', expiresIn: 3600 });
    expect(token.accessToken).toBeTruthy();
    expect(token.refreshToken).toBeTruthy();
    expect(await service().resolveAccessToken(token.accessToken!)).toMatchObject({ userId: user.userId, userName: 'device-user', clientId: client.clientId });
    expect(await service().resolveAccessToken('not-a-token')).toBeUndefined();

    await expect(poll()).rejects.toMatchObject({ name: 'InvalidGrantException', error: 'invalid_grant', $metadata: { httpStatusCode: 400 } });
    await expect(service().approveDevice(ctx(), auth.userCode!, user, 'approve')).rejects.toMatchObject({ code: 'oidc.device_not_found' });

    const created = await auditRows('CreateToken');
    expect(created.filter((e) => e.error_code === null)).toHaveLength(1);
    expect(created.some((e) => e.error_code === 'oidc.invalid_grant')).toBe(true);
    expect((await auditRows('RegisterClient')).length).toBeGreaterThan(0);
    expect((await auditRows('ApproveDeviceAuthorization')).filter((e) => e.error_code === null)).toHaveLength(1);
    // While it is open, the user code is a secret: whoever reads the log could approve or deny it.
    const started = (await auditRows('StartDeviceAuthorization')).filter((e) => e.error_code === null);
    expect(started.length).toBeGreaterThan(0);
    for (const e of started) expect(JSON.parse(e.response_elements!)).toMatchObject({ userCode: 'HIDDEN_DUE_TO_SECURITY_REASONS' });
    const everything = JSON.stringify(await server.reg.database.db.selectFrom('audit_events').selectAll().execute());
    for (const secret of [client.clientSecret!, auth.deviceCode!, token.accessToken!, token.refreshToken!]) expect(everything).not.toContain(secret);
  });

  it('keeps no token, code or secret in the token store as it is: a copy of the database is no key to anyone\'s credentials', async () => {
    const { client, auth, poll } = await registerAndStart();
    await service().approveDevice(ctx(), auth.userCode!, user, 'approve');
    const token = await poll();
    const refreshed = await oidc.send(new CreateTokenCommand({ clientId: client.clientId, clientSecret: client.clientSecret, grantType: 'refresh_token', refreshToken: token.refreshToken }));
    expect(await service().resolveAccessToken(refreshed.accessToken!)).toMatchObject({ userId: user.userId });
    const stored = JSON.stringify(await server.reg.database.db.selectFrom('oidc_models').selectAll().execute());
    for (const secret of [client.clientSecret!, auth.deviceCode!, token.accessToken!, token.refreshToken!, refreshed.accessToken!, refreshed.refreshToken!]) expect(stored).not.toContain(secret);
  });

  it('exchanges an approved device code exactly once, even when polled concurrently', async () => {
    const { auth, poll } = await registerAndStart();
    await service().approveDevice(ctx(), auth.userCode!, user, 'approve');
    const outcomes = await Promise.allSettled([poll(), poll(), poll(), poll(), poll()]);
    const won = outcomes.filter((o) => o.status === 'fulfilled');
    expect(won).toHaveLength(1);
    for (const o of outcomes) if (o.status === 'rejected') expect(o.reason).toMatchObject({ name: 'InvalidGrantException' });
    // A device code presented twice is a leak: the tokens the winner got are revoked too.
    expect(await service().resolveAccessToken(won[0]!.value.accessToken!)).toBeUndefined();
  });

  it('refuses a denied request and an expired one', async () => {
    const denied = await registerAndStart();
    await service().approveDevice(ctx(), denied.auth.userCode!, user, 'deny');
    await expect(denied.poll()).rejects.toMatchObject({ name: 'AccessDeniedException', $metadata: { httpStatusCode: 400 } });
    expect((await auditRows('DenyDeviceAuthorization')).length).toBe(1);

    const late = await registerAndStart();
    // Ten minutes pass.
    await expireDeviceCode(late.auth.userCode!);
    await expect(late.poll()).rejects.toMatchObject({ name: 'ExpiredTokenException', $metadata: { httpStatusCode: 400 } });
    expect(await service().describeDevice(late.auth.userCode!)).toBeUndefined();
    await expect(service().approveDevice(ctx(), late.auth.userCode!, user, 'approve')).rejects.toMatchObject({ code: 'oidc.device_not_found' });

    // A day later still, the next sign-in purges it.
    // The provider keeps user codes without their dash.
    const rowsOf = (userCode: string) => server.reg.database.db.selectFrom('oidc_models').select('id').where('user_code', '=', userCode.replace('-', '')).execute();
    await server.reg.database.db.updateTable('oidc_models').set({ expires_at: Date.now() - 25 * 3600_000 }).where('user_code', '=', late.auth.userCode!.replace('-', '')).execute();
    expect(await rowsOf(late.auth.userCode!)).toHaveLength(1);
    const next = await registerAndStart();
    expect(await rowsOf(late.auth.userCode!)).toHaveLength(0);
    expect(await rowsOf(next.auth.userCode!)).toHaveLength(1);
  });

  it('ends a CLI sign-in with the portal session that approved it: no token outlives it, nor does a refresh', async () => {
    const { auth, poll, client } = await registerAndStart();
    // Approved two minutes before the approving session ends.
    const endsAt = Date.now() + 120_000;
    await service().approveDevice(ctx(), auth.userCode!, { ...user, sessionId: 'session-ending-soon', sessionExpiresAt: endsAt }, 'approve');
    const token = await poll();
    expect(token.expiresIn).toBeGreaterThan(100);
    expect(token.expiresIn).toBeLessThanOrEqual(120);
    const refreshed = await oidc.send(new CreateTokenCommand({ clientId: client.clientId, clientSecret: client.clientSecret, grantType: 'refresh_token', refreshToken: token.refreshToken }));
    expect(refreshed.expiresIn).toBeLessThanOrEqual(120);
    // The grant itself ends then: its row's expiry is the session's, not the setting's 8 hours.
    const grant = await server.reg.database.db.selectFrom('oidc_models').select('expires_at').where('model', '=', 'Grant').orderBy('created_at', 'desc').limit(1).executeTakeFirstOrThrow();
    expect(Number(grant.expires_at)).toBeLessThanOrEqual(endsAt + 1000);
    // And so does the row that ties it to the session, which the purge then removes with it.
    const tie = await server.reg.database.db.selectFrom('oidc_models').select('expires_at').where('model', '=', 'GrantSession').where('uid', '=', 'session-ending-soon').executeTakeFirstOrThrow();
    expect(tie.expires_at).toBe(grant.expires_at);
  });

  it('rotates refresh tokens, and a reused one revokes the whole family', async () => {
    const { client, auth, poll } = await registerAndStart();
    await service().approveDevice(ctx(), auth.userCode!, user, 'approve');
    const first = await poll();
    const refresh = (refreshToken: string) =>
      oidc.send(new CreateTokenCommand({ clientId: client.clientId, clientSecret: client.clientSecret, grantType: 'refresh_token', refreshToken }));
    const second = await refresh(first.refreshToken!);
    expect(second.refreshToken).not.toBe(first.refreshToken);
    expect(second.accessToken).not.toBe(first.accessToken);
    const resolved = await service().resolveAccessToken(second.accessToken!);
    expect(resolved).toMatchObject({ userId: user.userId, scopes: ['sso:account:access'] });
    await expect(
      oidc.send(new CreateTokenCommand({ clientId: client.clientId, clientSecret: client.clientSecret, grantType: 'refresh_token', refreshToken: second.refreshToken, scope: ['codewhisperer:completions'] })),
    ).rejects.toMatchObject({ name: 'InvalidScopeException', $metadata: { httpStatusCode: 400 } });

    await expect(refresh(first.refreshToken!)).rejects.toMatchObject({ name: 'InvalidGrantException' });
    await expect(refresh(second.refreshToken!)).rejects.toMatchObject({ name: 'InvalidGrantException' });
    expect(await service().resolveAccessToken(second.accessToken!)).toBeUndefined();
    expect(await service().resolveAccessToken(first.accessToken!)).toBeUndefined();
    expect((await auditRows('RevokeGrant')).map((e) => JSON.parse(e.request_parameters!) as unknown)).toContainEqual({ grantId: resolved!.grantId });
  });

  it('revokes a grant on request', async () => {
    const { client, auth, poll } = await registerAndStart();
    await service().approveDevice(ctx(), auth.userCode!, user, 'approve');
    const token = await poll();
    const { grantId } = (await service().resolveAccessToken(token.accessToken!))!;
    // The grant, its device code, its access and its refresh token.
    expect(await service().revokeGrant(ctx(), grantId, 'Logout')).toBe(4);
    expect(await service().resolveAccessToken(token.accessToken!)).toBeUndefined();
    await expect(
      oidc.send(new CreateTokenCommand({ clientId: client.clientId, clientSecret: client.clientSecret, grantType: 'refresh_token', refreshToken: token.refreshToken })),
    ).rejects.toMatchObject({ name: 'InvalidGrantException' });
  });

  it('ends the tokens of a portal session when the session ends, and refuses a refresh for a disabled user', async () => {
    const browser = new Browser(server.url);
    expect((await browser.signIn('device-user', PASSWORD)).status).toBe(303);
    const [session] = await server.reg.auth.listSessions('device-user');
    const refresh = (c: { clientId?: string; clientSecret?: string }, refreshToken?: string) =>
      oidc.send(new CreateTokenCommand({ clientId: c.clientId, clientSecret: c.clientSecret, grantType: 'refresh_token', refreshToken }));

    const viaSession = await registerAndStart();
    await service().approveDevice(ctx(), viaSession.auth.userCode!, { ...user, sessionId: session!.sessionId }, 'approve');
    const token = await viaSession.poll();
    expect(await service().resolveAccessToken(token.accessToken!)).toMatchObject({ sessionId: session!.sessionId });
    const other = await registerAndStart();
    await service().approveDevice(ctx(), other.auth.userCode!, user, 'approve');
    const otherToken = await other.poll();

    await server.reg.auth.revokeSessions(ctx(), { sessionId: session!.sessionId });
    expect(await service().resolveAccessToken(token.accessToken!)).toBeUndefined();
    await expect(refresh(viaSession.client, token.refreshToken)).rejects.toMatchObject({ name: 'InvalidGrantException' });
    // A grant no session gave is left alone...
    expect(await service().resolveAccessToken(otherToken.accessToken!)).toMatchObject({ userId: user.userId });

    // ...until its user is disabled: no token is refreshed for a user who may not sign in.
    const store = server.init.identityStoreId;
    await server.reg.directory.setUserStatus(ctx(), store, 'device-user', 'DISABLED');
    try {
      await expect(refresh(other.client, otherToken.refreshToken)).rejects.toMatchObject({ name: 'InvalidGrantException' });
    } finally {
      await server.reg.directory.setUserStatus(ctx(), store, 'device-user', 'ENABLED');
    }
  });

  it('runs the authorization code flow with PKCE: /authorize, sign-in, consent, a code for the redirect URI, redeemed once', async () => {
    const client = await oidc.send(
      new RegisterClientCommand({
        clientName: 'pkce-client',
        clientType: 'public',
        scopes: ['sso:account:access'],
        grantTypes: [AUTHORIZATION_CODE_GRANT, 'refresh_token'],
        redirectUris: ['http://127.0.0.1/oauth/callback'],
      }),
    );
    const verifier = randomBytes(32).toString('base64url');
    // A native app listens on a port of its choosing (RFC 8252 §7.3).
    const redirectUri = 'http://127.0.0.1:49152/oauth/callback';
    const authorize = (extra: Record<string, string> = {}) =>
      `/authorize?${new URLSearchParams({
        response_type: 'code',
        client_id: client.clientId!,
        redirect_uri: redirectUri,
        state: 'state-1',
        code_challenge_method: 'S256',
        scopes: 'sso:account:access',
        code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        ...extra,
      }).toString()}`;
    const browser = new Browser(server.url);
    expect((await browser.signIn('device-user', PASSWORD)).status).toBe(303);

    const consent = await walk(browser, authorize());
    expect(consent.status).toBe(200);
    expect(consent.text).toContain('pkce-client');
    expect(consent.text).toContain('device-user');
    // The client names itself; where the answer goes is what the user can check.
    expect(consent.text).toContain('Your answer goes to <code>127.0.0.1:49152</code>.');
    const uid = /action="\/consent\/([^"]+)"/.exec(consent.text)![1]!;
    // The form may lead on to the client's redirect URI, and nowhere else.
    expect(consent.headers.get('content-security-policy')).toContain("form-action 'self' http://127.0.0.1:49152;");
    const approved = await browser.request(`/consent/${uid}`, { form: { csrf: Browser.csrfOf(consent.text), decision: 'approve' } });
    expect(approved.status).toBe(303);
    const callback = await walk(browser, approved.headers.get('location')!, redirectUri);
    const returned = new URL(callback.location);
    expect(returned.searchParams.get('state')).toBe('state-1');
    const code = returned.searchParams.get('code')!;
    expect(code).toBeTruthy();

    const exchange = (codeVerifier: string, uri = redirectUri) =>
      oidc.send(new CreateTokenCommand({ clientId: client.clientId, clientSecret: client.clientSecret, grantType: AUTHORIZATION_CODE_GRANT, code, codeVerifier, redirectUri: uri }));
    await expect(exchange(randomBytes(32).toString('base64url'))).rejects.toMatchObject({ name: 'InvalidGrantException' });
    await expect(exchange(verifier, 'http://127.0.0.1:49153/oauth/callback')).rejects.toMatchObject({ name: 'InvalidGrantException' });
    const token = await exchange(verifier);
    expect(token).toMatchObject({ tokenType: 'Bearer', expiresIn: 3600, refreshToken: expect.any(String) });
    expect(await service().resolveAccessToken(token.accessToken!)).toMatchObject({ userId: user.userId, userName: 'device-user', clientId: client.clientId, scopes: ['sso:account:access'] });
    // A code redeemed twice was intercepted: the second try fails, and the tokens of the first die (RFC 6749 §4.1.2).
    await expect(exchange(verifier)).rejects.toMatchObject({ name: 'InvalidGrantException' });
    expect(await service().resolveAccessToken(token.accessToken!)).toBeUndefined();
    expect((await auditRows('AuthorizeClient')).map((e) => e.error_code)).toEqual([null]);

    // Denied: the client hears access_denied, with its state.
    const again = await walk(browser, authorize({ state: 'state-2' }));
    const againUid = /action="\/consent\/([^"]+)"/.exec(again.text)![1]!;
    // The provider's own cookies (its session, this interaction) are secrets the store keeps only sealed,
    // though oidc-provider copies them into the interaction it saves.
    const stored = JSON.stringify(await server.reg.database.db.selectFrom('oidc_models').selectAll().execute());
    const providerCookies = [...browser.cookies].filter(([name]) => name === '_session' || name === '_interaction');
    expect(providerCookies.map(([name]) => name).sort()).toEqual(['_interaction', '_session']);
    for (const [name, value] of providerCookies) expect({ name, stored: stored.includes(value) }).toEqual({ name, stored: false });
    const denied = await browser.request(`/consent/${againUid}`, { form: { csrf: Browser.csrfOf(again.text), decision: 'deny' } });
    const deniedAt = new URL((await walk(browser, denied.headers.get('location')!, redirectUri)).location);
    expect(Object.fromEntries(deniedAt.searchParams)).toMatchObject({ error: 'access_denied', state: 'state-2' });

    // A redirect URI not registered is never redirected to; a plain challenge is refused to the client.
    const foreign = await walk(browser, authorize({ redirect_uri: 'https://evil.example/oauth/callback' }));
    expect(foreign.status).toBe(400);
    expect(foreign.text).toContain('redirect_uri');
    const plain = await walk(browser, authorize({ code_challenge_method: 'plain' }), redirectUri);
    expect(new URL(plain.location).searchParams.get('error')).toBe('invalid_request');

    // A device-flow client may not redeem codes, and a code client needs a safe redirect URI.
    const { client: deviceClient } = await registerAndStart();
    await expect(
      oidc.send(new CreateTokenCommand({ clientId: deviceClient.clientId, clientSecret: deviceClient.clientSecret, grantType: AUTHORIZATION_CODE_GRANT, code, codeVerifier: verifier, redirectUri })),
    ).rejects.toMatchObject({ name: 'UnauthorizedClientException', $metadata: { httpStatusCode: 400 } });
    for (const redirectUris of [[], ['http://evil.example/oauth/callback'], ['not a url']]) {
      await expect(oidc.send(new RegisterClientCommand({ clientName: 'c', clientType: 'public', grantTypes: [AUTHORIZATION_CODE_GRANT], redirectUris }))).rejects.toMatchObject({
        name: 'InvalidRedirectUriException',
        $metadata: { httpStatusCode: 400 },
      });
    }
  });

  it('refuses a wrong client secret, a foreign start URL, an unknown grant and bad client metadata', async () => {
    const { client, auth } = await registerAndStart();
    await expect(
      // One character changed (never to itself: a secret that starts with "x" made this test pass a right one).
      oidc.send(new CreateTokenCommand({ clientId: client.clientId, clientSecret: (client.clientSecret!.startsWith('x') ? 'y' : 'x') + client.clientSecret!.slice(1), grantType: DEVICE_CODE_GRANT, deviceCode: auth.deviceCode })),
    ).rejects.toMatchObject({ name: 'InvalidClientException', $metadata: { httpStatusCode: 401 } });
    await expect(
      oidc.send(new StartDeviceAuthorizationCommand({ clientId: 'nobody', clientSecret: 'nothing', startUrl: server.init.startUrl })),
    ).rejects.toMatchObject({ name: 'InvalidClientException', $metadata: { httpStatusCode: 401 } });
    expect((await auditRows('CreateToken')).some((e) => e.error_code === 'oidc.invalid_client')).toBe(true);

    await expect(
      oidc.send(new StartDeviceAuthorizationCommand({ clientId: client.clientId, clientSecret: client.clientSecret, startUrl: 'https://d-1234567890.awsapps.com/start' })),
    ).rejects.toMatchObject({ name: 'InvalidRequestException', $metadata: { httpStatusCode: 400 } });
    // A trailing slash names the same start URL.
    await oidc.send(new StartDeviceAuthorizationCommand({ clientId: client.clientId, clientSecret: client.clientSecret, startUrl: `${server.init.startUrl}/` }));

    await expect(
      oidc.send(new CreateTokenCommand({ clientId: client.clientId, clientSecret: client.clientSecret, grantType: 'password' })),
    ).rejects.toMatchObject({ name: 'UnsupportedGrantTypeException', $metadata: { httpStatusCode: 400 } });
    await expect(oidc.send(new RegisterClientCommand({ clientName: 'c', clientType: 'confidential' }))).rejects.toMatchObject({
      name: 'InvalidClientMetadataException',
    });
    await expect(oidc.send(new RegisterClientCommand({ clientName: 'c', clientType: 'public', grantTypes: ['client_credentials'] }))).rejects.toMatchObject({
      name: 'InvalidClientMetadataException',
    });
    // AWS's PKCE clients name the instance by its start URL: this one's is welcome, another's not,
    // and entitled applications are not offered.
    const codeClient = { clientName: 'c', clientType: 'public', grantTypes: [AUTHORIZATION_CODE_GRANT], redirectUris: ['http://127.0.0.1/oauth/callback'] };
    expect((await oidc.send(new RegisterClientCommand({ ...codeClient, issuerUrl: server.init.startUrl }))).clientId).toBeTruthy();
    for (const extra of [{ issuerUrl: 'https://d-1234567890.awsapps.com/start' }, { entitledApplicationArn: 'arn:aws:sso::123456789012:application/ssoins-1/apl-1' }]) {
      await expect(oidc.send(new RegisterClientCommand({ ...codeClient, ...extra }))).rejects.toMatchObject({ name: 'InvalidRequestException', $metadata: { httpStatusCode: 400 } });
    }
  });

  it('answers malformed requests with AWS-shaped 4xx errors', async () => {
    const post = (path: string, body: string, contentType = 'application/json') =>
      fetch(server.url + path, { method: 'POST', headers: { 'content-type': contentType }, body });
    const expectInvalid = async (res: Response, status = 400) => {
      expect(res.status).toBe(status);
      expect(res.headers.get('x-amzn-errortype')).toBe('InvalidRequestException');
      expect(await res.json()).toMatchObject({ error: 'invalid_request', error_description: expect.any(String) });
    };
    await expectInvalid(await post('/token', '{"clientId":'));
    await expectInvalid(await post('/token', '[]'));
    await expectInvalid(await post('/token', ''));
    await expectInvalid(await post('/token', '{"clientId":"a","clientSecret":"b"}'));
    await expectInvalid(await post('/client/register', '{"clientName":"a","clientType":"public","extra":1}'));
    await expectInvalid(await post('/client/register', '{"clientName":"a\\u0000","clientType":"public"}'));
    await expectInvalid(await post('/client/register', 'clientName=a', 'application/x-www-form-urlencoded'));
    await expectInvalid(await post('/device_authorization', JSON.stringify({ clientId: 'a'.repeat(70_000) })));
    const refused = await auditRows('RegisterClient');
    expect(refused.some((e) => e.error_code === 'InvalidRequestException')).toBe(true);
    const count = (await server.reg.database.db.selectFrom('oidc_models').select((eb) => eb.fn.countAll<number>().as('n')).where('model', '=', 'Client').executeTakeFirstOrThrow()).n;
    await expectInvalid(await post('/client/register', '{"clientName":"","clientType":"public"}'));
    expect((await server.reg.database.db.selectFrom('oidc_models').select((eb) => eb.fn.countAll<number>().as('n')).where('model', '=', 'Client').executeTakeFirstOrThrow()).n).toBe(count);
  });
});
