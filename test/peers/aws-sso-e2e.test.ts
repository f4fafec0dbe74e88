// Debian's AWS CLI v2, unchanged, end to end: `aws sso login` (the device code approved in Debian's
// headless Chromium: sign in, confirm the code), then
// get-caller-identity through the portal's GetRoleCredentials, `aws sso list-accounts`, a refresh of
// an expired cached token through refresh_token, and cached credentials that fail once the
// assignment is deleted.

import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oidcServiceOf } from '../../src/protocols/oidc/index.js';
import { systemContext } from '../../src/shared/context.js';
import { AWS_CLI, hasAwsCli, hasChromium, launchChromium, peerAvailable, peerEnv, run, startSsoLogin, writeSsoProfile, type PeerEnv } from '../helpers/peers.js';
import { dialects, startServer, type TestServer } from '../helpers/server.js';
import { portalFixture, type PortalUser } from '../helpers/portal-fixture.js';

const PASSWORD = 'Cli#Device-4Zq!';
const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');

describe.runIf(peerAvailable('awscli', hasAwsCli) && peerAvailable('chromium', hasChromium)).each(dialects())('aws sso end to end on %s', (dialect) => {
  let server: TestServer;
  let env: PeerEnv;
  let f: ReturnType<typeof portalFixture>;
  let user: PortalUser;
  let account: { accountId: string; name: string };
  let role: { name: string; arn: string };
  let expectedArn: RegExp;

  beforeAll(async () => {
    server = await startServer(dialect);
    f = portalFixture(server);
    account = await f.newAccount();
    user = await f.newUser();
    await server.reg.auth.setPassword(systemContext('sso.amazonaws.com', 'us-east-1', 'test'), user.userName, { password: PASSWORD, oneTime: false });
    role = await f.newPermissionSet('DevAccess', 'PT4H');
    await f.assignment('create', account.accountId, role.arn, 'USER', user.userId);
    expectedArn = new RegExp(`^arn:aws:sts::${account.accountId}:assumed-role/AWSReservedSSO_DevAccess_[0-9a-f]{16}/${user.userName}$`);
    env = peerEnv(server.url, server.credentials);
    // Only the SSO profile may supply credentials.
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;
    writeSsoProfile(env, server.init.startUrl, account.accountId, 'DevAccess');
  });
  afterAll(async () => {
    await server?.close();
  });

  const aws = (...args: string[]) => run(AWS_CLI, [...args, '--output', 'json'], env);
  const cliCredentialCache = () => path.join(env.HOME!, '.aws', 'cli', 'cache');

  /** The CLI's cached SSO token: ~/.aws/sso/cache/<sha1 of the session name>.json. */
  function cachedToken(): { file: string; content: Record<string, string> } {
    const dir = path.join(env.HOME!, '.aws', 'sso', 'cache');
    const entries = readdirSync(dir).map((f) => ({ file: path.join(dir, f), content: JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Record<string, string> }));
    const found = entries.find((e) => e.content.accessToken);
    if (!found) throw new Error(`no SSO token in ${dir}`);
    return found;
  }

  // `--access-token=…` in one argument: a token may begin with '-', which would read as an option.
  it('logs in, then get-caller-identity prints the assumed role and list-accounts shows the account', async () => {
    const { userCode, verificationUrl, finish } = await startSsoLogin(env);
    // A person opens the printed link, signs in and confirms the code.
    const browser = await launchChromium();
    try {
      const page = await browser.newPage();
      await page.goto(verificationUrl);
      await page.fill('input[name=username]', user.userName);
      await page.click('button[type=submit]');
      await page.fill('input[name=password]', PASSWORD);
      await page.click('button[type=submit]');
      await page.waitForURL(/\/device\?user_code=/);
      expect(await page.textContent('#user-code')).toBe(userCode);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: path.join(ARTIFACTS, `aws-sso-login-device-${dialect}.png`) });
      await page.click('button[value=approve]');
      await expect.poll(() => page.textContent('[role=status]')).toContain('Request approved');
    } finally {
      await browser.close();
    }
    const { code, stderr } = await finish();
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });

    const me = await aws('sts', 'get-caller-identity', '--profile', 'dev');
    expect(me.code, me.stderr).toBe(0);
    expect((JSON.parse(me.stdout) as { Arn: string }).Arn).toMatch(expectedArn);

    const accounts = await aws('sso', 'list-accounts', `--access-token=${cachedToken().content.accessToken!}`, '--region', 'us-east-1');
    expect(accounts.code, accounts.stderr).toBe(0);
    expect((JSON.parse(accounts.stdout) as { accountList: unknown[] }).accountList).toEqual([
      { accountId: account.accountId, accountName: account.name, emailAddress: `${account.name}@example.com` },
    ]);
    const roles = await aws('sso', 'list-account-roles', `--access-token=${cachedToken().content.accessToken!}`, '--account-id', account.accountId, '--region', 'us-east-1');
    expect(roles.code, roles.stderr).toBe(0);
    expect((JSON.parse(roles.stdout) as { roleList: unknown[] }).roleList).toEqual([{ roleName: 'DevAccess', accountId: account.accountId }]);
  });

  it('refreshes an expired cached access token through refresh_token and works again', async () => {
    const before = cachedToken();
    writeFileSync(before.file, JSON.stringify({ ...before.content, expiresAt: new Date(Date.now() - 60_000).toISOString() }));
    // Without cached role credentials, the CLI needs a valid access token for GetRoleCredentials.
    rmSync(cliCredentialCache(), { recursive: true, force: true });
    const me = await aws('sts', 'get-caller-identity', '--profile', 'dev');
    expect(me.code, me.stderr).toBe(0);
    expect((JSON.parse(me.stdout) as { Arn: string }).Arn).toMatch(expectedArn);
    const after = cachedToken();
    expect(after.content.accessToken).not.toBe(before.content.accessToken);
    expect(after.content.refreshToken).not.toBe(before.content.refreshToken);
    expect(new Date(after.content.expiresAt!).getTime()).toBeGreaterThan(Date.now());
    expect(await oidcServiceOf(server.reg).resolveAccessToken(after.content.accessToken!)).toMatchObject({ userId: user.userId });
  });

  it('fails with the cached credentials once the assignment is deleted, and cannot get new ones', async () => {
    expect(existsSync(cliCredentialCache()) && readdirSync(cliCredentialCache()).length).toBe(1);
    await f.assignment('delete', account.accountId, role.arn, 'USER', user.userId);

    const cached = await aws('sts', 'get-caller-identity', '--profile', 'dev');
    expect(cached.code).not.toBe(0);
    expect(cached.stderr).toContain('InvalidClientTokenId');
    // The credentials came from the CLI's cache: GetRoleCredentials was not asked again.
    expect(readdirSync(cliCredentialCache())).toHaveLength(1);

    rmSync(cliCredentialCache(), { recursive: true, force: true });
    const fresh = await aws('sts', 'get-caller-identity', '--profile', 'dev');
    expect(fresh.code).not.toBe(0);
    expect(fresh.stderr).toContain('ForbiddenException');
    expect(fresh.stderr).toContain('No access');
  });
});
