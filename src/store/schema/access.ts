// Tables owned by the access domain module: permission sets and their policies, account
// assignments, provisioned (permission set, account) pairs, asynchronous requests, and the
// instance's access control attributes. Times are epoch milliseconds; JSON is text.

import type { Generated } from 'kysely';

export interface PermissionSetsTable {
  permission_set_arn: string;
  /** Unique: AWS refuses a second permission set of the same name in an instance. */
  name: string;
  description: string | null;
  session_duration: string;
  relay_state: string | null;
  inline_policy: string | null;
  /** JSON: {managedPolicyArn} or {customerManagedPolicy: {name, path}}. */
  permissions_boundary: string | null;
  version: number;
  /** Managed plus customer-managed policies attached; checked and bumped in one UPDATE so the limit holds under concurrency. */
  policy_count: number;
  created_at: number;
}

export interface PermissionSetPoliciesTable {
  permission_set_arn: string;
  /** AWS (managed policy) or CUSTOMER (customer-managed policy reference). */
  kind: string;
  /** The ARN, or path + name. */
  ref: string;
  name: string;
  path: string;
  attached_at: number;
}

export interface AccountAssignmentsTable {
  account_id: string;
  permission_set_arn: string;
  principal_type: string;
  principal_id: string;
  created_at: number;
}

export interface PermissionSetProvisionsTable {
  permission_set_arn: string;
  account_id: string;
  role_name: string;
  /** The permission set version the account's role was last provisioned with. */
  provisioned_version: number;
  provisioned_at: number;
}

export interface AccessRequestsTable {
  request_id: string;
  /** CREATE_ASSIGNMENT, DELETE_ASSIGNMENT or PROVISION. */
  kind: string;
  status: string;
  failure_reason: string | null;
  permission_set_arn: string;
  target_id: string | null;
  principal_type: string | null;
  principal_id: string | null;
  created_at: number;
  updated_at: number;
}

export interface AccessControlAttributesTable {
  /** Always 1: the instance has one configuration, and a second insert is a unique violation. */
  singleton: Generated<number>;
  /** JSON: [{Key, Value: {Source: [string]}}] */
  attributes: string;
  created_at: number;
  updated_at: number;
}

export interface AccessTables {
  permission_sets: PermissionSetsTable;
  permission_set_policies: PermissionSetPoliciesTable;
  account_assignments: AccountAssignmentsTable;
  permission_set_provisions: PermissionSetProvisionsTable;
  access_requests: AccessRequestsTable;
  access_control_attributes: AccessControlAttributesTable;
}
