// SQL implementation of the organization module's store port. Unique constraints, not prior
// reads, decide uniqueness, so that two processes on one PostgreSQL cannot both win.

import type { Selectable } from 'kysely';
import type {
  AccountRecord,
  CreateAccountOutcome,
  CreateAccountRequestRecord,
  ListRange,
  OrganizationalUnitRecord,
  OrganizationRecord,
  OrganizationStore,
} from '../../organization/index.js';
import { alreadyExists } from '../../shared/errors.js';
import { countRows, isUniqueViolation, type Db, type Dialect } from '../database.js';
import type { OrgAccountsTable, OrgCreateAccountRequestsTable, OrgUnitsTable } from '../schema/organization.js';

/** Run an insert, turning a unique violation into the domain's already_exists error. */
async function insertUnique(insert: () => Promise<unknown>, code: string, message: string): Promise<void> {
  try {
    await insert();
  } catch (err) {
    if (isUniqueViolation(err)) throw alreadyExists(code, message);
    throw err;
  }
}

const toAccount = (r: Selectable<OrgAccountsTable>): AccountRecord => ({
  accountId: r.account_id,
  email: r.email,
  name: r.name,
  status: r.status as AccountRecord['status'],
  joinedMethod: r.joined_method as AccountRecord['joinedMethod'],
  joinedAt: r.joined_at,
  parentId: r.parent_id,
});

const toUnit = (r: Selectable<OrgUnitsTable>): OrganizationalUnitRecord => ({
  ouId: r.ou_id,
  parentId: r.parent_id,
  name: r.name,
  depth: r.depth,
  createdAt: r.created_at,
});

const toRequest = (r: Selectable<OrgCreateAccountRequestsTable>): CreateAccountRequestRecord => ({
  requestId: r.request_id,
  accountName: r.account_name,
  email: r.email,
  state: r.state as CreateAccountRequestRecord['state'],
  requestedAt: r.requested_at,
  completedAt: r.completed_at,
  accountId: r.account_id,
  failureReason: r.failure_reason,
});

export class SqlOrganizationStore implements OrganizationStore {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  async findOrganization(): Promise<OrganizationRecord | undefined> {
    const r = await this.db.selectFrom('organizations').selectAll().where('singleton', '=', 1).executeTakeFirst();
    return (
      r && {
        organizationId: r.organization_id,
        rootId: r.root_id,
        managementAccountId: r.management_account_id,
        featureSet: 'ALL',
        createdAt: r.created_at,
      }
    );
  }

  insertOrganization(o: OrganizationRecord): Promise<void> {
    return insertUnique(
      () =>
        this.db
          .insertInto('organizations')
          .values({
            organization_id: o.organizationId,
            root_id: o.rootId,
            management_account_id: o.managementAccountId,
            feature_set: o.featureSet,
            created_at: o.createdAt,
          })
          .execute(),
      'organization.already_exists',
      'The organization already exists.',
    );
  }

  insertAccount(a: AccountRecord): Promise<void> {
    return insertUnique(
      () =>
        this.db
          .insertInto('org_accounts')
          .values({
            account_id: a.accountId,
            email: a.email,
            email_key: a.email.toLowerCase(),
            name: a.name,
            status: a.status,
            joined_method: a.joinedMethod,
            joined_at: a.joinedAt,
            parent_id: a.parentId,
          })
          .execute(),
      'organization.account_conflict',
      'An account with this id or email already exists.',
    );
  }

  async findAccount(accountId: string): Promise<AccountRecord | undefined> {
    const r = await this.db.selectFrom('org_accounts').selectAll().where('account_id', '=', accountId).executeTakeFirst();
    return r && toAccount(r);
  }

  async findAccountByEmail(email: string): Promise<AccountRecord | undefined> {
    const r = await this.db.selectFrom('org_accounts').selectAll().where('email_key', '=', email.toLowerCase()).executeTakeFirst();
    return r && toAccount(r);
  }

  countAccounts(): Promise<number> {
    return countRows(this.db, 'org_accounts');
  }

  async listAccounts(range: ListRange & { parentId?: string }): Promise<AccountRecord[]> {
    let q = this.db.selectFrom('org_accounts').selectAll();
    if (range.parentId !== undefined) q = q.where('parent_id', '=', range.parentId);
    if (range.after !== undefined) q = q.where('account_id', '>', range.after);
    const rows = await q.orderBy('account_id').limit(range.limit).execute();
    return rows.map(toAccount);
  }

  async moveAccount(accountId: string, fromParentId: string, toParentId: string): Promise<boolean> {
    const r = await this.db
      .updateTable('org_accounts')
      .set({ parent_id: toParentId })
      .where('account_id', '=', accountId)
      .where('parent_id', '=', fromParentId)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  insertOrganizationalUnit(ou: OrganizationalUnitRecord): Promise<void> {
    return insertUnique(
      () =>
        this.db
          .insertInto('org_units')
          .values({ ou_id: ou.ouId, parent_id: ou.parentId, name: ou.name, depth: ou.depth, created_at: ou.createdAt })
          .execute(),
      'organization.duplicate_ou',
      'An OU with the same name already exists in the parent.',
    );
  }

  async findOrganizationalUnit(ouId: string): Promise<OrganizationalUnitRecord | undefined> {
    const r = await this.db.selectFrom('org_units').selectAll().where('ou_id', '=', ouId).executeTakeFirst();
    return r && toUnit(r);
  }

  async listOrganizationalUnits(range: ListRange & { parentId: string }): Promise<OrganizationalUnitRecord[]> {
    let q = this.db.selectFrom('org_units').selectAll().where('parent_id', '=', range.parentId);
    if (range.after !== undefined) q = q.where('ou_id', '>', range.after);
    const rows = await q.orderBy('ou_id').limit(range.limit).execute();
    return rows.map(toUnit);
  }

  async insertCreateAccountRequest(r: CreateAccountRequestRecord): Promise<void> {
    await this.db
      .insertInto('org_create_account_requests')
      .values({
        request_id: r.requestId,
        account_name: r.accountName,
        email: r.email,
        state: r.state,
        requested_at: r.requestedAt,
        completed_at: r.completedAt,
        account_id: r.accountId,
        failure_reason: r.failureReason,
      })
      .execute();
  }

  async findCreateAccountRequest(requestId: string): Promise<CreateAccountRequestRecord | undefined> {
    const r = await this.db.selectFrom('org_create_account_requests').selectAll().where('request_id', '=', requestId).executeTakeFirst();
    return r && toRequest(r);
  }

  async completeCreateAccountRequest(requestId: string, outcome: CreateAccountOutcome): Promise<boolean> {
    const r = await this.db
      .updateTable('org_create_account_requests')
      .set({
        state: outcome.state,
        completed_at: outcome.completedAt,
        account_id: outcome.accountId ?? null,
        failure_reason: outcome.failureReason ?? null,
      })
      .where('request_id', '=', requestId)
      .where('state', '=', 'IN_PROGRESS')
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }
}
