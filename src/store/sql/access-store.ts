// SQL implementation of the access module's store port. Lists are keyset-paged on indexed columns;
// uniqueness and the policy limit are enforced by the database so that they hold across processes.

import { sql, type ExpressionBuilder, type Selectable } from 'kysely';
import type {
  AccessControlAttribute,
  AccessRequestRecord,
  AccessStore,
  AccountAssignmentRecord,
  AttachedPolicy,
  CustomerManagedPolicyReference,
  PermissionSetChange,
  PermissionSetRecord,
  PermissionsBoundary,
  PortalRoleRecord,
  PrincipalSet,
  PrincipalType,
  ProvisioningStatus,
  RequestKind,
  RequestStatus,
  Slice,
} from '../../access/index.js';
import { alreadyExists, failedPrecondition } from '../../shared/errors.js';
import { countRows, isForeignKeyViolation, isUniqueViolation, type Database, type Db, type Dialect } from '../database.js';
import type { AccessRequestsTable, PermissionSetsTable } from '../schema/access.js';
import { precompiledRead } from '../precompiled.js';

/**
 * Every GetRoleCredentials runs this one read: the provisioned role of the permission set named
 * `name` in the account, if the user exists, is enabled, and is assigned it there directly or
 * through any of their groups, however nested. Run as one precompiled statement: the user, their
 * groups, the assignment and the provisioning were four reads through the query builder.
 */
const roleOfUser = precompiledRead<Database, { store: string; user: string; account: string; name: string }, { permission_set_arn: string; session_duration: string; role_name: string }>(
  (db, arg) => ({
    compile: () =>
      sql<{ permission_set_arn: string; session_duration: string; role_name: string }>`
        with recursive up(group_id) as (
          select m.group_id from directory_memberships m where m.identity_store_id = ${arg('store')} and m.user_id = ${arg('user')}
          union
          select e.group_id from directory_group_members e join up on e.member_group_id = up.group_id where e.identity_store_id = ${arg('store')}
        )
        select s.permission_set_arn, s.session_duration, p.role_name
        from directory_users u
        join permission_sets s on s.name = ${arg('name')}
        join permission_set_provisions p on p.permission_set_arn = s.permission_set_arn and p.account_id = ${arg('account')}
        where u.identity_store_id = ${arg('store')} and u.user_id = ${arg('user')} and u.status = 'ENABLED'
          and exists (
            select 1 from account_assignments a
            where a.account_id = ${arg('account')} and a.permission_set_arn = s.permission_set_arn
              and ((a.principal_type = 'USER' and a.principal_id = ${arg('user')}) or (a.principal_type = 'GROUP' and a.principal_id in (select group_id from up)))
          )`.compile(db),
  }),
);
/** Read at every issue of role credentials (ABAC session tags). */
const accessControlAttributes = precompiledRead<Database, Record<string, never>, { attributes: string }>((db) => db.selectFrom('access_control_attributes').select('attributes'));

const toPermissionSet = (r: Selectable<PermissionSetsTable>): PermissionSetRecord => ({
  permissionSetArn: r.permission_set_arn,
  name: r.name,
  description: r.description,
  sessionDuration: r.session_duration,
  relayState: r.relay_state,
  inlinePolicy: r.inline_policy,
  permissionsBoundary: r.permissions_boundary === null ? null : (JSON.parse(r.permissions_boundary) as PermissionSetRecord['permissionsBoundary']),
  version: r.version,
  createdAt: r.created_at,
});

const toRequest = (r: Selectable<AccessRequestsTable>): AccessRequestRecord => ({
  requestId: r.request_id,
  kind: r.kind as RequestKind,
  status: r.status as RequestStatus,
  failureReason: r.failure_reason,
  permissionSetArn: r.permission_set_arn,
  targetId: r.target_id,
  principalType: r.principal_type as PrincipalType | null,
  principalId: r.principal_id,
  createdAt: r.created_at,
});

