// Editing through the admin console in a real browser (Debian's Chromium through playwright-core),
// where a form must change what the administrator changed and nothing else. Editing one attribute
// of a user with several emails (as SCIM or the identitystore API makes them) keeps the others and
// shows the primary email. An administrator renamed after their grant still gets the console of
// their grant. "Load more events" continues a filtered audit search. A permission set's description
// and relay state are removed by emptying them. Common mistakes are explained in words, at the
// field they are about. A user's page loads its sessions and assignments once, however often it
// renders again.

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { CreateGroupCommand, CreateUserCommand, DescribeUserCommand, IdentitystoreClient, ListUsersCommand, UpdateUserCommand } from '@aws-sdk/client-identitystore';
import { CreatePermissionSetCommand, DescribePermissionSetCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { hasChromium, launchChromium, peerAvailable } from '../helpers/peers.js';
import { portalFixture, suffix, type PortalUser } from '../helpers/portal-fixture.js';
import { sdkOptions, startServer, type TestServer } from '../helpers/server.js';
import { ARTIFACTS, ensureAppBuilt } from '../helpers/web-build.js';

const PASSWORD = 'Console#Edits-5Rt!';

describe.runIf(peerAvailable('chromium', hasChromium))('admin console edits in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let base: string;
  let ids: IdentitystoreClient;
  let admin: PortalUser;
  const browserErrors: string[] = [];
  const ctx = systemContext('sso.amazonaws.com', 'us-east-1', 'console-edits-e2e');
  const IdentityStoreId = () => server.init.identityStoreId;

  const signIn = async (on: Page, userName: string) => {
    await on.goto(`${base}/console`);
    await on.fill('#username', userName);
    await on.click('button[type=submit]');
    await on.fill('#password', PASSWORD);
    await on.click('button[type=submit]');
    await on.waitForURL(`${base}/console`);
  };
  const newPage = async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const p = await context.newPage();
    p.on('pageerror', (err) => void browserErrors.push(err.message));
    p.on('console', (message) => void (message.type() === 'error' && !/status of 4\d\d/.test(message.text()) && browserErrors.push(message.text())));
    return p;
  };
  const input = (name: string, on: Page | ReturnType<Page['getByRole']> = page) => on.getByRole('textbox', { name, exact: true });
  /** One awsJson call from the signed-in page, as the console makes it. */
  const consoleCall = <T>(target: string, body: unknown, on = page) =>
    on.evaluate(
      async ([target, body]) => {
        const session = (await (await fetch('/api/portal/session')).json()) as { csrfToken: string };
        const r = await fetch('/', { method: 'POST', headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target, 'x-csrf-token': session.csrfToken }, body: JSON.stringify(body) });
        return (await r.json()) as T;
      },
      [target, body] as const,
    );
  /** What a field's description and error say (the elements its aria-describedby names). */
  const describedAt = async (field: Locator, on = page) => {
    const ids = ((await field.getAttribute('aria-describedby')) ?? '').split(' ').filter(Boolean);
    return (await Promise.all(ids.map((id) => on.locator(`[id="${id}"]`).innerText()))).join(' ');
  };
  const describeUser = async (UserId: string) => ids.send(new DescribeUserCommand({ IdentityStoreId: IdentityStoreId(), UserId }));

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await ensureAppBuilt();
    server = await startServer('sqlite', { auditSealMs: 200 });
    base = server.url.replace('127.0.0.1', 'localhost');
    ids = new IdentitystoreClient(sdkOptions(server));
    admin = await portalFixture(server).newUser();
    await server.reg.auth.setPassword(ctx, admin.userName, { password: PASSWORD, oneTime: false });
    await server.reg.consoleAdmins.grant(ctx, admin.userName, 'AdministratorAccess');
    browser = await launchChromium();
    page = await newPage();
    await signIn(page, admin.userName);
  }, 180_000);

  afterEach(async (t) => {
    if (t.task.result?.state === 'fail') await page?.screenshot({ path: path.join(ARTIFACTS, `console-edits-failed-${t.task.name.slice(0, 40).replace(/\W+/g, '-')}.png`), fullPage: true });
  });

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it("shows a user's primary email, and an edit of one attribute keeps their other emails, names and phone numbers", async () => {
    const UserName = `multi-${suffix()}`;
    const { UserId } = await ids.send(
      new CreateUserCommand({
        IdentityStoreId: IdentityStoreId(),
        UserName,
        DisplayName: 'Multi Mail',
        Name: { GivenName: 'Mia', FamilyName: 'Mail', MiddleName: 'Q' },
        Title: 'Engineer',
        Emails: [
          { Value: 'home@example.com', Type: 'home' },
          { Value: 'work@example.com', Type: 'work', Primary: true },
        ],
        PhoneNumbers: [{ Value: '+1 555 0100', Type: 'work' }],
      }),
    );
    const before = await describeUser(UserId!);

    // The list and the page show the primary email, not the first.
    await page.goto(`${base}/console/users`);
    await page.getByRole('searchbox', { name: 'Find a user by exact user name' }).fill(UserName);
    const row = page.getByRole('row').filter({ hasText: UserName });
    await row.getByText('work@example.com').waitFor();
    await row.getByRole('link', { name: UserName }).click();
    await page.getByRole('heading', { name: UserName, exact: true }).waitFor();
    await page.getByText('work@example.com', { exact: true }).waitFor();
    expect(await page.getByText('home@example.com').count()).toBe(0);

    // Only the display name changes: everything else is as it was.
    await page.getByRole('button', { name: 'Edit' }).click();
    expect(await input('Email address').inputValue()).toBe('work@example.com');
    await input('Display name').fill('Multi Renamed');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('Multi Renamed', { exact: true }).waitFor();
    const renamed = await describeUser(UserId!);
    expect(renamed.DisplayName).toBe('Multi Renamed');
    const kept = (u: typeof before) => ({ ...u, DisplayName: undefined, UpdatedAt: undefined, UpdatedBy: undefined, $metadata: undefined });
    expect(kept(renamed)).toEqual(kept(before));

    // Changing the email changes the primary one's address only: its type, and the home email, stay.
    await page.getByRole('button', { name: 'Edit' }).click();
    await input('Email address').fill('mia@work.example.com');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByText('mia@work.example.com', { exact: true }).waitFor();
    const moved = await describeUser(UserId!);
    expect(moved.Emails).toEqual([
      { Value: 'home@example.com', Type: 'home' },
      { Value: 'mia@work.example.com', Type: 'work', Primary: true },
    ]);
    expect(moved.Name).toEqual(before.Name);
    expect(moved.PhoneNumbers).toEqual(before.PhoneNumbers);
  });

  it('offers a renamed administrator the changes their grant allows', async () => {
    const carol = await portalFixture(server).newUser();
    await server.reg.auth.setPassword(ctx, carol.userName, { password: PASSWORD, oneTime: false });
    await server.reg.consoleAdmins.grant(ctx, carol.userName, 'AdministratorAccess');
    const renamed = `${carol.userName}.smith`;
    await ids.send(new UpdateUserCommand({ IdentityStoreId: IdentityStoreId(), UserId: carol.userId, Operations: [{ AttributePath: 'userName', AttributeValue: renamed }] }));
    const p = await newPage();
    try {
      await signIn(p, renamed);
      await p.getByRole('button', { name: renamed }).waitFor();
      await p.goto(`${base}/console/users`);
      await p.getByRole('heading', { name: 'Users' }).first().waitFor();
      await p.getByRole('link', { name: renamed, exact: true }).waitFor();
      await p.getByRole('button', { name: 'Add user' }).waitFor();
      await p.goto(`${base}/console/groups`);
      await p.getByRole('button', { name: 'Create group' }).waitFor();
    } finally {
      await p.context().close();
    }
  });

  it('loads more events of a filtered audit search', async () => {
    const GROUPS = 60;
    for (let i = 0; i < GROUPS; i++) {
      await ids.send(new CreateGroupCommand({ IdentityStoreId: IdentityStoreId(), DisplayName: `audit-${String(i).padStart(2, '0')}` }));
      // Other events between them, which the filter leaves out.
      if (i % 10 === 0) await ids.send(new CreateUserCommand({ IdentityStoreId: IdentityStoreId(), UserName: `audit-user-${i}`, DisplayName: 'A', Name: { GivenName: 'A', FamilyName: 'U' } }));
    }
    // Wait until the sealer has chained them all (LookupEvents shows only sealed events).
    const sealed = async () => {
      let count = 0;
      let NextToken: string | undefined;
      do {
        const r = await consoleCall<{ Events: unknown[]; NextToken?: string }>('com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.LookupEvents', {
          LookupAttributes: [{ AttributeKey: 'EventName', AttributeValue: 'CreateGroup' }],
          MaxResults: 50,
          ...(NextToken ? { NextToken } : {}),
        });
        count += r.Events.length;
        NextToken = r.NextToken;
      } while (NextToken);
      return count;
    };
    await expect.poll(sealed).toBe(GROUPS);

    await page.goto(`${base}/console/audit`);
    await page.getByRole('button', { name: 'Lookup attribute' }).click();
    await page.getByRole('option', { name: 'EventName' }).click();
    await input('Lookup value').fill('CreateGroup');
    await page.getByRole('button', { name: 'Search' }).click();
    const rows = page.getByRole('row').filter({ hasText: 'CreateGroup' });
    await expect.poll(() => rows.count()).toBe(50);
    await page.getByRole('button', { name: 'Load more events' }).click();
    await expect.poll(() => rows.count()).toBe(GROUPS);
    expect(await page.getByRole('row').filter({ hasText: 'CreateUser' }).count()).toBe(0);
    expect(await page.getByText('The NextToken is not valid').count()).toBe(0);
    await page.getByRole('button', { name: 'Load more events' }).waitFor({ state: 'detached' });
  });

  it("removes a permission set's description and relay state when their fields are emptied", async () => {
    const sso = new SSOAdminClient(sdkOptions(server));
    const Name = `Clear${suffix()}`;
    const InstanceArn = server.init.instanceArn;
    const { PermissionSet } = await sso.send(new CreatePermissionSetCommand({ InstanceArn, Name, Description: 'Old description', SessionDuration: 'PT4H', RelayState: 'https://console.aws.amazon.com/s3' }));
    await page.goto(`${base}/console/permission-sets`);
    await page.getByRole('link', { name: Name, exact: true }).click();
    await page.getByRole('heading', { name: Name, exact: true }).waitFor();
    await page.getByText('Old description', { exact: true }).waitFor();
    await page.getByRole('button', { name: 'Edit' }).click();
    await input('Description').fill('');
    await input('Relay state').fill('');
    await page.getByRole('button', { name: 'Save changes' }).click();
    await page.getByRole('button', { name: 'Edit' }).waitFor();
    await page.getByText('Old description').waitFor({ state: 'detached' });
    expect(await page.getByText('https://console.aws.amazon.com/s3').count()).toBe(0);
    const after = (await sso.send(new DescribePermissionSetCommand({ InstanceArn, PermissionSetArn: PermissionSet!.PermissionSetArn! }))).PermissionSet!;
    expect([after.Description, after.RelayState, after.SessionDuration]).toEqual([undefined, undefined, 'PT4H']);
  });

  it('says what is missing or wrong in words, at the field it is about', async () => {
    const dialog = page.getByRole('dialog');
    // Add user without first and last name: both are asked for, and nothing is sent.
    await page.goto(`${base}/console/users`);
    await page.getByRole('button', { name: 'Add user' }).click();
    await input('Username', dialog).fill('newbie');
    await input('Display name', dialog).fill('New Bie');
    await dialog.getByRole('button', { name: 'Add user' }).click();
    await expect.poll(() => describedAt(input('First name', dialog))).toContain('Enter a first name.');
    expect(await describedAt(input('Last name', dialog))).toContain('Enter a last name.');
    expect(await describedAt(input('Username', dialog))).not.toContain('name');
    await input('First name', dialog).fill('New');
    await input('Last name', dialog).fill('Bie');
    await input('Email address', dialog).fill('not-an-email');
    await dialog.getByRole('button', { name: 'Add user' }).click();
    await expect.poll(() => describedAt(input('Email address', dialog))).toContain('Enter an email address, such as name@example.com.');
    expect(await describedAt(input('First name', dialog))).not.toContain('Enter');
    expect((await ids.send(new ListUsersCommand({ IdentityStoreId: IdentityStoreId(), Filters: [{ AttributePath: 'UserName', AttributeValue: 'newbie' }] }))).Users).toEqual([]);
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // A group without a name: the server's refusal, in words.
    await page.goto(`${base}/console/groups`);
    await page.getByRole('button', { name: 'Create group' }).click();
    await dialog.getByRole('button', { name: 'Create group' }).click();
    await expect.poll(() => describedAt(input('Group name', dialog))).toBe('DisplayName must not be empty.');
    await dialog.getByRole('button', { name: 'Cancel' }).click();

    // A customer-managed policy's bad path: at the Path field, whether the page or the server finds it.
    const psName = `Paths${suffix()}`;
    await new SSOAdminClient(sdkOptions(server)).send(new CreatePermissionSetCommand({ InstanceArn: server.init.instanceArn, Name: psName }));
    await page.goto(`${base}/console/permission-sets`);
    await page.getByRole('link', { name: psName, exact: true }).click();
    await page.getByRole('heading', { name: 'Customer managed policies' }).waitFor();
    const name = input('Customer managed policy name');
    const policyPath = input('Customer managed policy path');
    const attach = page.getByRole('button', { name: 'Attach', exact: true }).last();
    await name.fill('TeamReaders');
    await policyPath.fill('nopath');
    await attach.click();
    await expect.poll(() => describedAt(policyPath)).toContain('Enter a path that starts and ends with /, such as / or /team/.');
    await policyPath.fill('/two words/');
    await attach.click();
    await expect.poll(() => describedAt(policyPath)).toContain('CustomerManagedPolicyReference.Path must start and end with /');
    expect(await describedAt(name)).toBe('');
    expect(await page.getByText(/must match pattern|Too small|expected int/).count()).toBe(0);
  });

  it("does not load a user's sessions and assignments again while the page around them changes", async () => {
    const user = await portalFixture(server).newUser();
    const loads = { sessions: 0, assignments: 0 };
    const count = (request: { url(): string; headers(): Record<string, string> }) => {
      if (new URL(request.url()).pathname === '/api/admin/sessions') loads.sessions++;
      if (request.headers()['x-amz-target']?.endsWith('.ListAccountAssignmentsForPrincipal')) loads.assignments++;
    };
    page.on('request', count);
    try {
      await page.goto(`${base}/console/users/${user.userId}`);
      await page.getByText('No active sessions.').waitFor();
      await page.getByText('No assignments.').waitFor();
      await page.waitForLoadState('networkidle');
      // (A development build's StrictMode mounts everything twice: what counts is that nothing loads again.)
      const loaded = { ...loads };
      expect(loaded.sessions).toBeGreaterThan(0);
      await page.getByRole('button', { name: 'Generate one-time password' }).click();
      await page.getByRole('dialog').getByRole('button', { name: 'Close' }).last().click();
      await page.getByRole('dialog').waitFor({ state: 'detached' });
      await page.getByRole('button', { name: 'Disable user' }).click();
      await page.getByRole('button', { name: 'Enable user' }).click();
      await page.getByRole('button', { name: 'Disable user' }).waitFor();
      await page.waitForLoadState('networkidle');
      await page.getByText('No active sessions.').waitFor();
      expect(loads).toEqual(loaded);
    } finally {
      page.off('request', count);
    }
  });

  it('had no script errors', () => {
    expect(browserErrors).toEqual([]);
  });
});
