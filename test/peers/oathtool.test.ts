// TOTP against Debian's oathtool, an independent RFC 6238 implementation: an administrator turns
// MFA on, a user registers an authenticator app at sign-in with the secret the page shows, and
// signs in with oathtool's codes; one step of drift is allowed, a used code is refused, a ninth
// device is refused, and an administrator lists, deletes and resets devices. Both databases.

import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { Browser } from '../helpers/browser.js';
import { createUserWithPassword, adminCall, answerTotp, OATHTOOL, oathtool, registerTotpAtSignIn, setMfaSettings, totpEnrolmentOf } from '../helpers/mfa.js';
import { dialects, startServer, type TestServer } from '../helpers/server.js';

const PASSWORD = 'Totp#Peer-42xQ';
const hasOathtool = existsSync(OATHTOOL);
if (!hasOathtool && process.env.CI === 'true') throw new Error(`${OATHTOOL} is missing (apt-get install oathtool)`);

describe.skipIf(!hasOathtool).each(dialects())('TOTP with oathtool on %s', (dialect) => {
  let server: TestServer;

  const userWithPassword = (userName: string) => createUserWithPassword(server, userName, PASSWORD);
  const events = (eventName: string) => server.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', '=', eventName).orderBy('seq').execute();

  beforeAll(async () => {
    server = await startServer(dialect);
    await setMfaSettings(server, { Mode: 'ALWAYS_ON', NoDevice: 'REGISTER', AllowedDeviceTypes: ['TOTP', 'WEBAUTHN'] });
  });
  afterAll(() => server?.close());

  it('registers an authenticator app at sign-in, then signs in with oathtool codes; drift of one step is allowed and a used code is refused', async () => {
    await userWithPassword('tina');
    const first = new Browser(server.url);
    const password = await first.signIn('tina', PASSWORD);
    expect(password.status).toBe(303);
    expect(password.headers.get('location')).toBe('/login/mfa/register?return_to=%2Fstart');
    // No portal session yet: the password alone is not enough.
    expect(first.cookies.has('atrium_session')).toBe(false);
    expect((await first.request('/api/portal/session')).status).toBe(401);

    const { secret, response } = await registerTotpAtSignIn(first);
    expect(response.status).toBe(303);
    expect(response.headers.get('location')).toBe('/start');
    expect((await first.request('/api/portal/session')).status).toBe(200);

    // The seed is sealed at rest: neither its base32 nor its bytes are in the row.
    const row = await server.reg.database.db.selectFrom('mfa_devices').selectAll().executeTakeFirstOrThrow();
    expect(row.secret).toMatch(/^v1\./);
    expect(row.secret).not.toContain(secret);

    // Next sign-in: the code one step ahead (a phone clock 30 s fast) is accepted.
    const second = new Browser(server.url);
    expect((await second.signIn('tina', PASSWORD)).headers.get('location')).toBe('/login/mfa?return_to=%2Fstart');
    const ahead = oathtool(secret, Date.now() + 30_000);
    const ok = await answerTotp(second, ahead);
    expect(ok.status).toBe(303);
    expect(ok.headers.get('location')).toBe('/start');

    // The same code again is refused, with a clear message, and signs nobody in.
    const third = new Browser(server.url);
    await third.signIn('tina', PASSWORD);
    const reused = await answerTotp(third, ahead);
    expect(reused.status).toBe(401);
    expect(reused.text).toContain('This code was used already');
    expect(third.cookies.has('atrium_session')).toBe(false);
    // Two steps away is outside the window.
    const far = await answerTotp(third, oathtool(secret, Date.now() + 120_000));
    expect(far.status).toBe(401);
    expect(far.text).toContain('The code is not correct');
    // Garbage is a 401 with the same message, never a 500.
    expect((await answerTotp(third, '12ab<script>')).status).toBe(401);

    const verifications = await events('CredentialVerification');
    expect(verifications.some((e) => e.error_code === 'mfa.code_reused')).toBe(true);
    expect((await events('RegisterMfaDevice')).filter((e) => !e.error_code)).toHaveLength(1);
  });

  it('ends a sign-in waiting for its second factor when the password is reset, or the user\'s sessions are revoked', async () => {
    await userWithPassword('pia');
    const owner = new Browser(server.url);
    await owner.signIn('pia', PASSWORD);
    const { secret } = await registerTotpAtSignIn(owner);
    const ctx = systemContext('sso.amazonaws.com', 'us-east-1', 'pending-flows');
    /** Signed in with a password, at the MFA page (its form read), the code not sent yet. */
    const waiting = async (password: string) => {
      const b = new Browser(server.url);
      expect((await b.signIn('pia', password)).headers.get('location')).toBe('/login/mfa?return_to=%2Fstart');
      const page = await b.request('/login/mfa?return_to=%2Fstart');
      expect(page.status).toBe(200);
      const answer = (code: string) => b.request('/login/mfa', { form: { csrf: Browser.csrfOf(page.text), return_to: '/start', code } });
      return { b, answer };
    };
    // Someone with the leaked password waits at the MFA step; the administrator resets the password.
    const attacker = await waiting(PASSWORD);
    await server.reg.auth.setPassword(ctx, 'pia', { password: `${PASSWORD}-2`, oneTime: false });
    const afterReset = await attacker.answer(oathtool(secret, Date.now() + 30_000));
    expect(afterReset.headers.get('location')).not.toBe('/start');
    expect(attacker.b.cookies.has('atrium_session')).toBe(false);
    // The same when the administrator revokes every session of the user.
    const again = await waiting(`${PASSWORD}-2`);
    await server.reg.auth.revokeSessions(ctx, { userName: 'pia' });
    const afterRevoke = await again.answer(oathtool(secret, Date.now() - 30_000));
    expect(afterRevoke.headers.get('location')).not.toBe('/start');
    expect(again.b.cookies.has('atrium_session')).toBe(false);
    // A sign-in begun afterwards works: only the waiting ones ended.
    const later = await waiting(`${PASSWORD}-2`);
    // (The code of the step after this one: this step's was used at registration.)
    expect((await later.answer(oathtool(secret, Date.now() + 30_000))).headers.get('location')).toBe('/start');
  });

  it('accepts a code one step behind at registration, and refuses a ninth device with a clear error', async () => {
    await userWithPassword('nina');
    const b = new Browser(server.url);
    await b.signIn('nina', PASSWORD);
    const { response } = await registerTotpAtSignIn(b, '/start', (secret) => oathtool(secret, Date.now() - 30_000));
    expect(response.status).toBe(303);

    // Seven more from the device page: eight in all.
    for (let i = 2; i <= 8; i++) {
      const page = await b.request('/mfa/devices/totp');
      expect(page.status).toBe(200);
      const e = totpEnrolmentOf(page.text);
      const added = await b.request('/mfa/devices/totp', { form: { csrf: e.csrf, return_to: '/mfa/devices', enrolment_id: e.enrolmentId, name: `App ${i}`, code: oathtool(e.secret) } });
      expect(added.status, added.text).toBe(303);
    }
    const ninth = await b.request('/mfa/devices/totp');
    expect(ninth.status).toBe(400);
    expect(ninth.text).toContain('at most 8 MFA devices');
    const list = await b.request('/mfa/devices');
    expect(list.text.match(/data-device-id=/g)).toHaveLength(8);
  });

  it('lets the user rename and remove a device, and an administrator list, delete and reset them (the recovery path)', async () => {
    await userWithPassword('omar');
    const b = new Browser(server.url);
    await b.signIn('omar', PASSWORD);
    const { secret } = await registerTotpAtSignIn(b);
    const page = await b.request('/mfa/devices/totp');
    const e = totpEnrolmentOf(page.text);
    expect((await b.request('/mfa/devices/totp', { form: { csrf: e.csrf, enrolment_id: e.enrolmentId, name: 'Tablet', code: oathtool(e.secret) } })).status).toBe(303);

    const listed = await adminCall(server, 'GET', '/api/admin/users/omar/mfa-devices');
    expect(listed.status).toBe(200);
    const devices = listed.json.Devices as { DeviceId: string; Name: string; Type: string }[];
    expect(devices.map((d) => [d.Name, d.Type])).toEqual([
      ['Phone', 'TOTP'],
      ['Tablet', 'TOTP'],
    ]);
    // No secret ever leaves through the API.
    expect(JSON.stringify(listed.json)).not.toContain(secret);

    // The user renames the tablet; a name clash is refused on the page.
    const devicesPage = await b.request('/mfa/devices');
    const csrf = Browser.csrfOf(devicesPage.text);
    const tablet = devices[1]!.DeviceId;
    expect((await b.request(`/mfa/devices/${tablet}/rename`, { form: { csrf, name: 'Old tablet' } })).status).toBe(303);
    const clash = await b.request(`/mfa/devices/${tablet}/rename`, { form: { csrf, name: 'Phone' } });
    expect(clash.status).toBe(400);
    expect(clash.text).toContain('already have a device named Phone');
    expect((await b.request('/mfa/devices')).text).toContain('Old tablet');

    // The administrator deletes one, then resets the user: the next sign-in must register again.
    expect((await adminCall(server, 'DELETE', `/api/admin/users/omar/mfa-devices/${tablet}`)).status).toBe(200);
    expect((await adminCall(server, 'DELETE', `/api/admin/users/omar/mfa-devices/${tablet}`)).status).toBe(404);
    const reset = await adminCall(server, 'DELETE', '/api/admin/users/omar/mfa-devices');
    expect(reset.json.DeletedDeviceIds).toEqual([devices[0]!.DeviceId]);
    const after = new Browser(server.url);
    expect((await after.signIn('omar', PASSWORD)).headers.get('location')).toBe('/login/mfa/register?return_to=%2Fstart');
    expect((await adminCall(server, 'GET', '/api/admin/users/nobody/mfa-devices')).status).toBe(404);

    expect(await events('ResetUserMfa')).toHaveLength(1);
    expect((await events('DeleteMfaDevice')).map((e) => e.error_code ?? null)).toEqual([null, 'mfa.device_not_found']);
    expect((await events('UpdateMfaDevice')).map((e) => e.error_code ?? null)).toEqual([null, 'mfa.name_in_use']);
  });
});
