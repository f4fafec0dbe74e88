// The authorization code flow with PKCE in Debian's headless Chromium, driven by real clients:
// - as newer AWS CLIs run it: the AWS SDK's sso-oidc client registers and redeems the code, a
//   loopback listener plays the CLI's callback, and the SDK's sso client lists the accounts;
// - as any OpenID Connect relying party runs it: openid-client discovers the issuer, verifies the
//   ID token's signature and claims, and reads userinfo.

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { createHash, randomBytes } from 'node:crypto';
import { ListAccountsCommand, SSOClient } from '@aws-sdk/client-sso';
import { CreateTokenCommand, RegisterClientCommand, SSOOIDCClient } from '@aws-sdk/client-sso-oidc';
import * as rp from 'openid-client';
import type { Browser as ChromiumBrowser, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { hasChromium, launchChromium, peerAvailable } from '../helpers/peers.js';
import { portalFixture, type PortalUser } from '../helpers/portal-fixture.js';
import { dialects, startServer, type TestServer } from '../helpers/server.js';

const PASSWORD = 'Pkce#Flow-7Wq!';
const ARTIFACTS = path.resolve(import.meta.dirname, '../../test-artifacts');

/** The CLI's side of the redirect: a listener on a loopback port that keeps the query it was sent. */
async function loopbackCallback(): Promise<{ server: Server; redirectUri: string; next: () => Promise<URL> }> {
  let deliver: ((u: URL) => void) | undefined;
  const server = createServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' }).end('You can close this window.');
    deliver?.(new URL(req.url ?? '/', `http://${req.headers.host}`));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    server,
    redirectUri: `http://127.0.0.1:${port}/oauth/callback`,
    next: () => new Promise<URL>((resolve) => (deliver = resolve)),
  };
}

