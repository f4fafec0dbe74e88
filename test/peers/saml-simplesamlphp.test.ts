// Sign-in through a real SAML 2.0 IdP in PHP that nobody on this project wrote: Debian's
// SimpleSAMLphp 1.19 under `php -S`, with a user name and password form. Driven like a browser: our
// redirect, its login form, its auto-posted SAMLResponse to our ACS, and a portal session at the end.

import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { runCli } from '../helpers/cli.js';
import { formsOf, hasChromium, hasSimpleSamlPhp, launchChromium, peerAvailable, startSimpleSamlPhp, WebClient, type SimpleSamlPhp, type WebResponse } from '../helpers/peers.js';
import { cliStorage, dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

const USERS = { alice: 'Idp#Alice-pass1', bob: 'Idp#Bob-pass2', mallory: 'Idp#Mallory-pass3' };
const withChromium = peerAvailable('chromium', hasChromium);

describe.runIf(peerAvailable('simplesamlphp', hasSimpleSamlPhp)).each(dialects())('SimpleSAMLphp as the IdP, Atrium as the SP, on %s', (dialect) => {
  let server: TestServer;
  let idp: SimpleSamlPhp;
  let workdir: string;
  const ctx = systemContext('sso.amazonaws.com', 'us-east-1', 'test');

  async function createUser(userName: string): Promise<void> {
    const client = new IdentitystoreClient(sdkOptions(server));
    await client.send(new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: userName, DisplayName: userName, Name: { GivenName: 'A', FamilyName: 'B' } }));
  }

  /** From Atrium's sign-in page to the IdP's login form, following every redirect. */
  async function toIdpLoginForm(client: WebClient, returnTo: string): Promise<WebResponse> {
    const page = await client.follow(`${server.url}/login?return_to=${encodeURIComponent(returnTo)}`);
    expect(page.status, idp.log()).toBe(200);
    expect(page.url.startsWith(`${idp.url}/`)).toBe(true);
    expect(formsOf(page.text, page.url)[0]?.fields).toHaveProperty('password');
    return page;
  }

  /** The IdP's auto-posting page, if the login worked: its form to our ACS. */
  const acsForm = (page: WebResponse) => formsOf(page.text, page.url).find((f) => f.action === `${server.url}/saml/acs` && f.fields.SAMLResponse);

  /** Sign in at the IdP and post what it answers to our ACS, as the page's script would. */
  async function signInAtIdp(client: WebClient, userName: string, password: string, returnTo = '/start') {
    const login = await toIdpLoginForm(client, returnTo);
    const answered = await client.submit(login, { username: userName, password });
    const form = acsForm(answered);
    if (!form) return { answered, acs: undefined };
    return { answered, acs: await client.request(form.action, { form: form.fields }) };
  }

  const signInEvents = async () =>
    (await server.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', 'in', ['CredentialVerification', 'UserAuthentication']).orderBy('seq').execute()).map((e) => ({
      name: e.event_name,
      error: e.error_code,
      request: e.request_parameters,
    }));

  beforeAll(async () => {
    server = await startServer(dialect);
    idp = await startSimpleSamlPhp(USERS);
    workdir = mkdtempSync(path.join(tmpdir(), 'atrium-simplesamlphp-test-'));
    // Each side is given the other's metadata, as administrators do: ours from /saml/metadata...
    const spMetadata = await (await fetch(`${server.url}/saml/metadata`)).text();
    expect(spMetadata).toContain(`Location="${server.url}/saml/acs"`);
    idp.trustSp(spMetadata);
    // ...and the IdP's from /saml2/idp/metadata.php, imported with the CLI on the same database.
    const idpMetadata = await fetch(idp.metadataUrl);
    expect(idpMetadata.status).toBe(200);
    writeFileSync(path.join(workdir, 'idp.xml'), await idpMetadata.text());
    const storage = cliStorage(server);
    const imported = await runCli(['saml', 'idp', 'import', '--metadata-file', path.join(workdir, 'idp.xml'), '--json', ...storage]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ idpEntityId: idp.metadataUrl, idpSignInUrl: `${idp.url}/saml2/idp/SSOService.php` });
    // Only the IdP signs users in from now on.
    await server.reg.instance.setIdentitySource(ctx, 'EXTERNAL_IDP');
    await createUser('alice');
    await createUser('bob');
    await server.reg.directory.setUserStatus(ctx, server.init.identityStoreId, 'bob', 'DISABLED');
  }, 120_000);
  afterAll(async () => {
    await idp?.stop();
    await server?.close();
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  });

  it('signs alice in at the IdP: the same portal session as a password sign-in, back where she started', async () => {
    const client = new WebClient();
    const before = (await signInEvents()).length;
    const { answered, acs } = await signInAtIdp(client, 'alice', USERS.alice, '/start?from=simplesamlphp');
    expect(acs, `${answered.text.slice(0, 2000)}\n${idp.log()}`).toBeDefined();
    expect(acs!.status, acs!.text).toBe(303);
    expect(acs!.location).toBe(`${server.url}/start?from=simplesamlphp`);
    // The way there: our sign-in page, our AuthnRequest, the IdP's own pages, then our ACS.
    expect(client.visited[0]).toBe(`${server.url}/login?return_to=%2Fstart%3Ffrom%3Dsimplesamlphp`);
    expect(client.visited[1]).toBe(`${server.url}/saml/login?return_to=%2Fstart%3Ffrom%3Dsimplesamlphp`);
    expect(client.visited[2]).toMatch(new RegExp(`^${idp.url}/saml2/idp/SSOService\\.php\\?SAMLRequest=.+&SigAlg=.+&Signature=`));

    const cookie = client.cookies(server.url).get('atrium_session');
    expect(cookie).toBeTruthy();
    expect(await server.reg.auth.resolveSession(cookie)).toMatchObject({ userName: 'alice' });
    const accounts = await client.request(`${server.url}/api/portal/accounts`);
    expect(accounts.status).toBe(200);
    // Audited as a password sign-in is.
    const events = (await signInEvents()).slice(before);
    expect(events.map((e) => [e.name, e.error])).toEqual([
      ['CredentialVerification', null],
      ['UserAuthentication', null],
    ]);
    expect(events[0]!.request).toContain('alice');
  }, 60_000);

  it('gives no session for a wrong password at the IdP: its form comes back, nothing reaches our ACS', async () => {
    const client = new WebClient();
    const before = (await signInEvents()).length;
    const { answered, acs } = await signInAtIdp(client, 'alice', 'not-her-password');
    expect(acs).toBeUndefined();
    expect(answered.url.startsWith(`${idp.url}/`)).toBe(true);
    expect(formsOf(answered.text, answered.url)[0]?.fields).toHaveProperty('password');
    expect(client.visited.some((u) => u.startsWith(`${server.url}/saml/acs`))).toBe(false);
    expect(client.cookies(server.url).get('atrium_session')).toBeUndefined();
    expect((await signInEvents()).length).toBe(before);
  }, 60_000);

  it('refuses a user the IdP knows but Atrium does not, and a disabled one, with no session and an audited reason', async () => {
    for (const [userName, code, message] of [
      ['mallory', 'saml.unknown_user', /No Atrium user matches/],
      ['bob', 'saml.user_disabled', /disabled/],
    ] as const) {
      const client = new WebClient();
      const before = (await signInEvents()).length;
      const { answered, acs } = await signInAtIdp(client, userName, USERS[userName]);
      expect(acs, `${answered.text.slice(0, 2000)}\n${idp.log()}`).toBeDefined();
      expect(acs!.status).toBe(403);
      expect(acs!.text).toMatch(message);
      expect(client.cookies(server.url).get('atrium_session')).toBeUndefined();
      const events = (await signInEvents()).slice(before);
      expect(events.map((e) => [e.name, e.error])).toEqual([['CredentialVerification', code]]);
    }
    expect(await server.reg.directory.findUserByName(server.init.identityStoreId, 'mallory')).toBeUndefined();
  }, 60_000);

  it('refuses the same SAMLResponse posted a second time', async () => {
    const client = new WebClient();
    const login = await toIdpLoginForm(client, '/start');
    const form = acsForm(await client.submit(login, { username: 'alice', password: USERS.alice }));
    expect(form).toBeDefined();
    expect((await client.request(form!.action, { form: form!.fields })).status).toBe(303);
    // The same browser posts it again (a back button, or an attacker holding its cookies): no new session.
    const session = client.cookies(server.url).get('atrium_session');
    const again = await client.request(form!.action, { form: form!.fields });
    expect(again.status).toBe(403);
    expect(again.text).toMatch(/used already/);
    expect(client.cookies(server.url).get('atrium_session')).toBe(session);
  }, 60_000);

  // The IdP's page posts the SAMLResponse with its own script, and cookies follow a real browser's
  // rules (SameSite, Path): only a browser shows they work together.
  it.runIf(withChromium)('signs alice in in Debian\'s Chromium: our redirect, the IdP\'s form and its script, the portal', async () => {
    const browser = await launchChromium();
    try {
      const context = await browser.newContext();
      const page = await context.newPage();
      await page.goto(`${server.url}/login?return_to=${encodeURIComponent('/start')}`);
      expect(page.url().startsWith(`${idp.url}/`)).toBe(true);
      await page.fill('input[name=username]', 'alice');
      await page.fill('input[name=password]', USERS.alice);
      await page.click('#submit_button');
      await page.waitForURL(`${server.url}/start`, { timeout: 30_000 });
      const cookie = (await context.cookies(server.url)).find((c) => c.name === 'atrium_session');
      expect(cookie?.httpOnly).toBe(true);
      expect(await server.reg.auth.resolveSession(cookie!.value)).toMatchObject({ userName: 'alice' });
    } finally {
      await browser.close();
    }
  }, 90_000);
});
