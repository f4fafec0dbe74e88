// Sign-in through a real SAML 2.0 IdP nobody on this project wrote: Debian's python3-pysaml2, in a
// script, signing with its own key (xmlsec1). SP-initiated: our AuthnRequest by redirect, its
// signed Response posted to our ACS, a portal session; IdP-initiated too. Then each forged or wrong
// response, refused (test/integration/saml-attacks.test.ts has the full forgery suite).

import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { runCli } from '../helpers/cli.js';
import { PYTHON, peerAvailable, run } from '../helpers/peers.js';
import { cliStorage, dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

const SCRIPT = path.resolve(import.meta.dirname, 'saml-pysaml2-idp.py');
const hasPysaml2 = peerAvailable('python3-pysaml2', () => existsSync(PYTHON) && existsSync('/usr/lib/python3/dist-packages/saml2') && existsSync('/usr/bin/xmlsec1'));
const ENV = { PATH: '/usr/bin:/bin' };

interface IdpAnswer {
  requestId: string;
  acs: string;
  SAMLResponse: string;
}

describe.skipIf(!hasPysaml2).each(dialects())('pysaml2 as the IdP, Atrium as the SP, on %s', (dialect) => {
  let server: TestServer;
  let workdir: string;
  const ctx = systemContext('sso.amazonaws.com', 'us-east-1', 'test');
  /** The binding cookie of the last sign-in started: the browser posts the IdP's answer with it. */
  let binding: string | undefined;

  async function createUser(userName: string, email: string): Promise<void> {
    const client = new IdentitystoreClient(sdkOptions(server));
    await client.send(
      new CreateUserCommand({
        IdentityStoreId: server.init.identityStoreId,
        UserName: userName,
        DisplayName: userName,
        Name: { GivenName: 'A', FamilyName: 'B' },
        Emails: [{ Value: email, Primary: true }],
      }),
    );
  }

  /** GET /saml/login: the redirect to the IdP that carries our AuthnRequest. */
  async function startSignIn(returnTo = '/start'): Promise<string> {
    const res = await fetch(`${server.url}/saml/login?return_to=${encodeURIComponent(returnTo)}`, { redirect: 'manual' });
    expect(res.status).toBe(303);
    const location = res.headers.get('location')!;
    expect(location.startsWith('https://idp.pysaml2.test/sso/redirect?')).toBe(true);
    binding = res.headers.getSetCookie().find((c) => c.startsWith('atrium_saml_binding='))?.split(';')[0];
    expect(binding).toBeDefined();
    return location;
  }

  /** The IdP's answer to that request, as pysaml2 builds it. */
  async function idpRespond(location: string, nameId: string, ...flags: string[]): Promise<IdpAnswer> {
    const r = await run(PYTHON, [SCRIPT, 'respond', workdir, location, nameId, ...flags], ENV);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as IdpAnswer;
  }

  /** The browser's auto-submitted form to our ACS. */
  async function postToAcs(samlResponse: string, extra: Record<string, string> = {}, bindingCookie = binding) {
    const res = await fetch(`${server.url}/saml/acs`, {
      method: 'POST',
      redirect: 'manual',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(bindingCookie ? { cookie: bindingCookie } : {}) },
      body: new URLSearchParams({ SAMLResponse: samlResponse, ...extra }).toString(),
    });
    const cookie = res.headers.getSetCookie().find((c) => c.startsWith('atrium_session='));
    return { status: res.status, location: res.headers.get('location'), cookie: cookie?.split(';')[0], text: await res.text() };
  }

  const failures = async (code: string) =>
    (await server.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', '=', 'CredentialVerification').orderBy('seq').execute()).filter(
      (e) => e.error_code === code,
    );

  /** Refused with a page that says why, no session cookie, and an audited failure with that code. */
  async function expectRefused(samlResponse: string, code: string, message: RegExp) {
    const before = (await failures(code)).length;
    const res = await postToAcs(samlResponse);
    expect(res.status).toBe(403);
    expect(res.cookie).toBeUndefined();
    expect(res.text).toMatch(message);
    expect((await failures(code)).length).toBe(before + 1);
  }

  const rewrite = (samlResponse: string, edit: (xml: string) => string) => Buffer.from(edit(Buffer.from(samlResponse, 'base64').toString('utf8')), 'utf8').toString('base64');

  beforeAll(async () => {
    server = await startServer(dialect);
    workdir = mkdtempSync(path.join(tmpdir(), 'atrium-pysaml2-'));
    const metadata = await fetch(`${server.url}/saml/metadata`);
    expect(metadata.status).toBe(200);
    const spMetadata = await metadata.text();
    expect(spMetadata).toContain(`entityID="${server.url}/saml/metadata"`);
    expect(spMetadata).toContain(`Location="${server.url}/saml/acs"`);
    writeFileSync(path.join(workdir, 'our-sp.xml'), spMetadata);
    const init = await run(PYTHON, [SCRIPT, 'init', workdir, path.join(workdir, 'our-sp.xml')], ENV);
    expect(init.code, init.stderr).toBe(0);
    // Configured as an administrator would: the CLI, on the same database.
    writeFileSync(path.join(workdir, 'idp.xml'), init.stdout);
    const storage = cliStorage(server);
    const imported = await runCli(['saml', 'idp', 'import', '--metadata-file', path.join(workdir, 'idp.xml'), '--json', ...storage]);
    expect(imported.code, imported.stderr).toBe(0);
    expect(JSON.parse(imported.stdout)).toMatchObject({ idpEntityId: 'https://idp.pysaml2.test/metadata', nameIdMatch: 'userName', spAcsUrl: 'http://127.0.0.1:8080/saml/acs' });
    const shown = await runCli(['saml', 'idp', 'show', '--json', ...storage]);
    expect(JSON.parse(shown.stdout)).toMatchObject({ idpEntityId: 'https://idp.pysaml2.test/metadata', spMetadataUrl: 'http://127.0.0.1:8080/saml/metadata' });
    const bad = await runCli(['saml', 'idp', 'import', '--metadata-file', path.join(workdir, 'our-sp.xml'), ...storage]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain('The IdP metadata cannot be used');
    await createUser('alice', 'alice@example.com');
    await createUser('bob', 'bob@example.com');
    await server.reg.directory.setUserStatus(ctx, server.init.identityStoreId, 'bob', 'DISABLED');
  }, 120_000);
  afterAll(async () => {
    await server?.close();
    if (workdir) rmSync(workdir, { recursive: true, force: true });
  });

  it('offers the IdP on the sign-in page', async () => {
    const login = await (await fetch(`${server.url}/login?return_to=%2Fstart%3Fa%3D1`)).text();
    expect(login).toContain('<a href="/saml/login?return_to=%2Fstart%3Fa%3D1">Sign in with your identity provider</a>');
  });

  it('signs alice in: a portal session like a password sign-in, working on the portal API', async () => {
    const location = await startSignIn('/start?from=idp');
    const answer = await idpRespond(location, 'alice');
    expect(answer.acs).toBe(`${server.url}/saml/acs`);
    const res = await postToAcs(answer.SAMLResponse);
    expect(res.status, res.text).toBe(303);
    expect(res.location).toBe('/start?from=idp');
    expect(res.cookie).toMatch(/^atrium_session=/);
    const accounts = await fetch(`${server.url}/api/portal/accounts`, { headers: { cookie: res.cookie! } });
    expect(accounts.status).toBe(200);
    const session = await server.reg.auth.resolveSession(res.cookie!.split('=')[1]);
    expect(session).toMatchObject({ userName: 'alice' });
    const events = await server.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', 'in', ['CredentialVerification', 'UserAuthentication']).orderBy('seq').execute();
    const last = events.slice(-2);
    expect(last.map((e) => e.event_name)).toEqual(['CredentialVerification', 'UserAuthentication']);
    expect(last.map((e) => e.error_code)).toEqual([null, null]);
    expect(last[1]!.request_parameters).toContain('alice');
  }, 60_000);

  it('matches the NameID by primary email when configured so', async () => {
    const idp = (await server.reg.federation.getIdp())!;
    await server.reg.federation.importIdp(ctx, { entityId: idp.entityId, metadataXml: idp.metadataXml, nameIdMatch: 'email' });
    try {
      const res = await postToAcs((await idpRespond(await startSignIn(), 'alice@example.com')).SAMLResponse);
      expect(res.status, res.text).toBe(303);
      expect(await server.reg.auth.resolveSession(res.cookie!.split('=')[1])).toMatchObject({ userName: 'alice' });
      await expectRefused((await idpRespond(await startSignIn(), 'alice')).SAMLResponse, 'saml.unknown_user', /No Atrium user matches/);
      // A second user with alice's email: the email names neither of them, rather than the older.
      await createUser('alice-twin', 'ALICE@example.com');
      await expectRefused((await idpRespond(await startSignIn(), 'alice@example.com')).SAMLResponse, 'saml.ambiguous_user', /More than one Atrium user has the email/);
    } finally {
      await server.reg.federation.importIdp(ctx, { entityId: idp.entityId, metadataXml: idp.metadataXml, nameIdMatch: 'userName' });
    }
  }, 60_000);

  it('accepts a signature on the Response alone, or on the Assertion alone', async () => {
    for (const sign of ['response', 'assertion']) {
      const res = await postToAcs((await idpRespond(await startSignIn(), 'alice', '--sign', sign)).SAMLResponse);
      expect(res.status, `${sign}: ${res.text}`).toBe(303);
      expect(res.cookie).toMatch(/^atrium_session=/);
    }
  }, 60_000);

  it('says so when the IdP answers that it did not sign the user in', async () => {
    await expectRefused((await idpRespond(await startSignIn(), 'alice', '--refuse')).SAMLResponse, 'saml.idp_refused', /did not sign you in/);
  }, 60_000);

  it('signs alice in when the sign-in starts at the IdP (unsolicited), to the RelayState path, once', async () => {
    const answer = await idpRespond(await startSignIn(), 'alice', '--unsolicited');
    const res = await postToAcs(answer.SAMLResponse, { RelayState: '/start#/accounts' }, undefined);
    expect(res.status, res.text).toBe(303);
    expect(res.location).toBe('/start#/accounts');
    expect(await server.reg.auth.resolveSession(res.cookie!.split('=')[1])).toMatchObject({ userName: 'alice' });
    await expectRefused(answer.SAMLResponse, 'saml.replayed', /used already/);
  }, 60_000);

  it("refuses a response posted from another browser than the one that started the sign-in (login CSRF)", async () => {
    const answer = await idpRespond(await startSignIn(), 'alice');
    binding = undefined;
    await expectRefused(answer.SAMLResponse, 'saml.browser_mismatch', /another browser/);
  }, 60_000);

  it('refuses a replayed response: the same one posted twice', async () => {
    const answer = await idpRespond(await startSignIn(), 'alice');
    expect((await postToAcs(answer.SAMLResponse)).status).toBe(303);
    await expectRefused(answer.SAMLResponse, 'saml.replayed', /used already/);
  }, 60_000);

  it('refuses an unsigned response', async () => {
    await expectRefused((await idpRespond(await startSignIn(), 'alice', '--unsigned')).SAMLResponse, 'saml.unsigned', /not signed/);
  }, 60_000);

  it('refuses a response signed by another key than the IdP metadata names', async () => {
    await expectRefused((await idpRespond(await startSignIn(), 'alice', '--untrusted-key')).SAMLResponse, 'saml.signature_invalid', /signature does not verify/);
  }, 60_000);

  it('refuses an assertion for another audience', async () => {
    await expectRefused((await idpRespond(await startSignIn(), 'alice', '--other-audience')).SAMLResponse, 'saml.audience_mismatch', /another service provider/);
  }, 60_000);

  it('refuses an expired assertion', async () => {
    await expectRefused((await idpRespond(await startSignIn(), 'alice', '--lifetime-minutes', '-10')).SAMLResponse, 'saml.expired', /expired/);
  }, 60_000);

  it('refuses a response to a request we never issued', async () => {
    await expectRefused((await idpRespond(await startSignIn(), 'alice', '--in-response-to', '_never-issued-by-atrium')).SAMLResponse, 'saml.unknown_request', /unknown, expired or used/);
  }, 60_000);

  it('refuses a NameID that names no user, and a disabled user, without creating either', async () => {
    await expectRefused((await idpRespond(await startSignIn(), 'mallory')).SAMLResponse, 'saml.unknown_user', /No Atrium user matches/);
    await expectRefused((await idpRespond(await startSignIn(), 'bob')).SAMLResponse, 'saml.user_disabled', /disabled/);
    expect(await server.reg.directory.findUserByName(server.init.identityStoreId, 'mallory')).toBeUndefined();
  }, 60_000);

  it('refuses a comment injected into a signed NameID (alice.evil read as alice)', async () => {
    const answer = await idpRespond(await startSignIn(), 'alice.evil');
    const forged = rewrite(answer.SAMLResponse, (xml) => xml.replace(/>alice\.evil</g, '>alice<!---->.evil<'));
    expect(forged).not.toBe(answer.SAMLResponse);
    await expectRefused(forged, 'saml.comment_refused', /comments/);
  }, 60_000);

  it('refuses a second, unsigned assertion wrapped beside the signed one (XSW3; all eight in saml-attacks.test.ts)', async () => {
    const answer = await idpRespond(await startSignIn(), 'mallory');
    const forged = rewrite(answer.SAMLResponse, (xml) => {
      const signed = /<(\w+:)?Assertion\b[\s\S]*?<\/\1Assertion>/.exec(xml)![0];
      const evil = signed.replace(/ ID="[^"]+"/, ' ID="_evil"').replace(/>mallory</, '>alice<').replace(/<(\w+:)?Signature\b[\s\S]*?<\/\1Signature>/, '');
      return xml.replace(signed, evil + signed);
    });
    await expectRefused(forged, 'saml.assertion_count', /exactly one assertion/);
  }, 60_000);

  it('refuses an XML external entity', async () => {
    const answer = await idpRespond(await startSignIn(), 'alice');
    const forged = rewrite(answer.SAMLResponse, (xml) =>
      xml.replace(/^(<\?xml[^>]*\?>)?/, '$1<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>').replace(/>alice</, '>&xxe;<'),
    );
    await expectRefused(forged, 'saml.dtd_refused', /DTD/);
  }, 60_000);

  it('answers garbage and a missing SAMLResponse with a page, never a 500', async () => {
    await expectRefused(Buffer.from('<not-saml/>').toString('base64'), 'saml.malformed', /not a SAML Response|not a valid SAML/);
    await expectRefused('', 'saml.malformed', /no valid SAMLResponse/);
    await expectRefused(Buffer.from([0xff, 0xfe, 0x00, 0x3c, 0x12]).toString('base64'), 'saml.malformed', /not well-formed/);
  });
});
