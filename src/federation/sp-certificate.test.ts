import { X509Certificate, createPrivateKey, createPublicKey } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { createSpKeyPair, positiveSerial } from './sp-certificate.js';

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

  it('gives every serial a first byte that DER needs, so strict parsers read it (zero and high-bit random bytes included)', () => {
    for (const first of [0x00, 0x01, 0x3f, 0x40, 0x7f, 0x80, 0xff]) {
      for (const second of [0x00, 0x7f, 0x80, 0xff]) {
        const random = Buffer.alloc(16, 0x5a);
        random[0] = first;
        random[1] = second;
        const serial = positiveSerial(random);
        expect(serial.length).toBe(16);
        // Positive (high bit clear) and minimal (not a zero byte that could be dropped).
        expect(serial[0]! & 0x80).toBe(0);
        expect(serial[0]).not.toBe(0);
        expect(serial.subarray(1)).toEqual(random.subarray(1));
      }
    }
  });
});
