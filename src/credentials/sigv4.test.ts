// SigV4 verification against AWS's published test-suite vectors, and the attacks it must refuse.

import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { DomainError } from '../shared/errors.js';
import { parseAuthorization, signatureFor, verifySignature, type OwnSigningKeys, type SignedRequest } from './sigv4.js';

const SECRET = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
const SIGNED_AT = Date.UTC(2015, 7, 30, 12, 36, 0);

function vanilla(method: 'GET' | 'POST', signature: string): SignedRequest {
  return {
    method,
    path: '/',
    query: '',
    headers: {
      host: 'example.amazonaws.com',
      'x-amz-date': '20150830T123600Z',
      authorization: `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature=${signature}`,
    },
    body: Buffer.alloc(0),
  };
}

const codeOf = (fn: () => void) => {
  try {
    fn();
  } catch (err) {
    return (err as DomainError).code;
  }
  return 'accepted';
};

describe('SigV4 verification', () => {
  it('matches the AWS test-suite vectors get-vanilla and post-vanilla', () => {
    for (const [method, sig] of [
      ['GET', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31'],
      ['POST', '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b'],
    ] as const) {
      const req = vanilla(method, sig);
      const auth = parseAuthorization(req, ['service'], SIGNED_AT);
      expect(signatureFor(req, auth, SECRET)).toBe(sig);
      expect(codeOf(() => verifySignature(req, auth, SECRET))).toBe('accepted');
    }
  });

  it('hashes the body itself: a changed body fails, and a body hash header cannot vouch for it', () => {
    const req = vanilla('POST', '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b');
    const tampered = { ...req, body: Buffer.from('{"evil":true}') };
    const auth = parseAuthorization(tampered, ['service'], SIGNED_AT);
    expect(codeOf(() => verifySignature(tampered, auth, SECRET))).toBe('auth.signature_mismatch');
    const vouched = { ...tampered, headers: { ...req.headers, 'x-amz-content-sha256': createHash('sha256').update('').digest('hex') } };
    expect(codeOf(() => parseAuthorization(vouched, ['service'], SIGNED_AT))).toBe('auth.incomplete');
  });

  it('allows 15 minutes of clock skew either way and no more', () => {
    const req = vanilla('GET', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
    const minute = 60_000;
    expect(codeOf(() => parseAuthorization(req, ['service'], SIGNED_AT + 14 * minute))).toBe('accepted');
    expect(codeOf(() => parseAuthorization(req, ['service'], SIGNED_AT - 14 * minute))).toBe('accepted');
    expect(codeOf(() => parseAuthorization(req, ['service'], SIGNED_AT + 16 * minute))).toBe('auth.expired');
    expect(codeOf(() => parseAuthorization(req, ['service'], SIGNED_AT - 16 * minute))).toBe('auth.expired');
  });

  it('refuses a signature for another service, a missing header, or a malformed one', () => {
    const req = vanilla('GET', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
    expect(codeOf(() => parseAuthorization(req, ['identitystore'], SIGNED_AT))).toBe('auth.bad_scope');
    expect(codeOf(() => parseAuthorization({ ...req, headers: { host: 'h' } }, ['service'], SIGNED_AT))).toBe('auth.missing');
    expect(codeOf(() => parseAuthorization({ ...req, headers: { ...req.headers, authorization: 'AWS4-HMAC-SHA256 junk' } }, ['service'], SIGNED_AT))).toBe('auth.incomplete');
    const unsignedHost = { ...req, headers: { ...req.headers, authorization: req.headers.authorization!.replace('host;x-amz-date', 'x-amz-date') } };
    expect(codeOf(() => parseAuthorization(unsignedHost, ['service'], SIGNED_AT))).toBe('auth.incomplete');
  });

  it('requires the operation and every x-amz header to be signed, so none can be swapped in transit', () => {
    const req = vanilla('POST', '5da7c1a2acd57cee7505fc6676e4e544621c30862966e37dddb68e92efbe5d6b');
    const swapped = { ...req, headers: { ...req.headers, 'x-amz-target': 'AWSIdentityStore.DeleteUser' } };
    expect(codeOf(() => parseAuthorization(swapped, ['service'], SIGNED_AT))).toBe('auth.incomplete');
    const retyped = { ...req, headers: { ...req.headers, 'content-type': 'application/x-amz-json-1.1' } };
    expect(codeOf(() => parseAuthorization(retyped, ['service'], SIGNED_AT))).toBe('auth.incomplete');
  });

  it('refuses odd SignedHeaders cleanly: inherited names, repeats, disorder, and junk regions', () => {
    const req = vanilla('GET', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
    const withHeaders = (list: string) => ({ ...req, headers: { ...req.headers, authorization: req.headers.authorization!.replace('host;x-amz-date', list) } });
    expect(codeOf(() => parseAuthorization(withHeaders('constructor;host;x-amz-date'), ['service'], SIGNED_AT))).toBe('auth.incomplete');
    expect(codeOf(() => parseAuthorization(withHeaders('host;host;x-amz-date'), ['service'], SIGNED_AT))).toBe('auth.incomplete');
    expect(codeOf(() => parseAuthorization(withHeaders('x-amz-date;host'), ['service'], SIGNED_AT))).toBe('auth.incomplete');
    const junkRegion = { ...req, headers: { ...req.headers, authorization: req.headers.authorization!.replace('/us-east-1/', `/${'x'.repeat(500)}/`) } };
    expect(codeOf(() => parseAuthorization(junkRegion, ['service'], SIGNED_AT))).toBe('auth.bad_scope');
  });

  it("keeps a holder's signing keys only once they verified, and still refuses a wrong signature or secret", () => {
    const req = vanilla('GET', '5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31');
    const auth = parseAuthorization(req, ['service'], SIGNED_AT);
    const own: OwnSigningKeys = new Map();
    const forged = { ...auth, signature: '0'.repeat(64) };
    expect(codeOf(() => verifySignature(req, forged, SECRET, own))).toBe('auth.signature_mismatch');
    expect(own.size).toBe(0);
    expect(codeOf(() => verifySignature(req, auth, SECRET, own))).toBe('accepted');
    expect([...own.keys()]).toEqual(['20150830/us-east-1/service']);
    // With the key kept: the same request verifies, a forged signature still fails.
    expect(codeOf(() => verifySignature(req, auth, SECRET, own))).toBe('accepted');
    expect(codeOf(() => verifySignature(req, forged, SECRET, own))).toBe('auth.signature_mismatch');
    // Another scope derives its own key: a signature for another region does not pass.
    const otherRegion = { ...auth, region: 'eu-west-1' };
    expect(codeOf(() => verifySignature(req, otherRegion, SECRET, own))).toBe('auth.signature_mismatch');
    expect(own.size).toBe(1);
  });

  it("verifies the AWS SDK's signatures of paths that need encoding and header values with odd whitespace", async () => {
    const signer = new SignatureV4({ service: 'service', region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET }, sha256: Hash.bind(null, 'sha256') });
    const paths = ['/', '/plain/path-1_2.3~x', '/example%20space/', '/%C3%BC%E2%82%AC/%2A'];
    const values = ['plain', '  padded  ', 'inner   runs  of spaces', 'tab\there', 'a \t b'];
    for (const path of paths) {
      for (const value of values) {
        const signed = await signer.sign({ method: 'PUT', protocol: 'https:', hostname: 'example.amazonaws.com', path, query: {}, headers: { host: 'example.amazonaws.com', 'x-amz-meta-note': value }, body: 'x' });
        const headers = Object.fromEntries(Object.entries(signed.headers).map(([k, v]) => [k.toLowerCase(), v]));
        const req: SignedRequest = { method: 'PUT', path, query: '', headers, body: Buffer.from('x') };
        const auth = parseAuthorization(req, ['service'], Date.now());
        expect(codeOf(() => verifySignature(req, auth, SECRET)), `${path} ${JSON.stringify(value)}`).toBe('accepted');
        const changed = { ...req, headers: { ...headers, 'x-amz-meta-note': `${value}!` } };
        expect(codeOf(() => verifySignature(changed, auth, SECRET))).toBe('auth.signature_mismatch');
      }
    }
  });
});
