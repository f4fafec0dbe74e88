// The admin console's forms check what the server would refuse before they send anything, in a real
// browser (Debian's Chromium through playwright-core): Create account (name and email as
// Organizations takes them), Create organizational unit (its name's length) and the settings'
// number fields (the portal session's minutes, sign-in protection's minutes, seconds and counts).
// Each bad input shows its message at the field and makes no request; a value at the bound is sent.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Locator, Page, Request } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { consolePage, signInToConsole } from '../helpers/console.js';
import { hasChromium, launchChromium, peerAvailable } from '../helpers/peers.js';
import { portalFixture, type PortalUser } from '../helpers/portal-fixture.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { ARTIFACTS, ensureAppBuilt } from '../helpers/web-build.js';

const PASSWORD = 'Console#Checks-4Hv!';

describe.runIf(peerAvailable('chromium', hasChromium))('admin console form checks in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let base: string;
  let admin: PortalUser;
  const browserErrors: string[] = [];
  /** The changes the page has sent (awsJson targets and admin API writes), in order. */
  const sent: string[] = [];
  const ctx = systemContext('sso.amazonaws.com', 'us-east-1', 'console-validation-e2e');
  const dialog = () => page.getByRole('dialog');
  const input = (name: string, on: Page | Locator = page) => on.getByRole('textbox', { name, exact: true }).or(on.getByRole('spinbutton', { name, exact: true }));
  /** What a field's description and error say (the elements its aria-describedby names). */
  const describedAt = async (field: Locator) => {
    const ids = ((await field.getAttribute('aria-describedby')) ?? '').split(' ').filter(Boolean);
    return (await Promise.all(ids.map((id) => page.locator(`[id="${id}"]`).innerText()))).join(' ');
  };
  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `console-validation-${name}.png`), fullPage: true, animations: 'disabled' });
  const record = (request: Request) => {
    const target = request.headers()['x-amz-target'];
    if (target) sent.push(target.split('.').pop()!);
    else if (new URL(request.url()).pathname.startsWith('/api/admin/') && request.method() !== 'GET') sent.push(`${request.method()} ${new URL(request.url()).pathname}`);
  };
  /** Submit with `click`, see `message` at `field`, and see that nothing was sent. */
  const refused = async (click: () => Promise<void>, field: Locator, message: string) => {
    const before = sent.length;
    await click();
    await expect.poll(() => describedAt(field)).toContain(message);
    // Whatever a send would have started has had its time.
    await page.waitForLoadState('networkidle');
    expect(sent.slice(before)).toEqual([]);
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await ensureAppBuilt();
    server = await startServer('sqlite', { auditSealMs: 200 });
    base = server.url.replace('127.0.0.1', 'localhost');
    admin = await portalFixture(server).newUser();
    await server.reg.auth.setPassword(ctx, admin.userName, { password: PASSWORD, oneTime: false });
    await server.reg.consoleAdmins.grant(ctx, admin.userName, 'AdministratorAccess');
    browser = await launchChromium();
    page = await consolePage(browser, browserErrors);
    page.on('request', record);
    await signInToConsole(page, base, admin.userName, PASSWORD);
  }, 180_000);

  afterEach(async (t) => {
    if (t.task.result?.state === 'fail') await page?.screenshot({ path: path.join(ARTIFACTS, `console-validation-failed-${t.task.name.slice(0, 40).replace(/\W+/g, '-')}.png`), fullPage: true });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("checks a new account's name and email as Organizations does, and creates one at the bounds", async () => {
    await page.goto(`${base}/console/accounts`);
    await page.getByRole('button', { name: 'Create account' }).click();
    const name = input('Account name', dialog());
    const email = input("Email address of the account's owner", dialog());
    const create = () => dialog().getByRole('button', { name: 'Create account' }).click();
    await refused(create, name, "Enter the account's name.");
    expect(await describedAt(email)).toContain("Enter the email address of the account's owner.");
    await name.fill('Prödüction');
    await email.fill('owner@example.com');
    await refused(create, name, 'Use only unaccented letters, digits, spaces and punctuation (printable ASCII).');
    expect(await describedAt(email)).not.toContain('Enter');
    await name.fill('A'.repeat(51));
    await refused(create, name, 'Use at most 50 characters (this is 51).');
    await shot('account-name');
    await name.fill('Staging');
    await email.fill('a@b.c');
    await refused(create, email, 'Use an email address of 6 to 64 characters (this is 5).');
    await email.fill(`${'o'.repeat(53)}@example.com`);
    await refused(create, email, 'Use an email address of 6 to 64 characters (this is 65).');
    await email.fill('owner@example');
    await refused(create, email, 'Enter an email address, such as name@example.com.');

    // At the bounds: sent, and created.
    const longest = `Staging ${'x'.repeat(42)}`;
    await name.fill(longest);
    await email.fill(`${'o'.repeat(52)}@example.com`);
    await create();
    await dialog().waitFor({ state: 'detached', timeout: 30_000 });
    await page.getByRole('row').filter({ hasText: longest }).waitFor();
    expect(sent).toContain('CreateAccount');
  });

  it("checks a new organizational unit's name, and creates one at the bound", async () => {
    await page.goto(`${base}/console/accounts`);
    await page.getByRole('button', { name: 'Create organizational unit' }).click();
    const name = input('Organizational unit name', dialog());
    const create = () => dialog().getByRole('button', { name: 'Create organizational unit' }).click();
    await refused(create, name, 'Enter a name for the organizational unit.');
    await name.fill('W'.repeat(129));
    await refused(create, name, 'Use at most 128 characters (this is 129).');
    await shot('ou-name');
    const longest = 'W'.repeat(128);
    await name.fill(longest);
    await create();
    await dialog().waitFor({ state: 'detached' });
    await page.getByRole('row').filter({ hasText: longest }).waitFor();
    expect(sent).toContain('CreateOrganizationalUnit');
  });

  it('checks the settings’ minutes, seconds and counts against their bounds, and saves one at a bound', async () => {
    await page.goto(`${base}/console/settings`);
    await page.getByRole('tab', { name: 'Authentication' }).click();
    const duration = input('Session duration (minutes)');
    const saveAuthentication = () => page.getByRole('button', { name: 'Save authentication settings' }).click();
    for (const bad of ['14', '129601', '90.5', '']) {
      await duration.fill(bad);
      await refused(saveAuthentication, duration, 'Enter a whole number of minutes from 15 to 129,600.');
    }
    await shot('session-duration');
    await duration.fill('129600');
    await saveAuthentication();
    await page.getByText(/^Saved/).first().waitFor();
    expect((await server.reg.read.instance.findInstance())?.settings.sessionDurationMinutes).toBe(129_600);

    const lockout = input('Lock-out (minutes)');
    const failureWindow = input('Failures count for (minutes)');
    const saveProtection = () => page.getByRole('button', { name: 'Save sign-in protection' }).click();
    await lockout.fill('0');
    await failureWindow.fill('10081');
    await refused(saveProtection, lockout, 'Enter a whole number of minutes from 1 to 10,080.');
    expect(await describedAt(failureWindow)).toContain('Enter a whole number of minutes from 1 to 10,080.');
    await lockout.fill('30');
    await failureWindow.fill('60');
    await input('Longest back-off (seconds)').fill('10');
    await refused(saveProtection, input('Longest back-off (seconds)'), 'The longest back-off must be at least the first back-off.');
    await shot('sign-in-protection');
    await input('Longest back-off (seconds)').fill('86400');
    await saveProtection();
    await expect.poll(async () => (await server.reg.read.instance.findInstance())?.settings.signInProtection).toMatchObject({ lockoutMinutes: 30, failureWindowMinutes: 60, backoffMaxSeconds: 86_400 });
  });

  it('had no script errors', () => {
    expect(browserErrors).toEqual([]);
  });
});
