// The background sweep deletes what nobody can use any more, so tables do not grow without bound
// (a spray of sign-in guesses from many addresses leaves a throttle row per address), and keeps
// everything that still matters: a lock in force, a failure count inside its window, a live
// session, a job that has not finished or finished lately, an assignment request still in progress
// or finished within 90 days.

import { randomUUID } from 'node:crypto';
import { DescribeAccountAssignmentCreationStatusCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SWEEP_BATCH } from '../../src/shared/housekeeping.js';
import { portalFixture } from '../helpers/portal-fixture.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

const MINUTE = 60_000;
const DAY = 24 * 60 * MINUTE;

describe.each(dialects())('housekeeping on %s', (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(dialect);
  });
  afterAll(async () => {
    await server?.close();
  });

  it('deletes stale throttle rows (more than one batch of them), expired sessions, old finished jobs and old finished assignment requests, and keeps the rest', async () => {
    const db = server.reg.database.db;
    const now = Date.now();
    const window = (await server.reg.instance.get()).settings.signInProtection.failureWindowMinutes * MINUTE;

    // Throttle: a spray from many addresses long ago, and four keys that must stay.
    const sprayed = Array.from({ length: SWEEP_BATCH + 500 }, (_, i) => ({ throttle_key: `ip:198.51.${i >> 8}.${i & 255}`, failures: 3, last_failure_at: now - window - MINUTE, locked_until: 0 }));
    for (let i = 0; i < sprayed.length; i += 200) await db.insertInto('auth_throttle').values(sprayed.slice(i, i + 200)).execute();
    const kept = [
      { throttle_key: 'user:locked-for-an-hour', failures: 9, last_failure_at: now - window - MINUTE, locked_until: now + 60 * MINUTE },
      { throttle_key: 'user:failed-just-now', failures: 2, last_failure_at: now - MINUTE, locked_until: 0 },
      { throttle_key: 'ip:203.0.113.9', failures: 1, last_failure_at: now - window / 2, locked_until: 0 },
      { throttle_key: 'user:lock-lapsed-inside-window', failures: 5, last_failure_at: now - window / 2, locked_until: now - MINUTE },
    ];
    await db.insertInto('auth_throttle').values(kept).execute();

    // Sessions: one expired, one live, of a real user.
    const user = await portalFixture(server).newUser();
    const session = (expiresAt: number) => ({
      sessionId: randomUUID(),
      tokenHash: randomUUID().replace(/-/g, ''),
      identityStoreId: server.init.identityStoreId,
      userId: user.userId,
      userName: user.userName,
      mustChangePassword: false,
      mfaAt: null,
      sourceIp: '127.0.0.1',
      userAgent: 'test',
      createdAt: now - 2 * DAY,
      expiresAt,
    });
    const expired = session(now - MINUTE);
    const live = session(now + 60 * MINUTE);
    await server.reg.read.auth.insertSession(expired);
    await server.reg.read.auth.insertSession(live);

    // Jobs: finished long ago and lately, failed long ago and lately, and one still queued from long ago.
    const job = (status: string, age: number) => ({
      id: randomUUID(),
      kind: 'housekeeping-test',
      payload: '{}',
      status,
      attempts: 1,
      run_after: now - age,
      locked_by: null,
      locked_until: null,
      last_error: status === 'failed' ? 'boom' : null,
      created_at: now - age,
      updated_at: now - age,
    });
    const jobs = { doneOld: job('done', 2 * DAY), doneNew: job('done', MINUTE), failedOld: job('failed', 31 * DAY), failedNew: job('failed', 2 * DAY), queuedOld: job('queued', 40 * DAY) };
    await db.insertInto('jobs').values(Object.values(jobs)).execute();

    // Assignment and provisioning requests: finished more than 90 days ago (SUCCEEDED and FAILED, of
    // every kind), finished lately, and one still IN_PROGRESS from long ago.
    const request = (kind: string, status: string, age: number, finishedAge = age) => ({
      request_id: randomUUID(),
      kind,
      status,
      failure_reason: status === 'FAILED' ? 'boom' : null,
      permission_set_arn: 'arn:aws:sso:::permissionSet/ssoins-housekeeping/ps-housekeeping',
      target_id: '111122223333',
      principal_type: 'USER',
      principal_id: user.userId,
      created_at: now - age,
      updated_at: now - finishedAge,
    });
    const requests = {
      createdOld: request('CREATE_ASSIGNMENT', 'SUCCEEDED', 91 * DAY),
      deletedOld: request('DELETE_ASSIGNMENT', 'FAILED', 91 * DAY),
      provisionedOld: request('PROVISION', 'SUCCEEDED', 200 * DAY),
      createdNew: request('CREATE_ASSIGNMENT', 'SUCCEEDED', 89 * DAY),
      // Made long ago, finished only yesterday (a job that waited out an outage): kept.
      finishedLately: request('DELETE_ASSIGNMENT', 'SUCCEEDED', 120 * DAY, DAY),
      pendingOld: request('PROVISION', 'IN_PROGRESS', 200 * DAY),
    };
    await db.insertInto('access_requests').values(Object.values(requests)).execute();

    // (The pass that serve runs at start may take part of this; the rows left are what count.)
    await server.reg.housekeeping.runOnce();

    const throttleLeft = (await db.selectFrom('auth_throttle').select('throttle_key').execute()).map((r) => r.throttle_key);
    expect(throttleLeft.filter((k) => k.startsWith('ip:198.51.'))).toEqual([]);
    expect(throttleLeft).toEqual(expect.arrayContaining(kept.map((k) => k.throttle_key)));
    // The lock still holds: the user stays locked out after the sweep.
    const states = await server.reg.read.auth.throttleStates(['user:locked-for-an-hour']);
    expect(states.get('user:locked-for-an-hour')?.lockedUntil).toBe(now + 60 * MINUTE);

    const sessionsLeft = (await db.selectFrom('auth_sessions').select('session_id').where('user_id', '=', user.userId).execute()).map((r) => r.session_id);
    expect(sessionsLeft).toEqual([live.sessionId]);

    const jobsLeft = new Set((await db.selectFrom('jobs').select('id').where('kind', '=', 'housekeeping-test').execute()).map((r) => r.id));
    expect([...jobsLeft].sort()).toEqual([jobs.doneNew.id, jobs.failedNew.id, jobs.queuedOld.id].sort());

    const requestsLeft = (await db.selectFrom('access_requests').select('request_id').where('principal_id', '=', user.userId).execute()).map((r) => r.request_id);
    expect(requestsLeft.sort()).toEqual([requests.createdNew.request_id, requests.finishedLately.request_id, requests.pendingOld.request_id].sort());
    // What an administrator's SDK then answers for a swept request, and for a kept one.
    const sso = new SSOAdminClient(sdkOptions(server));
    const status = (id: string) => sso.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn: server.init.instanceArn, AccountAssignmentCreationRequestId: id }));
    await expect(status(requests.createdOld.request_id)).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    expect((await status(requests.createdNew.request_id)).AccountAssignmentCreationStatus?.Status).toBe('SUCCEEDED');

    // A second sweep finds nothing more of what it just swept.
    expect(await server.reg.housekeeping.runOnce()).toEqual({ throttleRows: 0, sessions: 0, jobs: 0, accessRequests: 0 });
  });
});
