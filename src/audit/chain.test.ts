// The chain's canonical form must never change: a chain sealed by an earlier release (and every file
// exported from it) has to verify with this one. The hash below was computed by the release before
// canonicalJson was rewritten for speed; the reference below is that release's implementation.

import { describe, expect, it } from 'vitest';
import { stringifiesCanonically, withoutSecrets, type AuditEvent } from './audit-event.js';
import { createEd25519KeyPair, ed25519PrivateKey, ed25519PublicKey, signEd25519 } from '../crypto/index.js';
import {
  allowedUnsignedTail,
  canonicalJson,
  canonicalRecordText,
  chainHash,
  chainHashOfText,
  cloudTrailRecord,
  digestMessage,
  GENESIS,
  verifyChain,
  type AuditDigest,
  type ChainLink,
  type StoredEventText,
} from './chain.js';

/** canonicalJson as it was first written (0.x): the definition the chain's hashes rest on. */
function referenceCanonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  if (Array.isArray(value)) return `[${value.map((v) => referenceCanonicalJson(v === undefined ? null : v)).join(',')}]`;
  const entries = Object.entries(value as Record<string, unknown>)
    .filter(([, v]) => v !== undefined)
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${referenceCanonicalJson(v)}`).join(',')}}`;
}

const event: AuditEvent = {
  eventId: '0190a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b',
  eventTime: 1763750000123,
  eventSource: 'identitystore.amazonaws.com',
  eventName: 'CreateUser',
  awsRegion: 'us-east-1',
  sourceIPAddress: '127.0.0.1',
  userAgent: 'aws-cli/2.15 "quoted" \u00e9\u2028',
  userIdentity: { type: 'IAMUser', principalId: 'AIDAEXAMPLE', arn: 'arn:aws:iam::123456789012:user/admin', accountId: '123456789012', accessKeyId: 'AKIAEXAMPLE', userName: 'admin' },
  requestParameters: {
    identityStoreId: 'd-1234567890',
    userName: 'zoë',
    name: { givenName: 'Z', familyName: 'Ö' },
    emails: [{ value: 'z@example.com', primary: true }, null],
    '10': 1,
    '9': 2,
    Zeta: -0,
    alpha: 1e21,
    nested: { b: [1, [2, { d: 'x', c: 'y' }]], a: false },
  },
  responseElements: { identityStoreId: 'd-1234567890', userId: '1234-5678' },
  requestID: 'req-1',
  readOnly: false,
  eventType: 'AwsApiCall',
};

/** A random JSON-ish value: what an event's parameters can hold, and the odd things a caller could pass. */
function randomValue(rnd: () => number, depth: number): unknown {
  const pick = Math.floor(rnd() * (depth > 3 ? 7 : 10));
  const text = () => String.fromCharCode(...Array.from({ length: Math.floor(rnd() * 6) }, () => [0x22, 0x5c, 0x0a, 0x41 + Math.floor(rnd() * 58), 0xe9, 0x2028, 0xd83d, 0x1f][Math.floor(rnd() * 8)]!));
  switch (pick) {
    case 0: return null;
    case 1: return rnd() < 0.5;
    case 2: return [0, -0, 1.5, -7, 1e21, 2 ** 53, NaN, Infinity][Math.floor(rnd() * 8)];
    case 3: return text();
    case 4: return undefined;
    case 5: return () => 1;
    case 6: return String(Math.floor(rnd() * 100));
    case 7: {
      const a: unknown[] = Array.from({ length: Math.floor(rnd() * 4) }, () => randomValue(rnd, depth + 1));
      if (rnd() < 0.2) a[a.length + 1] = 'after a hole';
      return a;
    }
    default: {
      const o: Record<string, unknown> = {};
      for (let i = Math.floor(rnd() * 6); i > 0; i--) o[rnd() < 0.3 ? String(Math.floor(rnd() * 20)) : text()] = randomValue(rnd, depth + 1);
      if (rnd() < 0.1) Object.defineProperty(o, '__proto__', { value: { x: 1 }, enumerable: true });
      return o;
    }
  }
}

