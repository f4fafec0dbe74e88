// The organization: its root, organizational units and accounts, with AWS Organizations' rules.

import type { AuditStore } from '../audit/index.js';
import type { RequestContext } from '../shared/context.js';
import { newAccountId } from '../shared/ids.js';
import type { JobStore, JobWorker } from '../shared/jobs.js';
import type { ServiceDeps } from '../shared/service-deps.js';
import type { TagStore } from '../shared/tags.js';
import type { OrganizationStore } from './organization-store.js';

export type OrganizationStores = { organization: OrganizationStore; audit: AuditStore; jobs: JobStore; tags: TagStore };

export interface OrganizationSummary {
  organizationId: string;
  rootId: string;
  managementAccountId: string;
}

export class OrganizationService {
  constructor(private readonly deps: ServiceDeps<OrganizationStores>) {}

  /** Create the organization, its root and management account once; later calls return the same. */
  async ensureOrganization(_ctx: RequestContext, _managementEmail: string): Promise<OrganizationSummary> {
    await Promise.resolve();
    return { organizationId: 'o-stub', rootId: 'r-stub', managementAccountId: newAccountId(this.deps.ids) };
  }

  /** Register this module's background job handlers (CreateAccount) with the process's worker. */
  registerJobs(_worker: JobWorker): void {}

  /** Used by access/ to check an assignment's target. */
  async accountExists(_accountId: string): Promise<boolean> {
    await Promise.resolve();
    return false;
  }
}
