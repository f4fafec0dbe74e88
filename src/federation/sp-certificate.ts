// A self-signed X.509 certificate for this instance's SAML SP key, made with node:crypto alone:
// IdPs only need the public key in our metadata, so a minimal DER encoder is enough.

import { createPublicKey, generateKeyPair, randomBytes, sign } from 'node:crypto';
import { promisify } from 'node:util';

const der = (tag: number, body: Buffer): Buffer => {
  const n = body.length;
  const length = n < 0x80 ? Buffer.from([n]) : n < 0x100 ? Buffer.from([0x81, n]) : Buffer.from([0x82, n >> 8, n & 0xff]);
  return Buffer.concat([Buffer.from([tag]), length, body]);
};
const sequence = (...items: Buffer[]) => der(0x30, Buffer.concat(items));
const oid = (dotted: string) => {
  const [a, b, ...rest] = dotted.split('.').map(Number) as [number, number, ...number[]];
  const bytes = [40 * a + b];
  for (const v of rest) {
    const chunk = [v & 0x7f];
    for (let x = v >> 7; x > 0; x >>= 7) chunk.unshift((x & 0x7f) | 0x80);
    bytes.push(...chunk);
  }
  return der(0x06, Buffer.from(bytes));
};
const SHA256_WITH_RSA = sequence(oid('1.2.840.113549.1.1.11'), Buffer.from([0x05, 0x00]));
const generalizedTime = (ms: number) => der(0x18, Buffer.from(new Date(ms).toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z'), 'ascii'));
const commonName = (cn: string) => sequence(der(0x31, sequence(oid('2.5.4.3'), der(0x0c, Buffer.from(cn, 'utf8')))));

export interface SpKeyPair {
  certificatePem: string;
  privateKeyPem: string;
}

/**
 * A certificate serial from random bytes, as DER writes an INTEGER: positive (the first byte's high
 * bit clear) and minimal (the first byte never zero; a zero first byte followed by a byte under 0x80
 * is a non-minimal encoding that strict parsers, such as Python's cryptography under pysaml2,
 * refuse). One random serial in 256 used to be so.
 */
export function positiveSerial(random: Buffer): Buffer {
  const serial = Buffer.from(random);
  serial[0] = (serial[0]! & 0x3f) | 0x40;
  return serial;
}

/** An RSA-2048 key and a self-signed SHA-256 certificate for `commonName`, valid from `now` for `days`. */
export async function createSpKeyPair(cn: string, now: number, days: number): Promise<SpKeyPair> {
  // Off the event loop: an RSA key takes long enough to stall every request in flight.
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const spki = createPublicKey(privateKey).export({ format: 'der', type: 'spki' });
  const serial = positiveSerial(randomBytes(16));
  const name = commonName(cn.slice(0, 64));
  const tbs = sequence(
    der(0xa0, der(0x02, Buffer.from([2]))),
    der(0x02, serial),
    SHA256_WITH_RSA,
    name,
    sequence(generalizedTime(now - 60_000), generalizedTime(now + days * 86_400_000)),
    name,
    spki,
  );
  const signature = sign('sha256', tbs, privateKey);
  const certificate = sequence(tbs, SHA256_WITH_RSA, der(0x03, Buffer.concat([Buffer.from([0]), signature])));
  const body = certificate.toString('base64').replace(/(.{64})/g, '$1\n').replace(/\n$/, '');
  return {
    certificatePem: `-----BEGIN CERTIFICATE-----\n${body}\n-----END CERTIFICATE-----\n`,
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}