describe('the chain canonical form', () => {
  it('hashes an event exactly as the chain sealed before this release did', () => {
    expect(chainHash(GENESIS, cloudTrailRecord(event))).toBe('671908f97c82f55be3e444a3cf77b357652ff81a494d3c2ff11687edf383dacb');
  });

  it('writes the same text as its first definition for any value', () => {
    let seed = 42;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    const holey: unknown[] = [];
    holey[1] = 1;
    const odd = [undefined, () => 1, Symbol('s'), new Date(0), holey, [undefined], { a: undefined, b: () => 1 }, { '': 1, ' ': 2, é: 3, e: 4, E: 5 }, Buffer.from('ab')];
    for (const value of [...odd, ...Array.from({ length: 3000 }, () => randomValue(rnd, 0))]) {
      expect(canonicalJson(value)).toBe(referenceCanonicalJson(value));
    }
  });

  it('quotes every string, and every key, as JSON.stringify does', () => {
    const strings = [...Array.from({ length: 0x10000 }, (_, c) => String.fromCharCode(c)), 'a\ud83d\ude00b', '\ude00\ud83d', 'tab\there', 'quote"back\\slash', 'line\u2028sep'];
    expect(strings.map((s) => canonicalJson(s))).toEqual(strings.map((s) => JSON.stringify(s)));
    expect(strings.map((s) => canonicalJson({ [s]: s }))).toEqual(strings.map((s) => `{${JSON.stringify(s)}:${JSON.stringify(s)}}`));
  });

  it('hashes a stored event from its columns exactly as from its record, whether or not it was written canonically', () => {
    // As the log stores an event (store/sql/core-stores.ts), and as it reads one back (storedEventOf).
    const stored = (e: AuditEvent, canonical = stringifiesCanonically(e.requestParameters) && stringifiesCanonically(e.responseElements)): StoredEventText => ({
      seq: 1,
      eventId: e.eventId,
      eventTime: e.eventTime,
      eventSource: e.eventSource,
      eventName: e.eventName,
      awsRegion: e.awsRegion,
      sourceIPAddress: e.sourceIPAddress,
      userAgent: e.userAgent,
      userIdentity: JSON.stringify(e.userIdentity),
      requestParameters: e.requestParameters == null ? null : JSON.stringify(e.requestParameters),
      responseElements: e.responseElements == null ? null : JSON.stringify(e.responseElements),
      canonical,
      errorCode: e.errorCode ?? null,
      errorMessage: e.errorMessage ?? null,
      requestID: e.requestID,
      readOnly: e.readOnly,
      eventType: e.eventType,
    });
    const readBack = (s: StoredEventText): AuditEvent => ({
      eventId: s.eventId,
      eventTime: s.eventTime,
      eventSource: s.eventSource,
      eventName: s.eventName,
      awsRegion: s.awsRegion,
      sourceIPAddress: s.sourceIPAddress,
      userAgent: s.userAgent,
      userIdentity: JSON.parse(s.userIdentity) as AuditEvent['userIdentity'],
      requestParameters: s.requestParameters === null ? null : (JSON.parse(s.requestParameters) as unknown),
      responseElements: s.responseElements === null ? null : (JSON.parse(s.responseElements) as unknown),
      ...(s.errorCode !== null ? { errorCode: s.errorCode, errorMessage: s.errorMessage ?? '' } : {}),
      requestID: s.requestID,
      readOnly: s.readOnly,
      eventType: s.eventType as AuditEvent['eventType'],
    });
    const expectSameHash = (s: StoredEventText) => {
      const record = cloudTrailRecord(readBack(s));
      expect(canonicalRecordText(s)).toBe(canonicalJson(record));
      expect(chainHashOfText(GENESIS, canonicalRecordText(s))).toBe(chainHash(GENESIS, record));
    };

    // An event written before 0020: its columns as JSON.stringify wrote them, in the caller's order.
    expect(chainHashOfText(GENESIS, canonicalRecordText(stored(event, false)))).toBe('671908f97c82f55be3e444a3cf77b357652ff81a494d3c2ff11687edf383dacb');
    // The same event as buildEvent writes it now: copied by withoutSecrets, keys sorted.
    const copied = { ...event, requestParameters: withoutSecrets(event.requestParameters), responseElements: withoutSecrets(event.responseElements) };
    expectSameHash(stored(copied));
    const { '10': _ten, '9': _nine, ...withoutIndexKeys } = event.requestParameters as Record<string, unknown>;
    const sortedCopy = { ...event, requestParameters: withoutSecrets(withoutIndexKeys), responseElements: withoutSecrets(event.responseElements) };
    expect(stored(sortedCopy).canonical).toBe(true);
    expectSameHash(stored(sortedCopy));

    let seed = 7;
    const rnd = () => ((seed = (Math.imul(seed, 1103515245) + 12345) >>> 0) / 2 ** 32);
    let spliced = 0;
    for (let i = 0; i < 2000; i++) {
      const params = { [`k${i % 3}`]: randomValue(rnd, 0), b: randomValue(rnd, 1), a: randomValue(rnd, 0) };
      const e: AuditEvent = {
        ...event,
        eventTime: event.eventTime + i,
        userAgent: String(randomValue(rnd, 4)),
        // Identities recur (the sealer remembers each stored identity's text), and one principal id
        // comes with several account ids and names, so that a text remembered under the wrong key shows.
        userIdentity: { type: 'IAMUser', principalId: `p-${i % 50}`, ...(i % 3 ? { accountId: String(i % 7) } : {}), ...(i % 5 ? { userName: `u"${i % 4}` } : {}) },
        requestParameters: withoutSecrets(params),
        responseElements: i % 4 === 0 ? null : withoutSecrets({ r: randomValue(rnd, 0), list: [randomValue(rnd, 1)] }),
        ...(i % 6 === 0 ? { errorCode: `E${i}`, errorMessage: i % 12 ? `no "${i}"` : undefined } : {}),
        readOnly: i % 2 === 0,
      };
      const s = stored(e);
      if (s.canonical) spliced++;
      expectSameHash(s);
      // The same columns written as before 0020 (not marked canonical) hash the same.
      expectSameHash({ ...s, canonical: false });
    }
    expect(spliced).toBeGreaterThan(200);
  });
});

