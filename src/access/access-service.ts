// Permission sets, account assignments and provisioning, with AWS sso-admin's rules.
// Assignments complete asynchronously through durable jobs, as on AWS.

import type { AuditStore } from '../audit/index.js';
import type { InstanceService } from '../instance/index.js';
import type { JobStore, JobWorker } from '../shared/jobs.js';
import type { ServiceDeps } from '../shared/service-deps.js';
import type { TagStore } from '../shared/tags.js';
import type { AccessStore } from './access-store.js';

export type AccessStores = { access: AccessStore; audit: AuditStore; jobs: JobStore; tags: TagStore };

/** What access/ needs to know about principals and accounts, satisfied by directory/ and organization/. */
export interface PrincipalDirectory {
  principalExists(identityStoreId: string, type: 'USER' | 'GROUP', id: string): Promise<boolean>;
}
export interface AccountDirectory {
  accountExists(accountId: string): Promise<boolean>;
}

export class AccessService {
  constructor(
    private readonly deps: ServiceDeps<AccessStores> & {
      instance: InstanceService;
      principals: PrincipalDirectory;
      accounts: AccountDirectory;
    },
  ) {}

  /** Register this module's background job handlers with the process's worker. */
  registerJobs(_worker: JobWorker): void {
    void this.deps;
  }
}
