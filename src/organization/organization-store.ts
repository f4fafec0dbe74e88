// The port the organization module needs from the store: the organization and its root, OUs,
// accounts and CreateAccount requests. Uniqueness is the store's to enforce (it holds under races).

export interface OrganizationRecord {
  organizationId: string;
  rootId: string;
  managementAccountId: string;
  featureSet: 'ALL';
  createdAt: number;
}

export type AccountStatus = 'ACTIVE' | 'SUSPENDED' | 'PENDING_CLOSURE';

export interface AccountRecord {
  accountId: string;
  email: string;
  name: string;
  status: AccountStatus;
  joinedMethod: 'INVITED' | 'CREATED';
  joinedAt: number;
  /** The root or OU the account is in. */
  parentId: string;
}

export interface OrganizationalUnitRecord {
  ouId: string;
  parentId: string;
  name: string;
  /** 1 for an OU directly under the root; AWS allows five levels. */
  depth: number;
  createdAt: number;
}

export type CreateAccountState = 'IN_PROGRESS' | 'SUCCEEDED' | 'FAILED';

export interface CreateAccountRequestRecord {
  requestId: string;
  accountName: string;
  email: string;
  state: CreateAccountState;
  requestedAt: number;
  completedAt: number | null;
  accountId: string | null;
  failureReason: string | null;
}

export interface CreateAccountOutcome {
  state: 'SUCCEEDED' | 'FAILED';
  completedAt: number;
  accountId?: string;
  failureReason?: string;
}

/** Keyset page request: rows after `after` in id order, at most `limit`. */
export interface ListRange {
  after?: string;
  limit: number;
}

export interface OrganizationStore {
  findOrganization(): Promise<OrganizationRecord | undefined>;
  /** Throws already_exists when an organization exists: there is only ever one. */
  insertOrganization(org: OrganizationRecord): Promise<void>;

  /** Throws already_exists when the id or the email (case-insensitive) is taken. */
  insertAccount(account: AccountRecord): Promise<void>;
  findAccount(accountId: string): Promise<AccountRecord | undefined>;
  findAccountByEmail(email: string): Promise<AccountRecord | undefined>;
  /** Every account, or those directly under `parentId`, ordered by id. */
  listAccounts(range: ListRange & { parentId?: string }): Promise<AccountRecord[]>;
  countAccounts(): Promise<number>;
  /** Move only if the account is still under `fromParentId`; false otherwise. */
  moveAccount(accountId: string, fromParentId: string, toParentId: string): Promise<boolean>;

  /** Throws already_exists when the parent already has an OU of that name. */
  insertOrganizationalUnit(ou: OrganizationalUnitRecord): Promise<void>;
  findOrganizationalUnit(ouId: string): Promise<OrganizationalUnitRecord | undefined>;
  /** The OUs directly under `parentId`, ordered by id. */
  listOrganizationalUnits(range: ListRange & { parentId: string }): Promise<OrganizationalUnitRecord[]>;

  insertCreateAccountRequest(request: CreateAccountRequestRecord): Promise<void>;
  findCreateAccountRequest(requestId: string): Promise<CreateAccountRequestRecord | undefined>;
  /** Record the outcome of a request still IN_PROGRESS; false if it was already complete. */
  completeCreateAccountRequest(requestId: string, outcome: CreateAccountOutcome): Promise<boolean>;
}
