// SQL implementation of housekeeping's store port: bounded deletes of rows nobody can use any more.

import type { HousekeepingStore } from '../../shared/housekeeping.js';
import type { RequestKind, RequestStatus } from '../../access/index.js';
import type { Db } from '../database.js';

/** Every kind of request (a kind added to RequestKind and not here fails to compile). */
const REQUEST_KINDS = Object.keys({ CREATE_ASSIGNMENT: 1, DELETE_ASSIGNMENT: 1, PROVISION: 1 } satisfies Record<RequestKind, 1>) as RequestKind[];
const FINISHED: RequestStatus[] = ['SUCCEEDED', 'FAILED'];

export class SqlHousekeepingStore implements HousekeepingStore {
  constructor(private readonly db: Db) {}

  async deleteStaleThrottle(windowStart: number, now: number, limit: number): Promise<number> {
    // As the count (auth-store.ts): a row goes once its last failure and its lock's end are both out of the window.
    const stale = this.db.selectFrom('auth_throttle').select('throttle_key').where('last_failure_at', '<', windowStart).where('locked_until', '<', Math.min(windowStart, now)).limit(limit);
    const r = await this.db.deleteFrom('auth_throttle').where('throttle_key', 'in', stale).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteExpiredSessions(now: number, limit: number): Promise<number> {
    const expired = this.db.selectFrom('auth_sessions').select('session_id').where('expires_at', '<=', now).limit(limit);
    const r = await this.db.deleteFrom('auth_sessions').where('session_id', 'in', expired).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteFinishedJobs(doneBefore: number, failedBefore: number, limit: number): Promise<number> {
    const finished = this.db
      .selectFrom('jobs')
      .select('id')
      .where((eb) => eb.or([eb.and([eb('status', '=', 'done'), eb('updated_at', '<', doneBefore)]), eb.and([eb('status', '=', 'failed'), eb('updated_at', '<', failedBefore)])]))
      .limit(limit);
    const r = await this.db.deleteFrom('jobs').where('id', 'in', finished).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async deleteFinishedAccessRequests(before: number, limit: number): Promise<number> {
    // Every (kind, status) pair names a range of the access_requests_kind_status index (0004): made
    // before `before` (a request finishes after it is made), then finished before it too.
    const finished = this.db
      .selectFrom('access_requests')
      .select('request_id')
      .where('kind', 'in', REQUEST_KINDS)
      .where('status', 'in', FINISHED)
      .where('created_at', '<', before)
      .where('updated_at', '<', before)
      .limit(limit);
    const r = await this.db.deleteFrom('access_requests').where('request_id', 'in', finished).executeTakeFirst();
    return Number(r.numDeletedRows);
  }
}
