// `npm run build && node bench/console.mjs`: the admin console in Debian's Chromium
// (playwright-core), against `atrium serve` over SQLite with BENCH_USERS users (100,000).
//   - firstLoad: the gzipped JavaScript /console transfers on a cold load (target <= 1.5 MB, code
//     split per page), beside the access portal's first load (/start) from the same run;
//   - usersPage: from a click on "Users" to the first page of users on screen (target <= 500 ms),
//     and a cold load of /console/users to the same point; beside, from the same page, the round
//     trip of the trivial /healthz route and of the ListUsers call the page makes.
// Env: BENCH_USERS (100000), BENCH_ROUNDS (7). Prints one JSON object (also written to
// .bench-results/console-<time>.json).

import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { loadConfig } from '../dist/config/config.js';
import { createRegistry } from '../dist/registry.js';
import { systemContext } from '../dist/shared/context.js';
import { newPrincipalId } from '../dist/shared/ids.js';
import { createLogger } from '../dist/shared/logger.js';
import { BIN, ROOT, machine, percentile, runJson, startAndWait, stop } from './lib.mjs';

const USERS = Number(process.env.BENCH_USERS ?? 100_000);
const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 7);
const PASSWORD = 'Bench#Console-7Kq!';
const log = (...a) => console.error('[bench:console]', ...a);
const median = (xs) => percentile([...xs].sort((a, b) => a - b), 50);

const results = { machine: machine(), when: new Date().toISOString(), users: USERS };
const dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-bench-console-'));
const init = runJson(['init', '--data-dir', dataDir, '--json']);

// Setup, not the subject: the users straight into the store, in one transaction; an administrator.
const reg = await createRegistry(loadConfig({ dataDir, logLevel: 'silent' }, {}), { log: createLogger('silent') });
try {
  const ctx = systemContext('identitystore.amazonaws.com', 'us-east-1', 'bench-console');
  const at = Date.now();
  const storeId = init.identityStoreId;
  await reg.tx.transaction(async (s) => {
    for (let i = 0; i < USERS; i++) {
      await s.directory.insertUser({
        identityStoreId: storeId,
        userId: newPrincipalId(reg.ids, storeId),
        profile: { userName: `bench-${String(i).padStart(6, '0')}`, displayName: `Bench ${i}`, name: { givenName: 'Bench', familyName: String(i) } },
        status: 'ENABLED',
        externalIds: [],
        created: { at, by: 'bench' },
        updated: { at, by: 'bench' },
        version: 1,
      });
    }
  });
  const adminId = await reg.directory.createUser(ctx, storeId, { profile: { userName: 'console-admin', displayName: 'Console Admin', name: { givenName: 'Console', familyName: 'Admin' } } });
  await reg.auth.setPassword(ctx, 'console-admin', { password: PASSWORD, oneTime: false });
  await reg.consoleAdmins.grant(ctx, 'console-admin', 'AdministratorAccess');
  log('seeded', USERS, 'users; admin', adminId);
} finally {
  await reg.close();
}

