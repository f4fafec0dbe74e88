// Debian's AWS CLI v2, unchanged, logs in with `aws sso login --no-browser` (approved in-process); then
// the JS SDK's own SSO token provider refreshes the CLI's expired cached token through refresh_token.

import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { CreateTokenCommand, SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { oidcServiceOf } from '../../src/protocols/oidc/index.js';
import { systemContext } from '../../src/shared/context.js';
import { hasAwsCli, peerAvailable, peerEnv, run, startSsoLogin, writeSsoProfile, type PeerEnv } from '../helpers/peers.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

describe.runIf(peerAvailable('awscli', hasAwsCli)).each(dialects())('aws sso login on %s', (dialect) => {
  let server: TestServer;
  let env: PeerEnv;
  let user: { userId: string; userName: string };

  beforeAll(async () => {
    server = await startServer(dialect);
    env = peerEnv(server.url, server.credentials);
    writeSsoProfile(env, server.init.startUrl, server.init.managementAccountId, 'AdministratorAccess');
    const ids = new IdentitystoreClient(sdkOptions(server));
    const created = await ids.send(
      new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: 'cli-login', DisplayName: 'Cli Login', Name: { GivenName: 'Cli', FamilyName: 'Login' } }),
    );
    user = { userId: created.UserId!, userName: 'cli-login' };
  });
  afterAll(async () => {
    await server?.close();
  });

  it('logs in through the device code the CLI prints, and caches the token', async () => {
    const { userCode, verificationUrl, finish } = await startSsoLogin(env);
    expect(verificationUrl).toContain(`${server.url}/device`);
    const ctx = systemContext('sso.amazonaws.com', 'us-east-1', server.reg.newRequestId(), 'device-page');
    await oidcServiceOf(server.reg).approveDevice(ctx, userCode, user, 'approve');

    const { code, stdout, stderr } = await finish();
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain(`Successfully logged into Start URL: ${server.init.startUrl}`);

    const token = cachedToken();
    expect(token.content).toMatchObject({ startUrl: server.init.startUrl, region: 'us-east-1', refreshToken: expect.any(String) });
    expect(await oidcServiceOf(server.reg).resolveAccessToken(token.content.accessToken!)).toMatchObject({ userId: user.userId, userName: 'cli-login' });
  });

  it("refreshes the CLI's expired token through the SDK's SSO token provider, with rotation", async () => {
    const before = cachedToken();
    writeFileSync(before.file, JSON.stringify({ ...before.content, expiresAt: new Date(Date.now() - 60_000).toISOString() }));
    // A separate process, so that the provider reads this HOME and config as a user's would.
    const script = [
      "import { fromSso } from '@aws-sdk/token-providers';",
      `const t = await fromSso({ profile: 'dev', clientConfig: { endpoint: ${JSON.stringify(server.url)} } })();`,
      'console.log(JSON.stringify(t));',
    ].join('\n');
    const refreshed = await run(process.execPath, ['--input-type=module', '-e', script], env);
    expect(refreshed.code, refreshed.stderr).toBe(0);
    const fresh = JSON.parse(refreshed.stdout) as { token: string };
    expect(fresh.token).not.toBe(before.content.accessToken);
    expect(await oidcServiceOf(server.reg).resolveAccessToken(fresh.token)).toMatchObject({ userId: user.userId });
    const after = cachedToken();
    expect(after.content.accessToken).toBe(fresh.token);
    expect(after.content.refreshToken).not.toBe(before.content.refreshToken);

    // The superseded refresh token, replayed, ends the whole session.
    const oidc = new SSOOIDCClient({ endpoint: server.url, region: 'us-east-1', maxAttempts: 1 });
    const { clientId, clientSecret } = before.content;
    await expect(oidc.send(new CreateTokenCommand({ clientId, clientSecret, grantType: 'refresh_token', refreshToken: before.content.refreshToken }))).rejects.toMatchObject({
      name: 'InvalidGrantException',
    });
    expect(await oidcServiceOf(server.reg).resolveAccessToken(fresh.token)).toBeUndefined();
  });

  /** The CLI's cached SSO token: ~/.aws/sso/cache/<sha1 of the session name>.json. */
  function cachedToken(): { file: string; content: Record<string, string> } {
    const dir = path.join(env.HOME!, '.aws', 'sso', 'cache');
    const entries = readdirSync(dir).map((f) => ({ file: path.join(dir, f), content: JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Record<string, string> }));
    const found = entries.find((e) => e.content.accessToken);
    if (!found) throw new Error(`no SSO token in ${dir}`);
    return found;
  }
});
