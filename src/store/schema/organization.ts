// Tables owned by the organization domain module: the organization (one row), OUs, accounts and
// CreateAccount requests. Times are epoch milliseconds.

import type { Generated } from 'kysely';

export interface OrganizationsTable {
  organization_id: string;
  root_id: string;
  management_account_id: string;
  feature_set: string;
  created_at: number;
  /** Always 1, unique: two processes racing through init cannot make a second organization. */
  singleton: Generated<number>;
}

export interface OrgAccountsTable {
  account_id: string;
  email: string;
  /** Lower-cased email, unique: AWS compares account emails case-insensitively. */
  email_key: string;
  name: string;
  status: string;
  joined_method: string;
  joined_at: number;
  parent_id: string;
}

export interface OrgUnitsTable {
  ou_id: string;
  parent_id: string;
  name: string;
  depth: number;
  created_at: number;
}

export interface OrgCreateAccountRequestsTable {
  request_id: string;
  account_name: string;
  email: string;
  state: string;
  requested_at: number;
  completed_at: number | null;
  account_id: string | null;
  failure_reason: string | null;
}

export interface OrganizationTables {
  organizations: OrganizationsTable;
  org_accounts: OrgAccountsTable;
  org_units: OrgUnitsTable;
  org_create_account_requests: OrgCreateAccountRequestsTable;
}
