// The port the access module needs from the store: permission sets and their policies,
// account assignments, provisioned (account, permission set) pairs, and asynchronous requests.

import type { Slice } from '../shared/pagination.js';

export interface CustomerManagedPolicyReference {
  name: string;
  path: string;
}

export type PermissionsBoundary = { managedPolicyArn: string } | { customerManagedPolicy: CustomerManagedPolicyReference };

export interface PermissionSetRecord {
  permissionSetArn: string;
  name: string;
  description: string | null;
  /** ISO-8601 duration as given, e.g. PT4H. */
  sessionDuration: string;
  relayState: string | null;
  inlinePolicy: string | null;
  permissionsBoundary: PermissionsBoundary | null;
  /** Bumped by every change that a provisioned role must pick up. */
  version: number;
  createdAt: number;
}

export type PermissionSetChange = Partial<
  Pick<PermissionSetRecord, 'description' | 'sessionDuration' | 'relayState' | 'inlinePolicy' | 'permissionsBoundary'>
>;

/** An AWS managed policy (ref = ARN) or a customer-managed policy reference (ref = path + name). */
export interface AttachedPolicy {
  kind: 'AWS' | 'CUSTOMER';
  ref: string;
  name: string;
  path: string;
}

export type PrincipalType = 'USER' | 'GROUP';

export interface AccountAssignmentRecord {
  accountId: string;
  permissionSetArn: string;
  principalType: PrincipalType;
  principalId: string;
}

export type ProvisioningStatus = 'LATEST_PERMISSION_SET_PROVISIONED' | 'LATEST_PERMISSION_SET_NOT_PROVISIONED';

export type RequestKind = 'CREATE_ASSIGNMENT' | 'DELETE_ASSIGNMENT' | 'PROVISION';
export type RequestStatus = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';

/** An asynchronous request (account assignment creation or deletion, permission-set provisioning). */
export interface AccessRequestRecord {
  requestId: string;
  kind: RequestKind;
  status: RequestStatus;
  failureReason: string | null;
  permissionSetArn: string;
  /** The account; null when provisioning to all provisioned accounts. */
  targetId: string | null;
  principalType: PrincipalType | null;
  principalId: string | null;
  createdAt: number;
}

/** A role a user may take in an account through the portal: the permission set and its provisioned role. */
export interface PortalRoleRecord {
  permissionSetArn: string;
  /** The provisioned role, AWSReservedSSO_<permission set name>_<16 hex>. */
  roleName: string;
  sessionDuration: string;
}

/** Principals whose assignments count: a user and the groups they belong to. */
export type PrincipalSet = { type: PrincipalType; ids: string[] }[];

export interface AccessControlAttribute {
  Key: string;
  Value: { Source: string[] };
}

/** Keyset pagination (shared/pagination.ts): rows after the last row of the previous page, at most `limit`. */
export type { Slice };

export interface AccessStore {
  insertPermissionSet(ps: PermissionSetRecord): Promise<void>;
  findPermissionSet(permissionSetArn: string): Promise<PermissionSetRecord | undefined>;
  /** As findPermissionSet, holding the row until the transaction ends, so that jobs on one permission set run one at a time. */
  lockPermissionSet(permissionSetArn: string): Promise<PermissionSetRecord | undefined>;
  listPermissionSetArns(slice: Slice<[string]>): Promise<string[]>;
  countPermissionSets(): Promise<number>;
  /** Apply the change and bump the version; false if there is no such permission set. */
  updatePermissionSet(permissionSetArn: string, change: PermissionSetChange): Promise<boolean>;
  /** Refused with failed_precondition while assignments use it. */
  deletePermissionSet(permissionSetArn: string): Promise<void>;

  /** Attach within a limit of `maxPolicies` of both kinds; false when the limit is reached. */
  attachPolicy(permissionSetArn: string, policy: AttachedPolicy, now: number, maxPolicies: number): Promise<boolean>;
  /** False if the policy was not attached. */
  detachPolicy(permissionSetArn: string, kind: AttachedPolicy['kind'], ref: string): Promise<boolean>;
  listPolicies(permissionSetArn: string, kind: AttachedPolicy['kind'], slice: Slice<[string]>): Promise<AttachedPolicy[]>;

