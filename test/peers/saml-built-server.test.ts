// A SAML sign-in through the built program, `atrium serve` from dist/ under Node's own ESM loader,
// with Debian's pysaml2 as the IdP. The other SAML tests load src/ through vitest, whose CommonJS
// interop hid that the built server read samlify's helpers off a namespace Node does not fill in:
// every sign-in, however well signed, was refused as "signature does not verify".

import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli, startServe, type ServeProcess } from '../helpers/cli.js';
import { PYTHON, peerAvailable, run } from '../helpers/peers.js';

const SCRIPT = path.resolve(import.meta.dirname, 'saml-pysaml2-idp.py');
const hasPysaml2 = peerAvailable('python3-pysaml2', () => existsSync(PYTHON) && existsSync('/usr/lib/python3/dist-packages/saml2') && existsSync('/usr/bin/xmlsec1'));
const ENV = { PATH: '/usr/bin:/bin' };

describe.skipIf(!hasPysaml2)('a SAML sign-in through the built `atrium serve`, with pysaml2 as the IdP', () => {
  let dir: string;
  let serve: ServeProcess;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'atrium-saml-built-'));
    const dataDir = path.join(dir, 'data');
    const init = await runCli(['init', '--data-dir', dataDir, '--json']);
    expect(init.code, init.stderr).toBe(0);
    const keys = JSON.parse(init.stdout) as { adminAccessKeyId: string; adminSecretAccessKey: string; identityStoreId: string };
    serve = await startServe(['--data-dir', dataDir]);
    const client = new IdentitystoreClient({
      endpoint: serve.url,
      region: 'us-east-1',
      credentials: { accessKeyId: keys.adminAccessKeyId, secretAccessKey: keys.adminSecretAccessKey },
      maxAttempts: 1,
    });
    await client.send(new CreateUserCommand({ IdentityStoreId: keys.identityStoreId, UserName: 'alice', DisplayName: 'Alice', Name: { GivenName: 'A', FamilyName: 'B' } }));
    writeFileSync(path.join(dir, 'sp.xml'), await (await fetch(`${serve.url}/saml/metadata`)).text());
    const idp = await run(PYTHON, [SCRIPT, 'init', dir, path.join(dir, 'sp.xml')], ENV);
    expect(idp.code, idp.stderr).toBe(0);
    writeFileSync(path.join(dir, 'idp.xml'), idp.stdout);
    const imported = await runCli(['saml', 'idp', 'import', '--metadata-file', path.join(dir, 'idp.xml'), '--data-dir', dataDir]);
    expect(imported.code, imported.stderr).toBe(0);
  }, 120_000);
  afterAll(async () => {
    await serve?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('signs alice in with a correctly signed response, and refuses one signed by a key the metadata does not name', async () => {
    const signIn = async (...flags: string[]) => {
      const start = await fetch(`${serve.url}/saml/login?return_to=%2Fstart`, { redirect: 'manual' });
      expect(start.status).toBe(303);
      const binding = start.headers.getSetCookie().find((c) => c.startsWith('atrium_saml_binding='))!.split(';')[0]!;
      const answer = await run(PYTHON, [SCRIPT, 'respond', dir, start.headers.get('location')!, 'alice', ...flags], ENV);
      expect(answer.code, answer.stderr).toBe(0);
      const { SAMLResponse } = JSON.parse(answer.stdout) as { SAMLResponse: string };
      return fetch(`${serve.url}/saml/acs`, {
        method: 'POST',
        redirect: 'manual',
        headers: { 'content-type': 'application/x-www-form-urlencoded', cookie: binding },
        body: new URLSearchParams({ SAMLResponse }).toString(),
      });
    };
    const good = await signIn();
    expect(good.status, await good.clone().text()).toBe(303);
    expect(good.headers.get('location')).toBe('/start');
    const cookie = good.headers.getSetCookie().find((c) => c.startsWith('atrium_session='))!.split(';')[0]!;
    const accounts = await fetch(`${serve.url}/api/portal/accounts`, { headers: { cookie } });
    expect(accounts.status).toBe(200);
    const forged = await signIn('--untrusted-key');
    expect(forged.status).toBe(403);
    expect(await forged.text()).toMatch(/signature does not verify/);
  }, 60_000);
});
