// A WebAuthn assertion checked on the event loop with node:crypto, for the ES256 (P-256) keys that
// nearly every authenticator uses. @simplewebauthn's verifyAuthenticationResponse makes the same
// checks, but hashes and verifies through WebCrypto, where each call is a trip through libuv's
// thread pool (three per assertion): on a busy machine those trips, not the maths, were most of a
// WebAuthn sign-in's cost. This accepts only what passes every check that function makes, through
// its own parsers; for anything else (another algorithm, a refused check, a signature that OpenSSL's
// strict DER parsing refuses) it answers undefined and the caller asks @simplewebauthn, whose
// verdict and message stand.

import { createHash, createPublicKey, timingSafeEqual, verify } from 'node:crypto';
import { cose, decodeClientDataJSON, decodeCredentialPublicKey, isoBase64URL, parseAuthenticatorData } from '@simplewebauthn/server/helpers';

export interface AssertionCheck {
  response: unknown;
  expectedChallenge: string;
  expectedOrigin: string;
  expectedRPID: string;
  /** The credential's COSE public key and last counter. */
  publicKey: Uint8Array;
  counter: number;
  requireUserVerification: boolean;
}

const TOKEN_BINDING_STATUSES = ['present', 'supported', 'notSupported'];
const { COSEKEYS, COSEKTY, COSEALG, COSECRV } = cose;

/** The new counter of an ES256 assertion that passes every check, or undefined: ask @simplewebauthn. */
export function fastAssertion(c: AssertionCheck): { newCounter: number } | undefined {
  try {
    return check(c);
  } catch {
    return undefined;
  }
}

function check(c: AssertionCheck): { newCounter: number } | undefined {
  if (typeof c.response !== 'object' || c.response === null) return undefined;
  const { id, rawId, type, response: a } = c.response as { id?: unknown; rawId?: unknown; type?: unknown; response?: Record<string, unknown> };
  if (typeof id !== 'string' || !id || id !== rawId || type !== 'public-key' || typeof a !== 'object' || a === null) return undefined;
  const { clientDataJSON, authenticatorData, signature, userHandle } = a;
  if (typeof clientDataJSON !== 'string' || typeof authenticatorData !== 'string' || typeof signature !== 'string') return undefined;
  if (userHandle && typeof userHandle !== 'string') return undefined;

  const client = decodeClientDataJSON(clientDataJSON);
  // No cross-origin iframe is expected: a top origin is refused, as @simplewebauthn does without one expected.
  if (client.type !== 'webauthn.get' || client.challenge !== c.expectedChallenge || client.origin !== c.expectedOrigin || client.topOrigin) return undefined;
  const binding = client.tokenBinding as unknown;
  if (binding && (typeof binding !== 'object' || !TOKEN_BINDING_STATUSES.includes(String((binding as { status?: unknown }).status)))) return undefined;
  if (!isoBase64URL.isBase64URL(authenticatorData) || !isoBase64URL.isBase64URL(signature)) return undefined;

  const authData = isoBase64URL.toBuffer(authenticatorData);
  const { rpIdHash, flags, counter } = parseAuthenticatorData(authData);
  const expectedHash = createHash('sha256').update(c.expectedRPID).digest();
  if (rpIdHash.length !== expectedHash.length || !timingSafeEqual(rpIdHash, expectedHash)) return undefined;
  if (!flags.up || (c.requireUserVerification && !flags.uv)) return undefined;
  if ((counter > 0 || c.counter > 0) && counter <= c.counter) return undefined;
  // A single-device credential cannot be backed up.
  if (!flags.be && flags.bs) return undefined;

  const key = decodeCredentialPublicKey(new Uint8Array(c.publicKey)) as unknown as Map<number, unknown>;
  if (key.get(COSEKEYS.kty) !== COSEKTY.EC2 || key.get(COSEKEYS.alg) !== COSEALG.ES256 || key.get(COSEKEYS.crv) !== COSECRV.P256) return undefined;
  const x = key.get(COSEKEYS.x);
  const y = key.get(COSEKEYS.y);
  if (!(x instanceof Uint8Array) || !(y instanceof Uint8Array) || x.length !== 32 || y.length !== 32) return undefined;
  const publicKey = createPublicKey({ key: { kty: 'EC', crv: 'P-256', x: Buffer.from(x).toString('base64url'), y: Buffer.from(y).toString('base64url') }, format: 'jwk' });
  const clientDataHash = createHash('sha256').update(isoBase64URL.toBuffer(clientDataJSON)).digest();
  const signed = Buffer.concat([authData, clientDataHash]);
  return verify('sha256', signed, { key: publicKey, dsaEncoding: 'der' }, isoBase64URL.toBuffer(signature)) ? { newCounter: counter } : undefined;
}
