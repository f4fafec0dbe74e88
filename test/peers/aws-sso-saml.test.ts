// `aws sso login` for users who sign in at an external SAML IdP (identity source EXTERNAL_IDP): the
// device page sends them through the IdP and back to the code they approve. Debian's AWS CLI v2 with
// SimpleSAMLphp, then get-caller-identity with the SSO profile; the JS SDK's device flow with pysaml2.

import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { GetRoleCredentialsCommand, SSOClient } from '@aws-sdk/client-sso';
import { CreateTokenCommand, RegisterClientCommand, SSOOIDCClient, StartDeviceAuthorizationCommand } from '@aws-sdk/client-sso-oidc';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DEVICE_CODE_GRANT } from '../../src/protocols/oidc/index.js';
import { runCli } from '../helpers/cli.js';
import {
  AWS_CLI,
  formsOf,
  hasAwsCli,
  hasSimpleSamlPhp,
  peerAvailable,
  peerEnv,
  PYTHON,
  run,
  startSimpleSamlPhp,
  startSsoLogin,
  WebClient,
  writeSsoProfile,
  type PeerEnv,
  type SimpleSamlPhp,
  type WebResponse,
} from '../helpers/peers.js';
import { portalFixture, type PortalUser } from '../helpers/portal-fixture.js';
import { cliStorage, dialects, sdkOptions, startServer } from '../helpers/server.js';

const IDP_PASSWORD = 'Idp#Cli-Saml-9Kx';
const PYSAML2_SCRIPT = path.resolve(import.meta.dirname, 'saml-pysaml2-idp.py');
const hasPysaml2 = () => existsSync(PYTHON) && existsSync('/usr/lib/python3/dist-packages/saml2') && existsSync('/usr/bin/xmlsec1');

/** A server with one account, a permission set and a user assigned to it; IdP metadata imported by the CLI; identity source EXTERNAL_IDP. */
async function samlWorld(dialect: 'sqlite' | 'postgres', userName: string, idpMetadata: (spMetadata: string) => Promise<string>) {
  const server = await startServer(dialect);
  const f = portalFixture(server);
  const account = await f.newAccount();
  // The IdP knows this user by the same user name (its NameID).
  const ids = new IdentitystoreClient(sdkOptions(server));
  const { UserId } = await ids.send(new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: userName, DisplayName: userName, Name: { GivenName: 'S', FamilyName: 'U' } }));
  const user: PortalUser = { userId: UserId!, userName };
  const role = await f.newPermissionSet('SamlAccess', 'PT1H');
  await f.assignment('create', account.accountId, role.arn, 'USER', user.userId);
  const workdir = mkdtempSync(path.join(tmpdir(), 'atrium-sso-saml-'));
  writeFileSync(path.join(workdir, 'idp.xml'), await idpMetadata(await (await fetch(`${server.url}/saml/metadata`)).text()));
  const storage = cliStorage(server);
  for (const args of [['saml', 'idp', 'import', '--metadata-file', path.join(workdir, 'idp.xml')], ['identity-source', 'set', '--type', 'external-idp']]) {
    const r = await runCli([...args, ...storage]);
    expect(r.code, r.stderr).toBe(0);
  }
  // The server applies a change made by another process within 5 s.
  for (let waited = 0; !(await fetch(`${server.url}/login`, { redirect: 'manual' })).headers.get('location')?.startsWith('/saml/login'); waited += 200) {
    if (waited > 8_000) throw new Error('the server never applied the identity source EXTERNAL_IDP');
    await new Promise((r) => setTimeout(r, 200));
  }
  return { server, account, user, role, workdir };
}

/** The device page after sign-in: it names the user and shows the code; Allow approves it. */
async function approve(client: WebClient, devicePage: WebResponse, userCode: string, userName: string): Promise<void> {
  expect(devicePage.status, devicePage.text.slice(0, 1000)).toBe(200);
  expect(devicePage.url).toMatch(/\/device\?user_code=/);
  expect(devicePage.text).toContain(`<strong id="user-code">${userCode}</strong>`);
  expect(devicePage.text).toContain(`as <strong>${userName}</strong>`);
  const approved = await client.submit(devicePage, { decision: 'approve' }, /\/device$/);
  expect(approved.status).toBe(200);
  expect(approved.text).toContain('Request approved');
}

