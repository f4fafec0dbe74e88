// What the access module's services depend on: their stores, and what they ask other modules
// (does this principal exist, which groups is a user in, does this account exist and what is it called), as ports.

import type { AuditStore } from '../audit/index.js';
import type { RequestContext } from '../shared/context.js';
import type { InstanceService } from '../instance/index.js';
import type { JobStore } from '../shared/jobs.js';
import type { ServiceDeps } from '../shared/service-deps.js';
import type { TagStore } from '../shared/tags.js';
import type { AccessStore, PrincipalType } from './access-store.js';

export type AccessStores = { access: AccessStore; audit: AuditStore; jobs: JobStore; tags: TagStore };

/** Satisfied by directory/. */
export interface PrincipalDirectory {
  principalExists(identityStoreId: string, type: PrincipalType, id: string): Promise<boolean>;
  /** False for a disabled user as for a missing one. */
  isUserEnabled(identityStoreId: string, userId: string): Promise<boolean>;
  listGroupIdsForUser(identityStoreId: string, userId: string): Promise<string[]>;
}

/** Satisfied by organization/. */
export interface AccountDirectory {
  accountExists(accountId: string): Promise<boolean>;
  /** The portal lists accounts by name and email. */
  describeAccount(accountId: string): Promise<{ accountId: string; name: string; email: string }>;
}

/** Makes credentials already issued for a deleted assignment stop working; satisfied by credentials/. */
export interface AssignmentRevoker {
  revokeAssignment(
    ctx: RequestContext,
    a: { identityStoreId: string; principalType: PrincipalType; principalId: string; accountId: string; permissionSetArn: string },
    reason: string,
  ): Promise<void>;
}

/** Whether an account has a customer-managed policy; satisfied by policy/. */
export interface CustomerPolicyDirectory {
  policyExists(accountId: string, reference: { path: string; name: string }): Promise<boolean>;
}

export type AccessDeps = ServiceDeps<AccessStores> & {
  /** Provisioning fails, as on AWS, where a customer-managed reference does not resolve. */
  customerPolicies?: CustomerPolicyDirectory;
  instance: InstanceService;
  principals: PrincipalDirectory;
  accounts: AccountDirectory;
  revoker: AssignmentRevoker;
};
