// The port policy/ needs for customer-managed policies: each account's policies and their versions.

export interface CustomerPolicyRecord {
  policyArn: string;
  accountId: string;
  policyName: string;
  path: string;
  policyId: string;
  description: string | null;
  defaultVersionId: string;
  /** The number the next version gets (v1, v2 … are never reused). */
  nextVersion: number;
  createdAt: number;
  updatedAt: number;
}

export interface CustomerPolicyVersionRecord {
  policyArn: string;
  versionId: string;
  document: string;
  createdAt: number;
}

export interface CustomerPolicyStore {
  /** False when the account already has a policy of that name. */
  insertPolicy(p: CustomerPolicyRecord, firstVersion: CustomerPolicyVersionRecord): Promise<boolean>;
  findPolicy(policyArn: string): Promise<CustomerPolicyRecord | undefined>;
  findPolicyByName(accountId: string, policyName: string): Promise<CustomerPolicyRecord | undefined>;
  /** The account's policies ordered by name, after `afterName`, at most `limit`, under `pathPrefix`. */
  listPolicies(accountId: string, pathPrefix: string, afterName: string | undefined, limit: number): Promise<CustomerPolicyRecord[]>;
  listVersions(policyArn: string): Promise<CustomerPolicyVersionRecord[]>;
  findVersion(policyArn: string, versionId: string): Promise<CustomerPolicyVersionRecord | undefined>;
  /** Adds a version and bumps next_version, only if next_version is still `expectedNext`; false otherwise. */
  insertVersion(v: CustomerPolicyVersionRecord, expectedNext: number, setAsDefault: boolean, now: number): Promise<boolean>;
  deletePolicy(policyArn: string): Promise<void>;
  /**
   * Takes the policy's row for the rest of the transaction (its updated_at becomes `now`), so
   * that version changes of one policy happen one after another; undefined when it does not exist.
   */
  lockPolicy(policyArn: string, now: number): Promise<CustomerPolicyRecord | undefined>;
  setDefaultVersion(policyArn: string, versionId: string): Promise<void>;
  deleteVersion(policyArn: string, versionId: string): Promise<void>;
}
