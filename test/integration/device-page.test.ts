// The device verification page of `aws sso login`: sign-in first, the code and client name shown
// to the signed-in user, approve or deny with CSRF, and each code answered once.

import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { CreateTokenCommand, RegisterClientCommand, SSOOIDCClient, StartDeviceAuthorizationCommand } from '@aws-sdk/client-sso-oidc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { Browser } from '../helpers/browser.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

const PASSWORD = 'Vq7#mXw2!pLz';

describe.each(dialects())('device verification page on %s', (dialect) => {
  let server: TestServer;
  let oidc: SSOOIDCClient;
  beforeAll(async () => {
    server = await startServer(dialect);
    oidc = new SSOOIDCClient(sdkOptions(server));
    const ids = new IdentitystoreClient(sdkOptions(server));
    await ids.send(new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: 'device-user', DisplayName: 'D', Name: { GivenName: 'D', FamilyName: 'U' } }));
    await server.reg.auth.setPassword(systemContext('sso.amazonaws.com', 'us-east-1', 'test'), 'device-user', { password: PASSWORD, oneTime: false });
  });
  afterAll(async () => {
    await server?.close();
  });

  async function startDevice(clientName: string) {
    const client = await oidc.send(new RegisterClientCommand({ clientName, clientType: 'public' }));
    const device = await oidc.send(new StartDeviceAuthorizationCommand({ clientId: client.clientId, clientSecret: client.clientSecret, startUrl: server.init.startUrl }));
    const token = () =>
      oidc.send(new CreateTokenCommand({ clientId: client.clientId, clientSecret: client.clientSecret, grantType: 'urn:ietf:params:oauth:grant-type:device_code', deviceCode: device.deviceCode }));
    return { device, token };
  }

  it('sends a visitor to sign in first, then shows the code and the client, and approval lets the CLI in', async () => {
    const { device, token } = await startDevice('botocore-client-laptop');
    const path = new URL(device.verificationUriComplete!).pathname + new URL(device.verificationUriComplete!).search;
    const browser = new Browser(server.url);
    const first = await browser.request(path);
    expect(first.status).toBe(303);
    expect(first.headers.get('location')).toBe(`/login?return_to=${encodeURIComponent(`/device?user_code=${device.userCode}`)}`);

    const signedIn = await browser.signIn('device-user', PASSWORD, `/device?user_code=${device.userCode}`);
    expect(signedIn.status).toBe(303);
    const shown = await browser.request(signedIn.headers.get('location')!);
    expect(shown.status).toBe(200);
    expect(shown.text).toContain(device.userCode);
    expect(shown.text).toContain('botocore-client-laptop');
    await expect(token()).rejects.toMatchObject({ name: 'AuthorizationPendingException' });

    const forged = await browser.request('/device', { form: { csrf: 'wrong', user_code: device.userCode!, decision: 'approve' } });
    expect(forged.status).toBe(403);
    const approved = await browser.request('/device', { form: { csrf: Browser.csrfOf(shown.text), user_code: device.userCode!, decision: 'approve' } });
    expect(approved.status).toBe(200);
    expect(approved.text).toContain('Request approved');
    const tokens = await token();
    expect(tokens.accessToken).toBeTruthy();

    const again = await browser.request('/device', { form: { csrf: Browser.csrfOf(shown.text), user_code: device.userCode!, decision: 'approve' } });
    expect(again.status).toBe(400);
  });

  it('denies, and refuses codes that do not exist, without a 500', async () => {
    const { device, token } = await startDevice('denied-client');
    const browser = new Browser(server.url);
    await browser.signIn('device-user', PASSWORD, '/device');
    const shown = await browser.request(`/device?user_code=${device.userCode}`);
    const denied = await browser.request('/device', { form: { csrf: Browser.csrfOf(shown.text), user_code: device.userCode!, decision: 'deny' } });
    expect(denied.status).toBe(200);
    await expect(token()).rejects.toMatchObject({ name: 'AccessDeniedException' });
    for (const code of ['ZZZZ-ZZZZ', '<script>', '']) {
      const res = await browser.request(`/device?user_code=${encodeURIComponent(code)}`);
      expect([200, 400]).toContain(res.status);
      expect(res.text).not.toContain('<script>');
    }
  });

  it("sends the OIDC provider's own code-verification page to this one, a form post without a session included", async () => {
    for (const method of ['GET', 'POST']) {
      const res = await fetch(`${server.url}/oidc/device`, {
        method,
        redirect: 'manual',
        ...(method === 'POST' ? { headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'user_code=AAAA-AAAA' } : {}),
      });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('/device');
    }
    // The provider's verification_uri_complete keeps its code on the way (RFC 8628 §3.3.1); anything else is dropped.
    const at = async (query: string) => (await fetch(`${server.url}/oidc/device?${query}`, { redirect: 'manual' })).headers.get('location');
    expect(await at('user_code=RQQR-NDFW')).toBe('/device?user_code=RQQR-NDFW');
    expect(await at('user_code=%3Cscript%3E')).toBe('/device');
    expect(await at('user_code=AAAA-AAAA&user_code=BBBB-BBBB')).toBe('/device');
    // The provider keeps its device authorization endpoint (which refuses an unknown client).
    const auth = await fetch(`${server.url}/oidc/device/auth`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'client_id=nobody' });
    expect(auth.status).toBe(401);
    expect(((await auth.json()) as { error: string }).error).toBe('invalid_client');
  });
});
