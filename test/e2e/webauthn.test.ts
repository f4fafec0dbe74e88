// WebAuthn end to end in Debian's Chromium with a CDP virtual authenticator: a security key as the
// second factor after the password, a passkey registered in the portal and used alone to sign in,
// `aws sso login`'s device approval behind MFA, forged or replayed answers refused (never a 500), and
// a passkey refused like a password once an external IdP signs users in.

import type { Browser, BrowserContext, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { createUserWithPassword, setMfaSettings } from '../helpers/mfa.js';
import { AWS_CLI, hasAwsCli, hasChromium, launchChromium, peerAvailable, peerEnv, startSsoLogin, writeSsoProfile } from '../helpers/peers.js';
import { dialects, startServer, type TestServer } from '../helpers/server.js';

const PASSWORD = 'WebAuthn#e2e-9Zq';
const DEVICES = '/mfa/devices';

type Authenticator = { cdp: Awaited<ReturnType<BrowserContext['newCDPSession']>>; authenticatorId: string };

/** A virtual authenticator on the page: a USB security key, or a platform one that holds passkeys. */
async function addAuthenticator(context: BrowserContext, page: Page, kind: 'security-key' | 'platform'): Promise<Authenticator> {
  const cdp = await context.newCDPSession(page);
  await cdp.send('WebAuthn.enable');
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: {
      protocol: 'ctap2',
      transport: kind === 'platform' ? 'internal' : 'usb',
      hasResidentKey: kind === 'platform',
      hasUserVerification: true,
      isUserVerified: true,
      automaticPresenceSimulation: true,
    },
  });
  return { cdp, authenticatorId };
}

