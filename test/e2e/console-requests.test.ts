// The admin console's first load of each main page, in a real browser (Debian's Chromium through
// playwright-core), with the build `npm run build` makes: every API request it makes is made once.
// (Doubled requests came from a build made under vitest, whose NODE_ENV gave React's development
// build and StrictMode's doubled effects, and from the dashboard asking again for the overview the
// frame had just loaded.)

import { mkdirSync } from 'node:fs';
import path from 'node:path';
import type { Browser, Page, Request } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { consolePage, signInToConsole } from '../helpers/console.js';
import { hasChromium, launchChromium, peerAvailable } from '../helpers/peers.js';
import { portalFixture, type PortalUser } from '../helpers/portal-fixture.js';
import { startServer, type TestServer } from '../helpers/server.js';
import { ARTIFACTS, ensureAppBuilt } from '../helpers/web-build.js';

const PASSWORD = 'Console#Requests-8Lm!';

/** An API request as the server sees it: the same key twice is the same request made twice. */
function apiRequestKey(request: Request): string | undefined {
  const url = new URL(request.url());
  const api = url.pathname.startsWith('/api/') || (url.pathname === '/' && request.method() === 'POST');
  if (!api) return undefined;
  return [request.method(), url.pathname + url.search, request.headers()['x-amz-target'] ?? '', request.postData() ?? ''].join(' ');
}

describe.runIf(peerAvailable('chromium', hasChromium))('admin console first loads in Chromium', () => {
  let server: TestServer;
  let browser: Browser;
  let page: Page;
  let base: string;
  let admin: PortalUser;
  const world = {} as { user: PortalUser; groupId: string; account: { accountId: string; name: string }; permissionSet: { name: string; arn: string } };

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    await ensureAppBuilt();
    server = await startServer('sqlite', { auditSealMs: 200 });
    base = server.url.replace('127.0.0.1', 'localhost');
    const f = portalFixture(server);
    admin = await f.newUser();
    const ctx = systemContext('sso.amazonaws.com', 'us-east-1', 'console-requests-e2e');
    await server.reg.auth.setPassword(ctx, admin.userName, { password: PASSWORD, oneTime: false });
    await server.reg.consoleAdmins.grant(ctx, admin.userName, 'AdministratorAccess');
    // Something on every page: a user in a group, assigned a permission set on an account.
    world.user = await f.newUser();
    world.groupId = (await f.newGroup(world.user)).groupId;
    world.account = await f.newAccount();
    world.permissionSet = await f.newPermissionSet();
    await f.assignment('create', world.account.accountId, world.permissionSet.arn, 'USER', world.user.userId);

    browser = await launchChromium();
    page = await consolePage(browser);
    await signInToConsole(page, base, admin.userName, PASSWORD);
    // The console the sign-in landed on finishes loading first: its requests are not the first test page's.
    await page.waitForLoadState('networkidle');
  }, 180_000);

  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  /** The API requests of a first load of `address`, once `shown` is on the page and the network is quiet. */
  const firstLoad = async (address: string, shown: (p: Page) => Promise<void>) => {
    const made: string[] = [];
    const listen = (request: Request) => {
      const key = apiRequestKey(request);
      if (key) made.push(key);
    };
    page.on('request', listen);
    try {
      await page.goto(`${base}${address}`);
      await shown(page);
      await page.waitForLoadState('networkidle');
    } finally {
      page.off('request', listen);
    }
    return made;
  };

  it('makes each API request of a main page’s first load once', async () => {
    const pages: [string, (p: Page) => Promise<void>][] = [
      ['/console', (p) => p.getByRole('link', { name: '2', exact: true }).first().waitFor()],
      ['/console/users', (p) => p.getByRole('link', { name: world.user.userName }).waitFor()],
      [`/console/users/${world.user.userId}`, (p) => p.getByRole('cell', { name: world.permissionSet.name }).waitFor()],
      ['/console/groups', (p) => p.getByRole('link', { name: /^group-/ }).waitFor()],
      [`/console/groups/${world.groupId}`, (p) => p.getByRole('link', { name: world.user.userName }).waitFor()],
      ['/console/accounts', (p) => p.getByRole('row').filter({ hasText: world.account.name }).waitFor()],
      ['/console/permission-sets', (p) => p.getByRole('link', { name: world.permissionSet.name }).waitFor()],
      [`/console/permission-sets/${world.permissionSet.arn.split('/').slice(-2).join('/')}`, (p) => p.getByRole('cell', { name: world.account.name }).waitFor()],
      ['/console/settings', (p) => p.getByText('Service provider entity ID').waitFor()],
      ['/console/audit', (p) => p.getByRole('heading', { name: 'Event history' }).waitFor()],
    ];
    const doubled: Record<string, string[]> = {};
    const counts: Record<string, number> = {};
    for (const [address, shown] of pages) {
      const made = await firstLoad(address, shown);
      counts[address] = made.length;
      const twice = [...new Set(made.filter((key, i) => made.indexOf(key) !== i))];
      if (twice.length) doubled[address] = twice;
    }
    await page.screenshot({ path: path.join(ARTIFACTS, 'console-requests-last-page.png'), fullPage: true, animations: 'disabled' });
    expect(doubled).toEqual({});
    // (Each page did load its data: the frame's session, overview and grants, and its own.)
    for (const [address, n] of Object.entries(counts)) expect(n, address).toBeGreaterThan(3);
  });
});
