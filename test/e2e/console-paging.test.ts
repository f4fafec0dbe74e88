// The admin console shows everything, however many there are (issue 8), in a real browser (Debian's
// Chromium through playwright-core), on SQLite and PostgreSQL. Seeded through the AWS APIs past the
// console's old caps: 1,100 users, a group with 150 members, a user in 120 groups and 121 groups in
// all. The administrator pages to the 150th member and removes them, finds a member by user name,
// pages through all 120 of a user's groups and finds one by name, pages the groups list past 100, sees the dashboard count
// every user and group, and in the "Assign users or groups" wizard finds user #1,050 by name, picks
// another user on another page, and assigns both (the picks are kept across pages and searches);
// a permission set provisioned to 110 accounts lists every one of them, and stays on its last page
// when the permission set is saved.
// Every page passes an axe-core sweep and is screenshotted into test-artifacts/.

import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import {
  CreateGroupCommand,
  CreateGroupMembershipCommand,
  CreateUserCommand,
  IdentitystoreClient,
  paginateListGroupMemberships,
} from '@aws-sdk/client-identitystore';
import { ListAccountAssignmentsForPrincipalCommand, ListPermissionSetsCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import type { Browser, Locator, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { consolePage, signInToConsole } from '../helpers/console.js';
import { hasChromium, launchChromium, peerAvailable } from '../helpers/peers.js';
import { portalFixture } from '../helpers/portal-fixture.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';
import { ARTIFACTS, ensureAppBuilt, ROOT } from '../helpers/web-build.js';

const PASSWORD = 'Console#Paging-4Wd!';
const AXE = readFileSync(path.join(ROOT, 'node_modules/axe-core/axe.min.js'), 'utf8');
const USERS = 1100;
const MEMBERS = 150;
const GROUPS_OF_ONE_USER = 120;
const ACCOUNTS = 110;
const pad = (n: number, width: number) => String(n).padStart(width, '0');
const userName = (n: number) => `p-user-${pad(n, 4)}`;
const groupName = (n: number) => `p-group-${pad(n, 3)}`;

type Violation = { id: string; impact: string | null; help: string; nodes: { target: string[] }[] };

/** Run `task(0..count-1)`, `width` at a time. */
async function inParallel<T>(count: number, width: number, task: (i: number) => Promise<T>): Promise<T[]> {
  const out: T[] = new Array<T>(count);
  let next = 0;
  await Promise.all(
    Array.from({ length: width }, async () => {
      while (next < count) {
        const i = next++;
        out[i] = await task(i);
      }
    }),
  );
  return out;
}

for (const dialect of dialects()) {
  describe.runIf(peerAvailable('chromium', hasChromium))(`admin console past the old list caps in Chromium (${dialect})`, () => {
    let server: TestServer;
    let browser: Browser;
    let page: Page;
    let base: string;
    let ids: IdentitystoreClient;
    const world = {} as { bigGroupId: string; userIds: string[]; accountId: string; permissionSet: string };
    const browserErrors: string[] = [];

    const sweep = async (name: string) => {
      await page.waitForLoadState('networkidle');
      await page.screenshot({ path: path.join(ARTIFACTS, `console-paging-${dialect}-${name}.png`), fullPage: true, animations: 'disabled' });
      if (!(await page.evaluate('typeof axe !== "undefined"'))) await page.evaluate(AXE);
      const violations = await page.evaluate<Violation[]>('axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations)');
      const serious = violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
      expect(serious.map((v) => `${name}: ${v.id} (${v.impact}) ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`)).toEqual([]);
    };
    type Scope = Page | Locator;
    /** The table's page shown now (its pagination's current page number). */
    const currentPage = async (scope: Scope) => Number((await scope.locator('button[aria-current="true"]').first().innerText()).trim());
    /** Wait until the table has shown the page it is on (not "Loading ..."). */
    const loaded = (loadingText: string) => expect.poll(() => page.getByText(loadingText, { exact: true }).count()).toBe(0);
    /** Move to the next page of the table (the only one in `scope`) and wait for its rows. */
    const nextPage = async (loadingText: string, scope: Scope = page) => {
      const n = await currentPage(scope);
      await scope.getByRole('button', { name: 'Next page' }).click();
      await scope.locator('button[aria-current="true"]', { hasText: String(n + 1) }).waitFor();
      await loaded(loadingText);
    };
    const lastPage = async (scope: Scope = page) => await scope.getByRole('button', { name: 'Next page' }).isDisabled();
    /** Page forward until `target` shows. */
    const pageUntil = async (target: Locator, loadingText: string) => {
      await loaded(loadingText);
      while (!(await target.isVisible())) {
        if (await lastPage()) throw new Error('not on any page');
        await nextPage(loadingText);
      }
    };

    beforeAll(async () => {
      mkdirSync(ARTIFACTS, { recursive: true });
      await ensureAppBuilt();
      server = await startServer(dialect, { auditSealMs: 200 });
      base = server.url.replace('127.0.0.1', 'localhost');
      const f = portalFixture(server);
      const admin = await f.newUser();
      const ctx = systemContext('sso.amazonaws.com', 'us-east-1', 'console-paging-e2e');
      await server.reg.auth.setPassword(ctx, admin.userName, { password: PASSWORD, oneTime: false });
      await server.reg.consoleAdmins.grant(ctx, admin.userName, 'AdministratorAccess');

      // Seeded through the identitystore API, as a SCIM client or script would.
      ids = new IdentitystoreClient(sdkOptions(server));
      const IdentityStoreId = server.init.identityStoreId;
      world.userIds = await inParallel(USERS, 8, async (i) => {
        const UserName = userName(i + 1);
        return (await ids.send(new CreateUserCommand({ IdentityStoreId, UserName, DisplayName: UserName, Name: { GivenName: 'P', FamilyName: pad(i + 1, 4) } }))).UserId!;
      });
      const groupIds = await inParallel(GROUPS_OF_ONE_USER, 8, async (i) => (await ids.send(new CreateGroupCommand({ IdentityStoreId, DisplayName: groupName(i + 1) }))).GroupId!);
      world.bigGroupId = (await ids.send(new CreateGroupCommand({ IdentityStoreId, DisplayName: 'Everyone-150' }))).GroupId!;
      await inParallel(MEMBERS, 8, (i) => ids.send(new CreateGroupMembershipCommand({ IdentityStoreId, GroupId: world.bigGroupId, MemberId: { UserId: world.userIds[i]! } })));
      await inParallel(GROUPS_OF_ONE_USER, 8, (i) => ids.send(new CreateGroupMembershipCommand({ IdentityStoreId, GroupId: groupIds[i]!, MemberId: { UserId: world.userIds[0]! } })));
      world.accountId = (await f.newAccount()).accountId;
      world.permissionSet = (await f.newPermissionSet('PagingAccess')).name;

      browser = await launchChromium();
      page = await consolePage(browser, browserErrors);
      await signInToConsole(page, base, admin.userName, PASSWORD);
    }, 600_000);

    afterEach(async (ctx) => {
      if (ctx.task.result?.state === 'fail') await page?.screenshot({ path: path.join(ARTIFACTS, `console-paging-${dialect}-failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}.png`), fullPage: true });
    });

    afterAll(async () => {
      await browser?.close();
      await server?.close();
    });

    it('counts every user and group on the dashboard', async () => {
      await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
      await page.getByRole('link', { name: (USERS + 1).toLocaleString('en-US'), exact: true }).waitFor(); // and the administrator
      await page.getByRole('link', { name: String(GROUPS_OF_ONE_USER + 1), exact: true }).waitFor({ timeout: 30_000 });
      await sweep('01-dashboard');
    });

    it('pages the groups list past 100, and finds a group by name', async () => {
      await page.goto(`${base}/console/groups`);
      await loaded('Loading groups');
      await nextPage('Loading groups');
      await nextPage('Loading groups');
      // Groups 101 to 121 are on the third page of 50.
      await expect.poll(() => page.getByRole('link', { name: /^(p-group-\d{3}|Everyone-150)$/ }).count()).toBe(21);
      expect(await lastPage()).toBe(true);
      await sweep('02-groups-page-3');
      await page.getByRole('searchbox', { name: 'Find a group by exact name' }).fill(groupName(120));
      await page.getByRole('link', { name: groupName(120), exact: true }).waitFor();
      await expect.poll(() => page.getByRole('link', { name: /^p-group-/ }).count()).toBe(1);
    });

    it('pages to the 150th member of a group and removes them, and finds a member by user name', async () => {
      await page.goto(`${base}/console/groups/${world.bigGroupId}`);
      await page.getByRole('heading', { name: 'Everyone-150', exact: true }).waitFor();
      const last = page.getByRole('link', { name: userName(MEMBERS), exact: true });
      await pageUntil(last, 'Loading members');
      await sweep('03-group-members-paged');
      await page.getByRole('button', { name: `Remove ${userName(MEMBERS)} from the group` }).click();
      await last.waitFor({ state: 'detached' });
      await loaded('Loading members');
      expect(await page.getByRole('link', { name: /^p-user-\d{4}$/ }).count()).toBeGreaterThan(0);
      const left = [];
      for await (const p of paginateListGroupMemberships({ client: ids }, { IdentityStoreId: server.init.identityStoreId, GroupId: world.bigGroupId })) left.push(...(p.GroupMemberships ?? []));
      expect(left).toHaveLength(MEMBERS - 1);
      expect(left.map((m) => m.MemberId?.UserId)).not.toContain(world.userIds[MEMBERS - 1]);

      // Counting from the first page: 149 now.
      await page.reload();
      await page.getByRole('heading', { name: 'Everyone-150', exact: true }).waitFor();
      await loaded('Loading members');
      let seen = await page.getByRole('link', { name: /^p-user-\d{4}$/ }).count();
      while (!(await lastPage())) {
        await nextPage('Loading members');
        seen += await page.getByRole('link', { name: /^p-user-\d{4}$/ }).count();
      }
      expect(seen).toBe(MEMBERS - 1);

      // Found by exact user name, on the server.
      const find = page.getByRole('searchbox', { name: 'Find a member by exact user name' });
      await find.fill(userName(149));
      await page.getByRole('link', { name: userName(149), exact: true }).waitFor();
      await expect.poll(() => page.getByRole('link', { name: /^p-user-\d{4}$/ }).count()).toBe(1);
      await page.getByRole('button', { name: `Remove ${userName(149)} from the group` }).waitFor();
      await find.fill(userName(MEMBERS));
      await page.getByText(`${userName(MEMBERS)} is not a member.`).waitFor();
      await sweep('04-group-member-found');
    });

    it("pages through all 120 of a user's groups on their page, and finds one by exact name", async () => {
      await page.goto(`${base}/console/users/${world.userIds[0]}`);
      await page.getByRole('heading', { name: userName(1), exact: true }).waitFor();
      await loaded('Loading groups');
      const names = new Set<string>();
      const collect = async () => {
        for (const link of await page.getByRole('link', { name: /^p-group-\d{3}$/ }).all()) names.add(await link.innerText());
      };
      await collect();
      // The page's groups table (its sessions are paged too).
      const groups = page
        .locator('div')
        .filter({ has: page.getByRole('heading', { name: 'Groups', exact: true }) })
        .filter({ has: page.getByRole('button', { name: 'Next page' }) })
        .filter({ has: page.getByRole('table') })
        .last();
      while (!(await lastPage(groups))) {
        await nextPage('Loading groups', groups);
        await collect();
      }
      expect(names.size).toBe(GROUPS_OF_ONE_USER);
      expect(names).toContain(groupName(GROUPS_OF_ONE_USER));
      await sweep('05-user-groups-last-page');

      // Found by exact group name, on the server; a group they are not in finds nothing.
      const find = page.getByRole('searchbox', { name: 'Find a group by exact name' });
      await find.fill(groupName(7));
      await page.getByRole('link', { name: groupName(7), exact: true }).waitFor();
      await expect.poll(() => page.getByRole('link', { name: /^p-group-\d{3}$/ }).count()).toBe(1);
      await find.fill('no-such-group');
      await page.getByText('Not a member of no-such-group.').waitFor();
    });

    it('assigns user #1,050 (found by name) and a user picked on another page, keeping both picks across pages and the page across a step back', async () => {
      await page.goto(`${base}/console/accounts/assign?accounts=${world.accountId}`);
      await page.getByRole('tab', { name: /^Users/ }).click();
      await loaded('Loading users');
      const search = page.getByRole('searchbox', { name: 'Find a user by exact user name' });
      await search.fill(userName(1050));
      await page.getByRole('checkbox', { name: `Select ${userName(1050)}`, exact: true }).check();
      await search.fill('');
      await page.getByRole('checkbox', { name: `Select ${userName(1050)}`, exact: true }).waitFor({ state: 'detached' });
      await loaded('Loading users');
      await nextPage('Loading users');
      const other = page.getByRole('checkbox', { name: /^Select p-user-\d{4}$/ }).first();
      const otherName = ((await other.getAttribute('aria-label')) ?? '').replace(/^Select /, '');
      expect(otherName).toMatch(/^p-user-\d{4}$/);
      await other.check();
      await page.getByRole('tab', { name: 'Users (2 selected)' }).waitFor();
      await sweep('06-assign-users-page-2');
      // Back to the search: the first pick is still picked.
      await search.fill(userName(1050));
      expect(await page.getByRole('checkbox', { name: `Select ${userName(1050)}`, exact: true }).isChecked()).toBe(true);

      // A step forward and back again finds the Users tab on the page it was left at, its pick kept.
      await search.fill('');
      await page.getByRole('checkbox', { name: `Select ${userName(1050)}`, exact: true }).waitFor({ state: 'detached' });
      await loaded('Loading users');
      await nextPage('Loading users');
      await page.getByRole('checkbox', { name: `Select ${otherName}`, exact: true }).waitFor();
      await page.getByRole('button', { name: 'Next', exact: true }).click();
      await page.getByRole('checkbox', { name: `Select ${world.permissionSet}` }).waitFor();
      await page.getByRole('button', { name: 'Previous', exact: true }).click();
      expect(await page.getByRole('checkbox', { name: `Select ${otherName}`, exact: true }).isChecked()).toBe(true);
      expect(await page.getByRole('tab', { name: 'Users (2 selected)' }).getAttribute('aria-selected')).toBe('true');

      await page.getByRole('button', { name: 'Next', exact: true }).click();
      await page.getByRole('checkbox', { name: `Select ${world.permissionSet}` }).check();
      await page.getByRole('button', { name: 'Next', exact: true }).click();
      await page.getByText(`${userName(1050)} (user)`).waitFor();
      await page.getByText(`${otherName} (user)`).waitFor();
      await page.getByRole('button', { name: 'Submit', exact: true }).last().click();
      await page.getByRole('heading', { name: 'Assignment status' }).waitFor();
      await expect.poll(() => page.getByText('Succeeded', { exact: true }).count(), { timeout: 30_000 }).toBe(2);
      await sweep('07-assign-status');

      const sso = new SSOAdminClient(sdkOptions(server));
      const assigned = await sso.send(
        new ListAccountAssignmentsForPrincipalCommand({ InstanceArn: server.init.instanceArn, PrincipalType: 'USER', PrincipalId: world.userIds[1049]! }),
      );
      expect(assigned.AccountAssignments?.map((a) => a.AccountId)).toEqual([world.accountId]);
    });

    it('pages through all 110 accounts a permission set is provisioned to, and stays on that page when the permission set is saved', async () => {
      const f = portalFixture(server);
      const accounts = await inParallel(ACCOUNTS - 1, 8, async () => (await f.newAccount()).accountId);
      const sso = new SSOAdminClient(sdkOptions(server));
      const arn = (await sso.send(new ListPermissionSetsCommand({ InstanceArn: server.init.instanceArn }))).PermissionSets!.find((a) => a)!;
      await inParallel(accounts.length, 8, (i) => f.assignment('create', accounts[i]!, arn, 'USER', world.userIds[0]!));
      await page.goto(`${base}/console/permission-sets/${arn.split('/').slice(-2).join('/')}`);
      await page.getByRole('heading', { name: world.permissionSet, exact: true }).waitFor();
      await loaded('Loading accounts');
      const table = page
        .locator('div')
        .filter({ has: page.getByRole('heading', { name: 'AWS accounts provisioned to' }) })
        .filter({ has: page.getByRole('button', { name: 'Next page' }) })
        .filter({ has: page.getByRole('table') })
        .last();
      const seen = new Set<string>();
      const collect = async () => {
        for (const id of await table.getByText(/^\d{12}$/).all()) seen.add((await id.innerText()).trim());
      };
      await collect();
      while (!(await lastPage(table))) {
        await nextPage('Loading accounts', table);
        await collect();
      }
      expect([...seen].sort()).toEqual([world.accountId, ...accounts].sort());
      await sweep('08-permission-set-accounts-last-page');

      // Saving the permission set's settings keeps the list on the page it was on.
      const onLastPage = async () => [...new Set((await table.getByText(/^\d{12}$/).allInnerTexts()).map((t) => t.trim()))].sort();
      const before = await onLastPage();
      await page.getByRole('button', { name: 'Edit', exact: true }).click();
      await page.getByRole('textbox', { name: 'Description' }).fill('Paged past 100 accounts');
      await page.getByRole('button', { name: 'Save changes', exact: true }).click();
      await page.getByText('Paged past 100 accounts').waitFor();
      expect(await lastPage(table)).toBe(true);
      expect(before).toHaveLength(ACCOUNTS % 50);
      const after = await onLastPage();
      expect(after).toEqual(before);
    }, 300_000);

    it('had no script errors', () => {
      expect(browserErrors).toEqual([]);
    });
  });
}
