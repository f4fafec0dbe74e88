// Records refusals that happen before any domain service runs (input that fails the wire schema),
// so that every attempted change, allowed or not, leaves an event.

import type { RequestContext } from '../shared/context.js';
import type { Transactor } from '../shared/transactor.js';
import type { Clock } from '../shared/clock.js';
import type { IdGenerator } from '../shared/ids.js';
import { buildEvent } from './audited.js';
import type { AuditStore } from './audit-store.js';

export class AuditService {
  constructor(private readonly deps: { tx: Transactor<{ audit: AuditStore }>; clock: Clock; ids: IdGenerator }) {}

  async recordRefusal(ctx: RequestContext, eventName: string, requestParameters: unknown, errorCode: string, errorMessage: string): Promise<void> {
    await this.deps.tx.transaction((s) => s.audit.appendEvent(buildEvent(ctx, this.deps, eventName, requestParameters, { errorCode, errorMessage })));
  }
}
