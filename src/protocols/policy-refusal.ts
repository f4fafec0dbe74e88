// The policy check every signed surface runs once it knows the caller, and the record of a change
// it refuses: CloudTrail logs such a call with errorCode AccessDenied, so the trail does too.

import { HIDDEN, type AuditService } from '../audit/index.js';
import type { RequestContext } from '../shared/context.js';
import { isDomainError } from '../shared/errors.js';

/** CloudTrail's errorCode for a call the caller's policies refuse. */
export const ACCESS_DENIED = 'AccessDenied';

/** What the trail records of a refused change: built only when the check refuses. */
export interface RefusedChange {
  ctx: RequestContext;
  eventName: string;
  requestParameters: unknown;
}

/**
 * Runs `check` (and answers what it answers); when it refuses (permission_denied) and the request is
 * a change (`refusal` given), the refusal is recorded, with the message the client then gets, before
 * it is rethrown unchanged.
 * A refused read, and any other failure, records nothing here.
 */
export async function checkPolicy<T>(audit: AuditService, check: () => Promise<T>, refusal: (() => RefusedChange | Promise<RefusedChange>) | undefined): Promise<T> {
  try {
    return await check();
  } catch (err) {
    if (refusal && isDomainError(err) && err.kind === 'permission_denied') {
      const { ctx, eventName, requestParameters } = await refusal();
      await audit.recordRefusal(ctx, eventName, requestParameters, ACCESS_DENIED, err.message);
    }
    throw err;
  }
}

/** A request body's JSON for the record, or null when it is not JSON (the refusal stands regardless). */
export function jsonParametersOf(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8')) as unknown;
  } catch {
    return null;
  }
}

/**
 * A copy of what a refused request sent, with the values of `fields` (lower-cased names, at any
 * depth) hidden: what a refusal records of a person is no more than its change would have.
 */
export function withFieldsHidden(value: unknown, fields: ReadonlySet<string>, depth = 0): unknown {
  if (value === null || typeof value !== 'object' || depth > 16) return value;
  if (Array.isArray(value)) return value.map((v) => withFieldsHidden(v, fields, depth + 1));
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fields.has(k.toLowerCase()) ? HIDDEN : withFieldsHidden(v, fields, depth + 1)]));
}