describe.runIf(peerAvailable('chromium', hasChromium)).each(dialects())('WebAuthn in Chromium on %s', (dialect) => {
  let server: TestServer;
  let browser: Browser;
  /** localhost, not 127.0.0.1: a WebAuthn relying party id must be a domain, and localhost is a secure context. */
  let base: string;

  const userWithPassword = (userName: string) => createUserWithPassword(server, userName, PASSWORD);

  const signInWithPassword = async (page: Page, userName: string, returnTo = DEVICES) => {
    await page.goto(`${base}/login?return_to=${encodeURIComponent(returnTo)}`);
    await page.fill('#username', userName);
    await page.click('button[type=submit]');
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
  };
  const sessionUser = async (page: Page) => {
    const r = await page.request.get(`${base}/api/portal/session`);
    return r.status() === 200 ? ((await r.json()) as { userName: string }).userName : undefined;
  };

  /** A new user who signed in with the password (passkey sign-in on) and registered a passkey; their browser. */
  const userWithPasskey = async (userName: string, keyName: string) => {
    await setMfaSettings(server, { Mode: 'ALWAYS_ON', NoDevice: 'ALLOW', AllowedDeviceTypes: ['WEBAUTHN'], PasskeySignIn: true });
    const context = await browser.newContext();
    const page = await context.newPage();
    await addAuthenticator(context, page, 'platform');
    await userWithPassword(userName);
    await signInWithPassword(page, userName);
    await page.waitForURL(`${base}${DEVICES}`);
    await page.fill('#key_name', keyName);
    await page.click('#add-passkey');
    await expect.poll(() => page.textContent('#devices')).toContain(keyName);
    return { context, page };
  };

  beforeAll(async () => {
    server = await startServer(dialect);
    base = server.url.replace('127.0.0.1', 'localhost');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('registers a security key at sign-in, then asks for it after the password at the next sign-in', async () => {
    await setMfaSettings(server, { Mode: 'ALWAYS_ON', NoDevice: 'REGISTER', AllowedDeviceTypes: ['WEBAUTHN'], PasskeySignIn: false });
    await userWithPassword('kim');
    const context = await browser.newContext();
    const page = await context.newPage();
    const key = await addAuthenticator(context, page, 'security-key');

    await signInWithPassword(page, 'kim');
    await page.waitForURL(/\/login\/mfa\/register/);
    expect(await sessionUser(page)).toBeUndefined();
    await page.fill('#key_name', 'YubiKey');
    await page.click('#webauthn-register');
    await page.waitForURL(`${base}${DEVICES}`);
    expect(await page.textContent('#devices')).toContain('YubiKey');
    expect(await page.textContent('#devices')).toContain('security key');
    const { credentials } = await key.cdp.send('WebAuthn.getCredentials', { authenticatorId: key.authenticatorId });
    expect(credentials).toHaveLength(1);
    expect(credentials[0]!.isResidentCredential).toBe(false);

    // Sign out (the cookies go), then the password alone is not enough: the key is asked for.
    await context.clearCookies();
    await signInWithPassword(page, 'kim');
    await page.waitForURL(/\/login\/mfa\?/);
    expect(await sessionUser(page)).toBeUndefined();
    await page.click('#webauthn-authenticate');
    await page.waitForURL(`${base}${DEVICES}`);
    expect(await sessionUser(page)).toBe('kim');
    const after = await key.cdp.send('WebAuthn.getCredentials', { authenticatorId: key.authenticatorId });
    expect(after.credentials[0]!.signCount).toBeGreaterThan(credentials[0]!.signCount);

    // Another browser without the key cannot finish: the challenge page offers only the key.
    const other = await browser.newContext();
    const otherPage = await other.newPage();
    await signInWithPassword(otherPage, 'kim');
    await otherPage.waitForURL(/\/login\/mfa\?/);
    expect(await otherPage.locator('input[name=code]').count()).toBe(0);
    await other.close();
    await context.close();
  });

  it('with attestation REQUIRED, takes a key that attests and refuses one whose answer carries no attestation', async () => {
    const set = await setMfaSettings(server, { Mode: 'ALWAYS_ON', NoDevice: 'REGISTER', AllowedDeviceTypes: ['WEBAUTHN'], PasskeySignIn: false, WebAuthnAttestation: 'REQUIRED' });
    try {
      expect(set).toMatchObject({ WebAuthnAttestation: 'REQUIRED' });
      // An attacker's browser that strips the attestation (it asks the key for none) is refused.
      await userWithPassword('stripper');
      const stripping = await browser.newContext();
      await stripping.addInitScript(() => {
        const create = navigator.credentials.create.bind(navigator.credentials);
        navigator.credentials.create = (options?: CredentialCreationOptions) =>
          create(options?.publicKey ? { ...options, publicKey: { ...options.publicKey, attestation: 'none' } } : options);
      });
      const strippingPage = await stripping.newPage();
      await addAuthenticator(stripping, strippingPage, 'security-key');
      await signInWithPassword(strippingPage, 'stripper');
      await strippingPage.waitForURL(/\/login\/mfa\/register/);
      await strippingPage.fill('#key_name', 'Stripped');
      await strippingPage.click('#webauthn-register');
      await expect.poll(() => strippingPage.textContent('body')).toMatch(/require an attested security key/);
      expect(strippingPage.url()).toMatch(/\/login\/mfa\/register/);
      expect(await sessionUser(strippingPage)).toBeUndefined();
      await stripping.close();

      // Chromium's virtual key attests when asked (packed), and is registered.
      await userWithPassword('attested');
      const context = await browser.newContext();
      const page = await context.newPage();
      await addAuthenticator(context, page, 'security-key');
      await signInWithPassword(page, 'attested');
      await page.waitForURL(/\/login\/mfa\/register/);
      await page.fill('#key_name', 'Attested key');
      await page.click('#webauthn-register');
      await page.waitForURL(`${base}${DEVICES}`);
      expect(await page.textContent('#devices')).toContain('Attested key');
      expect(await sessionUser(page)).toBe('attested');
      await context.close();
    } finally {
      await setMfaSettings(server, { WebAuthnAttestation: 'NONE' });
    }
  });

  it('registers a passkey in the portal, signs out, and signs in with the passkey alone (no user name typed)', async () => {
    await setMfaSettings(server, { Mode: 'ALWAYS_ON', NoDevice: 'ALLOW', AllowedDeviceTypes: ['TOTP', 'WEBAUTHN'], PasskeySignIn: true });
    await userWithPassword('pat');
    const context = await browser.newContext();
    const page = await context.newPage();
    const platform = await addAuthenticator(context, page, 'platform');

    // No device yet and NoDevice=ALLOW: the password signs in, then the user adds a passkey.
    await signInWithPassword(page, 'pat');
    await page.waitForURL(`${base}${DEVICES}`);
    await page.fill('#key_name', 'Laptop passkey');
    await page.click('#add-passkey');
    await expect.poll(() => page.textContent('#devices')).toContain('Laptop passkey');
    expect(await page.textContent('#devices')).toContain('passkey');
    const { credentials } = await platform.cdp.send('WebAuthn.getCredentials', { authenticatorId: platform.authenticatorId });
    expect(credentials[0]!.isResidentCredential).toBe(true);

    await context.clearCookies();
    await page.goto(`${base}/login?return_to=${encodeURIComponent(DEVICES)}`);
    await page.click('#passkey-sign-in');
    await page.waitForURL(`${base}${DEVICES}`);
    expect(await sessionUser(page)).toBe('pat');
    const events = await server.reg.database.db.selectFrom('audit_events').select(['response_elements', 'user_name']).where('event_name', '=', 'CredentialVerification').execute();
    expect(events.some((e) => e.user_name === 'pat' && String(e.response_elements).includes('PASSKEY'))).toBe(true);
    await context.close();
  });

  it('refuses replayed, forged and malformed WebAuthn answers with a clear error, never a 500', async () => {
    const { context, page } = await userWithPasskey('rex', 'Key');

    // Record a genuine passkey assertion as the page posts it.
    await context.clearCookies();
    await page.goto(`${base}/login`);
    let posted: { challengeId: string; response: { response: { clientDataJSON: string } } } | undefined;
    page.on('request', (r) => {
      if (r.url().startsWith(`${base}/login/passkey?`)) posted = r.postDataJSON() as typeof posted;
    });
    await page.click('#passkey-sign-in');
    await page.waitForURL(`${base}/start`);
    expect(posted).toBeDefined();

    const csrf = async () => {
      await page.context().clearCookies();
      await page.goto(`${base}/login`);
      return (await page.getAttribute('#passkey-sign-in', 'data-csrf'))!;
    };
    const post = async (path: string, body: unknown, host?: string) => {
      const token = await csrf();
      const r = await page.request.post(`${base}${path}`, { data: body, headers: { 'x-csrf-token': token, ...(host ? { host } : {}) } });
      const text = await r.text();
      return { status: r.status(), message: text.startsWith('{') ? (JSON.parse(text) as { message: string }).message : text };
    };
    const freshChallenge = async (host?: string) => {
      const token = await csrf();
      const r = await page.request.post(`${base}/login/passkey/options`, { data: {}, headers: { 'x-csrf-token': token, ...(host ? { host } : {}) } });
      return (await r.json()) as { challengeId: string; options: { challenge: string; userVerification?: string } };
    };
    const withClientData = (origin: string, challenge: string) => {
      const clientData = { ...(JSON.parse(Buffer.from(posted!.response.response.clientDataJSON, 'base64url').toString()) as object), origin, challenge };
      return { ...posted!.response, response: { ...posted!.response.response, clientDataJSON: Buffer.from(JSON.stringify(clientData)).toString('base64url') } };
    };

    // The same answer again: its challenge was used up.
    const replayed = await post('/login/passkey', posted);
    expect(replayed).toEqual({ status: 401, message: expect.stringContaining('expired or was used already') });

    // A challenge this server never signed.
    const forged = await freshChallenge();
    // A passkey sign-in is both factors: the key is asked to verify its user, as the server requires.
    expect(forged.options.userVerification).toBe('required');
    const [body] = forged.challengeId.split('.');
    expect(await post('/login/passkey', { challengeId: `${body}.${'A'.repeat(43)}`, response: posted!.response })).toEqual({ status: 401, message: expect.stringContaining('expired or was used already') });

    // Another origin, on a fresh challenge.
    const fresh = await freshChallenge();
    const wrongOrigin = await post('/login/passkey', { challengeId: fresh.challengeId, response: withClientData('https://evil.example', fresh.options.challenge) });
    expect(wrongOrigin.status).toBe(401);
    expect(wrongOrigin.message).toMatch(/origin/i);

    // Another relying party: the origin matches the host asked, but the key signed for localhost.
    const port = new URL(base).port;
    const otherHost = `other.localhost:${port}`;
    const otherChallenge = await freshChallenge(otherHost);
    const wrongRp = await post('/login/passkey', { challengeId: otherChallenge.challengeId, response: withClientData(`http://${otherHost}`, otherChallenge.options.challenge) }, otherHost);
    expect(wrongRp.status).toBe(401);
    expect(wrongRp.message).toMatch(/RP ID/i);

    // Garbage of every shape.
    for (const response of [null, 'x', 42, {}, { id: 'nope', response: {} }, { ...posted!.response, response: { clientDataJSON: '%%%' } }]) {
      const challenge = await freshChallenge();
      const r = await post('/login/passkey', { challengeId: challenge.challengeId, response });
      expect(r.status).toBe(401);
      expect(r.message.length).toBeGreaterThan(0);
    }
    const notJson = await post('/login/passkey', 'not json');
    expect(notJson.status).toBeLessThan(500);
    await context.close();
  });

  it('refuses a genuine passkey answer once the identity source is an external IdP, exactly like a password', async () => {
    const { context, page } = await userWithPasskey('ivy', 'Ivy passkey');

    // A genuine, unused passkey answer, held back on its way to the server.
    await context.clearCookies();
    await page.goto(`${base}/login`);
    const csrf = (await page.getAttribute('#passkey-sign-in', 'data-csrf'))!;
    let posted: unknown;
    await page.route(
      (url) => url.pathname === '/login/passkey',
      async (route) => {
        posted = route.request().postDataJSON();
        await route.abort();
      },
    );
    await page.click('#passkey-sign-in');
    await expect.poll(() => posted).toBeDefined();

    // The administrator moves sign-in to an external IdP; the answer arrives after.
    const ctx = systemContext('sso.amazonaws.com', 'us-east-1', 'test');
    const metadataXml = '<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" entityID="https://idp.example.test/metadata"/>';
    await server.reg.federation.importIdp(ctx, { entityId: 'https://idp.example.test/metadata', metadataXml, nameIdMatch: 'userName' });
    await server.reg.instance.setIdentitySource(ctx, 'EXTERNAL_IDP');
    try {
      const answer = await page.request.post(`${base}/login/passkey?return_to=%2Fstart`, { data: posted, headers: { 'x-csrf-token': csrf } });
      expect(answer.status()).toBe(403);
      expect(((await answer.json()) as { message: string }).message).toContain('identity provider');
      expect(await sessionUser(page)).toBeUndefined();
      expect((await page.request.post(`${base}/login/passkey/options`, { data: {}, headers: { 'x-csrf-token': csrf } })).status()).toBe(403);
      const refusals = await server.reg.database.db.selectFrom('audit_events').select('error_code').where('error_code', '=', 'auth.passkey_sign_in_disabled').execute();
      expect(refusals.length).toBeGreaterThan(0);
    } finally {
      await server.reg.instance.setIdentitySource(ctx, 'INTERNAL');
    }
    await context.close();
  });

  it.runIf(peerAvailable('awscli', hasAwsCli))("asks for the security key before approving `aws sso login`'s device code", async () => {
    await setMfaSettings(server, { Mode: 'ALWAYS_ON', NoDevice: 'REGISTER', AllowedDeviceTypes: ['WEBAUTHN'], PasskeySignIn: false });
    await userWithPassword('cli-mfa');
    const context = await browser.newContext();
    const page = await context.newPage();
    await addAuthenticator(context, page, 'security-key');
    // A first sign-in registers the key.
    await signInWithPassword(page, 'cli-mfa');
    await page.waitForURL(/\/login\/mfa\/register/);
    await page.fill('#key_name', 'Key');
    await page.click('#webauthn-register');
    await page.waitForURL(`${base}${DEVICES}`);
    await context.clearCookies();

    const env = peerEnv(server.url, server.credentials);
    writeSsoProfile(env, server.init.startUrl, server.init.managementAccountId, 'AdministratorAccess');
    expect(AWS_CLI).toBeTruthy();
    const { userCode, verificationUrl, finish } = await startSsoLogin(env);
    await page.goto(verificationUrl.replace('127.0.0.1', 'localhost'));
    await page.fill('#username', 'cli-mfa');
    await page.click('button[type=submit]');
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    // The password is not enough to reach the approval.
    await page.waitForURL(/\/login\/mfa\?/);
    expect(await page.locator('button[value=approve]').count()).toBe(0);
    await page.click('#webauthn-authenticate');
    await page.waitForURL(/\/device\?user_code=/);
    expect(await page.textContent('#user-code')).toBe(userCode);
    await page.click('button[value=approve]');
    await expect.poll(() => page.textContent('[role=status]')).toContain('Request approved');
    const { code, stderr } = await finish();
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    await context.close();
  });
});