describe.runIf(peerAvailable('chromium', hasChromium)).each(dialects())('authorization code + PKCE in Chromium on %s', (dialect) => {
  let server: TestServer;
  let user: PortalUser;
  let account: { accountId: string; name: string };
  let chromium: ChromiumBrowser;
  let page: Page;
  let callback: Awaited<ReturnType<typeof loopbackCallback>>;

  beforeAll(async () => {
    server = await startServer(dialect);
    const f = portalFixture(server);
    account = await f.newAccount();
    user = await f.newUser();
    await server.reg.auth.setPassword(systemContext('sso.amazonaws.com', 'us-east-1', 'test'), user.userName, { password: PASSWORD, oneTime: false });
    const role = await f.newPermissionSet('PkceAccess', 'PT1H');
    await f.assignment('create', account.accountId, role.arn, 'USER', user.userId);
    callback = await loopbackCallback();
    chromium = await launchChromium();
    page = await chromium.newPage();
    mkdirSync(ARTIFACTS, { recursive: true });
  });
  afterAll(async () => {
    await chromium?.close();
    callback?.server.close();
    await server?.close();
  });

  /** What a person does after the client opens the browser: sign in if asked, then allow. */
  async function allowInBrowser(url: string, screenshot?: string): Promise<URL> {
    const arrived = callback.next();
    await page.goto(url);
    if (page.url().includes('/login')) {
      await page.fill('input[name=username]', user.userName);
      await page.click('button[type=submit]');
      await page.fill('input[name=password]', PASSWORD);
      await page.click('button[type=submit]');
    }
    await page.waitForURL(/\/consent\//);
    expect(await page.textContent('main')).toContain(user.userName);
    if (screenshot) await page.screenshot({ path: path.join(ARTIFACTS, `${screenshot}-${dialect}.png`) });
    await page.click('button[value=approve]');
    return arrived;
  }

  it('lets the AWS SDK redeem the code the browser brought back, and the token lists the accounts', async () => {
    const oidc = new SSOOIDCClient({ endpoint: server.url, region: 'us-east-1', maxAttempts: 1 });
    const client = await oidc.send(
      new RegisterClientCommand({
        clientName: 'botocore-client-pkce',
        clientType: 'public',
        scopes: ['sso:account:access'],
        grantTypes: ['authorization_code', 'refresh_token'],
        redirectUris: ['http://127.0.0.1/oauth/callback'],
        // As AWS's own PKCE clients register (the Toolkit, newer CLIs): naming the instance by its start URL.
        issuerUrl: `${server.url}/start/`,
      }),
    );
    const verifier = randomBytes(48).toString('base64url');
    const state = randomBytes(16).toString('hex');
    // The URL newer CLIs open: AWS's parameter names, `scopes` included.
    const authorize = `${server.url}/authorize?${new URLSearchParams({
      response_type: 'code',
      client_id: client.clientId!,
      redirect_uri: callback.redirectUri,
      state,
      code_challenge_method: 'S256',
      scopes: 'sso:account:access',
      code_challenge: createHash('sha256').update(verifier).digest('base64url'),
    }).toString()}`;
    const returned = await allowInBrowser(authorize, 'pkce-consent');
    expect(returned.searchParams.get('state')).toBe(state);
    const token = await oidc.send(
      new CreateTokenCommand({
        clientId: client.clientId,
        clientSecret: client.clientSecret,
        grantType: 'authorization_code',
        code: returned.searchParams.get('code')!,
        codeVerifier: verifier,
        redirectUri: callback.redirectUri,
      }),
    );
    expect(token).toMatchObject({ tokenType: 'Bearer', expiresIn: 3600, refreshToken: expect.any(String) });

    const sso = new SSOClient({ endpoint: server.url, region: 'us-east-1', maxAttempts: 1 });
    const accounts = await sso.send(new ListAccountsCommand({ accessToken: token.accessToken }));
    expect(accounts.accountList).toEqual([expect.objectContaining({ accountId: account.accountId, accountName: account.name })]);

    // The refresh token works once, like the device flow's.
    const refreshed = await oidc.send(
      new CreateTokenCommand({ clientId: client.clientId, clientSecret: client.clientSecret, grantType: 'refresh_token', refreshToken: token.refreshToken }),
    );
    await expect(
      oidc.send(new CreateTokenCommand({ clientId: client.clientId, clientSecret: client.clientSecret, grantType: 'refresh_token', refreshToken: token.refreshToken })),
    ).rejects.toMatchObject({ name: 'InvalidGrantException' });
    // ...and its reuse ended the family, the fresh token included.
    await expect(sso.send(new ListAccountsCommand({ accessToken: refreshed.accessToken }))).rejects.toMatchObject({ name: 'UnauthorizedException' });
  });

  it('is an OpenID Connect provider to openid-client: discovery, a verified ID token, userinfo', async () => {
    const oidc = new SSOOIDCClient({ endpoint: server.url, region: 'us-east-1', maxAttempts: 1 });
    const registered = await oidc.send(
      new RegisterClientCommand({
        clientName: 'an OIDC web app',
        clientType: 'public',
        scopes: ['openid', 'profile', 'email'],
        grantTypes: ['authorization_code'],
        redirectUris: ['http://127.0.0.1/oauth/callback'],
      }),
    );
    const config = await rp.discovery(new URL(`${server.url}/oidc`), registered.clientId!, undefined, rp.ClientSecretPost(registered.clientSecret), {
      // The test server speaks plain http on loopback; a deployment has https.
      execute: [rp.allowInsecureRequests],
    });
    expect(config.serverMetadata()).toMatchObject({
      issuer: `${server.url}/oidc`,
      code_challenge_methods_supported: ['S256'],
      grant_types_supported: expect.arrayContaining(['authorization_code', 'refresh_token', 'urn:ietf:params:oauth:grant-type:device_code']),
    });
    const verifier = rp.randomPKCECodeVerifier();
    const state = rp.randomState();
    const url = rp.buildAuthorizationUrl(config, {
      redirect_uri: callback.redirectUri,
      scope: 'openid profile',
      code_challenge: await rp.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
      state,
    });
    // The browser still has its portal session from the test before: only consent is asked.
    const returned = await allowInBrowser(url.href);
    const tokens = await rp.authorizationCodeGrant(config, returned, { pkceCodeVerifier: verifier, expectedState: state });
    // openid-client has checked the signature against the JWKS, the issuer, the audience and the expiry.
    expect(tokens.claims()).toMatchObject({ iss: `${server.url}/oidc`, sub: user.userId, aud: registered.clientId });
    const info = await rp.fetchUserInfo(config, tokens.access_token, user.userId);
    expect(info).toMatchObject({ sub: user.userId, preferred_username: user.userName });

    // The code works once.
    await expect(rp.authorizationCodeGrant(config, returned, { pkceCodeVerifier: verifier, expectedState: state })).rejects.toMatchObject({ error: 'invalid_grant' });
  });
});
