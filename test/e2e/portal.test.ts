// The access portal in a real browser (Debian's Chromium through playwright-core): first sign-in
// with a one-time password, the forced change, the accounts list, role credentials, sign-out, and
// the user's sessions across two browsers.

import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { execFile } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { promisify } from 'node:util';
import path from 'node:path';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { AWS_CLI, hasAwsCli, hasChromium, launchChromium, peerAvailable } from '../helpers/peers.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { portalFixture, until } from '../helpers/portal-fixture.js';
import { ARTIFACTS, ensureAppBuilt } from '../helpers/web-build.js';

const NEW_PASSWORD = 'Portal#e2e-7Kq!';
const execFileAsync = promisify(execFile);

describe.runIf(peerAvailable('chromium', hasChromium))('access portal in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  const world = {} as {
    userName: string;
    oneTimePassword: string;
    account: { accountId: string; name: string };
    other: { accountId: string; name: string };
    roleName: string;
  };

  const browserErrors: string[] = [];
  const shot = (name: string, on = page) => on.screenshot({ path: path.join(ARTIFACTS, `portal-${name}.png`), fullPage: true, animations: 'disabled' });
  /** Collect a script error, a failed load or a request the content policy blocks, while on the portal. */
  const watchForErrors = (watched: Page) => {
    const onPortal = () => new URL(watched.url()).pathname.startsWith('/start');
    watched.on('pageerror', (err) => void (onPortal() && browserErrors.push(err.message)));
    watched.on('console', (message) => void (onPortal() && message.type() === 'error' && browserErrors.push(`${message.text()} ${message.location().url}`)));
  };
  /** Sign in through the sign-in pages, from the portal's redirect back to the portal. */
  const signInAt = async (on: Page, userName: string, password: string) => {
    await on.goto(`${base}/start`);
    await on.fill('#username', userName);
    await on.click('button[type=submit]');
    await on.fill('#password', password);
    await on.click('button[type=submit]');
    await on.waitForURL(`${base}/start`);
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await ensureAppBuilt();
    server = await startServer('sqlite');
    base = server.url.replace('127.0.0.1', 'localhost');
    const fixture = portalFixture(server);
    const [account, other, user, ps] = await Promise.all([fixture.newAccount(), fixture.newAccount(), fixture.newUser(), fixture.newPermissionSet()]);
    await fixture.assignment('create', account.accountId, ps.arn, 'USER', user.userId);
    await fixture.assignment('create', other.accountId, ps.arn, 'USER', user.userId);
    const ctx = systemContext('sso.amazonaws.com', 'us-east-1', 'portal-e2e');
    const { password } = await server.reg.auth.setPassword(ctx, user.userName, { oneTime: true });
    Object.assign(world, { userName: user.userName, oneTimePassword: password, account, other, roleName: ps.name });

    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: base });
    page = await context.newPage();
    watchForErrors(page);
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('sends a visitor without a session to sign-in, and back to the portal after a forced password change', async () => {
    await page.goto(`${base}/start`);
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(new URL(page.url()).searchParams.get('return_to')).toBe('/start');
    await page.fill('#username', world.userName);
    await page.click('button[type=submit]');
    await page.fill('#password', world.oneTimePassword);
    await shot('1-sign-in');
    await page.click('button[type=submit]');
    await page.waitForURL(/\/login\/change-password/);
    await page.fill('#new_password', NEW_PASSWORD);
    await page.fill('#confirm_password', NEW_PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${base}/start`);
    await page.getByText(world.account.name, { exact: true }).waitFor();
    await expect(page.getByText(world.other.name, { exact: true }).isVisible()).resolves.toBe(true);
    await expect(page.getByRole('button', { name: world.userName }).isVisible()).resolves.toBe(true);
    await shot('2-accounts');
  });

  it('searches the accounts by name and id', async () => {
    const search = page.getByRole('searchbox', { name: 'Search accounts' });
    await search.fill(world.other.accountId);
    await page.getByText(world.account.name, { exact: true }).waitFor({ state: 'detached' });
    await expect(page.getByText(world.other.name, { exact: true }).isVisible()).resolves.toBe(true);
    await search.fill('no-such-account');
    await page.getByText('No matches').waitFor();
    await search.fill(world.account.name);
    await page.getByText(world.account.name, { exact: true }).waitFor();
    await expect(page.getByText(world.other.name, { exact: true }).count()).resolves.toBe(0);
  });

  it('gives working credentials for a role, to copy as environment variables or a credentials file, and the aws configure sso values', async () => {
    await page.getByText(world.account.name, { exact: true }).click();
    await page.getByText(world.roleName, { exact: true }).waitFor();
    await page.getByRole('button', { name: `Command line or programmatic access for ${world.roleName} in ${world.account.name}` }).click();
    const dialog = page.getByRole('dialog');
    const env = dialog.getByTestId('Environment variables');
    await env.waitFor();
    const envText = await env.innerText();
    expect(envText).toMatch(/^export AWS_ACCESS_KEY_ID="ASIA[A-Z0-9]{16}"\nexport AWS_SECRET_ACCESS_KEY="[^"]+"\nexport AWS_SESSION_TOKEN="[^"]+"$/);
    await shot('3-environment-variables');

    await dialog.getByRole('button', { name: 'Copy: Environment variables' }).click();
    await dialog.getByText('Copied').waitFor();
    await expect(page.evaluate('navigator.clipboard.readText()')).resolves.toBe(envText);

    // What the user copied really works.
    const value = (name: string) => new RegExp(`${name}="([^"]+)"`).exec(envText)![1]!;
    const sts = new STSClient({ endpoint: server.url, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: value('AWS_ACCESS_KEY_ID'), secretAccessKey: value('AWS_SECRET_ACCESS_KEY'), sessionToken: value('AWS_SESSION_TOKEN') } });
    const identity = await sts.send(new GetCallerIdentityCommand({}));
    expect(identity.Account).toBe(world.account.accountId);
    expect(identity.Arn).toMatch(new RegExp(`^arn:aws:sts::${world.account.accountId}:assumed-role/AWSReservedSSO_${world.roleName}_[0-9a-f]{16}/${world.userName}$`));

    await dialog.getByRole('tab', { name: 'Credentials file' }).click();
    const file = await dialog.getByTestId('Credentials file').innerText();
    expect(file).toMatch(new RegExp(`^\\[${world.account.accountId}_${world.roleName}\\]\naws_access_key_id=ASIA[A-Z0-9]{16}\naws_secret_access_key=.+\naws_session_token=.+$`));
    await shot('4-credentials-file');

    await dialog.getByRole('tab', { name: 'aws configure sso' }).click();
    const sso = `${await dialog.getByTestId('sso-session section').innerText()}\n${await dialog.getByTestId('Profile section').innerText()}`;
    expect(sso).toContain(`sso_start_url = ${server.init.startUrl}`);
    expect(sso).toContain(`sso_region = ${server.init.region}`);
    expect(sso).toContain(`sso_account_id = ${world.account.accountId}`);
    expect(sso).toContain(`sso_role_name = ${world.roleName}`);
    await expect(dialog.getByText(server.init.startUrl, { exact: true }).isVisible()).resolves.toBe(true);
    await shot('5-configure-sso');
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });

    // A second role's profile section beside the first, with the sso-session section once: the real
    // AWS CLI reads the file (one sso-session section per role made it refuse the whole file).
    await page.getByRole('searchbox', { name: 'Search accounts' }).fill('');
    await page.getByText(world.other.name, { exact: true }).click();
    await page.getByRole('button', { name: `Command line or programmatic access for ${world.roleName} in ${world.other.name}` }).click();
    await dialog.getByRole('tab', { name: 'aws configure sso' }).click();
    const otherProfile = await dialog.getByTestId('Profile section').innerText();
    await dialog.getByRole('button', { name: 'Close' }).click();
    await dialog.waitFor({ state: 'detached' });
    if (peerAvailable('awscli', hasAwsCli)) {
      const home = mkdtempSync(path.join(tmpdir(), 'atrium-portal-config-'));
      try {
        writeFileSync(path.join(home, 'config'), `${sso}\n\n${otherProfile}\n`);
        const env = { PATH: process.env.PATH ?? '', HOME: home, AWS_CONFIG_FILE: path.join(home, 'config') };
        const get = (key: string, profile: string) => execFileAsync(AWS_CLI, ['configure', 'get', key, '--profile', profile], { env }).then((r) => r.stdout.trim());
        await expect(get('sso_account_id', `${world.other.accountId}_${world.roleName}`)).resolves.toBe(world.other.accountId);
        await expect(get('sso_account_id', `${world.account.accountId}_${world.roleName}`)).resolves.toBe(world.account.accountId);
      } finally {
        rmSync(home, { recursive: true, force: true });
      }
    }

    // Signing out ends the portal session, and with it the credentials it issued.
    await page.getByRole('button', { name: world.userName }).click();
    await page.getByRole('menuitem', { name: 'Sign out' }).click();
    await page.waitForURL(/\/login$/);
    await shot('6-signed-out');
    await until(
      () => sts.send(new GetCallerIdentityCommand({})).then(() => 'valid', (err: { name: string }) => err.name),
      (outcome) => outcome !== 'valid',
    );
    await page.goto(`${base}/start`);
    expect(new URL(page.url()).pathname).toBe('/login');
    expect(browserErrors).toEqual([]);
  });

  it('shows the user their sessions in two browsers, and ends the other browser’s session and then its own', async () => {
    const user = await portalFixture(server).newUser();
    await server.reg.auth.setPassword(systemContext('sso.amazonaws.com', 'us-east-1', 'portal-e2e'), user.userName, { password: NEW_PASSWORD, oneTime: false });
    const contexts = await Promise.all([0, 1].map(() => browser.newContext({ viewport: { width: 1280, height: 900 } })));
    try {
      const [here, there] = await Promise.all(contexts.map((c) => c.newPage()));
      watchForErrors(here!);
      await signInAt(here!, user.userName, NEW_PASSWORD);
      await signInAt(there!, user.userName, NEW_PASSWORD);

      // The accounts view stays the default; the sessions view has its own address.
      await here!.getByText('You have no accounts').waitFor();
      await here!.getByRole('tab', { name: 'Sessions' }).click();
      await here!.waitForURL(`${base}/start/sessions`);
      const ends = here!.getByRole('button', { name: /^End session/ });
      await ends.nth(1).waitFor();
      await expect(ends.count()).resolves.toBe(2);
      await expect(here!.getByText('This session', { exact: true }).count()).resolves.toBe(1);
      const endOther = here!.getByRole('button', { name: /^End session: Chrome on Linux at 127\.0\.0\.1, signed in / });
      const endCurrent = here!.getByRole('button', { name: 'End session: this one, which signs you out' });
      await expect(endOther.count()).resolves.toBe(1);
      await expect(endCurrent.count()).resolves.toBe(1);
      await shot('7-sessions', here);

      // Ending the other browser's session signs that browser out, and only it.
      await endOther.click();
      await endOther.waitFor({ state: 'detached' });
      await expect(ends.count()).resolves.toBe(1);
      await expect(there!.evaluate(() => fetch('/api/portal/session').then((r) => r.status))).resolves.toBe(401);
      await there!.reload();
      expect(new URL(there!.url()).pathname).toBe('/login');

      // The sessions view survives a reload; ending this session signs this browser out.
      await here!.reload();
      await endCurrent.waitFor();
      await expect(ends.count()).resolves.toBe(1);
      await endCurrent.click();
      await here!.waitForURL(/\/login\?return_to=/);
      await here!.goto(`${base}/start/sessions`);
      expect(new URL(here!.url()).pathname).toBe('/login');
      expect(new URL(here!.url()).searchParams.get('return_to')).toBe('/start/sessions');
      expect(browserErrors).toEqual([]);
    } finally {
      await Promise.all(contexts.map((c) => c.close()));
    }
  });

  it('serves the app with a strict content policy and its hashed assets with long-lived caching', async () => {
    const anonymous = await fetch(`${server.url}/start/accounts`, { redirect: 'manual' });
    expect(anonymous.status).toBe(303);
    expect(anonymous.headers.get('location')).toBe('/login?return_to=%2Fstart%2Faccounts');

    const cookie = (await context.cookies()).find((c) => c.name === 'atrium_session');
    expect(cookie).toBeUndefined();
    const session = await server.reg.auth.signIn(systemContext('signin.amazonaws.com', 'us-east-1', 'portal-e2e'), world.userName, NEW_PASSWORD);
    if (session.kind !== 'ok') throw new Error(`sign-in ${session.kind}`);
    const html = await fetch(`${server.url}/start/`, { headers: { cookie: `atrium_session=${session.token}`, 'accept-encoding': 'gzip' } });
    expect(html.status).toBe(200);
    expect(html.headers.get('cache-control')).toBe('no-store');
    expect(html.headers.get('content-security-policy')).toContain("script-src 'self'");
    const script = /src="(\/start\/assets\/[^"]+\.js)"/.exec(await html.text())![1]!;
    const asset = await fetch(`${server.url}${script}`, { headers: { 'accept-encoding': 'gzip' } });
    expect(asset.status).toBe(200);
    expect(asset.headers.get('content-type')).toBe('text/javascript; charset=utf-8');
    expect(asset.headers.get('content-encoding')).toBe('gzip');
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect((await fetch(`${server.url}/start/assets/missing.js`)).status).toBe(404);
  });
  it('sends a session that must prove a second factor from the credentials dialog to the step-up page', async () => {
    const fixture = portalFixture(server);
    const [user, ps] = await Promise.all([fixture.newUser(), fixture.newPermissionSet()]);
    await fixture.assignment('create', world.account.accountId, ps.arn, 'USER', user.userId);
    const ctx = systemContext('sso.amazonaws.com', 'us-east-1', 'portal-e2e');
    await server.reg.auth.setPassword(ctx, user.userName, { password: NEW_PASSWORD, oneTime: false });
    const signedIn = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const here = await signedIn.newPage();
      watchForErrors(here);
      await signInAt(here, user.userName, NEW_PASSWORD);
      // MFA turns on while this session is open: it never passed a second factor.
      await server.reg.instance.updateSettings(ctx, { mfa: { mode: 'ALWAYS_ON' } });
      await here.getByText(world.account.name, { exact: true }).click();
      await here.getByRole('button', { name: `Command line or programmatic access for ${ps.name} in ${world.account.name}` }).click();
      const confirm = here.getByRole('dialog').getByRole('link', { name: 'Confirm with MFA' });
      await confirm.waitFor();
      await shot('8-mfa-step-up', here);
      await confirm.click();
      await here.waitForURL(/\/login\/mfa\//);
      expect(new URL(here.url()).searchParams.get('return_to')).toBe('/start');
      // The refusal itself is the only error the browser reports.
      expect(browserErrors.length).toBeGreaterThan(0);
      for (const e of browserErrors) expect(e).toMatch(/status of 403 .*\/api\/portal\/credentials$/);
    } finally {
      await server.reg.instance.updateSettings(ctx, { mfa: { mode: 'DISABLED' } });
      await signedIn.close();
    }
  });
});
