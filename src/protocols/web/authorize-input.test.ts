// The hand-written check of POST /authorize's body never accepts what the schema refuses, and gives
// back what the schema would; the ordinary bodies a gateway posts pass it.

import { describe, expect, it } from 'vitest';
import { authorizeInput, plainlyValidAuthorizeInput } from './authorize-input.js';

const base = {
  Method: 'PUT',
  Path: '/team-bucket/alice/object',
  Headers: { host: 'gateway.example.test', 'x-amz-date': '20261121T120000Z', authorization: 'AWS4-HMAC-SHA256 Credential=x' },
  BodySha256: 'a'.repeat(64),
  Action: 's3:PutObject',
  Resource: 'arn:aws:s3:::team-bucket/alice/object',
  Context: { 'aws:SecureTransport': true, 'aws:SourceIp': '10.0.0.1', n: 3, list: ['a', 1, false] },
};

/** Bodies near and over every limit, of every wrong type, with and without optional fields. */
function variants(): unknown[] {
  const out: unknown[] = [base, {}, null, [], 'text', 42, { ...base, Extra: 1 }];
  const values = [undefined, null, '', '/', 'a', 'x'.repeat(256), 'x'.repeat(257), 1, 0, true, [], ['a'], {}, { a: 'b' }];
  const fields = ['Method', 'Path', 'Query', 'Headers', 'BodySha256', 'Body', 'Action', 'Resource', 'Context'] as const;
  for (const f of fields) {
    for (const v of values) out.push({ ...base, [f]: v });
  }
  const { BodySha256: _sha, ...noSha } = base;
  const { Context: _ctx, ...noContext } = base;
  out.push(noSha, noContext, { ...noSha, Body: 'e30=' }, { ...base, Body: 'e30=' }, { ...noSha, Body: 'x'.repeat(48 * 1024 + 1) }, { ...noSha, Body: 'x'.repeat(48 * 1024) });
  for (const m of ['GET', 'get', 'A'.repeat(16), 'A'.repeat(17), 'PU T']) out.push({ ...base, Method: m });
  for (const p of ['relative', '/' + 'p'.repeat(8191), '/' + 'p'.repeat(8192)]) out.push({ ...base, Path: p });
  for (const q of ['a=1', 'q'.repeat(8192), 'q'.repeat(8193)]) out.push({ ...base, Query: q });
  for (const s of ['A'.repeat(64), 'a'.repeat(63), 'a'.repeat(65), '0123456789abcdef'.repeat(4)]) out.push({ ...base, BodySha256: s });
  for (const a of ['s3:Get*', 's3:', ':x', 's3:Get Object', `s3:${'x'.repeat(253)}`, `s3:${'x'.repeat(254)}`, 'ec2:Describe?nstances']) out.push({ ...base, Action: a });
  for (const r of ['*', 'r'.repeat(2048), 'r'.repeat(2049)]) out.push({ ...base, Resource: r });
  const headers = (h: unknown) => ({ ...base, Headers: h });
  out.push(headers({}), headers({ ['h'.repeat(256)]: 'v' }), headers({ ['h'.repeat(257)]: 'v' }), headers({ h: 'v'.repeat(8192) }), headers({ h: 'v'.repeat(8193) }), headers({ h: ['a'] }), headers({ h: null }), headers(JSON.parse('{"__proto__":"x","host":"h"}')));
  const context = (c: unknown) => ({ ...base, Context: c });
  const many = (n: number) => Object.fromEntries(Array.from({ length: n }, (_, i) => [`k${i}`, 'v']));
  out.push(context({}), context(many(64)), context(many(65)), context({ ['k'.repeat(256)]: 1 }), context({ ['k'.repeat(257)]: 1 }));
  out.push(context({ a: null }), context({ a: {} }), context({ a: [[1]] }), context({ a: [null] }), context({ a: Array(256).fill('x') }), context({ a: Array(257).fill('x') }));
  out.push(context(JSON.parse('{"__proto__":{"polluted":true}}')));
  // Values the evaluator must see whole: over 8,192 characters, and numbers only an exponent writes.
  out.push(context({ a: 'v'.repeat(8192) }), context({ a: 'v'.repeat(8193) }), context({ a: ['v', 'v'.repeat(8193)] }));
  out.push(context({ a: 1e21 }), context({ a: 1e20 }), context({ a: 1e-7 }), context({ a: 0.000001 }), context({ a: [5, 1e21] }));
  return out;
}

describe('POST /authorize body check', () => {
  it('vouches only for bodies the schema accepts, giving back what the schema gives', () => {
    let vouched = 0;
    for (const body of variants()) {
      const fast = plainlyValidAuthorizeInput(body);
      const schema = authorizeInput.safeParse(body);
      if (fast === undefined) continue;
      vouched++;
      expect(schema.success, JSON.stringify(body).slice(0, 200)).toBe(true);
      expect(fast).toEqual(schema.data);
    }
    expect(vouched).toBeGreaterThan(30);
  });

  it('vouches for the ordinary bodies a gateway posts, so that they skip the schema', () => {
    const { BodySha256: _sha, ...withBody } = { ...base, Body: 'e30=' };
    for (const body of [base, withBody, { ...base, Query: 'list-type=2' }, { ...base, Context: undefined }]) {
      expect(plainlyValidAuthorizeInput(JSON.parse(JSON.stringify(body)))).toEqual(authorizeInput.parse(body));
    }
  });

  it('refuses a context value it would have to cut or could not read as a number, rather than decide on part of it', () => {
    const refused = (context: unknown) => !authorizeInput.safeParse({ ...base, Context: context }).success;
    // A Deny on a suffix (`*.exe`) must not be switched off by cutting the value short.
    expect(refused({ 's3:x-amz-website-redirect-location': `/${'a'.repeat(8192)}.exe` })).toBe(true);
    expect(refused({ 's3:x-amz-website-redirect-location': '/a/b.exe' })).toBe(false);
    // 1e21 reads "1e+21", which no Numeric condition reads: a NumericGreaterThan Deny would be skipped.
    expect(refused({ 's3:max-keys': 1e21 })).toBe(true);
    expect(refused({ 's3:max-keys': 5000 })).toBe(false);
  });
});