  /** Idempotent. */
  insertAssignment(a: AccountAssignmentRecord, now: number): Promise<void>;
  /** Idempotent; true when the permission set has no assignment left in that account. Callers hold the permission set's lock (lockPermissionSet), which keeps two deletions from each seeing the other's row. */
  deleteAssignment(a: AccountAssignmentRecord): Promise<boolean>;
  listAssignments(accountId: string, permissionSetArn: string, slice: Slice<[string, string]>): Promise<AccountAssignmentRecord[]>;
  /** Assignments of any of these principals, ordered by (account, permission set, principal type, principal id). */
  listAssignmentsOfPrincipals(
    principals: PrincipalSet,
    accountId: string | undefined,
    slice: Slice<[string, string, string, string]>,
  ): Promise<AccountAssignmentRecord[]>;

  /** The accounts where any of these principals has an assignment, in order. */
  listAccountIdsOfPrincipals(principals: PrincipalSet, slice: Slice<[string]>): Promise<string[]>;
  /** The names of the permission sets these principals are assigned in the account, in order. */
  listPermissionSetNamesOfPrincipals(principals: PrincipalSet, accountId: string, slice: Slice<[string]>): Promise<string[]>;
  /**
   * The provisioned role of the named permission set in the account, if the user exists, is
   * enabled, and is assigned it there directly or through any of their groups (nested too).
   */
  findRoleOfUser(identityStoreId: string, userId: string, accountId: string, permissionSetName: string): Promise<PortalRoleRecord | undefined>;
  /** Whether a permission set provisioned to the account references the customer-managed policy `path + name` (attached, or as its boundary). */
  customerPolicyInUse(accountId: string, reference: CustomerManagedPolicyReference): Promise<boolean>;

  /** Provision this version unless already provisioned (at whatever version). */
  ensureProvisioned(accountId: string, permissionSetArn: string, roleName: string, version: number, now: number): Promise<void>;
  /** Provision this version, refreshing an existing provisioning (whose role name stays). */
  provision(accountId: string, permissionSetArn: string, roleName: string, version: number, now: number): Promise<void>;
  /** Refresh every account the permission set is provisioned to, to this version. */
  reprovisionAll(permissionSetArn: string, version: number, now: number): Promise<void>;
  deprovision(accountId: string, permissionSetArn: string): Promise<void>;
  listProvisionedAccounts(permissionSetArn: string, status: ProvisioningStatus | undefined, slice: Slice<[string]>): Promise<string[]>;
  listProvisionedPermissionSets(accountId: string, status: ProvisioningStatus | undefined, slice: Slice<[string]>): Promise<string[]>;

  insertRequest(r: AccessRequestRecord): Promise<void>;
  findRequest(kind: RequestKind, requestId: string): Promise<AccessRequestRecord | undefined>;
  /** Only a request still IN_PROGRESS changes: a finished one keeps its outcome. */
  finishRequest(requestId: string, status: Exclude<RequestStatus, 'IN_PROGRESS'>, failureReason: string | null, now: number): Promise<void>;
  listRequests(kind: RequestKind, status: RequestStatus | undefined, slice: Slice<[number, string]>): Promise<AccessRequestRecord[]>;
  /** Assignment requests for the same assignment, still IN_PROGRESS and made before this one, oldest first. */
  listEarlierPendingAssignmentRequests(r: AccessRequestRecord): Promise<AccessRequestRecord[]>;

  findAccessControlAttributes(): Promise<AccessControlAttribute[] | undefined>;
  /** Refused with already_exists when a configuration exists. */
  insertAccessControlAttributes(attributes: AccessControlAttribute[], now: number): Promise<void>;
  /** False when there is no configuration. */
  updateAccessControlAttributes(attributes: AccessControlAttribute[], now: number): Promise<boolean>;
  deleteAccessControlAttributes(): Promise<boolean>;
}