describe.runIf(peerAvailable('awscli', hasAwsCli) && peerAvailable('simplesamlphp', hasSimpleSamlPhp)).each(dialects())('aws sso login through SimpleSAMLphp on %s', (dialect) => {
  let world: Awaited<ReturnType<typeof samlWorld>>;
  let idp: SimpleSamlPhp;
  let env: PeerEnv;

  beforeAll(async () => {
    idp = await startSimpleSamlPhp({ 'cli-saml-user': IDP_PASSWORD });
    world = await samlWorld(dialect, 'cli-saml-user', async (spMetadata) => {
      idp.trustSp(spMetadata);
      return (await fetch(idp.metadataUrl)).text();
    });
    env = peerEnv(world.server.url, world.server.credentials);
    // Only the SSO profile may supply credentials.
    delete env.AWS_ACCESS_KEY_ID;
    delete env.AWS_SECRET_ACCESS_KEY;
    writeSsoProfile(env, world.server.init.startUrl, world.account.accountId, 'SamlAccess');
  }, 120_000);
  afterAll(async () => {
    await idp?.stop();
    await world?.server.close();
    if (world?.workdir) rmSync(world.workdir, { recursive: true, force: true });
  });

  const aws = (...args: string[]) => run(AWS_CLI, [...args, '--output', 'json'], env);

  it('logs in: the printed link leads through the IdP to the code, and get-caller-identity works with the profile', async () => {
    const { userCode, verificationUrl, finish } = await startSsoLogin(env);
    let ended: Awaited<ReturnType<typeof finish>> | undefined;
    try {
      // A person opens the link: not signed in, so to the IdP's login form, by way of our sign-in page.
      const client = new WebClient();
      const login = await client.follow(verificationUrl);
      expect(login.url.startsWith(`${idp.url}/`), idp.log()).toBe(true);
      expect(client.visited.slice(0, 3).map((u) => new URL(u).pathname)).toEqual(['/device', '/login', '/saml/login']);
      // A wrong password first: the IdP asks again, and the code stays pending.
      const wrong = await client.submit(login, { username: 'cli-saml-user', password: 'not-the-password' });
      expect(formsOf(wrong.text, wrong.url).some((f) => f.fields.SAMLResponse)).toBe(false);
      const posting = await client.submit(wrong, { username: 'cli-saml-user', password: IDP_PASSWORD });
      // The IdP's page posts the SAMLResponse to our ACS, which sends the browser back to the code.
      const devicePage = await client.submit(posting, {}, /\/saml\/acs$/);
      await approve(client, devicePage, userCode, 'cli-saml-user');
    } finally {
      ended = await finish();
      expect({ code: ended.code, stderr: ended.stderr }).toEqual({ code: 0, stderr: '' });
    }
    expect(ended?.stdout).toContain(`Successfully logged into Start URL: ${world.server.init.startUrl}`);

    const me = await aws('sts', 'get-caller-identity', '--profile', 'dev');
    expect(me.code, me.stderr).toBe(0);
    expect((JSON.parse(me.stdout) as { Arn: string }).Arn).toMatch(
      new RegExp(`^arn:aws:sts::${world.account.accountId}:assumed-role/AWSReservedSSO_SamlAccess_[0-9a-f]{16}/cli-saml-user$`),
    );
    const dir = path.join(env.HOME!, '.aws', 'sso', 'cache');
    const token = readdirSync(dir)
      .map((f) => JSON.parse(readFileSync(path.join(dir, f), 'utf8')) as Record<string, string>)
      .find((c) => c.accessToken)!;
    const roles = await aws('sso', 'list-account-roles', `--access-token=${token.accessToken}`, '--account-id', world.account.accountId, '--region', 'us-east-1');
    expect(roles.code, roles.stderr).toBe(0);
    expect((JSON.parse(roles.stdout) as { roleList: unknown[] }).roleList).toEqual([{ roleName: 'SamlAccess', accountId: world.account.accountId }]);
  }, 120_000);
});

