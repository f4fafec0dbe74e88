// The admin console in a real browser (Debian's Chromium through playwright-core). Seed 003's basic
// configuration, end to end through the console alone: an administrator creates users and the
// groups DevOps, Finance and Security, creates an account, assigns PowerUserAccess to DevOps and
// ReadOnlyAccess to Security on it, and sets the portal session duration; then a DevOps user signs
// in to the portal and sees the account with the PowerUserAccess role. The administrator sets MFA
// to always on and the dashboard shows it; a user's TOTP devices are listed on their page and
// removed there. Bad input shows the server's message at the field and saves nothing; a
// ReadOnlyAccess administrator can list but not create, and sees the MFA settings but cannot save
// them; every page and dialog passes an axe-core sweep (no serious or critical violations) and is screenshotted
// into test-artifacts/.

import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Secret, TOTP } from 'otpauth';
import type { Browser, BrowserContext, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { hasChromium, launchChromium, peerAvailable } from '../helpers/peers.js';
import { portalFixture } from '../helpers/portal-fixture.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { ARTIFACTS, ensureAppBuilt, ROOT } from '../helpers/web-build.js';

const ADMIN_PASSWORD = 'Console#Admin-7Kq!';
const DEVOPS_PASSWORD = 'DevOps#Portal-9Zx!';
const AXE = readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
const ACCOUNT = 'Production';

type Violation = { id: string; impact: string | null; help: string; nodes: { target: string[] }[] };

describe.runIf(peerAvailable('chromium', hasChromium))('admin console in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let context: BrowserContext;
  let page: Page;
  let base: string;
  let admin: { userName: string };
  let reader: { userName: string };
  const world = {} as { devopsPassword: string; accountId: string };
  const browserErrors: string[] = [];
  const swept: string[] = [];

  /** Screenshot the page, and fail on any serious or critical axe-core violation. */
  const sweep = async (name: string, on = page) => {
    await on.waitForLoadState('networkidle');
    await on.screenshot({ path: path.join(ARTIFACTS, `console-${name}.png`), fullPage: true, animations: 'disabled' });
    if (!(await on.evaluate('typeof axe !== "undefined"'))) await on.evaluate(AXE);
    const violations = await on.evaluate<Violation[]>('axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations)');
    const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
    expect(serious.map((v) => `${name}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    swept.push(name);
  };
  const watchForErrors = (watched: Page) => {
    watched.on('pageerror', (err) => void browserErrors.push(err.message));
    watched.on('console', (message) => void (message.type() === 'error' && !/status of 4\d\d/.test(message.text()) && browserErrors.push(message.text())));
  };
  const signIn = async (on: Page, userName: string, password: string, at = '/console') => {
    await on.goto(`${base}${at}`);
    expect(new URL(on.url()).pathname).toBe('/login');
    await on.fill('#username', userName);
    await on.click('button[type=submit]');
    await on.fill('#password', password);
    await on.click('button[type=submit]');
  };
  const nav = async (text: string) => {
    // A narrow content area may fold the side navigation away; open it as a person would.
    const open = page.getByRole('button', { name: 'Open side navigation' });
    if (await open.isVisible()) await open.click();
    await page.getByRole('navigation').getByRole('link', { name: text, exact: true }).click();
  };
  const input = (name: string, on: Page | ReturnType<Page['getByRole']> = page) => on.getByRole('textbox', { name, exact: true }).or(on.getByRole('spinbutton', { name, exact: true }));
  const dialog = () => page.getByRole('dialog');
  /** What a field's description and error say (the elements its aria-describedby names). */
  const describedAt = async (field: Locator, on = page) => {
    const ids = ((await field.getAttribute('aria-describedby')) ?? '').split(' ').filter(Boolean);
    return (await Promise.all(ids.map((id) => on.locator(`[id="${id}"]`).innerText()))).join(' ');
  };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await ensureAppBuilt();
    server = await startServer('sqlite', { auditSealMs: 200 });
    base = server.url.replace('127.0.0.1', 'localhost');
    // The first administrators: directory users granted console access (as `atrium admin grant` does).
    const f = portalFixture(server);
    [admin, reader] = await Promise.all([f.newUser(), f.newUser()]);
    const ctx = systemContext('sso.amazonaws.com', 'us-east-1', 'console-e2e');
    for (const u of [admin, reader]) await server.reg.auth.setPassword(ctx, u.userName, { password: ADMIN_PASSWORD, oneTime: false });
    await server.reg.consoleAdmins.grant(ctx, admin.userName, 'AdministratorAccess');
    await server.reg.consoleAdmins.grant(ctx, reader.userName, 'ReadOnlyAccess');

    browser = await launchChromium();
    context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    page = await context.newPage();
    watchForErrors(page);
  }, 180_000);

  afterEach(async (ctx) => {
    if (ctx.task.result?.state === 'fail') await page?.screenshot({ path: path.join(ARTIFACTS, `console-failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}.png`), fullPage: true });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('signs the administrator in and shows the dashboard: instance, region, start URL, identity source, counts', async () => {
    await signIn(page, admin.userName, ADMIN_PASSWORD);
    await page.waitForURL(`${base}/console`);
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.getByText(server.init.instanceArn).waitFor();
    await page.getByRole('link', { name: server.init.startUrl }).waitFor();
    await page.getByText('Identity Center directory').waitFor();
    await page.getByRole('link', { name: '2', exact: true }).waitFor(); // two users so far
    await sweep('01-dashboard');
  });

  it('creates the users, refusing a bad user name with the server message at the field', async () => {
    await nav('Users');
    await page.getByRole('heading', { name: 'Users' }).first().waitFor();
    for (const [userName, given, family] of [
      ['dana.devops', 'Dana', 'Ops'],
      ['fred.finance', 'Fred', 'Numbers'],
      ['sara.security', 'Sara', 'Shield'],
    ]) {
      await page.getByRole('button', { name: 'Add user' }).click();
      await input('Username', dialog()).fill(userName!);
      await input('First name', dialog()).fill(given!);
      await input('Last name', dialog()).fill(family!);
      await input('Email address', dialog()).fill(`${userName}@example.com`);
      if (userName === 'dana.devops') await sweep('02-add-user');
      await dialog().getByRole('button', { name: 'Add user' }).click();
      await page.getByRole('heading', { name: userName, exact: true }).waitFor();
      await nav('Users');
    }

    await page.getByRole('button', { name: 'Add user' }).click();
    await input('Username', dialog()).fill('bad name with spaces');
    await input('First name', dialog()).fill('Bad');
    await input('Last name', dialog()).fill('Name');
    await dialog().getByRole('button', { name: 'Add user' }).click();
    await dialog().getByText('UserName contains characters that are not allowed: letters, digits, punctuation and symbols only, with no spaces.').waitFor();
    await dialog().getByRole('button', { name: 'Cancel' }).click();

    // Filtered on the server: exactly the one user named.
    await page.getByRole('searchbox', { name: 'Find a user by exact user name' }).fill('fred.finance');
    await page.getByRole('link', { name: 'dana.devops' }).waitFor({ state: 'detached' });
    await page.getByRole('link', { name: 'fred.finance' }).waitFor();
    await page.getByRole('searchbox', { name: 'Find a user by exact user name' }).fill('');
    await page.getByRole('link', { name: 'dana.devops' }).waitFor();
    await expect(page.getByRole('link', { name: 'bad name with spaces' }).count()).resolves.toBe(0);
    await sweep('03-users');
  });

  it('gives a user a one-time password, disables and enables them, edits their attributes, and shows their groups, assignments and sessions', async () => {
    await page.getByRole('link', { name: 'dana.devops' }).click();
    await page.getByRole('heading', { name: 'dana.devops', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Generate one-time password' }).click();
    const shown = dialog().getByText(/^\S{12,}$/);
    await shown.waitFor();
    world.devopsPassword = (await shown.innerText()).trim();
    await sweep('04-one-time-password');
    await dialog().getByRole('button', { name: 'Close' }).last().click();
    // Disable, then enable again (as identitystore UpdateUser with UserStatus).
    await page.getByRole('button', { name: 'Disable user' }).click();
    await page.getByRole('button', { name: 'Enable user' }).waitFor();
    await page.getByText('Disabled', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Enable user' }).click();
    await page.getByRole('button', { name: 'Disable user' }).waitFor();
    await page.getByText('Enabled', { exact: true }).waitFor();
    // Edit attributes: one UpdateUser.
    await page.getByRole('button', { name: 'Edit' }).click();
    await input('Display name').fill('Dana Ops (DevOps)');
    await input('Email address').fill('dana@devops.example.com');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('dana@devops.example.com').waitFor();
    await page.getByText('Dana Ops (DevOps)').waitFor();
    await page.getByRole('heading', { name: 'Active sessions' }).waitFor();
    await page.getByText('No active sessions.').waitFor();
    await sweep('05-user-detail');
  });

  it('creates the groups DevOps, Finance and Security and adds their members', async () => {
    for (const [group, member] of [
      ['DevOps', 'dana.devops'],
      ['Finance', 'fred.finance'],
      ['Security', 'sara.security'],
    ]) {
      await nav('Groups');
      await page.getByRole('button', { name: 'Create group' }).click();
      await input('Group name', dialog()).fill(group!);
      if (group === 'DevOps') await sweep('06-create-group');
      await dialog().getByRole('button', { name: 'Create group' }).click();
      await page.getByRole('heading', { name: group, exact: true }).waitFor();
      await input('Username to add').fill(member!);
      await page.getByRole('button', { name: 'Add user' }).click();
      await page.getByRole('link', { name: member }).waitFor();
      if (group === 'DevOps') {
        // Found among the members by exact user name (members are paged on the server).
        const find = page.getByRole('searchbox', { name: 'Find a member by exact user name' });
        await find.fill('fred.finance');
        await page.getByText('fred.finance is not a member.').waitFor();
        await find.fill(member!);
        await page.getByRole('link', { name: member }).waitFor();
        await sweep('06-group-member-search');
        await find.fill('');
        // An unknown user is refused with the server's message at the field.
        await input('Username to add').fill('nobody-here');
        await page.getByRole('button', { name: 'Add user' }).click();
        await page.getByText('No user matches the alternate identifier.').waitFor();
        await sweep('06-group-detail');
      }
    }
    await nav('Groups');
    for (const group of ['DevOps', 'Finance', 'Security']) await page.getByRole('link', { name: group, exact: true }).waitFor();
    await sweep('07-groups');
  });

  it('creates an account in the organization tree, and an OU to move it into', async () => {
    await nav('AWS accounts');
    await page.getByRole('button', { name: 'Create account' }).click();
    await input('Account name', dialog()).fill(ACCOUNT);
    await input("Email address of the account's owner", dialog()).fill('production@example.com');
    await sweep('08-create-account');
    await dialog().getByRole('button', { name: 'Create account' }).click();
    await dialog().waitFor({ state: 'detached', timeout: 30_000 });
    const row = page.getByRole('row').filter({ hasText: ACCOUNT });
    await row.waitFor();
    world.accountId = /\d{12}/.exec(await row.innerText())![0];

    await page.getByRole('button', { name: 'Create organizational unit' }).click();
    await input('Organizational unit name', dialog()).fill('Workloads');
    await sweep('09-create-ou');
    await dialog().getByRole('button', { name: 'Create organizational unit' }).click();
    await page.getByRole('row').filter({ hasText: 'Workloads' }).waitFor();
    await page.getByRole('checkbox', { name: `Select ${ACCOUNT}` }).check();
    await page.getByRole('button', { name: 'Move account' }).click();
    await dialog().getByRole('button', { name: 'Move account' }).waitFor();
    await sweep('09-move-account');
    await dialog().getByRole('button', { name: 'Move account' }).click();
    await dialog().waitFor({ state: 'detached' });
    // Now under the OU: indented one level deeper than before.
    await page.locator('span[style*="padding-left: 48px"]').filter({ hasText: ACCOUNT }).waitFor();
    await sweep('09-accounts');
  });

  it('creates the PowerUserAccess and ReadOnlyAccess permission sets from the predefined ones, and refuses bad input saving nothing', async () => {
    for (const name of ['PowerUserAccess', 'ReadOnlyAccess']) {
      await nav('Permission sets');
      await page.getByRole('button', { name: 'Create permission set' }).click();
      await page.getByRole('radio', { name: new RegExp(`^${name}`) }).check();
      if (name === 'PowerUserAccess') await sweep('10-create-permission-set');
      await page.getByRole('button', { name: 'Create', exact: true }).click();
      await page.getByRole('heading', { name, exact: true }).waitFor();
      await page.getByRole('cell', { name: `arn:aws:iam::aws:policy/${name}` }).waitFor();
    }
    await sweep('11-permission-set-detail');

    // On the set's page: a managed policy attached by ARN and detached, then a customer-managed reference by name.
    const s3 = 'arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess';
    await input('Managed policy ARN').fill(s3);
    await page.getByRole('button', { name: 'Attach', exact: true }).first().click();
    await page.getByRole('cell', { name: s3 }).waitFor();
    await expect(input('Managed policy ARN').inputValue()).resolves.toBe('');
    await page.getByRole('button', { name: 'Detach AmazonS3ReadOnlyAccess' }).click();
    await page.getByRole('cell', { name: s3 }).waitFor({ state: 'detached' });
    await input('Customer managed policy name').fill('TeamReaders');
    await page.getByRole('button', { name: 'Attach', exact: true }).last().click();
    await page.getByRole('cell', { name: 'TeamReaders', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Detach TeamReaders' }).click();
    await page.getByRole('cell', { name: 'TeamReaders', exact: true }).waitFor({ state: 'detached' });

    // A name the API refuses, then an inline policy it refuses: the message shows at the field, and no set is left behind.
    await nav('Permission sets');
    await page.getByRole('button', { name: 'Create permission set' }).click();
    await input('Permission set name').fill('bad name!');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByText('Name may contain only letters, digits and these characters: _+=,.@-.').first().waitFor();
    await page.getByRole('radio', { name: /^Custom permission set/ }).check();
    await input('Permission set name').fill('HalfSaved');
    await page.getByRole('textbox', { name: 'Inline policy' }).fill('{"Version": "2012-10-17", "Statement": [ not json');
    await page.getByRole('button', { name: 'Create', exact: true }).click();
    await page.getByText(/polic/i).and(page.locator('[id*="error"], [class*="error"]')).first().waitFor();
    await sweep('12-permission-set-error');
    await nav('Permission sets');
    await page.getByRole('link', { name: 'PowerUserAccess' }).waitFor();
    await expect(page.getByRole('link', { name: 'HalfSaved' }).count()).resolves.toBe(0);
    await sweep('13-permission-sets');
  });

  it('assigns PowerUserAccess to DevOps and ReadOnlyAccess to Security on the account, showing each provisioning status, and re-provisions', async () => {
    for (const [group, set] of [
      ['DevOps', 'PowerUserAccess'],
      ['Security', 'ReadOnlyAccess'],
    ]) {
      await nav('AWS accounts');
      await page.getByRole('checkbox', { name: `Select ${ACCOUNT}` }).check();
      await page.getByRole('button', { name: 'Assign users or groups' }).click();
      await page.getByRole('checkbox', { name: `Select ${group}` }).check();
      if (group === 'DevOps') await sweep('14-assign-principals');
      await page.getByRole('button', { name: 'Next', exact: true }).click();
      await page.getByRole('checkbox', { name: `Select ${set}` }).check();
      await page.getByRole('button', { name: 'Next', exact: true }).click();
      await page.getByText(`${group} (group)`).waitFor();
      if (group === 'DevOps') await sweep('15-assign-review');
      await page.getByRole('button', { name: 'Submit', exact: true }).last().click();
      await page.getByRole('heading', { name: 'Assignment status' }).waitFor();
      await page.getByText('Succeeded').waitFor({ timeout: 30_000 });
      if (group === 'DevOps') await sweep('16-assign-status');
    }
    // The group's page lists what it was given.
    await nav('Groups');
    await page.getByRole('link', { name: 'DevOps', exact: true }).click();
    await page.getByRole('cell', { name: 'PowerUserAccess' }).waitFor();
    // The permission set knows the account it is provisioned to, and provisions it again on demand.
    await nav('Permission sets');
    await page.getByRole('link', { name: 'PowerUserAccess' }).click();
    await page.getByRole('cell', { name: world.accountId }).waitFor();
    await page.getByRole('button', { name: 'Update in all accounts' }).click();
    await page.getByText('Provisioned to every account').waitFor({ timeout: 30_000 });
  });

  it('sets the portal session duration (refusing an out-of-range one with a message at the field), and shows the identity source, SCIM tokens, access control attributes and administrators', async () => {
    await nav('Settings');
    await page.getByRole('tab', { name: 'Authentication' }).click();
    const duration = input('Session duration (minutes)');
    await duration.fill('5');
    await page.getByRole('button', { name: 'Save authentication settings' }).click();
    await expect.poll(() => describedAt(duration)).toContain('Enter a whole number of minutes from 15 to 129,600.');
    expect((await server.reg.instance.get()).settings.sessionDurationMinutes).toBe(480);
    await sweep('17-settings-error');
    await duration.fill('720');
    await page.getByRole('button', { name: 'Save authentication settings' }).click();
    await page.getByText(/^Saved/).waitFor();
    const stored = await server.reg.read.instance.findInstance();
    expect(stored?.settings.sessionDurationMinutes).toBe(720);
    await sweep('18-settings-authentication');
    await page.getByRole('tab', { name: 'Identity source' }).click();
    await page.getByText('Service provider entity ID').waitFor();
    await sweep('19-settings-identity-source');
    await page.getByRole('tab', { name: 'Automatic provisioning' }).click();
    await page.getByRole('button', { name: 'Generate token' }).click();
    await page.getByText('Access token created').waitFor();
    await sweep('20-settings-scim');
    await page.getByRole('tab', { name: 'Attributes for access control' }).click();
    await page.getByRole('button', { name: 'Add attribute' }).click();
    await input('Key of attribute 1').fill('Department');
    await input('Source of attribute 1').fill('${path:enterprise.department}');
    await page.getByRole('button', { name: 'Enable with these attributes' }).click();
    await page.getByRole('button', { name: 'Save attributes' }).waitFor();
    await sweep('21-settings-abac');
    await page.getByRole('tab', { name: 'Console administrators' }).click();
    await page.getByRole('cell', { name: reader.userName }).waitFor();
    await sweep('21-settings-administrators-list');
  });

  it('finds the changes in the event history, made by the administrator', async () => {
    await nav('Audit: event history');
    await page.getByRole('button', { name: 'Lookup attribute' }).click();
    await page.getByRole('option', { name: 'EventName' }).click();
    await input('Lookup value').fill('CreateGroup');
    await expect
      .poll(
        async () => {
          await page.getByRole('button', { name: 'Search' }).click();
          await page.waitForLoadState('networkidle');
          return page.getByRole('row').filter({ hasText: admin.userName }).count();
        },
        { timeout: 15_000 },
      )
      .toBe(3);
    await sweep('22-audit');
  });

  it('lets the DevOps user sign in to the portal and see the account with the PowerUserAccess role', async () => {
    const devops = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    try {
      const portal = await devops.newPage();
      await signIn(portal, 'dana.devops', world.devopsPassword, '/start');
      await portal.waitForURL(/\/login\/change-password/);
      await portal.fill('#new_password', DEVOPS_PASSWORD);
      await portal.fill('#confirm_password', DEVOPS_PASSWORD);
      await portal.click('button[type=submit]');
      await portal.waitForURL(`${base}/start`);
      await portal.getByText(ACCOUNT, { exact: true }).click();
      await portal.getByText('PowerUserAccess', { exact: true }).waitFor();
      await expect(portal.getByText('ReadOnlyAccess', { exact: true }).count()).resolves.toBe(0);
      await portal.screenshot({ path: path.join(ARTIFACTS, 'console-23-devops-portal.png'), fullPage: true });
      // Not an administrator: the console refuses them.
      const refused = await portal.goto(`${base}/console`);
      expect(refused?.status()).toBe(403);
    } finally {
      await devops.close();
    }
  });

  it('lets a ReadOnlyAccess administrator list but not create', async () => {
    const readOnly = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    try {
      const p = await readOnly.newPage();
      await signIn(p, reader.userName, ADMIN_PASSWORD);
      await p.waitForURL(`${base}/console`);
      await p.getByRole('navigation').getByRole('link', { name: 'Users', exact: true }).click();
      await p.getByRole('link', { name: 'dana.devops' }).waitFor();
      await expect(p.getByRole('button', { name: 'Add user' }).count()).resolves.toBe(0);
      await p.getByRole('navigation').getByRole('link', { name: 'Groups', exact: true }).click();
      await p.getByRole('link', { name: 'Security', exact: true }).waitFor();
      await expect(p.getByRole('button', { name: 'Create group' }).count()).resolves.toBe(0);
      await sweep('24-read-only-groups', p);
      // The server refuses a change from this session whatever the page offers.
      const status = await p.evaluate(async () => {
        const session = (await (await fetch('/api/portal/session')).json()) as { csrfToken: string };
        const r = await fetch('/', {
          method: 'POST',
          headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSIdentityStore.CreateGroup', 'x-csrf-token': session.csrfToken },
          body: JSON.stringify({ IdentityStoreId: 'd-0000000000', DisplayName: 'ReaderMade' }),
        });
        return `${r.status} ${r.headers.get('x-amzn-errortype')}`;
      });
      expect(status).toBe('403 AccessDeniedException');

      // The MFA settings and sign-in protection are shown with nothing to save, and the server
      // refuses a save from this session.
      await p.getByRole('navigation').getByRole('link', { name: 'Settings', exact: true }).click();
      await p.getByRole('tab', { name: 'Authentication' }).click();
      await p.getByRole('heading', { name: 'Multi-factor authentication' }).waitFor();
      await p.getByRole('heading', { name: 'Sign-in protection' }).waitFor();
      expect(await p.getByRole('radio', { name: /^Disabled/ }).isChecked()).toBe(true);
      expect(await input('Failures per user name before back-off', p).inputValue()).toBe('5');
      await expect(p.getByRole('button', { name: /^Save/ }).count()).resolves.toBe(0);
      await sweep('25-read-only-mfa-settings', p);
      const put = await p.evaluate(async () => {
        const session = (await (await fetch('/api/portal/session')).json()) as { csrfToken: string };
        const r = await fetch('/api/admin/mfa/settings', {
          method: 'PUT',
          headers: { 'content-type': 'application/json', 'x-csrf-token': session.csrfToken },
          body: JSON.stringify({ Mode: 'ALWAYS_ON' }),
        });
        return `${r.status} ${r.headers.get('x-amzn-errortype')}`;
      });
      expect(put).toBe('403 AccessDeniedException');
      expect((await server.reg.read.instance.findInstance())?.settings.mfa.mode).toBe('DISABLED');
    } finally {
      await readOnly.close();
    }
  });

  it('sets MFA to always on and sign-in protection (refusing bad values with a message at the field), and shows the mode on the dashboard', async () => {
    await nav('Settings');
    await page.getByRole('tab', { name: 'Authentication' }).click();
    await page.getByRole('heading', { name: 'Multi-factor authentication' }).waitFor();
    await page.getByRole('radio', { name: /^Always on/ }).check();
    const remember = input('Remember a browser for (days)');
    await remember.fill('0');
    await page.getByRole('button', { name: 'Save MFA settings' }).click();
    await expect.poll(() => describedAt(remember)).toContain('mfa.rememberDays must be a whole number from 1 to 365.');
    expect((await server.reg.read.instance.findInstance())?.settings.mfa).toMatchObject({ mode: 'DISABLED', rememberDays: 30 });
    await sweep('26-mfa-settings-error');
    // The administrator has an authenticator app, but this session never needed it.
    const ctx = systemContext('sso.amazonaws.com', 'us-east-1', 'console-e2e');
    const self = await server.reg.mfa.userByName(admin.userName);
    const e = await server.reg.mfa.beginTotpEnrolment(self);
    const totp = new TOTP({ secret: Secret.fromBase32(e.secret), digits: 6, period: 30, algorithm: 'SHA1' });
    await server.reg.mfa.confirmTotpEnrolment(ctx, self, { enrolmentId: e.enrolmentId, name: 'Admin phone', code: totp.generate() });
    await remember.fill('14');
    await page.getByRole('button', { name: 'Save MFA settings' }).click();
    await expect.poll(async () => (await server.reg.read.instance.findInstance())?.settings.mfa).toMatchObject({ mode: 'ALWAYS_ON', rememberDays: 14, allowedDeviceTypes: ['TOTP', 'WEBAUTHN'] });
    // MFA now applies to this session too: the console sends it to confirm a second factor, then back.
    await page.waitForURL(/\/login\/mfa\/step-up\?return_to=%2Fconsole$/);
    await sweep('27-mfa-step-up');
    // (The next step's code: this step's was used to register the app.)
    await page.fill('#code', totp.generate({ timestamp: Date.now() + 30_000 }));
    await page.click('button[type=submit]');
    await page.waitForURL(`${base}/console`);
    await nav('Settings');
    await page.getByRole('tab', { name: 'Authentication' }).click();
    await page.getByRole('radio', { name: /^Always on/ }).waitFor();
    expect(await page.getByRole('radio', { name: /^Always on/ }).isChecked()).toBe(true);
    await sweep('27-mfa-settings');

    const lockout = input('Lock-out (minutes)');
    await lockout.fill('0');
    await input('Failures per user name before back-off').fill('7');
    await page.getByRole('button', { name: 'Save sign-in protection' }).click();
    await expect.poll(() => describedAt(lockout)).toContain('Enter a whole number of minutes from 1 to 10,080.');
    expect((await server.reg.read.instance.findInstance())?.settings.signInProtection).toMatchObject({ lockoutMinutes: 15, userFreeFailures: 5 });
    await sweep('28-sign-in-protection-error');
    await lockout.fill('30');
    await page.getByRole('button', { name: 'Save sign-in protection' }).click();
    await expect.poll(async () => (await server.reg.read.instance.findInstance())?.settings.signInProtection).toMatchObject({ lockoutMinutes: 30, userFreeFailures: 7 });

    await nav('Dashboard');
    await page.getByRole('link', { name: 'Always on', exact: true }).waitFor();
    await sweep('29-dashboard-mfa');
  });

  it("lists a user's MFA devices on their page, and deletes one and resets the rest, each after a confirmation", async () => {
    const ctx = systemContext('sso.amazonaws.com', 'us-east-1', 'console-e2e');
    const dana = await server.reg.mfa.userByName('dana.devops');
    const enrol = async (name: string) => {
      const e = await server.reg.mfa.beginTotpEnrolment(dana);
      const code = new TOTP({ secret: Secret.fromBase32(e.secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate();
      await server.reg.mfa.confirmTotpEnrolment(ctx, dana, { enrolmentId: e.enrolmentId, name, code });
    };
    const openDana = async () => {
      await nav('Users');
      await page.getByRole('link', { name: 'dana.devops' }).click();
      await page.getByRole('heading', { name: 'MFA devices' }).waitFor();
    };
    await enrol('Dana phone');
    await openDana();
    await page.getByRole('row').filter({ hasText: 'Dana phone' }).filter({ hasText: 'Authenticator app' }).waitFor();
    await sweep('30-user-mfa-devices');
    await page.getByRole('button', { name: 'Delete the MFA device Dana phone' }).click();
    await dialog().getByText('Delete the MFA device "Dana phone" of dana.devops?', { exact: false }).waitFor();
    await sweep('31-delete-mfa-device');
    await dialog().getByRole('button', { name: 'Delete', exact: true }).click();
    await page.getByText('No MFA devices.').waitFor();
    expect(await server.reg.mfa.listDevices(dana)).toEqual([]);

    await enrol('Backup app');
    await enrol('Tablet app');
    // Dana is signed in (with one of them, say): the reset ends her sessions, and her page shows it.
    await server.reg.auth.signInFederated(ctx, { ...dana, status: 'ENABLED' }, 'SAML');
    await openDana();
    await page.getByRole('cell', { name: 'Tablet app', exact: true }).waitFor();
    await page.getByRole('button', { name: 'Revoke all sessions' }).waitFor();
    await page.getByRole('button', { name: 'Reset MFA' }).click();
    await dialog().getByText('Delete every MFA device of dana.devops? Their portal sessions end too', { exact: false }).waitFor();
    await sweep('32-reset-mfa');
    await dialog().getByRole('button', { name: 'Reset MFA' }).click();
    await page.getByText('No MFA devices.').waitFor();
    await page.getByText('No active sessions.').waitFor();
    expect(await server.reg.mfa.listDevices(dana)).toEqual([]);
    expect(await server.reg.auth.listSessions('dana.devops')).toEqual([]);
  });

  it('swept every page, with no script errors', () => {
    expect(swept.length).toBeGreaterThanOrEqual(35);
    expect(browserErrors).toEqual([]);
  });
});
