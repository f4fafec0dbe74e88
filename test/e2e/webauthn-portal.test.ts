// The access portal's MFA devices view in Chromium: the user's authenticator apps and keys listed,
// renamed and removed from the React app, with the change on the server (and refusals shown).

import { existsSync } from 'node:fs';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createUserWithPassword, OATHTOOL, oathtool } from '../helpers/mfa.js';
import { ensureAppBuilt } from '../helpers/web-build.js';
import { hasChromium, launchChromium, peerAvailable } from '../helpers/peers.js';
import { startServer, type TestServer } from '../helpers/server.js';

const PASSWORD = 'Portal#Mfa-4Kd';

describe.runIf(peerAvailable('chromium', hasChromium) && existsSync(OATHTOOL))('MFA devices in the access portal', () => {
  let server: TestServer;
  let browser: Browser;

  beforeAll(async () => {
    await ensureAppBuilt();
    server = await startServer('sqlite');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await server?.close();
  });

  it('lists the devices, renames one and removes another, and shows a refused rename', async () => {
    const userId = await createUserWithPassword(server, 'pia', PASSWORD);
    const page = await browser.newPage();
    await page.goto(`${server.url}/login?return_to=${encodeURIComponent('/mfa/devices/totp')}`);
    await page.fill('#username', 'pia');
    await page.click('button[type=submit]');
    await page.fill('#password', PASSWORD);
    await page.click('button[type=submit]');
    for (const name of ['Phone', 'Tablet']) {
      if (!page.url().endsWith('/mfa/devices/totp')) await page.goto(`${server.url}/mfa/devices/totp`);
      const secret = (await page.textContent('#totp-secret'))!;
      await page.fill('#device_name', name);
      await page.fill('#code', oathtool(secret));
      await page.click('button[type=submit]');
      await page.waitForURL(`${server.url}/mfa/devices`);
    }

    await page.goto(`${server.url}/start/mfa`);
    await expect.poll(() => page.getByRole('row').count()).toBe(3);
    expect(await page.getByRole('row', { name: /Phone/ }).textContent()).toContain('Authenticator app');

    await page.getByRole('button', { name: 'Rename Tablet' }).click();
    await page.getByLabel('New name for Tablet').fill('Old tablet');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.getByRole('row', { name: /Old tablet/ }).count()).toBe(1);

    // A clash is refused by the server, and the portal says why.
    await page.getByRole('button', { name: 'Rename Old tablet' }).click();
    await page.getByLabel('New name for Old tablet').fill('Phone');
    await page.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => page.textContent('body')).toContain('You already have a device named Phone');

    await page.goto(`${server.url}/start/mfa`);
    await page.getByRole('button', { name: 'Remove Phone' }).click();
    await expect.poll(() => page.getByRole('row').count()).toBe(2);
    const left = await server.reg.mfa.listDevices({ identityStoreId: server.init.identityStoreId, userId });
    expect(left.map((d) => d.name)).toEqual(['Old tablet']);
    await page.close();
  });
});
