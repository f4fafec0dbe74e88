// The event-loop check of an ES256 assertion accepts exactly what @simplewebauthn accepts: a right
// assertion passes both with the same counter, and every assertion @simplewebauthn refuses (each
// check broken in turn) is left to it. Another algorithm is left to it too.

import { createHash, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { verifyAuthenticationResponse, type AuthenticationResponseJSON } from '@simplewebauthn/server';
import { describe, expect, it } from 'vitest';
import { fastAssertion, type AssertionCheck } from './webauthn-assertion.js';

const RP = { rpId: 'login.example.com', origin: 'https://login.example.com' };
const CHALLENGE = 'c2lnbi1pbi1jaGFsbGVuZ2UtMzJieXRlcy1sb25nLW9rYXk';
const b64u = (b: Buffer) => b.toString('base64url');

/** The COSE_Key of a P-256 public key (CBOR map {1:2, 3:-7, -1:1, -2:x, -3:y}). */
function coseOf(publicKey: KeyObject): Buffer {
  const jwk = publicKey.export({ format: 'jwk' });
  return Buffer.concat([Buffer.from([0xa5, 0x01, 0x02, 0x03, 0x26, 0x20, 0x01, 0x21, 0x58, 0x20]), Buffer.from(jwk.x!, 'base64url'), Buffer.from([0x22, 0x58, 0x20]), Buffer.from(jwk.y!, 'base64url')]);
}

/** The COSE_Key of an Ed25519 public key (CBOR map {1:1, 3:-8, -1:6, -2:x}). */
function coseOfEd25519(publicKey: KeyObject): Buffer {
  return Buffer.concat([Buffer.from([0xa4, 0x01, 0x01, 0x03, 0x27, 0x20, 0x06, 0x21, 0x58, 0x20]), Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')]);
}

interface Variant {
  flags?: number;
  counter?: number;
  rpId?: string;
  client?: Record<string, unknown>;
  sign?: (data: Buffer) => Buffer;
  rawId?: string;
}

/** An assertion as a browser returns it, signed by `key` (ES256 unless `variant.sign` says otherwise). */
function assertionOf(key: KeyObject, v: Variant = {}): AuthenticationResponseJSON {
  const counter = Buffer.alloc(4);
  counter.writeUInt32BE(v.counter ?? 7);
  const authData = Buffer.concat([createHash('sha256').update(v.rpId ?? RP.rpId).digest(), Buffer.from([v.flags ?? 0x05]), counter]);
  const clientData = Buffer.from(JSON.stringify({ type: 'webauthn.get', challenge: CHALLENGE, origin: RP.origin, crossOrigin: false, ...v.client }));
  const signed = Buffer.concat([authData, createHash('sha256').update(clientData).digest()]);
  const id = b64u(Buffer.from('credential-1'));
  return {
    id,
    rawId: v.rawId ?? id,
    type: 'public-key',
    response: { authenticatorData: b64u(authData), clientDataJSON: b64u(clientData), signature: b64u(v.sign ? v.sign(signed) : sign('sha256', signed, key)) },
    clientExtensionResults: {},
  };
}

/** What @simplewebauthn says: the new counter, or undefined when it refuses. */
async function library(c: AssertionCheck): Promise<number | undefined> {
  try {
    const r = await verifyAuthenticationResponse({
      response: c.response as AuthenticationResponseJSON,
      expectedChallenge: c.expectedChallenge,
      expectedOrigin: c.expectedOrigin,
      expectedRPID: c.expectedRPID,
      credential: { id: 'credential-1', publicKey: new Uint8Array(c.publicKey), counter: c.counter },
      requireUserVerification: c.requireUserVerification,
    });
    return r.verified ? r.authenticationInfo.newCounter : undefined;
  } catch {
    return undefined;
  }
}

describe('fastAssertion', () => {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const other = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const check = (response: unknown, over: Partial<AssertionCheck> = {}): AssertionCheck => ({
    response,
    expectedChallenge: CHALLENGE,
    expectedOrigin: RP.origin,
    expectedRPID: RP.rpId,
    publicKey: coseOf(publicKey),
    counter: 3,
    requireUserVerification: false,
    ...over,
  });

  it('accepts a right assertion as @simplewebauthn does, with its counter', async () => {
    const c = check(assertionOf(privateKey));
    expect(fastAssertion(c)).toEqual({ newCounter: 7 });
    expect(await library(c)).toBe(7);
    // An authenticator without a counter (always 0), with user verification required and given.
    const uncounted = check(assertionOf(privateKey, { counter: 0, flags: 0x05 }), { counter: 0, requireUserVerification: true });
    expect(fastAssertion(uncounted)).toEqual({ newCounter: 0 });
    expect(await library(uncounted)).toBe(0);
  });

  it('leaves every assertion @simplewebauthn refuses to it', async () => {
    const refused: [string, AssertionCheck][] = [
      ['another challenge', check(assertionOf(privateKey, { client: { challenge: 'b3RoZXI' } }))],
      ['another origin', check(assertionOf(privateKey, { client: { origin: 'https://evil.example.com' } }))],
      ['a registration', check(assertionOf(privateKey, { client: { type: 'webauthn.create' } }))],
      ['a top origin', check(assertionOf(privateKey, { client: { crossOrigin: true, topOrigin: 'https://evil.example.com' } }))],
      ['a bad token binding', check(assertionOf(privateKey, { client: { tokenBinding: { status: 'bogus' } } }))],
      ['another relying party', check(assertionOf(privateKey, { rpId: 'evil.example.com' }))],
      ['no user presence', check(assertionOf(privateKey, { flags: 0x04 }))],
      ['no user verification when required', check(assertionOf(privateKey, { flags: 0x01 }), { requireUserVerification: true })],
      ['a counter that did not move', check(assertionOf(privateKey, { counter: 3 }))],
      ['a counter gone back', check(assertionOf(privateKey, { counter: 2 }))],
      ['backed up but single-device', check(assertionOf(privateKey, { flags: 0x15 }))],
      ['a rawId that differs', check(assertionOf(privateKey, { rawId: 'b3RoZXI' }))],
      ['another key', check(assertionOf(other.privateKey))],
      ['a signature of other data', check(assertionOf(privateKey, { sign: (d) => sign('sha256', Buffer.concat([d, Buffer.from([0])]), privateKey) }))],
      ['a signature that is not DER', check(assertionOf(privateKey, { sign: (d) => sign('sha256', d, { key: privateKey, dsaEncoding: 'ieee-p1363' }) }))],
      ['no response', check(undefined)],
      ['a response without its parts', check({ id: 'x', rawId: 'x', type: 'public-key', response: {} })],
    ];
    for (const [name, c] of refused) {
      expect(fastAssertion(c), name).toBeUndefined();
      expect(await library(c), name).toBeUndefined();
    }
  });

  it('leaves keys of other algorithms to @simplewebauthn', async () => {
    const ed = generateKeyPairSync('ed25519');
    const c = check(assertionOf(ed.privateKey, { sign: (d) => sign(null, d, ed.privateKey) }), { publicKey: coseOfEd25519(ed.publicKey) });
    expect(fastAssertion(c)).toBeUndefined();
    expect(await library(c)).toBe(7);
  });
});