const toAssignment = (r: { account_id: string; permission_set_arn: string; principal_type: string; principal_id: string }): AccountAssignmentRecord => ({
  accountId: r.account_id,
  permissionSetArn: r.permission_set_arn,
  principalType: r.principal_type as PrincipalType,
  principalId: r.principal_id,
});

export class SqlAccessStore implements AccessStore {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  async insertPermissionSet(ps: PermissionSetRecord): Promise<void> {
    try {
      await this.db
        .insertInto('permission_sets')
        .values({
          permission_set_arn: ps.permissionSetArn,
          name: ps.name,
          description: ps.description,
          session_duration: ps.sessionDuration,
          relay_state: ps.relayState,
          inline_policy: ps.inlinePolicy,
          permissions_boundary: ps.permissionsBoundary === null ? null : JSON.stringify(ps.permissionsBoundary),
          version: ps.version,
          policy_count: 0,
          created_at: ps.createdAt,
        })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw alreadyExists('access.permission_set_exists', `A permission set named ${ps.name} already exists.`, {
          resourceType: 'PERMISSION_SET',
          resourceId: ps.name,
        });
      }
      throw err;
    }
  }

  async findPermissionSet(permissionSetArn: string): Promise<PermissionSetRecord | undefined> {
    const r = await this.db.selectFrom('permission_sets').selectAll().where('permission_set_arn', '=', permissionSetArn).executeTakeFirst();
    return r && toPermissionSet(r);
  }

  async lockPermissionSet(permissionSetArn: string): Promise<PermissionSetRecord | undefined> {
    const q = this.db.selectFrom('permission_sets').selectAll().where('permission_set_arn', '=', permissionSetArn);
    // SQLite has one writer already; PostgreSQL needs the row lock to put jobs in single file.
    const r = await (this.dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
    return r && toPermissionSet(r);
  }

  countPermissionSets(): Promise<number> {
    return countRows(this.db, 'permission_sets');
  }

  async listPermissionSetArns(slice: Slice<[string]>): Promise<string[]> {
    let q = this.db.selectFrom('permission_sets').select('permission_set_arn').orderBy('permission_set_arn').limit(slice.limit);
    if (slice.after) q = q.where('permission_set_arn', '>', slice.after[0]);
    return (await q.execute()).map((r) => r.permission_set_arn);
  }

  async updatePermissionSet(permissionSetArn: string, change: PermissionSetChange): Promise<boolean> {
    const r = await this.db
      .updateTable('permission_sets')
      .set((eb) => ({
        version: eb('version', '+', 1),
        ...(change.description !== undefined ? { description: change.description } : {}),
        ...(change.sessionDuration !== undefined ? { session_duration: change.sessionDuration } : {}),
        ...(change.relayState !== undefined ? { relay_state: change.relayState } : {}),
        ...(change.inlinePolicy !== undefined ? { inline_policy: change.inlinePolicy } : {}),
        ...(change.permissionsBoundary !== undefined
          ? { permissions_boundary: change.permissionsBoundary === null ? null : JSON.stringify(change.permissionsBoundary) }
          : {}),
      }))
      .where('permission_set_arn', '=', permissionSetArn)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async deletePermissionSet(permissionSetArn: string): Promise<void> {
    try {
      await this.db.deleteFrom('permission_sets').where('permission_set_arn', '=', permissionSetArn).execute();
    } catch (err) {
      if (isForeignKeyViolation(err)) throw permissionSetInUse(permissionSetArn);
      throw err;
    }
  }

  async attachPolicy(permissionSetArn: string, policy: AttachedPolicy, now: number, maxPolicies: number): Promise<boolean> {
    try {
      await this.db
        .insertInto('permission_set_policies')
        .values({ permission_set_arn: permissionSetArn, kind: policy.kind, ref: policy.ref, name: policy.name, path: policy.path, attached_at: now })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw alreadyExists('access.policy_already_attached', `The policy ${policy.ref} is already attached to the permission set.`, {
          resourceType: 'PERMISSION_SET',
          resourceId: permissionSetArn,
        });
      }
      throw err;
    }
    // One conditional UPDATE: concurrent attaches serialise on the row, so the limit holds.
    const r = await this.db
      .updateTable('permission_sets')
      .set((eb) => ({ policy_count: eb('policy_count', '+', 1), version: eb('version', '+', 1) }))
      .where('permission_set_arn', '=', permissionSetArn)
      .where('policy_count', '<', maxPolicies)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async detachPolicy(permissionSetArn: string, kind: AttachedPolicy['kind'], ref: string): Promise<boolean> {
    const r = await this.db
      .deleteFrom('permission_set_policies')
      .where('permission_set_arn', '=', permissionSetArn)
      .where('kind', '=', kind)
      .where('ref', '=', ref)
      .executeTakeFirst();
    if (r.numDeletedRows === 0n) return false;
    await this.db
      .updateTable('permission_sets')
      .set((eb) => ({ policy_count: eb('policy_count', '-', 1), version: eb('version', '+', 1) }))
      .where('permission_set_arn', '=', permissionSetArn)
      .execute();
    return true;
  }

  async listPolicies(permissionSetArn: string, kind: AttachedPolicy['kind'], slice: Slice<[string]>): Promise<AttachedPolicy[]> {
    let q = this.db
      .selectFrom('permission_set_policies')
      .select(['ref', 'name', 'path'])
      .where('permission_set_arn', '=', permissionSetArn)
      .where('kind', '=', kind)
      .orderBy('ref')
      .limit(slice.limit);
    if (slice.after) q = q.where('ref', '>', slice.after[0]);
    return (await q.execute()).map((r) => ({ kind, ref: r.ref, name: r.name, path: r.path }));
  }

  async insertAssignment(a: AccountAssignmentRecord, now: number): Promise<void> {
    await this.db
      .insertInto('account_assignments')
      .values({ account_id: a.accountId, permission_set_arn: a.permissionSetArn, principal_type: a.principalType, principal_id: a.principalId, created_at: now })
      .onConflict((oc) => oc.doNothing())
      .execute();
  }

  async deleteAssignment(a: AccountAssignmentRecord): Promise<boolean> {
    await this.db
      .deleteFrom('account_assignments')
      .where('account_id', '=', a.accountId)
      .where('permission_set_arn', '=', a.permissionSetArn)
      .where('principal_type', '=', a.principalType)
      .where('principal_id', '=', a.principalId)
      .execute();
    const left = await this.db
      .selectFrom('account_assignments')
      .select('principal_id')
      .where('account_id', '=', a.accountId)
      .where('permission_set_arn', '=', a.permissionSetArn)
      .limit(1)
      .executeTakeFirst();
    return left === undefined;
  }

  async listAssignments(accountId: string, permissionSetArn: string, slice: Slice<[string, string]>): Promise<AccountAssignmentRecord[]> {
    let q = this.db
      .selectFrom('account_assignments')
      .select(['account_id', 'permission_set_arn', 'principal_type', 'principal_id'])
      .where('account_id', '=', accountId)
      .where('permission_set_arn', '=', permissionSetArn)
      .orderBy('principal_type')
      .orderBy('principal_id')
      .limit(slice.limit);
    const after = slice.after;
    if (after) q = q.where((eb) => eb(eb.refTuple('principal_type', 'principal_id'), '>', eb.tuple(after[0], after[1])));
    return (await q.execute()).map(toAssignment);
  }

  async listAssignmentsOfPrincipals(
    principals: PrincipalSet,
    accountId: string | undefined,
    slice: Slice<[string, string, string, string]>,
  ): Promise<AccountAssignmentRecord[]> {
    if (!principals.some((p) => p.ids.length > 0)) return [];
    let q = this.db
      .selectFrom('account_assignments')
      .select(['account_id', 'permission_set_arn', 'principal_type', 'principal_id'])
      .where((eb) => heldBy(eb, principals))
      .orderBy('account_id')
      .orderBy('permission_set_arn')
      .orderBy('principal_type')
      .orderBy('principal_id')
      .limit(slice.limit);
    if (accountId !== undefined) q = q.where('account_id', '=', accountId);
    const after = slice.after;
    if (after) {
      q = q.where((eb) =>
        eb(eb.refTuple('account_id', 'permission_set_arn', 'principal_type', 'principal_id'), '>', eb.tuple(after[0], after[1], after[2], after[3])),
      );
    }
    return (await q.execute()).map(toAssignment);
  }

  async listAccountIdsOfPrincipals(principals: PrincipalSet, slice: Slice<[string]>): Promise<string[]> {
    if (!principals.some((p) => p.ids.length > 0)) return [];
    let q = this.db
      .selectFrom('account_assignments')
      .select('account_id')
      .distinct()
      .where((eb) => heldBy(eb, principals))
      .orderBy('account_id')
      .limit(slice.limit);
    if (slice.after) q = q.where('account_id', '>', slice.after[0]);
    return (await q.execute()).map((r) => r.account_id);
  }

  async listPermissionSetNamesOfPrincipals(principals: PrincipalSet, accountId: string, slice: Slice<[string]>): Promise<string[]> {
    if (!principals.some((p) => p.ids.length > 0)) return [];
    let q = this.db
      .selectFrom('permission_sets as s')
      .select('s.name')
      .where((eb) => eb.exists(assignmentOf(eb, principals, accountId)))
      .orderBy('s.name')
      .limit(slice.limit);
    if (slice.after) q = q.where('s.name', '>', slice.after[0]);
    return (await q.execute()).map((r) => r.name);
  }

  async customerPolicyInUse(accountId: string, reference: CustomerManagedPolicyReference): Promise<boolean> {
    const provisioned = this.db.selectFrom('permission_set_provisions').select('permission_set_arn').where('account_id', '=', accountId);
    const attached = await this.db
      .selectFrom('permission_set_policies')
      .select('permission_set_arn')
      .where('kind', '=', 'CUSTOMER')
      .where('ref', '=', `${reference.path}${reference.name}`)
      .where('permission_set_arn', 'in', provisioned)
      .limit(1)
      .executeTakeFirst();
    if (attached) return true;
    const boundaries = await this.db
      .selectFrom('permission_sets')
      .select('permissions_boundary')
      .where('permissions_boundary', 'is not', null)
      .where('permission_set_arn', 'in', provisioned)
      .execute();
    return boundaries.some((b) => {
      const boundary = JSON.parse(b.permissions_boundary!) as PermissionsBoundary;
      return 'customerManagedPolicy' in boundary && boundary.customerManagedPolicy.name === reference.name && boundary.customerManagedPolicy.path === reference.path;
    });
  }

  async findRoleOfUser(identityStoreId: string, userId: string, accountId: string, permissionSetName: string): Promise<PortalRoleRecord | undefined> {
    const [r] = (await roleOfUser(this.db, { store: identityStoreId, user: userId, account: accountId, name: permissionSetName })).rows;
    return r && { permissionSetArn: r.permission_set_arn, roleName: r.role_name, sessionDuration: r.session_duration };
  }

  async findAccessControlAttributes(): Promise<AccessControlAttribute[] | undefined> {
    const [r] = (await accessControlAttributes(this.db, {})).rows;
    return r && (JSON.parse(r.attributes) as AccessControlAttribute[]);
  }

  async ensureProvisioned(accountId: string, permissionSetArn: string, roleName: string, version: number, now: number): Promise<void> {
    await this.insertProvision(accountId, permissionSetArn, roleName, version, now).onConflict((oc) => oc.doNothing()).execute();
  }

  async provision(accountId: string, permissionSetArn: string, roleName: string, version: number, now: number): Promise<void> {
    await this.insertProvision(accountId, permissionSetArn, roleName, version, now)
      .onConflict((oc) => oc.columns(['permission_set_arn', 'account_id']).doUpdateSet({ provisioned_version: version, provisioned_at: now }))
      .execute();
  }

  private insertProvision(accountId: string, permissionSetArn: string, roleName: string, version: number, now: number) {
    return this.db.insertInto('permission_set_provisions').values({
      permission_set_arn: permissionSetArn,
      account_id: accountId,
      role_name: roleName,
      provisioned_version: version,
      provisioned_at: now,
    });
  }

  async reprovisionAll(permissionSetArn: string, version: number, now: number): Promise<void> {
    await this.db
      .updateTable('permission_set_provisions')
      .set({ provisioned_version: version, provisioned_at: now })
      .where('permission_set_arn', '=', permissionSetArn)
      .execute();
  }

  async deprovision(accountId: string, permissionSetArn: string): Promise<void> {
    await this.db
      .deleteFrom('permission_set_provisions')
      .where('permission_set_arn', '=', permissionSetArn)
      .where('account_id', '=', accountId)
      .execute();
  }

  async listProvisionedAccounts(permissionSetArn: string, status: ProvisioningStatus | undefined, slice: Slice<[string]>): Promise<string[]> {
    let q = this.provisionsWithStatus(status)
      .select('p.account_id')
      .where('p.permission_set_arn', '=', permissionSetArn)
      .orderBy('p.account_id')
      .limit(slice.limit);
    if (slice.after) q = q.where('p.account_id', '>', slice.after[0]);
    return (await q.execute()).map((r) => r.account_id);
  }

  async listProvisionedPermissionSets(accountId: string, status: ProvisioningStatus | undefined, slice: Slice<[string]>): Promise<string[]> {
    let q = this.provisionsWithStatus(status)
      .select('p.permission_set_arn')
      .where('p.account_id', '=', accountId)
      .orderBy('p.permission_set_arn')
      .limit(slice.limit);
    if (slice.after) q = q.where('p.permission_set_arn', '>', slice.after[0]);
    return (await q.execute()).map((r) => r.permission_set_arn);
  }

  /** Provisions joined to their permission set, kept when their version matches `status`. */
  private provisionsWithStatus(status: ProvisioningStatus | undefined) {
    const q = this.db
      .selectFrom('permission_set_provisions as p')
      .innerJoin('permission_sets as s', 's.permission_set_arn', 'p.permission_set_arn');
    if (status === undefined) return q;
    return q.whereRef('p.provisioned_version', status === 'LATEST_PERMISSION_SET_PROVISIONED' ? '=' : '<>', 's.version');
  }

  async insertRequest(r: AccessRequestRecord): Promise<void> {
    await this.db
      .insertInto('access_requests')
      .values({
        request_id: r.requestId,
        kind: r.kind,
        status: r.status,
        failure_reason: r.failureReason,
        permission_set_arn: r.permissionSetArn,
        target_id: r.targetId,
        principal_type: r.principalType,
        principal_id: r.principalId,
        created_at: r.createdAt,
        updated_at: r.createdAt,
      })
      .execute();
  }

  async findRequest(kind: RequestKind, requestId: string): Promise<AccessRequestRecord | undefined> {
    const r = await this.db.selectFrom('access_requests').selectAll().where('request_id', '=', requestId).where('kind', '=', kind).executeTakeFirst();
    return r && toRequest(r);
  }

  async finishRequest(requestId: string, status: Exclude<RequestStatus, 'IN_PROGRESS'>, failureReason: string | null, now: number): Promise<void> {
    await this.db
      .updateTable('access_requests')
      .set({ status, failure_reason: failureReason, updated_at: now })
      .where('request_id', '=', requestId)
      .where('status', '=', 'IN_PROGRESS')
      .execute();
  }

  async listRequests(kind: RequestKind, status: RequestStatus | undefined, slice: Slice<[number, string]>): Promise<AccessRequestRecord[]> {
    let q = this.db
      .selectFrom('access_requests')
      .selectAll()
      .where('kind', '=', kind)
      .orderBy('created_at')
      .orderBy('request_id')
      .limit(slice.limit);
    if (status !== undefined) q = q.where('status', '=', status);
    const after = slice.after;
    if (after) q = q.where((eb) => eb(eb.refTuple('created_at', 'request_id'), '>', eb.tuple(after[0], after[1])));
    return (await q.execute()).map(toRequest);
  }

  async listEarlierPendingAssignmentRequests(r: AccessRequestRecord): Promise<AccessRequestRecord[]> {
    if (r.targetId === null || r.principalType === null || r.principalId === null) return [];
    const rows = await this.db
      .selectFrom('access_requests')
      .selectAll()
      .where('kind', 'in', ['CREATE_ASSIGNMENT', 'DELETE_ASSIGNMENT'])
      .where('status', '=', 'IN_PROGRESS')
      .where((eb) => eb(eb.refTuple('created_at', 'request_id'), '<', eb.tuple(r.createdAt, r.requestId)))
      .where('permission_set_arn', '=', r.permissionSetArn)
      .where('target_id', '=', r.targetId)
      .where('principal_type', '=', r.principalType)
      .where('principal_id', '=', r.principalId)
      .orderBy('created_at')
      .orderBy('request_id')
      .limit(100)
      .execute();
    return rows.map(toRequest);
  }

  async insertAccessControlAttributes(attributes: AccessControlAttribute[], now: number): Promise<void> {
    try {
      await this.db
        .insertInto('access_control_attributes')
        .values({ singleton: 1, attributes: JSON.stringify(attributes), created_at: now, updated_at: now })
        .execute();
    } catch (err) {
      if (isUniqueViolation(err)) {
        throw alreadyExists('access.attribute_configuration_exists', 'The instance already has an access control attribute configuration.', {
          resourceType: 'INSTANCE_ACCESS_CONTROL_ATTRIBUTE_CONFIGURATION',
        });
      }
      throw err;
    }
  }

  async updateAccessControlAttributes(attributes: AccessControlAttribute[], now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('access_control_attributes')
      .set({ attributes: JSON.stringify(attributes), updated_at: now })
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async deleteAccessControlAttributes(): Promise<boolean> {
    const r = await this.db.deleteFrom('access_control_attributes').executeTakeFirst();
    return r.numDeletedRows > 0n;
  }
}

/** Rows assigned to any of the principals (which must name at least one id). */
function heldBy(eb: ExpressionBuilder<Database, 'account_assignments'>, principals: PrincipalSet) {
  const wanted = principals.filter((p) => p.ids.length > 0);
  return eb.or(wanted.map((p) => eb.and([eb('account_assignments.principal_type', '=', p.type), eb('account_assignments.principal_id', 'in', p.ids)])));
}

/** An assignment of the outer permission set `s` to any of the principals in the account. */
function assignmentOf(eb: ExpressionBuilder<Database & { s: Database['permission_sets'] }, 's'>, principals: PrincipalSet, accountId: string) {
  return eb
    .selectFrom('account_assignments')
    .select('account_assignments.principal_id')
    .whereRef('account_assignments.permission_set_arn', '=', 's.permission_set_arn')
    .where('account_assignments.account_id', '=', accountId)
    .where((inner) => heldBy(inner, principals));
}

function permissionSetInUse(permissionSetArn: string) {
  return failedPrecondition('access.permission_set_in_use', `The permission set ${permissionSetArn} has account assignments; delete them first.`, {
    resourceType: 'PERMISSION_SET',
    resourceId: permissionSetArn,
  });
}
