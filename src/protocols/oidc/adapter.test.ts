// The adapter when a second request loses the race to consume a code (which only PostgreSQL's
// READ COMMITTED lets happen; SQLite runs one writer, and oidc-provider then sees the reuse itself).
// The store here is a fake that loses that race on purpose; the real race runs in
// test/integration/sso-oidc.test.ts on PostgreSQL in CI.

import { describe, expect, it } from 'vitest';
import { adapterFactory, type AdapterDeps } from './adapter.js';

function losingDeps(revoked: string[]): AdapterDeps {
  const oidc = {
    consume: () => Promise.resolve(false),
    find: () => Promise.resolve({ grantId: 'grant-1' }),
    revokeByGrantId: (grantId: string) => {
      revoked.push(grantId);
      return Promise.resolve(0);
    },
  };
  const stores = { oidc, audit: {} };
  return {
    tx: { transaction: (fn: (s: typeof stores) => Promise<unknown>) => fn(stores) },
    read: stores,
    clock: { now: () => 0 },
    invalidGrant: (message: string) => new Error(`invalid_grant: ${message}`),
    busy: (message: string) => new Error(message),
  } as unknown as AdapterDeps;
}

describe('oidc adapter, a store that loses the race to consume (fake store)', () => {
  for (const model of ['AuthorizationCode', 'DeviceCode', 'RefreshToken']) {
    it(`answers invalid_grant and revokes the family of the ${model} another request consumed first`, async () => {
      const revoked: string[] = [];
      await expect(adapterFactory(losingDeps(revoked))(model).consume('the-code')).rejects.toThrow(/invalid_grant/);
      expect(revoked).toEqual(['grant-1']);
    });
  }
});
