// A Chromium page of the admin console, for the console's browser tests.

import type { Browser, Page } from 'playwright-core';

/**
 * A new page (1366×900); with `errors`, what the page reports as failing lands there: uncaught
 * errors and console errors other than the browser's own notes of 4xx answers, which tests provoke.
 */
export async function consolePage(browser: Browser, errors?: string[]): Promise<Page> {
  const page = await (await browser.newContext({ viewport: { width: 1366, height: 900 } })).newPage();
  if (errors) {
    page.on('pageerror', (err) => void errors.push(err.message));
    page.on('console', (message) => void (message.type() === 'error' && !/status of 4\d\d/.test(message.text()) && errors.push(message.text())));
  }
  return page;
}

/** Signs in through the console's sign-in pages (user name, then password) and waits for the console. */
export async function signInToConsole(page: Page, base: string, userName: string, password: string): Promise<void> {
  await page.goto(`${base}/console`);
  await page.fill('#username', userName);
  await page.click('button[type=submit]');
  await page.fill('#password', password);
  await page.click('button[type=submit]');
  await page.waitForURL(`${base}/console`);
}