describe.runIf(peerAvailable('python3-pysaml2', hasPysaml2)).each(dialects())('the JS SDK device flow through pysaml2 on %s', (dialect) => {
  let world: Awaited<ReturnType<typeof samlWorld>>;
  let idpDir: string;
  const ENV = { PATH: '/usr/bin:/bin' };

  beforeAll(async () => {
    idpDir = mkdtempSync(path.join(tmpdir(), 'atrium-pysaml2-idp-'));
    world = await samlWorld(dialect, 'sdk-saml-user', async (spMetadata) => {
      writeFileSync(path.join(idpDir, 'our-sp.xml'), spMetadata);
      const init = await run(PYTHON, [PYSAML2_SCRIPT, 'init', idpDir, path.join(idpDir, 'our-sp.xml')], ENV);
      expect(init.code, init.stderr).toBe(0);
      return init.stdout;
    });
  }, 120_000);
  afterAll(async () => {
    await world?.server.close();
    if (world?.workdir) rmSync(world.workdir, { recursive: true, force: true });
    if (idpDir) rmSync(idpDir, { recursive: true, force: true });
  });

  /** Follow our redirects until the one that leaves for the IdP (a name that does not resolve). */
  async function untilIdp(client: WebClient, url: string): Promise<string> {
    let res = await client.request(url);
    for (let hops = 0; res.location && !res.location.startsWith('https://idp.pysaml2.test/'); hops++) {
      if (hops > 10) throw new Error('too many redirects');
      res = await client.request(res.location);
    }
    expect(res.location, res.text).toMatch(/^https:\/\/idp\.pysaml2\.test\/sso\/redirect\?SAMLRequest=/);
    return res.location!;
  }

  it('approves a device code after sign-in at the IdP; the token gets role credentials that STS accepts', async () => {
    const oidc = new SSOOIDCClient({ endpoint: world.server.url, region: 'us-east-1', maxAttempts: 1 });
    const client = await oidc.send(new RegisterClientCommand({ clientName: 'sdk-saml-laptop', clientType: 'public', scopes: ['sso:account:access'] }));
    const device = await oidc.send(new StartDeviceAuthorizationCommand({ clientId: client.clientId, clientSecret: client.clientSecret, startUrl: world.server.init.startUrl }));
    const token = () => oidc.send(new CreateTokenCommand({ clientId: client.clientId, clientSecret: client.clientSecret, grantType: DEVICE_CODE_GRANT, deviceCode: device.deviceCode }));

    const browser = new WebClient();
    const idpUrl = await untilIdp(browser, device.verificationUriComplete!);
    expect(browser.visited.map((u) => new URL(u).pathname)).toEqual(['/device', '/login', '/saml/login']);
    await expect(token()).rejects.toMatchObject({ name: 'AuthorizationPendingException' });
    // The IdP signs the user in and answers; the browser posts its answer to our ACS.
    const answered = await run(PYTHON, [PYSAML2_SCRIPT, 'respond', idpDir, idpUrl, 'sdk-saml-user'], ENV);
    expect(answered.code, answered.stderr).toBe(0);
    const { acs, SAMLResponse } = JSON.parse(answered.stdout) as { acs: string; SAMLResponse: string };
    const devicePage = await browser.follow(acs, { form: { SAMLResponse } });
    await approve(browser, devicePage, device.userCode!, 'sdk-saml-user');

    const { accessToken } = await token();
    const sso = new SSOClient({ endpoint: world.server.url, region: 'us-east-1', maxAttempts: 1 });
    const { roleCredentials } = await sso.send(new GetRoleCredentialsCommand({ accessToken, accountId: world.account.accountId, roleName: 'SamlAccess' }));
    const sts = new STSClient({
      endpoint: world.server.url,
      region: 'us-east-1',
      maxAttempts: 1,
      credentials: { accessKeyId: roleCredentials!.accessKeyId!, secretAccessKey: roleCredentials!.secretAccessKey!, sessionToken: roleCredentials!.sessionToken! },
    });
    const me = await sts.send(new GetCallerIdentityCommand({}));
    expect(me.Arn).toMatch(new RegExp(`^arn:aws:sts::${world.account.accountId}:assumed-role/AWSReservedSSO_SamlAccess_[0-9a-f]{16}/sdk-saml-user$`));
    expect(me.Account).toBe(world.account.accountId);
  }, 120_000);
});