describe('digests', () => {
  it('sign the same text as the first release for a digest without the setting (v1), and the setting with it (v2)', () => {
    const d = { position: 1000, hash: 'a'.repeat(64), createdAt: 1763750000123, keyId: 'audit-1' };
    expect(digestMessage(d)).toBe(`atrium-audit-digest/1\nposition=1000\nhash=${'a'.repeat(64)}\ncreatedAt=1763750000123\nkeyId=audit-1`);
    expect(digestMessage({ ...d, every: 500 })).toBe(`atrium-audit-digest/2\nposition=1000\nhash=${'a'.repeat(64)}\ncreatedAt=1763750000123\nkeyId=audit-1\nevery=500`);
  });

  it('allow as long an unsigned tail as the last digest signed, else the stretch before it', () => {
    expect(allowedUnsignedTail(100, undefined, undefined)).toBe(100);
    expect(allowedUnsignedTail(100, { position: 5000, every: 1000 }, { position: 1000 })).toBe(1000);
    expect(allowedUnsignedTail(2000, { position: 5000, every: 1000 }, undefined)).toBe(2000);
    // A v1 digest: the stretch to the one before, or to the genesis.
    expect(allowedUnsignedTail(100, { position: 5000 }, { position: 4000 })).toBe(1000);
    expect(allowedUnsignedTail(100, { position: 5000 }, undefined)).toBe(5000);
  });
});

describe('a chain that starts after a digest (retention)', () => {
  const pair = createEd25519KeyPair();
  const key = ed25519PublicKey(pair.publicKeyPem);
  const signed = (position: number, hash: string, createdAt: number): AuditDigest => {
    const d = { position, hash, createdAt, keyId: 'audit-1', every: 2 };
    return { ...d, signature: signEd25519(ed25519PrivateKey(pair.privateKeyPem), digestMessage(d)) };
  };
  // Positions 1..4, the first two pruned: the rest starts after the digest at 2.
  const records = [1, 2, 3, 4].map((i) => cloudTrailRecord({ ...event, eventId: `e-${i}` }));
  const hashes: string[] = [];
  records.reduce((prev, r) => (hashes.push(chainHash(prev, r)), hashes[hashes.length - 1]!), GENESIS);
  const madeAt = 1763750000000;
  const digests = new Map([
    [2, signed(2, hashes[1]!, madeAt)],
    [4, signed(4, hashes[3]!, madeAt + 1000)],
  ]);
  async function* linksOf(positions: number[]): AsyncGenerator<ChainLink> {
    for (const p of positions) yield await Promise.resolve({ position: p, eventId: `e-${p}`, prevHash: hashes[p - 2]!, hash: hashes[p - 1]!, record: records[p - 1] });
  }
  const kept = () => linksOf([3, 4]);
  const none = () => linksOf([]);

  it('verifies when the digest it starts after was signed before retention reaches back to', async () => {
    expect(await verifyChain(kept(), digests, key, { pruned: { before: madeAt + 1, retentionDays: 30 } })).toMatchObject({ ok: true, firstPosition: 3, events: 2 });
    expect(await verifyChain(none(), digests, key, { pruned: { before: madeAt + 1001, retentionDays: 30 } })).toMatchObject({ ok: true, events: 0 });
  });

  it('fails when that digest is younger: the events before it were deleted, not pruned', async () => {
    const r = await verifyChain(kept(), digests, key, { pruned: { before: madeAt, retentionDays: 30 } });
    expect(r).toMatchObject({ ok: false, problem: { position: 2, eventId: null } });
    expect(r.problem!.reason).toMatch(/after the signed digest at position 2, but that digest was signed at 2025-11-21T18:33:20.000Z, and retention \(auditRetentionDays 30\) prunes only through digests signed before .*: the events through position 2 were deleted, not pruned/);
    // Everything deleted: the newest digest is the one it would start after.
    const empty = await verifyChain(none(), digests, key, { pruned: { before: madeAt + 1000, retentionDays: 30 } });
    expect(empty).toMatchObject({ ok: false, problem: { position: 4, eventId: null } });
    expect(empty.problem!.reason).toMatch(/the chain is empty after the signed digest at position 4, but that digest was signed/);
  });
});
