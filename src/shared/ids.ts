// Identifier formats that match AWS's, so that clients and tooling accept them.
// Randomness is injected (IdGenerator) so that tests can be deterministic.

import { randomBytes, randomFillSync, randomUUID } from 'node:crypto';

export interface IdGenerator {
  /** `n` random bytes. */
  bytes(n: number): Buffer;
  uuid(): string;
}

/**
 * Small requests are served from a pool filled from the CSPRNG 4 KiB at a time (as Node does for
 * randomUUID): an issued credential takes a dozen small draws, and each call into OpenSSL costs
 * more than the bytes. Every byte is handed out once, copied, and the pool is never reused.
 */
const POOL_SIZE = 4096;
const SMALL = 256;
let pool = Buffer.alloc(0);
let offset = 0;
function pooledBytes(n: number): Buffer {
  if (n > SMALL) return randomBytes(n);
  if (offset + n > pool.length) {
    pool = randomFillSync(Buffer.allocUnsafeSlow(POOL_SIZE));
    offset = 0;
  }
  const out = Buffer.from(pool.subarray(offset, offset + n));
  offset += n;
  return out;
}

export const cryptoIds: IdGenerator = { bytes: pooledBytes, uuid: () => randomUUID() };

export const hex = (ids: IdGenerator, chars: number) => ids.bytes(Math.ceil(chars / 2)).toString('hex').slice(0, chars);

const LOWER_ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

/** Unbiased characters from an alphabet whose size divides 256. */
function fromAlphabet(ids: IdGenerator, alphabet: string, length: number): string {
  if (256 % alphabet.length === 0) {
    return [...ids.bytes(length)].map((b) => alphabet[b % alphabet.length]).join('');
  }
  // Rejection sampling keeps the distribution uniform for other alphabet sizes.
  const limit = 256 - (256 % alphabet.length);
  let out = '';
  while (out.length < length) {
    for (const b of ids.bytes(length * 2)) {
      if (b < limit && out.length < length) out += alphabet[b % alphabet.length];
    }
  }
  return out;
}

export const newInstanceId = (ids: IdGenerator) => `ssoins-${hex(ids, 16)}`;
export const newIdentityStoreId = (ids: IdGenerator) => `d-${hex(ids, 10)}`;
export const newOrganizationId = (ids: IdGenerator) => `o-${fromAlphabet(ids, LOWER_ALNUM, 10)}`;
export const newRootId = (ids: IdGenerator) => `r-${fromAlphabet(ids, LOWER_ALNUM, 4)}`;
export const newOrganizationalUnitId = (ids: IdGenerator, rootId: string) =>
  `ou-${rootId.slice(2)}-${fromAlphabet(ids, LOWER_ALNUM, 8)}`;
export const newCreateAccountRequestId = (ids: IdGenerator) => `car-${hex(ids, 32)}`;
export const newPermissionSetId = (ids: IdGenerator) => `ps-${hex(ids, 16)}`;
/** 12 decimal digits, never starting with 0 so that no tool strips it. */
export function newAccountId(ids: IdGenerator): string {
  const digits = [...ids.bytes(24)].filter((b) => b < 250).map((b) => b % 10);
  const first = (digits[0] ?? 1) % 9 + 1;
  return String(first) + digits.slice(1, 12).join('').padEnd(11, '7');
}
/**
 * A UUID of version 7 (RFC 9562 §5.7): 48 bits of Unix milliseconds, then 74 random bits. It has
 * the shape of any UUID, and ids made one after another sort one after another, so an index on
 * them grows at its right edge: an insert dirties the index's last page, not a random one, which
 * is what makes a database write cheap at millions of rows.
 */
export function timeOrderedUuid(ids: IdGenerator, nowMs: number): string {
  const b = ids.bytes(16);
  b.writeUIntBE(Math.max(0, Math.min(nowMs, 2 ** 48 - 1)), 0, 6);
  b[6] = (b[6]! & 0x0f) | 0x70;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = b.toString('hex');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** Identity-store principal ids look like `<10 hex of the store>-<uuid>`, as on AWS; the uuid is time-ordered. */
export const newPrincipalId = (ids: IdGenerator, identityStoreId: string, nowMs: number) => `${identityStoreId.slice(2)}-${timeOrderedUuid(ids, nowMs)}`;
export const newAccessKeyId = (ids: IdGenerator, prefix: 'AKIA' | 'ASIA') => prefix + fromAlphabet(ids, BASE32, 16);
export const newSecretAccessKey = (ids: IdGenerator) =>
  ids.bytes(30).toString('base64').replace(/[^A-Za-z0-9]/g, 'A').slice(0, 40);
