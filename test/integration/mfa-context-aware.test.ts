// Context-aware MFA over HTTP: after one sign-in with a second factor, the same browser (its signed,
// HttpOnly device cookie) skips MFA, while a fresh browser, a forged cookie, another user's cookie
// or another network is asked again. MFA "never" and "blocked" are covered too. Both databases.

import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../helpers/browser.js';
import { createUserWithPassword, adminCall, OATHTOOL, registerTotpAtSignIn, setMfaSettings } from '../helpers/mfa.js';
import { dialects, startServer, type TestServer } from '../helpers/server.js';

const PASSWORD = 'Context#Aware-5Rt';
const REMEMBER = 'atrium_mfa_device';

describe.skipIf(!existsSync(OATHTOOL)).each(dialects())('context-aware MFA on %s', (dialect) => {
  let server: TestServer;

  const userWithPassword = (userName: string) => createUserWithPassword(server, userName, PASSWORD);
  const signOut = async (b: Browser) => {
    const session = JSON.parse((await b.request('/api/portal/session')).text) as { csrfToken: string };
    expect((await b.request('/logout', { form: { csrf: session.csrfToken } })).status).toBe(303);
  };

  beforeAll(async () => {
    server = await startServer(dialect);
  });
  afterAll(() => server?.close());

  it('remembers the browser that passed MFA, and asks a fresh browser context again', async () => {
    const settings = await setMfaSettings(server, { Mode: 'CONTEXT_AWARE', NoDevice: 'REGISTER', AllowedDeviceTypes: ['TOTP'], RememberDays: 7 });
    expect(settings).toMatchObject({ Mode: 'CONTEXT_AWARE', RememberDays: 7 });
    const userId = await userWithPassword('cara');
    const laptop = new Browser(server.url);
    await laptop.signIn('cara', PASSWORD);
    const { response } = await registerTotpAtSignIn(laptop);
    expect(response.status).toBe(303);
    const cookie = response.setCookies.find((c) => c.startsWith(`${REMEMBER}=`))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    await signOut(laptop);
    expect(laptop.cookies.has(REMEMBER)).toBe(true);

    // The same browser: the password alone signs in.
    const again = await laptop.signIn('cara', PASSWORD);
    expect(again.status).toBe(303);
    expect(again.headers.get('location')).toBe('/start');
    expect((await laptop.request('/api/portal/session')).status).toBe(200);

    // A fresh browser context is asked for the second factor.
    const fresh = new Browser(server.url);
    expect((await fresh.signIn('cara', PASSWORD)).headers.get('location')).toBe('/login/mfa?return_to=%2Fstart');

    // A forged cookie, or cara's cookie presented for another user, counts for nothing.
    const forger = new Browser(server.url);
    const [body] = laptop.cookies.get(REMEMBER)!.split('.');
    forger.cookies.set(REMEMBER, `${body}.${'A'.repeat(43)}`);
    expect((await forger.signIn('cara', PASSWORD)).headers.get('location')).toBe('/login/mfa?return_to=%2Fstart');
    await userWithPassword('dave');
    const borrowed = new Browser(server.url);
    borrowed.cookies.set(REMEMBER, laptop.cookies.get(REMEMBER)!);
    await borrowed.signIn('dave', PASSWORD);
    expect(borrowed.cookies.has('atrium_session')).toBe(false);

    // Another network: the token is bound to the /24 (or /64) it was issued from.
    const token = laptop.cookies.get(REMEMBER)!;
    expect(await server.reg.mfa.isRemembered(token, { identityStoreId: server.init.identityStoreId, userId }, '127.0.0.9', 7)).toBe(true);
    expect(await server.reg.mfa.isRemembered(token, { identityStoreId: server.init.identityStoreId, userId }, '10.1.2.3', 7)).toBe(false);

    // Always-on ignores the remembered browser.
    await setMfaSettings(server, { Mode: 'ALWAYS_ON' });
    await signOut(laptop);
    expect((await laptop.signIn('cara', PASSWORD)).headers.get('location')).toBe('/login/mfa?return_to=%2Fstart');
  });

  it("forgets a remembered browser once the user's MFA is reset (a lost phone)", async () => {
    await setMfaSettings(server, { Mode: 'CONTEXT_AWARE', NoDevice: 'REGISTER', AllowedDeviceTypes: ['TOTP'], RememberDays: 7 });
    await userWithPassword('fred');
    const lost = new Browser(server.url);
    await lost.signIn('fred', PASSWORD);
    expect((await registerTotpAtSignIn(lost)).response.status).toBe(303);
    await signOut(lost);
    expect((await lost.signIn('fred', PASSWORD)).headers.get('location')).toBe('/start');
    await signOut(lost);

    // Fred reports the phone (and the laptop with its cookie) lost; the administrator resets his MFA.
    const reset = await adminCall(server, 'DELETE', '/api/admin/users/fred/mfa-devices');
    expect(reset.status, JSON.stringify(reset.json)).toBe(200);
    // Whoever holds the laptop has the password too: the cookie no longer skips MFA.
    const thief = await lost.signIn('fred', PASSWORD);
    expect(thief.headers.get('location')).toBe('/login/mfa/register?return_to=%2Fstart');
    expect(lost.cookies.has('atrium_session')).toBe(false);
  });

  it('never asks when MFA is off, and blocks a user without a device when the settings say so', async () => {
    await userWithPassword('erin');
    await setMfaSettings(server, { Mode: 'DISABLED' });
    expect((await new Browser(server.url).signIn('erin', PASSWORD)).headers.get('location')).toBe('/start');

    await setMfaSettings(server, { Mode: 'ALWAYS_ON', NoDevice: 'BLOCK' });
    const blocked = await new Browser(server.url).signIn('erin', PASSWORD);
    expect(blocked.status).toBe(403);
    expect(blocked.text).toContain('you have no MFA device');
    // A wrong password still gets the ordinary answer: the block says nothing before the password is right.
    expect((await new Browser(server.url).signIn('erin', 'Wrong#pass-77')).status).toBe(401);

    // Bad settings are refused with the reason, and nothing changes.
    const bad = await adminCall(server, 'PUT', '/api/admin/mfa/settings', { Mode: 'SOMETIMES' });
    expect(bad.status).toBe(400);
    expect(String(bad.json.message)).toContain('Mode');
    expect((await adminCall(server, 'PUT', '/api/admin/mfa/settings', { AllowedDeviceTypes: [] })).status).toBe(400);
    expect((await adminCall(server, 'GET', '/api/admin/mfa/settings')).json).toMatchObject({ Mode: 'ALWAYS_ON', NoDevice: 'BLOCK' });
    const audit = await server.reg.database.db.selectFrom('audit_events').select(['event_name', 'error_code']).where('event_name', '=', 'UpdateInstanceSettings').execute();
    expect(audit.filter((e) => e.error_code === 'ValidationException').length).toBeGreaterThanOrEqual(2);
  });
});
