// The identity source on both databases: INTERNAL (passwords) by default, EXTERNAL_IDP only with an
// imported SAML IdP; switching there and back keeps users, groups, memberships, assignments and
// passwords (as the real SDK sees them), and under EXTERNAL_IDP no password signs anyone in.

import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { IdentitystoreClient, ListGroupMembershipsCommand, ListGroupsCommand, ListUsersCommand } from '@aws-sdk/client-identitystore';
import { ListAccountAssignmentsCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSpKeyPair } from '../../src/federation/sp-certificate.js';
import { systemContext } from '../../src/shared/context.js';
import { Browser } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';
import { portalFixture, type PortalUser } from '../helpers/portal-fixture.js';
import { cliStorage, dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

const PASSWORD = 'Src#Switch-7Lq!';
const IDP_ENTITY_ID = 'https://idp.example.test/metadata';
const IDP_SSO_URL = 'https://idp.example.test/sso';

/** The admin API, signed by the AWS SDK's own SigV4 signer over the exact body sent. */
async function adminCall(server: TestServer, method: string, urlPath: string, body?: string, signed = true) {
  const url = new URL(server.url);
  const headers: Record<string, string> = { host: url.host, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  const signer = new SignatureV4({ service: 'sso', region: 'us-east-1', credentials: server.credentials, sha256: Hash.bind(null, 'sha256') });
  const request = signed ? (await signer.sign({ method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: urlPath, headers, body })).headers : headers;
  const res = await fetch(server.url + urlPath, { method, headers: request, body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** SAML 2.0 IdP metadata an administrator would be handed: entity id, signing certificate, SSO URL. */
async function idpMetadata(): Promise<string> {
  const { certificatePem } = await createSpKeyPair('test-idp', Date.now(), 2);
  const der = certificatePem.replace(/-----[^-]+-----|\s/g, '');
  return (
    `<md:EntityDescriptor xmlns:md="urn:oasis:names:tc:SAML:2.0:metadata" xmlns:ds="http://www.w3.org/2000/09/xmldsig#" entityID="${IDP_ENTITY_ID}">` +
    '<md:IDPSSODescriptor protocolSupportEnumeration="urn:oasis:names:tc:SAML:2.0:protocol" WantAuthnRequestsSigned="true">' +
    `<md:KeyDescriptor use="signing"><ds:KeyInfo><ds:X509Data><ds:X509Certificate>${der}</ds:X509Certificate></ds:X509Data></ds:KeyInfo></md:KeyDescriptor>` +
    `<md:SingleSignOnService Binding="urn:oasis:names:tc:SAML:2.0:bindings:HTTP-Redirect" Location="${IDP_SSO_URL}"/>` +
    '</md:IDPSSODescriptor></md:EntityDescriptor>'
  );
}

describe.each(dialects())('identity source on %s', (dialect) => {
  let server: TestServer;
  let storage: string[];
  let workdir: string;
  let alice: PortalUser;
  let bob: PortalUser;
  let groupId: string;
  let accountId: string;
  let permissionSetArn: string;
  const cli = (...args: string[]) => runCli([...args, ...storage]);
  const events = (eventName: string) => server.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', '=', eventName).orderBy('seq').execute();

  /** Everything a switch must keep, as the identitystore and sso-admin APIs list it. */
  async function snapshot() {
    const ids = new IdentitystoreClient(sdkOptions(server));
    const sso = new SSOAdminClient(sdkOptions(server));
    const IdentityStoreId = server.init.identityStoreId;
    const users = (await ids.send(new ListUsersCommand({ IdentityStoreId }))).Users!.map((u) => `${u.UserId} ${u.UserName} ${u.DisplayName}`).sort();
    const groups = (await ids.send(new ListGroupsCommand({ IdentityStoreId }))).Groups!.map((g) => `${g.GroupId} ${g.DisplayName}`).sort();
    const members = (await ids.send(new ListGroupMembershipsCommand({ IdentityStoreId, GroupId: groupId }))).GroupMemberships!.map((m) => `${m.MembershipId} ${m.MemberId?.UserId}`).sort();
    const assignments = (await sso.send(new ListAccountAssignmentsCommand({ InstanceArn: server.init.instanceArn, AccountId: accountId, PermissionSetArn: permissionSetArn }))).AccountAssignments!.map(
      (a) => `${a.PrincipalType} ${a.PrincipalId}`,
    ).sort();
    return { users, groups, members, assignments };
  }

  /** The identity source as the server applies it; a CLI change reaches it within 5 s. */
  async function appliedSource(): Promise<string> {
    const res = await fetch(`${server.url}/login`, { redirect: 'manual' });
    return res.status === 303 && res.headers.get('location')?.startsWith('/saml/login') ? 'EXTERNAL_IDP' : res.status === 200 ? 'INTERNAL' : `unexpected ${res.status}`;
  }

  beforeAll(async () => {
    server = await startServer(dialect);
    storage = cliStorage(server);
    workdir = mkdtempSync(path.join(tmpdir(), 'atrium-identity-source-'));
    writeFileSync(path.join(workdir, 'idp.xml'), await idpMetadata());
    const f = portalFixture(server);
    accountId = (await f.newAccount()).accountId;
    alice = await f.newUser();
    bob = await f.newUser();
    groupId = (await f.newGroup(alice, bob)).groupId;
    permissionSetArn = (await f.newPermissionSet('SwitchAccess')).arn;
    await f.assignment('create', accountId, permissionSetArn, 'USER', alice.userId);
    await f.assignment('create', accountId, permissionSetArn, 'GROUP', groupId);
    await server.reg.auth.setPassword(systemContext('sso.amazonaws.com', 'us-east-1', 'test'), alice.userName, { password: PASSWORD, oneTime: false });
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  });

  it('is INTERNAL by default, and refuses EXTERNAL_IDP while no IdP is imported, with a reason', async () => {
    expect(await adminCall(server, 'GET', '/api/admin/identity-source')).toEqual({ status: 200, json: { IdentitySource: 'INTERNAL' } });
    const shown = await cli('identity-source', 'show', '--json');
    expect(shown.code, shown.stderr).toBe(0);
    expect(JSON.parse(shown.stdout)).toEqual({ identitySource: 'INTERNAL', idpEntityId: null });

    const viaApi = await adminCall(server, 'PUT', '/api/admin/identity-source', JSON.stringify({ IdentitySource: 'EXTERNAL_IDP' }));
    expect(viaApi.status).toBe(409);
    expect(viaApi.json).toMatchObject({ __type: 'ConflictException', message: expect.stringContaining('No SAML identity provider is configured') });
    const viaCli = await cli('identity-source', 'set', '--type', 'external-idp');
    expect(viaCli.code).toBe(1);
    expect(viaCli.stderr).toContain('import one (atrium saml idp import)');
    const refused = (await events('UpdateIdentitySource')).filter((e) => e.error_code === 'instance.no_identity_provider');
    expect(refused).toHaveLength(2);
    expect(await appliedSource()).toBe('INTERNAL');
  });

  it('refuses bad input: an unknown source, extra fields, broken JSON, a bad --type, an unsigned call', async () => {
    for (const body of [JSON.stringify({ IdentitySource: 'ACTIVE_DIRECTORY' }), JSON.stringify({}), JSON.stringify({ IdentitySource: 'INTERNAL', Extra: 1 }), '{"IdentitySource":']) {
      const res = await adminCall(server, 'PUT', '/api/admin/identity-source', body);
      expect(res.status, body).toBe(400);
      expect(res.json.__type).toBe('ValidationException');
    }
    const unsigned = await adminCall(server, 'PUT', '/api/admin/identity-source', JSON.stringify({ IdentitySource: 'INTERNAL' }), false);
    expect(unsigned.status).toBe(403);
    const badType = await cli('identity-source', 'set', '--type', 'EXTERNAL_IDP');
    expect(badType.code).not.toBe(0);
    expect(badType.stderr).toMatch(/Allowed choices are internal, external-idp/);
    expect(await appliedSource()).toBe('INTERNAL');
  });

  it('switches to EXTERNAL_IDP and back: users, groups, memberships, assignments and passwords stay; no password signs in meanwhile', async () => {
    const before = await snapshot();
    expect(before.users).toHaveLength(2);
    expect(before.members).toHaveLength(2);
    expect(before.assignments).toEqual([`GROUP ${groupId}`, `USER ${alice.userId}`].sort());

    // A password session opened before the switch, and a sign-in page opened before it.
    const earlier = new Browser(server.url);
    expect((await earlier.signIn(alice.userName, PASSWORD)).status).toBe(303);
    const stale = new Browser(server.url);
    const stalePage = await stale.request('/login');
    const csrf = Browser.csrfOf(stalePage.text);

    const imported = await cli('saml', 'idp', 'import', '--metadata-file', path.join(workdir, 'idp.xml'));
    expect(imported.code, imported.stderr).toBe(0);
    const switched = await adminCall(server, 'PUT', '/api/admin/identity-source', JSON.stringify({ IdentitySource: 'EXTERNAL_IDP' }));
    expect(switched).toEqual({ status: 200, json: { IdentitySource: 'EXTERNAL_IDP', IdentityProviderEntityId: IDP_ENTITY_ID, PreviousIdentitySource: 'INTERNAL' } });
    expect(JSON.parse((await cli('identity-source', 'show', '--json')).stdout)).toEqual({ identitySource: 'EXTERNAL_IDP', idpEntityId: IDP_ENTITY_ID });
    expect(await snapshot()).toEqual(before);

    // The sign-in page hands over to the IdP, with the way back (a device code's page included).
    const back = '/device?user_code=ABCD-EFGH';
    const login = await stale.request(`/login?return_to=${encodeURIComponent(back)}`);
    expect(login.status).toBe(303);
    expect(login.headers.get('location')).toBe(`/saml/login?return_to=${encodeURIComponent(back)}`);
    const toIdp = await stale.request(login.headers.get('location')!);
    expect(toIdp.status).toBe(303);
    expect(toIdp.headers.get('location')).toMatch(new RegExp(`^${IDP_SSO_URL}\\?SAMLRequest=`));
    const device = await stale.request(back);
    expect(device.headers.get('location')).toBe(`/login?return_to=${encodeURIComponent(back)}`);

    // Every password step answers alike, right password or wrong, known user or not: no session, nothing told.
    const answers = [];
    for (const [username, password] of [[alice.userName, PASSWORD], [alice.userName, 'wrong-Password#1'], ['nobody-here', PASSWORD]] as const) {
      const res = await stale.request('/login/password', { form: { csrf, return_to: '/start', username, password } });
      expect(res.setCookies.some((c) => c.startsWith('atrium_session='))).toBe(false);
      answers.push({ status: res.status, text: res.text });
    }
    expect(answers[0]).toEqual(answers[1]);
    expect(answers[0]).toEqual(answers[2]);
    expect(answers[0]!.status).toBe(403);
    expect(answers[0]!.text).toContain('Sign-in with a password is turned off here');
    expect(answers[0]!.text).toContain('<a href="/saml/login?return_to=%2Fstart">Sign in with your identity provider</a>');
    const usernameStep = await stale.request('/login', { form: { csrf, return_to: '/start', username: alice.userName } });
    expect(usernameStep.status).toBe(403);
    expect(usernameStep.text).not.toContain('name="password"');
    const disabledEvents = (await events('CredentialVerification')).filter((e) => e.error_code === 'auth.password_sign_in_disabled');
    expect(disabledEvents).toHaveLength(3);
    expect(disabledEvents.every((e) => !e.request_parameters?.includes(alice.userName))).toBe(true);

    // Passwords are the IdP's business now: the change page refuses, the CLI warns but keeps the password.
    const change = await earlier.request('/login/change-password');
    expect(change.status).toBe(403);
    expect(change.text).toContain('managed by your identity provider');
    const setPassword = await cli('user', 'password', '--user-name', bob.userName, '--one-time', '--json');
    expect(setPassword.code, setPassword.stderr).toBe(0);
    expect(setPassword.stderr).toContain('warning: the identity source is EXTERNAL_IDP');

    // An IdP that vanishes under EXTERNAL_IDP (its row deleted behind Atrium's back): a clear page, no password form.
    const db = server.reg.database.db;
    const idpRows = await db.selectFrom('saml_idp').selectAll().execute();
    await db.deleteFrom('saml_idp').execute();
    try {
      const gone = await new Browser(server.url).request('/login');
      expect(gone.status).toBe(503);
      expect(gone.text).toContain('none is configured');
      expect(gone.text).not.toContain('name="username"');
    } finally {
      await db.insertInto('saml_idp').values(idpRows).execute();
    }

    // Other settings change without touching the identity source.
    await server.reg.instance.updateSettings(systemContext('sso.amazonaws.com', 'us-east-1', 'test'), { sessionDurationMinutes: 600 });
    expect(await server.reg.instance.identitySource()).toBe('EXTERNAL_IDP');

    // Back to INTERNAL from another process: every server applies it within 5 s.
    const internal = await cli('identity-source', 'set', '--type', 'internal', '--json');
    expect(internal.code, internal.stderr).toBe(0);
    expect(JSON.parse(internal.stdout)).toEqual({ identitySource: 'INTERNAL', previousIdentitySource: 'EXTERNAL_IDP' });
    await expect.poll(appliedSource, { timeout: 8_000, interval: 250 }).toBe('INTERNAL');
    expect(await snapshot()).toEqual(before);
    const again = new Browser(server.url);
    const signedIn = await again.signIn(alice.userName, PASSWORD);
    expect(signedIn.status).toBe(303);
    expect(signedIn.setCookies.some((c) => c.startsWith('atrium_session='))).toBe(true);
    // Under INTERNAL the imported IdP stays a second way in, offered on the sign-in page.
    expect((await new Browser(server.url).request('/login')).text).toContain('Sign in with your identity provider');

    const changes = (await events('UpdateIdentitySource')).filter((e) => e.error_code === null);
    expect(changes.map((e) => JSON.parse(e.response_elements!) as unknown)).toEqual([
      { type: 'EXTERNAL_IDP', previous: 'INTERNAL' },
      { type: 'INTERNAL', previous: 'EXTERNAL_IDP' },
    ]);
  }, 60_000);
});
