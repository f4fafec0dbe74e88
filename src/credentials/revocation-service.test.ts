// A revocation made by this process holds for its very next check, even when a read of the marks
// was already in flight (and so could not see it) when the revocation committed.

import { describe, expect, it } from 'vitest';
import type { AuditStore } from '../audit/index.js';
import { fixedClock } from '../shared/clock.js';
import { systemContext } from '../shared/context.js';
import { cryptoIds } from '../shared/ids.js';
import { REVOCATION_REFRESH_MS, RevocationService, revocationKeysOf } from './revocation-service.js';
import type { RevocationMark, RevocationStore } from './revocation-store.js';

function memoryMarks() {
  const rows: RevocationMark[] = [];
  let seq = 0;
  /** While set, reads answer from the rows as they were when the read began, once released. */
  let hold: Promise<void> | undefined;
  const store = {
    insertRevocations: (keys: string[], notBefore: number) => Promise.resolve(void keys.forEach((subjectKey) => rows.push({ seq: ++seq, subjectKey, notBefore }))),
    deleteRevocationsBefore: () => Promise.resolve(),
    listRevocationsSince: async (afterSeq: number) => {
      const snapshot = rows.filter((r) => r.seq > afterSeq);
      await hold;
      return snapshot;
    },
    findServiceKey: () => Promise.resolve(undefined),
    insertServiceKeyIfAbsent: () => Promise.resolve(),
  } as unknown as RevocationStore;
  const holdReads = (p: Promise<void>): void => {
    hold = p;
  };
  return { store, holdReads };
}

function serviceOver(clock: ReturnType<typeof fixedClock>, marks: ReturnType<typeof memoryMarks>) {
  const audit: AuditStore = { appendEvent: () => Promise.resolve(), appendEvents: () => Promise.resolve() };
  const stores = {
    revocation: marks.store,
    audit,
    directory: {
      ancestorGroupIds: () => Promise.resolve([]),
      userIdsBelow: () => Promise.resolve([]),
      groupIdsOfUsers: () => Promise.resolve(new Map<string, string[]>()),
    },
    access: { listAssignmentsOfPrincipals: () => Promise.resolve([]), listAssignments: () => Promise.resolve([]) },
  };
  return new RevocationService({
    tx: { transaction: (fn) => fn(stores), afterCommit: (fn) => fn() },
    read: stores,
    clock,
    ids: cryptoIds,
    wakeJobs: () => undefined,
  });
}

describe('RevocationService', () => {
  it('answers from memory only while the marks are fresh and hold every local revocation', async () => {
    const clock = fixedClock(1_000_000);
    const service = serviceOver(clock, memoryMarks());
    const issued = { userId: 'u1', sessionId: 's1', accountId: '111122223333', permissionSetArn: 'arn:ps', issuedAt: clock.now() - 1 };
    const keys = revocationKeysOf(issued);
    expect(service.revokedNow(keys, issued.issuedAt)).toBeUndefined(); // never read yet
    expect(await service.isRevoked(issued, keys)).toBe(false);
    expect(service.revokedNow(keys, issued.issuedAt)).toBe(false);
    await service.revokeFollowing(systemContext('sso.amazonaws.com', 'us-east-1', 'r1'), [{ kind: 'session', sessionId: 's1' }], 'signed out');
    expect(service.revokedNow(keys, issued.issuedAt)).toBeUndefined(); // this process revoked: read first
    expect(await service.isRevoked(issued, keys)).toBe(true);
    expect(service.revokedNow(keys, issued.issuedAt)).toBe(true);
    expect(service.revokedNow(keys, clock.now() + 1)).toBe(false); // issued after the mark
    clock.advance(2 * REVOCATION_REFRESH_MS + 1);
    expect(service.revokedNow(keys, issued.issuedAt)).toBeUndefined(); // the background read is late
  });

  it('refuses at once after a local revocation, though a read began before it committed', async () => {
    const clock = fixedClock(1_000_000);
    const marks = memoryMarks();
    const service = serviceOver(clock, marks);
    const issued = { userId: 'u1', sessionId: 's1', accountId: '111122223333', permissionSetArn: 'arn:ps', issuedAt: clock.now() - 1 };
    expect(await service.isRevoked(issued)).toBe(false);

    let release!: () => void;
    marks.holdReads(new Promise<void>((r) => (release = r)));
    const inFlight = service.refresh(); // a background read, blind to what follows
    await service.revokeFollowing(systemContext('sso.amazonaws.com', 'us-east-1', 'r1'), [{ kind: 'user', userId: 'u1' }], 'left the company');
    const check = service.isRevoked(issued);
    release();
    await inFlight;
    marks.holdReads(Promise.resolve());
    expect(await check).toBe(true);
  });
});
