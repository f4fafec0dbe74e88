// Users, groups and permission sets whatever their names, in the admin console in a real browser
// (Debian's Chromium through playwright-core). A user named `.` or `..` (which a browser resolves
// as a path segment, even percent-encoded), or with `/`, `%`, `?`, `#` or letters beyond ASCII in
// their name, is found, opened and managed from their page: their MFA devices listed and deleted,
// their sessions listed, a one-time password given. Groups and permission sets so named open too,
// and an address that names nothing says so instead of showing another page.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { CreateGroupCommand, CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { CreatePermissionSetCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { Secret, TOTP } from 'otpauth';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { consolePage, signInToConsole } from '../helpers/console.js';
import { Browser as FetchBrowser } from '../helpers/browser.js';
import { hasChromium, launchChromium, peerAvailable } from '../helpers/peers.js';
import { portalFixture, type PortalUser } from '../helpers/portal-fixture.js';
import { sdkOptions, startServer, type TestServer } from '../helpers/server.js';
import { ARTIFACTS, ensureAppBuilt } from '../helpers/web-build.js';

const PASSWORD = 'Console#Names-3Wq!';
/** Names a URL path cannot carry as they are. */
const USER_NAMES = ['.', '..', 'ops/admin', '50%off', 'who?#where', 'Zoë.Ünïcødé', '%2e%2E'];