const port = 21000 + Math.floor(Math.random() * 1000);
const base = `http://localhost:${port}`;
const server = await startAndWait([BIN, 'serve', '--data-dir', dataDir, '--port', String(port)], port);
const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
try {
  /** Load `at` and wait for `ready`: how long it took, and the gzipped JavaScript it transferred. */
  const measureLoad = async (page, at, ready) => {
    const scripts = [];
    page.on('requestfinished', (request) => {
      if (request.resourceType() === 'script') scripts.push(request.sizes().then((s) => ({ url: request.url(), bytes: s.responseBodySize })));
    });
    const t0 = performance.now();
    await page.goto(`${base}${at}`);
    await ready(page);
    const ms = performance.now() - t0;
    const atReady = scripts.length;
    await page.waitForLoadState('networkidle');
    const sizes = await Promise.all(scripts);
    const sum = (list) => list.reduce((n, s) => n + s.bytes, 0);
    return { ms, readyGzipBytes: sum(sizes.slice(0, atReady)), readyFiles: atReady, gzipBytes: sum(sizes), files: sizes.length };
  };

  // Each figure in a fresh context, signed in through the sign-in pages (which load no JavaScript): nothing is cached.
  const signedIn = async () => {
    const context = await browser.newContext({ viewport: { width: 1366, height: 900 } });
    const page = await context.newPage();
    await page.goto(`${base}/login?return_to=/healthz`);
    await page.fill('#username', 'console-admin');
    await page.click('button[type=submit]');
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    await page.waitForURL(`${base}/healthz`);
    return { context, page };
  };
  const firstRow = (page) => page.getByRole('table').getByRole('link', { name: /^(bench-|console-admin)/ }).first().waitFor();
  {
    const { context, page } = await signedIn();
    const portal = await measureLoad(page, '/start', (p) => p.getByRole('heading').first().waitFor());
    await context.close();
    const c = await signedIn();
    const consoleLoad = await measureLoad(c.page, '/console', (p) => p.getByRole('heading', { name: 'Dashboard' }).waitFor());
    await c.context.close();
    results.firstLoad = {
      // Until the dashboard shows; then, with the other pages the console fetches while idle.
      consoleGzipKiB: Math.round(consoleLoad.readyGzipBytes / 1024),
      consoleScripts: consoleLoad.readyFiles,
      consoleWithIdlePrefetchGzipKiB: Math.round(consoleLoad.gzipBytes / 1024),
      consoleWithIdlePrefetchScripts: consoleLoad.files,
      consoleMs: Math.round(consoleLoad.ms),
      portalGzipKiB: Math.round(portal.gzipBytes / 1024),
      portalScripts: portal.files,
      portalMs: Math.round(portal.ms),
    };
    log('first load', results.firstLoad);
  }

  const clicks = [];
  const cold = [];
  const healthz = [];
  const listUsers = [];
  for (let round = 0; round < ROUNDS; round++) {
    const { context, page } = await signedIn();
    cold.push((await measureLoad(page, '/console/users', firstRow)).ms);
    await page.getByRole('navigation').getByRole('link', { name: 'Dashboard', exact: true }).click();
    await page.getByRole('heading', { name: 'Dashboard' }).waitFor();
    await page.waitForLoadState('networkidle');
    const t0 = performance.now();
    await page.getByRole('navigation').getByRole('link', { name: 'Users', exact: true }).click();
    await firstRow(page);
    clicks.push(performance.now() - t0);
    const probes = await page.evaluate(async (identityStoreId) => {
      const csrf = (await (await fetch('/api/portal/session')).json()).csrfToken;
      const time = async (f) => {
        const t = performance.now();
        await f();
        return performance.now() - t;
      };
      return {
        healthz: await time(() => fetch('/healthz').then((r) => r.text())),
        listUsers: await time(() =>
          fetch('/', {
            method: 'POST',
            headers: { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSIdentityStore.ListUsers', 'x-csrf-token': csrf },
            body: JSON.stringify({ IdentityStoreId: identityStoreId, MaxResults: 50 }),
          }).then((r) => r.json()),
        ),
      };
    }, init.identityStoreId);
    healthz.push(probes.healthz);
    listUsers.push(probes.listUsers);
    await context.close();
  }
  results.usersPage = {
    clickToFirstPageMedianMs: Math.round(median(clicks)),
    clickToFirstPageMaxMs: Math.round(Math.max(...clicks)),
    coldLoadToFirstPageMedianMs: Math.round(median(cold)),
    baselineHealthzRoundTripMedianMs: Number(median(healthz).toFixed(1)),
    listUsersRoundTripMedianMs: Number(median(listUsers).toFixed(1)),
  };
  log('users page', results.usersPage);
} finally {
  await browser.close();
  await stop(server.child);
  rmSync(dataDir, { recursive: true, force: true });
}

mkdirSync(path.join(ROOT, '.bench-results'), { recursive: true });
writeFileSync(path.join(ROOT, '.bench-results', `console-${Date.now()}.json`), JSON.stringify(results, null, 2));
process.stdout.write(JSON.stringify(results) + '\n');
