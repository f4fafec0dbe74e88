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

  describe("paths and payloads as AWS's signers build them", () => {
    const credentials = { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET };
    const sha256 = Hash.bind(null, 'sha256');
    const sha256hex = (s: string) => createHash('sha256').update(s).digest('hex');
    /** Characters the SDK leaves encoded once where we used to encode twice, runs of '/', and '.' and '..' segments. */
    const paths = ["/a+b/it's/(x)!/star*", '/a%20b+c/%2B/%27', '/a//b///c/', '//', '/a/./b/.', '/a/b/../c', '/../x', '/a/..', '/.../x.y', '/%C3%BC/ü'];

    /** What a client sends, signed by the SDK's own signer, as our verifier receives it. */
    async function signed(signer: SignatureV4, path: string, body: string, extra: Record<string, string> = {}): Promise<SignedRequest> {
      const out = await signer.sign({ method: 'PUT', protocol: 'https:', hostname: 'example.amazonaws.com', path, query: {}, headers: { host: 'example.amazonaws.com', ...extra }, body });
      const headers = Object.fromEntries(Object.entries(out.headers).map(([k, v]) => [k.toLowerCase(), v]));
      return { method: 'PUT', path, query: '', headers, body: Buffer.from(body) };
    }
    const verify = (req: SignedRequest, service: string) => codeOf(() => verifySignature(req, parseAuthorization(req, [service], Date.now()), SECRET));

    it('verifies any service but S3 with the path normalised and encoded once more, as the SDK signs it', async () => {
      const signer = new SignatureV4({ service: 'execute-api', region: 'us-east-1', credentials, sha256 });
      for (const path of paths) {
        const req = await signed(signer, path, 'x');
        expect(verify(req, 'execute-api'), path).toBe('accepted');
        // The path is part of what is signed: another one fails, even one the old double decoding confused with it.
        expect(verify({ ...req, path: `${path}z` }, 'execute-api'), path).toBe('auth.signature_mismatch');
      }
      const plus = await signed(signer, '/a+b', 'x');
      expect(verify({ ...plus, path: '/a%2Bb' }, 'execute-api')).toBe('auth.signature_mismatch');
      // '..' takes the segment before it away for these services, as on AWS: the same resource.
      const dotted = await signed(signer, '/a/b/../c', 'x');
      expect(verify({ ...dotted, path: '/a/c' }, 'execute-api')).toBe('accepted');
      expect(verify({ ...dotted, path: '/a/b/c' }, 'execute-api')).toBe('auth.signature_mismatch');
      // The body is still hashed here: UNSIGNED-PAYLOAD is S3's alone.
      const unsigned = await signed(signer, '/a', 'x', { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
      expect(verify(unsigned, 'execute-api')).toBe('auth.signature_mismatch');
    });

    it('verifies S3 with the path as sent and the signed x-amz-content-sha256 as the payload line', async () => {
      // As @aws-sdk/client-s3 signs: the path not escaped again, the payload's hash in a signed header.
      const signer = new SignatureV4({ service: 's3', region: 'us-east-1', credentials, sha256, uriEscapePath: false });
      const body = '{"payload":true}';
      for (const path of paths) {
        const req = await signed(signer, path, body, { 'x-amz-content-sha256': sha256hex(body) });
        expect(verify(req, 's3'), path).toBe('accepted');
        // A gateway that sends the body's hash, or neither the body nor its hash, passes too.
        expect(verify({ ...req, body: undefined, bodySha256: sha256hex(body) }, 's3'), path).toBe('accepted');
        expect(verify({ ...req, body: undefined }, 's3'), path).toBe('accepted');
        expect(verify({ ...req, path: `${path}z` }, 's3'), path).toBe('auth.signature_mismatch');
        const unsigned = await signed(signer, path, 'any body', { 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' });
        expect(verify(unsigned, 's3'), path).toBe('accepted');
        expect(verify({ ...unsigned, body: undefined }, 's3'), path).toBe('accepted');
      }
      // S3 normalises nothing: '/b/k/../x' and '/b/x' are different keys.
      const dotted = await signed(signer, '/bucket/k/../x', body, { 'x-amz-content-sha256': sha256hex(body) });
      expect(verify({ ...dotted, path: '/bucket/x' }, 's3')).toBe('auth.signature_mismatch');
      // A client that sends no x-amz-content-sha256 signs its body's hash, which is computed here.
      const bareSigner = new SignatureV4({ service: 's3', region: 'us-east-1', credentials, sha256, uriEscapePath: false, applyChecksum: false });
      const bare = await signed(bareSigner, '/bucket/key', body);
      expect(bare.headers['x-amz-content-sha256']).toBeUndefined();
      expect(verify(bare, 's3')).toBe('accepted');
      expect(verify({ ...bare, body: Buffer.from('other') }, 's3')).toBe('auth.signature_mismatch');
    });

    it('refuses an S3 request whose signed payload hash is not the body it came with, or is no hash', async () => {
      const signer = new SignatureV4({ service: 's3', region: 'us-east-1', credentials, sha256, uriEscapePath: false });
      const req = await signed(signer, '/bucket/key', 'signed body', { 'x-amz-content-sha256': sha256hex('signed body') });
      const refusal = (r: SignedRequest) => {
        try {
          verifySignature(r, parseAuthorization(r, ['s3'], Date.now()), SECRET);
        } catch (err) {
          return { code: (err as DomainError).code, message: (err as DomainError).message };
        }
        return 'accepted';
      };
      const mismatch = { code: 'auth.signature_mismatch', message: "The provided 'x-amz-content-sha256' header does not match what was computed." };
      expect(refusal({ ...req, body: Buffer.from('other body') })).toEqual(mismatch);
      expect(refusal({ ...req, body: undefined, bodySha256: sha256hex('other body') })).toEqual(mismatch);
      for (const value of ['STREAMING-AWS4-HMAC-SHA256-PAYLOAD', sha256hex('x').toUpperCase(), 'junk']) {
        const odd = await signed(signer, '/bucket/key', 'x', { 'x-amz-content-sha256': value });
        const answer = refusal(odd);
        expect(answer, value).toMatchObject({ code: 'auth.incomplete' });
        expect(typeof answer === 'object' && answer.message, value).toMatch(/^x-amz-content-sha256 must be UNSIGNED-PAYLOAD/);
      }
      // The header must be signed, as every x-amz- header must.
      const bareSigner = new SignatureV4({ service: 's3', region: 'us-east-1', credentials, sha256, uriEscapePath: false, applyChecksum: false });
      const unsignedHeader = { ...(await signed(bareSigner, '/bucket/key', 'x')), body: undefined };
      unsignedHeader.headers = { ...unsignedHeader.headers, 'x-amz-content-sha256': 'UNSIGNED-PAYLOAD' };
      expect(refusal(unsignedHeader)).toMatchObject({ code: 'auth.incomplete' });
    });

    it('refuses a path no signer could encode (a lone surrogate) as a mismatch, not a crash', async () => {
      const signer = new SignatureV4({ service: 'execute-api', region: 'us-east-1', credentials, sha256 });
      const req = await signed(signer, '/a', 'x');
      expect(verify({ ...req, path: '/a\ud800' }, 'execute-api')).toBe('auth.signature_mismatch');
    });
  });

  describe('presigned URLs (the signature in the query string)', () => {
    const signer = new SignatureV4({ service: 'sts', region: 'us-east-1', credentials: { accessKeyId: 'AKIDEXAMPLE', secretAccessKey: SECRET, sessionToken: 'the/token+=' }, sha256: Hash.bind(null, 'sha256') });
    const minute = 60_000;

    /** A GET presigned by the JS SDK's own signer, as our verifier receives it. */
    async function presigned(expiresIn: number, headers: Record<string, string> = {}): Promise<SignedRequest> {
      const out = await signer.presign(
        { method: 'GET', protocol: 'https:', hostname: 'sts.example', path: '/', query: { Action: 'GetCallerIdentity', Version: '2011-06-15' }, headers: { host: 'sts.example', ...headers } },
        { signingDate: new Date(SIGNED_AT), expiresIn },
      );
      const query = Object.entries(out.query as Record<string, string>)
        .map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`)
        .join('&');
      return { method: 'GET', path: '/', query, headers: { host: 'sts.example', ...headers }, body: Buffer.alloc(0) };
    }
    const check = (req: SignedRequest, now = SIGNED_AT, presignedAllowed = true) =>
      codeOf(() => verifySignature(req, parseAuthorization(req, ['sts'], now, { presigned: presignedAllowed }), SECRET));

    it("verifies the SDK's presigned GET, with its session token and extra signed headers", async () => {
      const req = await presigned(900, { 'x-k8s-aws-id': 'cluster-1' });
      const auth = parseAuthorization(req, ['sts'], SIGNED_AT, { presigned: true });
      expect(auth).toMatchObject({ accessKeyId: 'AKIDEXAMPLE', securityToken: 'the/token+=', presigned: true, signedHeaders: ['host', 'x-k8s-aws-id'] });
      expect(check(req)).toBe('accepted');
      // Everything in the URL and every signed header is signed: any change fails.
      expect(check({ ...req, query: req.query.replace('Version=2011-06-15', 'Version=2011-06-16') })).toBe('auth.signature_mismatch');
      expect(check({ ...req, query: `${req.query}&Extra=1` })).toBe('auth.signature_mismatch');
      expect(check({ ...req, headers: { ...req.headers, 'x-k8s-aws-id': 'cluster-2' } })).toBe('auth.signature_mismatch');
      expect(check({ ...req, method: 'POST' })).toBe('auth.signature_mismatch');
      const { 'x-k8s-aws-id': _dropped, ...unsent } = req.headers;
      expect(check({ ...req, headers: unsent })).toBe('auth.incomplete');
    });

    it('is refused where the caller does not allow it, and when its parameters are missing, repeated or odd', async () => {
      const req = await presigned(900);
      expect(check(req, SIGNED_AT, false)).toBe('auth.missing');
      const without = (name: string) => ({ ...req, query: req.query.split('&').filter((p) => !p.startsWith(`${name}=`)).join('&') });
      expect(check(without('X-Amz-Algorithm'))).toBe('auth.missing');
      for (const name of ['X-Amz-Credential', 'X-Amz-Date', 'X-Amz-Expires', 'X-Amz-SignedHeaders', 'X-Amz-Signature']) expect(check(without(name)), name).toBe('auth.incomplete');
      expect(check({ ...req, query: `${req.query}&X-Amz-Credential=OTHER%2F20150830%2Fus-east-1%2Fsts%2Faws4_request` })).toBe('auth.incomplete');
      expect(check({ ...req, query: req.query.replace('X-Amz-Algorithm=AWS4-HMAC-SHA256', 'X-Amz-Algorithm=AWS4-HMAC-SHA1') })).toBe('auth.incomplete');
      for (const expires of ['0', '604801', '-1', '1e3', ' 60']) {
        expect(check({ ...req, query: req.query.replace('X-Amz-Expires=900', `X-Amz-Expires=${encodeURIComponent(expires)}`) }), expires).toBe('auth.incomplete');
      }
    });

    it('lives for X-Amz-Expires, and never more than 15 minutes, as on AWS STS', async () => {
      const short = await presigned(60);
      expect(check(short, SIGNED_AT + 59_000)).toBe('accepted');
      expect(check(short, SIGNED_AT + 61_000)).toBe('auth.expired');
      const week = await presigned(604_800);
      expect(check(week, SIGNED_AT + 14 * minute)).toBe('accepted');
      expect(check(week, SIGNED_AT + 16 * minute)).toBe('auth.expired');
      // Signed in the future: the usual 15 minutes of clock skew, and no more.
      expect(check(week, SIGNED_AT - 14 * minute)).toBe('accepted');
      expect(check(week, SIGNED_AT - 16 * minute)).toBe('auth.expired');
    });
  });
});
