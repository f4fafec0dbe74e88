// A revocation made inside a larger change (a member leaving a group, a user deleted) becomes
// readable only when that change commits. A refresh of this process's marks that runs in between
// (the background refresh, or another request's check) must not count it as seen: the next check
// after the commit reads it, so credentials die at once, not at the next background refresh.
// On SQLite the refresh waits for the commit (one connection), so the race only exists on
// PostgreSQL; the test runs on both.

import { AsyncResource } from 'node:async_hooks';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { dialects, startServer, type TestServer } from '../helpers/server.js';

describe.each(dialects())('revocation inside a larger change on %s', (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(dialect);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('is seen by the first check after the change commits, even if a refresh ran before the commit', async () => {
    const reg = server.reg;
    const issued = { userId: 'u-commit', sessionId: `s-${dialect}`, accountId: '111122223333', permissionSetArn: 'arn:aws:sso:::permissionSet/x', issuedAt: Date.now() - 1000 };
    await reg.revocation.refresh();
    expect(await reg.revocation.isRevoked(issued)).toBe(false);
    // A refresh from outside the change's transaction, as the background timer's would be.
    const refreshOutside = AsyncResource.bind(() => reg.revocation.refresh());
    let raced: Promise<void> | undefined;
    await reg.tx.transaction(async () => {
      await reg.revocation.revokeFollowing(systemContext('sso.amazonaws.com', 'us-east-1', 'req-commit'), [{ kind: 'session', sessionId: issued.sessionId }], 'test');
      raced = refreshOutside();
      // On PostgreSQL it completes here, before the commit, and cannot see the mark.
      if (dialect === 'postgres') await raced;
    });
    await raced;
    expect(await reg.revocation.isRevoked(issued)).toBe(true);
  });

  it('is not seen at all when the change rolls back', async () => {
    const reg = server.reg;
    const issued = { userId: 'u-rollback', sessionId: `s-rb-${dialect}`, accountId: '111122223333', permissionSetArn: 'arn:aws:sso:::permissionSet/x', issuedAt: Date.now() - 1000 };
    await expect(
      reg.tx.transaction(async () => {
        await reg.revocation.revokeFollowing(systemContext('sso.amazonaws.com', 'us-east-1', 'req-rb'), [{ kind: 'session', sessionId: issued.sessionId }], 'test');
        throw new Error('the change fails');
      }),
    ).rejects.toThrow('the change fails');
    expect(await reg.revocation.isRevoked(issued)).toBe(false);
  });
});
