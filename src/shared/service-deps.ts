// The narrow dependencies every domain service takes: a transactor over the stores it needs,
// the same stores for reads outside a transaction, the clock, ids, and a nudge for the job worker.

import type { AuditDeps, AuditStore } from '../audit/index.js';

export type ServiceDeps<S extends { audit: AuditStore }> = AuditDeps<S> & {
  /** Stores for reads outside any transaction. */
  read: S;
  /** Tell this process's job worker that a commit queued work. */
  wakeJobs: () => void;
};
