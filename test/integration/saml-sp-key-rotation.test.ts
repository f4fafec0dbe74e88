// Replacing this instance's SAML SP key: `atrium saml sp-key rotate` makes a new key the one that
// signs AuthnRequests, our metadata lists it first and the earlier one after it (so an IdP that
// reads our metadata again trusts both meanwhile), a running server uses it from its next request
// (the rotation came from another process), and `retire` leaves the new one alone. Both changes
// are audited, without the private key.

import { createPublicKey, verify, X509Certificate } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { cliStorage, dialects, startServer, type TestServer } from '../helpers/server.js';
import { idpMetadata } from './audit-coverage-helpers.js';

/** The certificates our metadata publishes for signing, in order, as PEM. */
async function metadataCertificates(server: TestServer): Promise<string[]> {
  const xml = await (await fetch(`${server.url}/saml/metadata`)).text();
  return [...xml.matchAll(/<(?:ds:)?X509Certificate>([^<]+)<\/(?:ds:)?X509Certificate>/g)].map(
    (m) => `-----BEGIN CERTIFICATE-----\n${m[1]!.replace(/\s/g, '').replace(/(.{64})/g, '$1\n').replace(/\n$/, '')}\n-----END CERTIFICATE-----\n`,
  );
}
const fingerprint = (pem: string) => new X509Certificate(pem).fingerprint256;

/** Start an SP-initiated sign-in and check the AuthnRequest's redirect signature against `certificatePem`. */
async function authnRequestSignedBy(server: TestServer, certificatePem: string): Promise<boolean> {
  const res = await fetch(`${server.url}/saml/login`, { redirect: 'manual' });
  expect(res.status).toBe(303);
  const location = res.headers.get('location')!;
  const query = location.slice(location.indexOf('?') + 1);
  // HTTP-Redirect binding (SAML bindings §3.4.4.1): the signature covers the query as sent, up to &Signature=.
  const at = query.indexOf('&Signature=');
  const signed = query.slice(0, at);
  const signature = Buffer.from(decodeURIComponent(query.slice(at + '&Signature='.length).split('&')[0]!), 'base64');
  expect(decodeURIComponent(/SigAlg=([^&]+)/.exec(signed)![1]!)).toBe('http://www.w3.org/2001/04/xmldsig-more#rsa-sha256');
  return verify('sha256', Buffer.from(signed), createPublicKey(certificatePem), signature);
}

describe.each(dialects())('rotating the SAML SP key on %s', (dialect) => {
  let server: TestServer;
  let storage: string[];
  beforeAll(async () => {
    server = await startServer(dialect);
    storage = cliStorage(server);
    // An IdP that wants signed AuthnRequests, so that /saml/login signs them.
    const file = path.join(server.dataDir, 'idp.xml');
    writeFileSync(file, (await idpMetadata('https://idp.rotation.test/metadata')).replace('<md:IDPSSODescriptor ', '<md:IDPSSODescriptor WantAuthnRequestsSigned="true" '));
    const imported = await runCli(['saml', 'idp', 'import', '--metadata-file', file, ...storage]);
    expect(imported.code, imported.stderr).toBe(0);
  });
  afterAll(() => server?.close());

  const cli = async (...args: string[]) => {
    const r = await runCli(['saml', 'sp-key', ...args, '--json', ...storage]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout + r.stderr).not.toContain('PRIVATE KEY');
    return JSON.parse(r.stdout) as Record<string, unknown>;
  };
  const eventsNamed = (name: string) => server.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', '=', name).orderBy('seq').execute();

  it('signs with the new key at once, lists both in the metadata until the old one is retired, and audits both steps', async () => {
    const [first] = await metadataCertificates(server);
    expect(first).toBeDefined();
    expect(await authnRequestSignedBy(server, first!)).toBe(true);
    expect(((await cli('show')).keys as { certificateSha256: string; current: boolean }[]).map((k) => [k.certificateSha256, k.current])).toEqual([[fingerprint(first!), true]]);

    // Rotated by another process: the running server picks it up at its next request.
    const rotated = await cli('rotate');
    expect(rotated).toMatchObject({ keyId: expect.stringMatching(/^sp-[0-9a-f]{8}$/), current: true, spMetadataUrl: expect.stringMatching(/\/saml\/metadata$/) });
    const afterRotation = await metadataCertificates(server);
    expect(afterRotation.map(fingerprint)).toEqual([rotated.certificateSha256, fingerprint(first!)]);
    expect(await authnRequestSignedBy(server, afterRotation[0]!)).toBe(true);
    expect(await authnRequestSignedBy(server, first!)).toBe(false);
    const shown = (await cli('show')).keys as { keyId: string; current: boolean }[];
    expect(shown.map((k) => [k.keyId, k.current])).toEqual([
      [rotated.keyId, true],
      ['default', false],
    ]);

    const retired = await cli('retire');
    expect(retired).toEqual({ currentKeyId: rotated.keyId, retiredKeyIds: ['default'] });
    expect((await metadataCertificates(server)).map(fingerprint)).toEqual([rotated.certificateSha256]);
    expect(await authnRequestSignedBy(server, afterRotation[0]!)).toBe(true);
    // Nothing left to retire: still an answer, and still on the record.
    expect(await cli('retire')).toEqual({ currentKeyId: rotated.keyId, retiredKeyIds: [] });

    const [rotation] = await eventsNamed('RotateSamlServiceProviderKey');
    expect(rotation).toMatchObject({ event_source: 'signin.amazonaws.com', error_code: null });
    expect(JSON.parse(rotation!.response_elements!)).toEqual({ keyId: rotated.keyId, certificateSha256: rotated.certificateSha256, notAfter: rotated.notAfter });
    const retirements = await eventsNamed('RetireSamlServiceProviderKeys');
    expect(retirements.map((e) => JSON.parse(e.response_elements!) as unknown)).toEqual([
      { currentKeyId: rotated.keyId, retiredKeyIds: ['default'] },
      { currentKeyId: rotated.keyId, retiredKeyIds: [] },
    ]);
    for (const e of [rotation!, ...retirements]) expect(JSON.stringify(e)).not.toContain('PRIVATE KEY');
    // The new private key is kept sealed, like the first one was.
    const rows = await server.reg.database.db.selectFrom('saml_sp_keys').select('sealed_private_key').execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.sealed_private_key).not.toContain('PRIVATE KEY');
  });
});
