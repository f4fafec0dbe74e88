// A sign-in that must register an MFA device (the user had none at the password step) is decided
// once, at that step, and then checked again when the device is added: someone who knows only the
// password and began such a sign-in cannot add their own device once the user has registered
// theirs, or once the administrator no longer lets a sign-in register one. Both databases.

import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../helpers/browser.js';
import { createUserWithPassword, OATHTOOL, oathtool, registerTotpAtSignIn, setMfaSettings, totpEnrolmentOf } from '../helpers/mfa.js';
import { dialects, startServer, type TestServer } from '../helpers/server.js';

const PASSWORD = 'First#Device-4Kp';

describe.skipIf(!existsSync(OATHTOOL)).each(dialects())('registering the first MFA device at sign-in on %s', (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(dialect);
  });
  afterAll(() => server?.close());

  const devicesOf = async (userName: string) => {
    const user = await server.reg.mfa.userByName(userName);
    return (await server.reg.mfa.listDevices(user)).map((d) => d.name);
  };

  /** The password step of a sign-in that must register a device, and the registration page it leads to. */
  async function begin(userName: string) {
    const b = new Browser(server.url);
    const step = await b.signIn(userName, PASSWORD);
    expect(step.status).toBe(303);
    expect(step.headers.get('location')).toMatch(/^\/login\/mfa\/register/);
    const page = await b.request('/login/mfa/register?return_to=%2Fstart');
    expect(page.status).toBe(200);
    return { b, enrolment: totpEnrolmentOf(page.text) };
  }
  const finish = (b: Browser, e: ReturnType<typeof totpEnrolmentOf>, name: string) =>
    b.request('/login/mfa/register/totp', { form: { csrf: e.csrf, return_to: '/start', enrolment_id: e.enrolmentId, name, code: oathtool(e.secret) } });

  it("refuses the device of a sign-in begun before the user registered theirs, and opens no session", async () => {
    await setMfaSettings(server, { Mode: 'ALWAYS_ON', NoDevice: 'REGISTER', AllowedDeviceTypes: ['TOTP', 'WEBAUTHN'] });
    await createUserWithPassword(server, 'ruth', PASSWORD);
    const attacker = await begin('ruth');

    // Ruth signs in herself and registers her phone.
    const owner = new Browser(server.url);
    await owner.signIn('ruth', PASSWORD);
    const mine = await registerTotpAtSignIn(owner);
    expect(mine.response.status).toBe(303);
    expect(mine.response.headers.get('location')).toBe('/start');

    const late = await finish(attacker.b, attacker.enrolment, 'Not hers');
    expect(late.status).toBe(400);
    expect(late.text).toContain('sign in again');
    expect(await devicesOf('ruth')).toEqual(['Phone']);
    expect((await attacker.b.request('/api/portal/session')).status).toBe(401);
  });

  it('refuses the device of a sign-in begun before the administrator stopped sign-ins registering one', async () => {
    await setMfaSettings(server, { Mode: 'ALWAYS_ON', NoDevice: 'REGISTER', AllowedDeviceTypes: ['TOTP', 'WEBAUTHN'] });
    await createUserWithPassword(server, 'saul', PASSWORD);
    const attacker = await begin('saul');
    await setMfaSettings(server, { Mode: 'ALWAYS_ON', NoDevice: 'BLOCK', AllowedDeviceTypes: ['TOTP', 'WEBAUTHN'] });

    const late = await finish(attacker.b, attacker.enrolment, 'Not his');
    expect(late.status).toBe(400);
    expect(await devicesOf('saul')).toEqual([]);
    expect((await attacker.b.request('/api/portal/session')).status).toBe(401);
  });
});
