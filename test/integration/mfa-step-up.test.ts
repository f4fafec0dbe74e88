// The device approval of `aws sso login` behind MFA for a session that never passed a second factor
// (opened before an administrator turned MFA on): the device page asks for one first (step-up), a
// wrong or used code does not get through, and the right one leads back to the approval. Both databases.

import { existsSync } from 'node:fs';
import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { CreateTokenCommand, RegisterClientCommand, SSOOIDCClient, StartDeviceAuthorizationCommand } from '@aws-sdk/client-sso-oidc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { Browser } from '../helpers/browser.js';
import { OATHTOOL, oathtool, setMfaSettings, totpEnrolmentOf } from '../helpers/mfa.js';
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
    const ok = await b.request('/login/mfa/step-up', { form: { csrf, return_to: devicePath, code: oathtool(e.secret, Date.now() + 30_000) } });
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe(devicePath);

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
});
