// Every change runs through `audited`: the change and its audit event commit in one transaction.
// A refused change leaves a failure event of its own; a rolled-back change leaves none.

import type { Clock } from '../shared/clock.js';
import type { Principal, RequestContext } from '../shared/context.js';
import { isDomainError } from '../shared/errors.js';
import { timeOrderedUuid, type IdGenerator } from '../shared/ids.js';
import type { Transactor } from '../shared/transactor.js';
import { AUDIT_OFF_FOR_BENCH, MAX_RESULT_ITEMS, withoutSecrets, type AuditEvent } from './audit-event.js';
import type { AuditStore } from './audit-store.js';

export interface AuditDeps<S extends { audit: AuditStore }> {
  tx: Transactor<S>;
  clock: Clock;
  ids: IdGenerator;
  /**
   * Throws if the caller may no longer change anything (a SCIM token deleted since its request was
   * accepted). Asked first in each change's own transaction, so that it and the change commit as one.
   */
  callerStands?: (principal: Principal) => Promise<void>;
}

export interface AuditedAction<T> {
  eventName: string;
  requestParameters: unknown;
  /** What to record of the result; defaults to nothing. */
  responseElements?: (result: T) => unknown;
  /** AwsServiceEvent: what the system did because of the caller's change, not a call of its own. */
  eventType?: AuditEvent['eventType'];
}

export function buildEvent(
  ctx: RequestContext,
  deps: { clock: Clock; ids: IdGenerator },
  eventName: string,
  requestParameters: unknown,
  outcome: { responseElements?: unknown; errorCode?: string; errorMessage?: string },
  readOnly = false,
): AuditEvent {
  const eventTime = deps.clock.now();
  return {
    eventId: timeOrderedUuid(deps.ids, eventTime),
    eventTime,
    eventSource: ctx.eventSource,
    eventName,
    awsRegion: ctx.region,
    sourceIPAddress: ctx.sourceIp,
    userAgent: ctx.userAgent,
    userIdentity: ctx.principal,
    requestParameters: withoutSecrets(requestParameters) ?? null,
    responseElements: outcome.responseElements === undefined ? null : withoutSecrets(outcome.responseElements, 0, MAX_RESULT_ITEMS),
    ...(outcome.errorCode ? { errorCode: outcome.errorCode, errorMessage: outcome.errorMessage } : {}),
    requestID: ctx.requestId,
    readOnly,
    eventType: 'AwsApiCall',
  };
}

export async function audited<S extends { audit: AuditStore }, T>(
  deps: AuditDeps<S>,
  ctx: RequestContext,
  action: AuditedAction<T>,
  change: (stores: S) => Promise<T>,
): Promise<T> {
  // The benchmark's baseline does none of auditing's work, not only its insert.
  if (AUDIT_OFF_FOR_BENCH) return deps.tx.transaction(change);
  const eventOf = (outcome: Parameters<typeof buildEvent>[4]): AuditEvent => {
    const event = buildEvent(ctx, deps, action.eventName, action.requestParameters, outcome);
    return action.eventType ? { ...event, eventType: action.eventType } : event;
  };
  try {
    return await deps.tx.transaction(async (stores) => {
      // A service event is the system's consequence of a change already made (the sessions of a user
      // just disabled end): carried out whoever asked for the change, as the change stands.
      if (action.eventType !== 'AwsServiceEvent') await deps.callerStands?.(ctx.principal);
      const result = await change(stores);
      await stores.audit.appendEvent(eventOf({ responseElements: action.responseElements?.(result) }));
      return result;
    });
  } catch (err) {
    const errorCode = isDomainError(err) ? err.code : 'internal_error';
    const errorMessage = isDomainError(err) ? err.message : 'internal error';
    // The refused change is already rolled back; its failure is recorded on its own.
    await deps.tx.transaction((stores) => stores.audit.appendEvent(eventOf({ errorCode, errorMessage })));
    throw err;
  }
}
