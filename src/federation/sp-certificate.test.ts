import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createSpKeyPair } from './sp-certificate.js';

describe('createSpKeyPair', () => {
  it('makes a self-signed certificate that node and openssl read, for the key it returns', async () => {
    const now = Date.UTC(2026, 0, 1);
    const pair = await createSpKeyPair('https://atrium.example/saml/metadata', now, 3650);
    const cert = new X509Certificate(pair.certificatePem);
    expect(cert.subject).toBe('CN=https://atrium.example/saml/metadata');
    expect(cert.issuer).toBe(cert.subject);
    expect(new Date(cert.validTo).getTime()).toBe(now + 3650 * 86_400_000);
    expect(cert.verify(createPublicKey(createPrivateKey(pair.privateKeyPem)))).toBe(true);
    expect(cert.checkPrivateKey(createPrivateKey(pair.privateKeyPem))).toBe(true);
    const text = execFileSync('openssl', ['x509', '-noout', '-text'], { input: pair.certificatePem }).toString();
    expect(text).toContain('sha256WithRSAEncryption');
  });
});