describe.runIf(peerAvailable('chromium', hasChromium))('admin console: any name, in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let base: string;
  let ids: IdentitystoreClient;
  let admin: PortalUser;
  const users = new Map<string, string>();
  const browserErrors: string[] = [];
  const ctx = systemContext('sso.amazonaws.com', 'us-east-1', 'console-names-e2e');
  const IdentityStoreId = () => server.init.identityStoreId;
  const shot = (name: string) => page.screenshot({ path: path.join(ARTIFACTS, `console-names-${name}.png`), fullPage: true, animations: 'disabled' });

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await ensureAppBuilt();
    server = await startServer('sqlite', { auditSealMs: 200 });
    base = server.url.replace('127.0.0.1', 'localhost');
    ids = new IdentitystoreClient(sdkOptions(server));
    admin = await portalFixture(server).newUser();
    await server.reg.auth.setPassword(ctx, admin.userName, { password: PASSWORD, oneTime: false });
    await server.reg.consoleAdmins.grant(ctx, admin.userName, 'AdministratorAccess');
    for (const UserName of USER_NAMES) {
      const { UserId } = await ids.send(new CreateUserCommand({ IdentityStoreId: IdentityStoreId(), UserName, DisplayName: `Shown ${UserName}`, Name: { GivenName: 'N', FamilyName: 'M' } }));
      users.set(UserName, UserId!);
      // An authenticator app, and a portal session (signed in as a person does).
      const user = await server.reg.mfa.userByName(UserName);
      const e = await server.reg.mfa.beginTotpEnrolment(user);
      const code = new TOTP({ secret: Secret.fromBase32(e.secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate();
      await server.reg.mfa.confirmTotpEnrolment(ctx, user, { enrolmentId: e.enrolmentId, name: `Phone of ${UserName}`, code });
      await server.reg.auth.setPassword(ctx, UserName, { password: PASSWORD, oneTime: false });
      expect((await new FetchBrowser(server.url).signIn(UserName, PASSWORD)).status).toBe(303);
    }
    browser = await launchChromium();
    page = await consolePage(browser, browserErrors);
    await signInToConsole(page, base, admin.userName, PASSWORD);
  }, 180_000);

  afterEach(async (t) => {
    if (t.task.result?.state === 'fail') await page?.screenshot({ path: path.join(ARTIFACTS, `console-names-failed-${t.task.name.slice(0, 40).replace(/\W+/g, '-')}.png`), fullPage: true });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  for (const [i, userName] of USER_NAMES.entries()) {
    it(`opens and manages the user named ${JSON.stringify(userName)} from their page`, async () => {
      // Found by exact name in the list, and opened from it.
      await page.goto(`${base}/console/users`);
      await page.getByRole('searchbox', { name: 'Find a user by exact user name' }).fill(userName);
      await page.getByRole('row').filter({ hasText: `Shown ${userName}` }).getByRole('link', { name: userName, exact: true }).click();
      await page.getByRole('heading', { name: userName, exact: true }).waitFor();
      expect(new URL(page.url()).pathname).toBe(`/console/users/${users.get(userName)}`);
      // Their own devices and sessions, not another user's (or none for want of a route).
      const device = page.getByRole('row').filter({ hasText: `Phone of ${userName}` });
      await device.waitFor();
      const sessionRows = page.getByRole('button', { name: /^Revoke the session started / });
      await sessionRows.first().waitFor();
      expect(await sessionRows.count()).toBe(1);
      if (i === 0) await shot('user-dot');

      // A one-time password for this user.
      const answered = page.waitForResponse((r) => r.request().method() === 'POST' && new URL(r.url()).pathname.startsWith('/api/admin/'));
      await page.getByRole('button', { name: 'Generate one-time password' }).click();
      const reply = await answered;
      expect(reply.status()).toBe(200);
      expect(((await reply.json()) as { UserName: string }).UserName).toBe(userName);
      await page.getByRole('dialog').getByText(`Give this password to ${userName}:`).waitFor();
      await page.getByRole('dialog').getByRole('button', { name: 'Close' }).last().click();
      await page.getByRole('dialog').waitFor({ state: 'detached' });

      // Their MFA device deleted from the page.
      await page.getByRole('button', { name: `Delete the MFA device Phone of ${userName}` }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Delete', exact: true }).click();
      await page.getByText('No MFA devices.').waitFor();
      expect(await server.reg.mfa.listDevices(await server.reg.mfa.userByName(userName))).toEqual([]);

      // The page's address opens it again (a reload, a bookmark, a link).
      await page.goto(`${base}/console/users/${users.get(userName)}`);
      await page.getByRole('heading', { name: userName, exact: true }).waitFor();
    });
  }

  it('opens groups and permission sets named . and .., and a user named . from a group', async () => {
    for (const DisplayName of ['.', '..']) {
      await ids.send(new CreateGroupCommand({ IdentityStoreId: IdentityStoreId(), DisplayName }));
      await new SSOAdminClient(sdkOptions(server)).send(new CreatePermissionSetCommand({ InstanceArn: server.init.instanceArn, Name: DisplayName }));
    }
    await page.goto(`${base}/console/groups`);
    await page.getByRole('searchbox', { name: 'Find a group by exact name' }).fill('..');
    await page.getByRole('link', { name: '..', exact: true }).click();
    await page.getByRole('heading', { name: '..', exact: true }).waitFor();
    await page.getByRole('textbox', { name: 'Username to add', exact: true }).fill('.');
    await page.getByRole('button', { name: 'Add user' }).click();
    await page.getByRole('link', { name: '.', exact: true }).click();
    await page.getByRole('heading', { name: '.', exact: true }).waitFor();
    expect(new URL(page.url()).pathname).toBe(`/console/users/${users.get('.')}`);

    for (const name of ['.', '..']) {
      await page.goto(`${base}/console/permission-sets`);
      await page.getByRole('link', { name, exact: true }).click();
      await page.getByRole('heading', { name, exact: true }).waitFor();
      await page.getByRole('heading', { name: 'AWS managed policies' }).waitFor();
    }
  });

  it('says that an address names nothing, rather than showing another page', async () => {
    for (const [address, said] of [
      ['/console/users/not-a-user-id', 'No user has the id not-a-user-id.'],
      ['/console/users/0000000000-00000000-0000-0000-0000-000000000000', 'No user has the id 0000000000-00000000-0000-0000-0000-000000000000.'],
      ['/console/groups/nothing-here', 'No group has the id nothing-here.'],
      ['/console/permission-sets/ssoins-0000000000000000/ps-0000000000000000', 'No permission set has the id ssoins-0000000000000000/ps-0000000000000000.'],
      ['/console/nowhere', 'There is no console page at /console/nowhere.'],
      // (The server answers a malformed %-escape itself, before the console loads.)
      ['/console/users/50%zz', 'This address could not be read: it holds a malformed %-escape or too long a name.'],
      ['/console/users/a/b', 'There is no console page at /console/users/a/b.'],
    ] as const) {
      await page.goto(`${base}${address}`);
      await page.getByText(said, { exact: true }).waitFor();
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor({ state: 'detached' });
    }
    await shot('not-found');
    await page.getByRole('link', { name: 'Go to the dashboard' }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
  });

  it('had no script errors', () => {
    expect(browserErrors).toEqual([]);
  });
});
