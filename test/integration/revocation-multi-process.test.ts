// Two server processes on one PostgreSQL: temporary credentials issued by one verify on the other
// (the service key is shared), and a revocation made through one is enforced by the other within
// 5 s, including one whose transaction commits after a later revocation's.

import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { RoleCredentials, RevocationSubject } from '../../src/credentials/index.js';
import type { Registry } from '../../src/registry.js';
import { systemContext } from '../../src/shared/context.js';
import { createLogger } from '../../src/shared/logger.js';
import { createRegistry } from '../../src/registry.js';
import { dialects, startServer, type TestServer } from '../helpers/server.js';

const ctx = () => systemContext('sso.amazonaws.com', 'us-east-1', `req-${Math.random()}`, 'revocation-test');

describe.runIf(dialects().includes('postgres'))('revocation across two processes on one PostgreSQL', () => {
  let a: TestServer;
  let b: { reg: Registry; url: string; close(): Promise<void> };

  beforeAll(async () => {
    a = await startServer('postgres');
    // The second process: its own registry, caches and HTTP server on the same database and key file.
    const reg = await createRegistry(a.reg.config, { startJobs: true, log: createLogger('silent') });
    const app = await buildApp(reg);
    await app.listen({ port: 0, host: '127.0.0.1' });
    const address = app.server.address();
    b = {
      reg,
      url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`,
      close: async () => {
        await app.close();
        await reg.close();
      },
    };
  });
  afterAll(async () => {
    await b?.close();
    await a?.close();
  });

  let n = 0;
  const issue = (userId: string) =>
    a.reg.temporaryCredentials.issueRoleCredentials(ctx(), {
      userId,
      userName: `user-${(n += 1)}`,
      sessionId: `session-${userId}`,
      accountId: '123456789012',
      permissionSetArn: 'arn:aws:sso:::permissionSet/ssoins-0123456789abcdef/ps-0123456789abcdef',
      roleName: 'AWSReservedSSO_Admin_0123456789abcdef',
      durationSeconds: 3600,
    });
  const onB = (c: RoleCredentials) =>
    new STSClient({ endpoint: b.url, region: 'us-east-1', maxAttempts: 1, credentials: { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken } }).send(new GetCallerIdentityCommand({})).then(
      () => 'ok',
      (e: Error) => e.name,
    );
  /** Milliseconds until process B refuses `c`. */
  async function refusedOnBWithin(c: RoleCredentials, ms: number): Promise<number> {
    const t0 = Date.now();
    while (Date.now() - t0 < ms) {
      const r = await onB(c);
      if (r !== 'ok') {
        expect(r).toBe('InvalidClientTokenId');
        return Date.now() - t0;
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error(`process B still accepts revoked credentials after ${ms} ms`);
  }

  it('enforces on process B, within 5 s, a revocation made on process A', async () => {
    const creds = await issue('user-a');
    const untouched = await issue('user-b');
    expect(await onB(creds)).toBe('ok');
    await a.reg.revocation.revokeFollowing(ctx(), [{ kind: 'user', userId: 'user-a' }], 'test');
    expect(await refusedOnBWithin(creds, 5_000)).toBeLessThan(5_000);
    expect(await onB(untouched)).toBe('ok');
  });

  it('does not miss a revocation whose transaction commits after a later one', async () => {
    const early = await issue('user-slow');
    const late = await issue('user-fast');
    const subject = (userId: string): RevocationSubject => ({ kind: 'user', userId });
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    let inserted!: () => void;
    const insertedYet = new Promise<void>((r) => (inserted = r));
    // The slow revocation takes its seq first, then holds its transaction open.
    const slow = a.reg.tx.transaction(async () => {
      await a.reg.revocation.revokeFollowing(ctx(), [subject('user-slow')], 'test');
      inserted();
      await held;
    });
    await insertedYet;
    try {
      await a.reg.revocation.revokeFollowing(ctx(), [subject('user-fast')], 'test');
      await refusedOnBWithin(late, 5_000);
      expect(await onB(early)).toBe('ok');
    } finally {
      release();
      await slow;
    }
    expect(await refusedOnBWithin(early, 5_000)).toBeLessThan(5_000);
  });
});
