// Tables owned by policy/: customer-managed policies per account and their versions.

export interface CustomerPoliciesTable {
  policy_arn: string;
  account_id: string;
  policy_name: string;
  path: string;
  policy_id: string;
  description: string | null;
  default_version_id: string;
  next_version: number;
  created_at: number;
  updated_at: number;
}

export interface CustomerPolicyVersionsTable {
  policy_arn: string;
  version_id: string;
  document: string;
  created_at: number;
}

export interface PolicyTables {
  customer_policies: CustomerPoliciesTable;
  customer_policy_versions: CustomerPolicyVersionsTable;
}
