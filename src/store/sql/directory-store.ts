// SQL implementation of the directory module's store port: users, groups, memberships, external ids.
// Conflicts are detected by unique and foreign keys, so two writers can never both succeed.

import { createHash } from 'node:crypto';
import { sql, type Selectable } from 'kysely';
import {
  directoryErrors,
  primaryEmail,
  uniqueKeyOf,
  type DirectoryStore,
  type ExternalId,
  type GroupMember,
  type GroupRecord,
  type KeysetQuery,
  type MembershipRecord,
  type PrincipalType,
  type UserProfile,
  type UserRecord,
  type UserStatus,
  type UserSummary,
} from '../../directory/index.js';
import { isForeignKeyViolation, isUniqueViolation, type Db, type Dialect } from '../database.js';
import type { DirectoryGroupsTable, DirectoryMembershipsTable, DirectoryUsersTable } from '../schema/directory.js';

/**
 * Lookup keys are hashes of the case-folded value: fixed-size index entries whatever the value's
 * length, and the place where keyed blind indexes go once personal data is encrypted.
 */
const lookupKey = (value: string) => createHash('sha256').update(uniqueKeyOf(value)).digest('base64url');

function userColumns(u: UserRecord) {
  const { userName, ...profile } = u.profile;
  const email = primaryEmail(u.profile);
  return {
    user_name: userName,
    user_name_key: lookupKey(userName),
    email_key: email === undefined ? null : lookupKey(email),
    profile: JSON.stringify(profile),
    extensions: u.extensions ? JSON.stringify(u.extensions) : null,
    status: u.status,
    version: u.version,
    updated_at: u.updated.at,
    updated_by: u.updated.by,
  };
}

const toUser = (r: Selectable<DirectoryUsersTable>, externalIds: ExternalId[]): UserRecord => ({
  identityStoreId: r.identity_store_id,
  userId: r.user_id,
  profile: { userName: r.user_name, ...(JSON.parse(r.profile) as Omit<UserProfile, 'userName'>) },
  ...(r.extensions === null ? {} : { extensions: JSON.parse(r.extensions) as UserRecord['extensions'] }),
  status: r.status as UserRecord['status'],
  externalIds,
  created: { at: r.created_at, by: r.created_by },
  updated: { at: r.updated_at, by: r.updated_by },
  version: r.version,
});

function groupColumns(g: GroupRecord) {
  return {
    display_name: g.profile.displayName,
    display_name_key: lookupKey(g.profile.displayName),
    description: g.profile.description ?? null,
    version: g.version,
    updated_at: g.updated.at,
    updated_by: g.updated.by,
  };
}

const toGroup = (r: Selectable<DirectoryGroupsTable>, externalIds: ExternalId[]): GroupRecord => ({
  identityStoreId: r.identity_store_id,
  groupId: r.group_id,
  profile: { displayName: r.display_name, ...(r.description === null ? {} : { description: r.description }) },
  externalIds,
  created: { at: r.created_at, by: r.created_by },
  updated: { at: r.updated_at, by: r.updated_by },
  version: r.version,
});

const toMembership = (r: Selectable<DirectoryMembershipsTable>): MembershipRecord => ({
  identityStoreId: r.identity_store_id,
  membershipId: r.membership_id,
  groupId: r.group_id,
  userId: r.user_id,
  created: { at: r.created_at, by: r.created_by },
});

/** Rows per multi-row INSERT and ids per IN list: well under both databases' bound-parameter limits. */
const CHUNK = 500;
const chunksOf = <T>(items: readonly T[]): T[][] => Array.from({ length: Math.ceil(items.length / CHUNK) }, (_, i) => items.slice(i * CHUNK, (i + 1) * CHUNK));

const membershipRow = (m: MembershipRecord) => ({
  identity_store_id: m.identityStoreId,
  membership_id: m.membershipId,
  group_id: m.groupId,
  user_id: m.userId,
  created_at: m.created.at,
  created_by: m.created.by,
});

const toMember = (r: { user_id: string; membership_id: string; display_name: string | null }): GroupMember => ({
  userId: r.user_id,
  membershipId: r.membership_id,
  ...(r.display_name === null ? {} : { displayName: r.display_name }),
});

/** Run a write; a unique violation becomes the given domain error. */
async function unique<T>(write: Promise<T>, conflict: () => Error): Promise<T> {
  try {
    return await write;
  } catch (err) {
    throw isUniqueViolation(err) ? conflict() : err;
  }
}

export class SqlDirectoryStore implements DirectoryStore {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  private async externalIdsOf(identityStoreId: string, ids: string[]): Promise<Map<string, ExternalId[]>> {
    const byId = new Map<string, ExternalId[]>();
    if (ids.length === 0) return byId;
    const rows = await this.db
      .selectFrom('directory_external_ids')
      .select(['resource_id', 'issuer', 'external_id'])
      .where('identity_store_id', '=', identityStoreId)
      .where('resource_id', 'in', ids)
      .orderBy('issuer')
      .orderBy('external_id')
      .execute();
    for (const r of rows) {
      const list = byId.get(r.resource_id) ?? [];
      list.push({ issuer: r.issuer, id: r.external_id });
      byId.set(r.resource_id, list);
    }
    return byId;
  }

  private async insertExternalIds(identityStoreId: string, type: PrincipalType, id: string, externalIds: ExternalId[]): Promise<void> {
    if (externalIds.length === 0) return;
    const rows = externalIds.map((e) => ({ identity_store_id: identityStoreId, resource_type: type, issuer: e.issuer, external_id: e.id, resource_id: id }));
    await unique(this.db.insertInto('directory_external_ids').values(rows).execute(), directoryErrors.externalIdTaken);
  }

  private async deleteExternalIds(identityStoreId: string, id: string): Promise<void> {
    await this.db.deleteFrom('directory_external_ids').where('identity_store_id', '=', identityStoreId).where('resource_id', '=', id).execute();
  }

  // ---- users ----

  async insertUser(u: UserRecord): Promise<void> {
    const row = { identity_store_id: u.identityStoreId, user_id: u.userId, created_at: u.created.at, created_by: u.created.by, ...userColumns(u) };
    await unique(this.db.insertInto('directory_users').values(row).execute(), directoryErrors.userNameTaken);
    await this.insertExternalIds(u.identityStoreId, 'USER', u.userId, u.externalIds);
  }

  async findUser(identityStoreId: string, userId: string): Promise<UserRecord | undefined> {
    const row = await this.db
      .selectFrom('directory_users')
      .selectAll()
      .where('identity_store_id', '=', identityStoreId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    if (!row) return undefined;
    return toUser(row, (await this.externalIdsOf(identityStoreId, [userId])).get(userId) ?? []);
  }

  async updateUser(u: UserRecord): Promise<boolean> {
    const result = await unique(
      this.db
        .updateTable('directory_users')
        .set(userColumns(u))
        .where('identity_store_id', '=', u.identityStoreId)
        .where('user_id', '=', u.userId)
        .where('version', '=', u.version - 1)
        .executeTakeFirst(),
      directoryErrors.userNameTaken,
    );
    return result.numUpdatedRows > 0n;
  }

  async deleteUser(identityStoreId: string, userId: string): Promise<boolean> {
    await this.deleteExternalIds(identityStoreId, userId);
    // Memberships go with the user (ON DELETE CASCADE).
    const result = await this.db
      .deleteFrom('directory_users')
      .where('identity_store_id', '=', identityStoreId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async listUsers(identityStoreId: string, q: KeysetQuery & { userName?: string }): Promise<UserRecord[]> {
    let query = this.db.selectFrom('directory_users').selectAll().where('identity_store_id', '=', identityStoreId);
    if (q.userName !== undefined) query = query.where('user_name_key', '=', lookupKey(q.userName));
    if (q.after !== undefined) query = query.where('user_id', '>', q.after);
    const rows = await query.orderBy('user_id').limit(q.limit).execute();
    const externalIds = await this.externalIdsOf(identityStoreId, rows.map((r) => r.user_id));
    return rows.map((r) => toUser(r, externalIds.get(r.user_id) ?? []));
  }

  async listUsersAt(identityStoreId: string, q: { offset: number; limit: number }): Promise<UserRecord[]> {
    const rows = await this.db
      .selectFrom('directory_users')
      .selectAll()
      .where('identity_store_id', '=', identityStoreId)
      .orderBy('user_id')
      .limit(q.limit)
      .offset(q.offset)
      .execute();
    const externalIds = await this.externalIdsOf(identityStoreId, rows.map((r) => r.user_id));
    return rows.map((r) => toUser(r, externalIds.get(r.user_id) ?? []));
  }

  async countUsers(identityStoreId: string): Promise<number> {
    const row = await this.db
      .selectFrom('directory_users')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('identity_store_id', '=', identityStoreId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async replaceExternalIds(identityStoreId: string, type: PrincipalType, resourceId: string, externalIds: ExternalId[]): Promise<void> {
    await this.deleteExternalIds(identityStoreId, resourceId);
    await this.insertExternalIds(identityStoreId, type, resourceId, externalIds);
  }

  async findUserIdByUserName(identityStoreId: string, userName: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('directory_users')
      .select('user_id')
      .where('identity_store_id', '=', identityStoreId)
      .where('user_name_key', '=', lookupKey(userName))
      .executeTakeFirst();
    return row?.user_id;
  }

  async findUserSummary(identityStoreId: string, by: { userId: string } | { userName: string }): Promise<UserSummary | undefined> {
    const query = this.db.selectFrom('directory_users').select(['user_id', 'user_name', 'status']).where('identity_store_id', '=', identityStoreId);
    const row = await ('userId' in by ? query.where('user_id', '=', by.userId) : query.where('user_name_key', '=', lookupKey(by.userName))).executeTakeFirst();
    return row && { identityStoreId, userId: row.user_id, userName: row.user_name, status: row.status as UserStatus };
  }

  async findUserIdByEmail(identityStoreId: string, email: string): Promise<string | undefined> {
    // Emails are not unique: the oldest id wins, so that the answer is stable.
    const row = await this.db
      .selectFrom('directory_users')
      .select('user_id')
      .where('identity_store_id', '=', identityStoreId)
      .where('email_key', '=', lookupKey(email))
      .orderBy('created_at')
      .orderBy('user_id')
      .limit(1)
      .executeTakeFirst();
    return row?.user_id;
  }

  // ---- groups ----

  async insertGroup(g: GroupRecord): Promise<void> {
    const row = { identity_store_id: g.identityStoreId, group_id: g.groupId, created_at: g.created.at, created_by: g.created.by, ...groupColumns(g) };
    await unique(this.db.insertInto('directory_groups').values(row).execute(), directoryErrors.groupNameTaken);
    await this.insertExternalIds(g.identityStoreId, 'GROUP', g.groupId, g.externalIds);
  }

  async findGroup(identityStoreId: string, groupId: string): Promise<GroupRecord | undefined> {
    const row = await this.db
      .selectFrom('directory_groups')
      .selectAll()
      .where('identity_store_id', '=', identityStoreId)
      .where('group_id', '=', groupId)
      .executeTakeFirst();
    if (!row) return undefined;
    return toGroup(row, (await this.externalIdsOf(identityStoreId, [groupId])).get(groupId) ?? []);
  }

  async lockGroup(identityStoreId: string, groupId: string): Promise<GroupRecord | undefined> {
    const q = this.db.selectFrom('directory_groups').selectAll().where('identity_store_id', '=', identityStoreId).where('group_id', '=', groupId);
    const row = await (this.dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
    if (!row) return undefined;
    return toGroup(row, (await this.externalIdsOf(identityStoreId, [groupId])).get(groupId) ?? []);
  }

  async updateGroup(g: GroupRecord): Promise<boolean> {
    const result = await unique(
      this.db
        .updateTable('directory_groups')
        .set(groupColumns(g))
        .where('identity_store_id', '=', g.identityStoreId)
        .where('group_id', '=', g.groupId)
        .where('version', '=', g.version - 1)
        .executeTakeFirst(),
      directoryErrors.groupNameTaken,
    );
    return result.numUpdatedRows > 0n;
  }

  async deleteGroup(identityStoreId: string, groupId: string): Promise<boolean> {
    await this.deleteExternalIds(identityStoreId, groupId);
    const result = await this.db
      .deleteFrom('directory_groups')
      .where('identity_store_id', '=', identityStoreId)
      .where('group_id', '=', groupId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async listGroups(identityStoreId: string, q: KeysetQuery & { displayName?: string }): Promise<GroupRecord[]> {
    let query = this.db.selectFrom('directory_groups').selectAll().where('identity_store_id', '=', identityStoreId);
    if (q.displayName !== undefined) query = query.where('display_name_key', '=', lookupKey(q.displayName));
    if (q.after !== undefined) query = query.where('group_id', '>', q.after);
    const rows = await query.orderBy('group_id').limit(q.limit).execute();
    const externalIds = await this.externalIdsOf(identityStoreId, rows.map((r) => r.group_id));
    return rows.map((r) => toGroup(r, externalIds.get(r.group_id) ?? []));
  }

  async findGroupIdByDisplayName(identityStoreId: string, displayName: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('directory_groups')
      .select('group_id')
      .where('identity_store_id', '=', identityStoreId)
      .where('display_name_key', '=', lookupKey(displayName))
      .executeTakeFirst();
    return row?.group_id;
  }

  // ---- either principal ----

  async findIdByExternalId(identityStoreId: string, type: PrincipalType, externalId: ExternalId): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('directory_external_ids')
      .select('resource_id')
      .where('identity_store_id', '=', identityStoreId)
      .where('resource_type', '=', type)
      .where('issuer', '=', externalId.issuer)
      .where('external_id', '=', externalId.id)
      .executeTakeFirst();
    return row?.resource_id;
  }

  async principalExists(identityStoreId: string, type: PrincipalType, id: string): Promise<boolean> {
    const row =
      type === 'USER'
        ? await this.db.selectFrom('directory_users').select('user_id').where('identity_store_id', '=', identityStoreId).where('user_id', '=', id).executeTakeFirst()
        : await this.db.selectFrom('directory_groups').select('group_id').where('identity_store_id', '=', identityStoreId).where('group_id', '=', id).executeTakeFirst();
    return row !== undefined;
  }

  // ---- memberships ----

  async insertMembership(m: MembershipRecord): Promise<void> {
    await this.insertMemberships([m]);
  }

  async insertMemberships(memberships: readonly MembershipRecord[]): Promise<void> {
    for (const chunk of chunksOf(memberships)) {
      try {
        // One statement on the happy path: the foreign keys check that the group and users exist.
        await this.db.insertInto('directory_memberships').values(chunk.map(membershipRow)).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw directoryErrors.membershipExists();
        if (isForeignKeyViolation(err)) throw await this.missingParent(err, chunk);
        throw err;
      }
    }
  }

  /** Which parent a failed insert of `chunk` (memberships of one group) missed. */
  private async missingParent(err: unknown, chunk: readonly MembershipRecord[]): Promise<Error> {
    const m = chunk[0]!;
    const constraint = (err as { constraint?: unknown }).constraint;
    if (constraint === 'directory_memberships_group_fk') return directoryErrors.groupNotFound(m.groupId);
    const missingUser = async () => {
      if (chunk.length === 1) return m.userId;
      const found = new Set(await this.findExistingUserIds(m.identityStoreId, chunk.map((c) => c.userId)));
      return chunk.find((c) => !found.has(c.userId))?.userId ?? m.userId;
    };
    // PostgreSQL's transaction is aborted by the failed statement, so which user is gone cannot be read.
    if (constraint === 'directory_memberships_user_fk') return chunk.length === 1 ? directoryErrors.userNotFound(m.userId) : directoryErrors.someUserNotFound();
    // SQLite does not name the constraint, but its transaction survives a failed statement: look.
    return (await this.principalExists(m.identityStoreId, 'GROUP', m.groupId))
      ? directoryErrors.userNotFound(await missingUser())
      : directoryErrors.groupNotFound(m.groupId);
  }

  async findMembership(identityStoreId: string, membershipId: string): Promise<MembershipRecord | undefined> {
    const row = await this.db
      .selectFrom('directory_memberships')
      .selectAll()
      .where('identity_store_id', '=', identityStoreId)
      .where('membership_id', '=', membershipId)
      .executeTakeFirst();
    return row && toMembership(row);
  }

  async findMembershipId(identityStoreId: string, groupId: string, userId: string): Promise<string | undefined> {
    const row = await this.db
      .selectFrom('directory_memberships')
      .select('membership_id')
      .where('identity_store_id', '=', identityStoreId)
      .where('group_id', '=', groupId)
      .where('user_id', '=', userId)
      .executeTakeFirst();
    return row?.membership_id;
  }

  async deleteMembership(identityStoreId: string, membershipId: string): Promise<boolean> {
    const result = await this.db
      .deleteFrom('directory_memberships')
      .where('identity_store_id', '=', identityStoreId)
      .where('membership_id', '=', membershipId)
      .executeTakeFirst();
    return result.numDeletedRows > 0n;
  }

  async listMembershipsOfGroup(identityStoreId: string, groupId: string, q: KeysetQuery): Promise<MembershipRecord[]> {
    let query = this.db.selectFrom('directory_memberships').selectAll().where('identity_store_id', '=', identityStoreId).where('group_id', '=', groupId);
    if (q.after !== undefined) query = query.where('user_id', '>', q.after);
    return (await query.orderBy('user_id').limit(q.limit).execute()).map(toMembership);
  }

  async listMembershipsOfUser(identityStoreId: string, userId: string, q: KeysetQuery): Promise<MembershipRecord[]> {
    let query = this.db.selectFrom('directory_memberships').selectAll().where('identity_store_id', '=', identityStoreId).where('user_id', '=', userId);
    if (q.after !== undefined) query = query.where('group_id', '>', q.after);
    return (await query.orderBy('group_id').limit(q.limit).execute()).map(toMembership);
  }

  async groupsContaining(identityStoreId: string, userId: string, groupIds: string[]): Promise<string[]> {
    if (groupIds.length === 0) return [];
    const rows = await this.db
      .selectFrom('directory_memberships')
      .select('group_id')
      .where('identity_store_id', '=', identityStoreId)
      .where('user_id', '=', userId)
      .where('group_id', 'in', groupIds)
      .execute();
    return rows.map((r) => r.group_id);
  }

  async listMembersOfGroup(identityStoreId: string, groupId: string, q: KeysetQuery): Promise<GroupMember[]> {
    let query = this.membersQuery(identityStoreId, groupId);
    if (q.after !== undefined) query = query.where('m.user_id', '>', q.after);
    return (await query.orderBy('m.user_id').limit(q.limit).execute()).map(toMember);
  }

  async findMembersOfGroup(identityStoreId: string, groupId: string, userIds: readonly string[]): Promise<GroupMember[]> {
    const found: GroupMember[] = [];
    for (const chunk of chunksOf([...new Set(userIds)])) {
      found.push(...(await this.membersQuery(identityStoreId, groupId).where('m.user_id', 'in', chunk).execute()).map(toMember));
    }
    return found;
  }

  /** Memberships joined to their users for the display name, read from the profile's JSON by the database. */
  private membersQuery(identityStoreId: string, groupId: string) {
    const displayName =
      this.dialect === 'postgres' ? sql<string | null>`(u.profile::json ->> 'displayName')` : sql<string | null>`json_extract(u.profile, '$.displayName')`;
    return this.db
      .selectFrom('directory_memberships as m')
      .innerJoin('directory_users as u', (j) => j.onRef('u.identity_store_id', '=', 'm.identity_store_id').onRef('u.user_id', '=', 'm.user_id'))
      .select(['m.user_id', 'm.membership_id', displayName.as('display_name')])
      .where('m.identity_store_id', '=', identityStoreId)
      .where('m.group_id', '=', groupId);
  }

  async findExistingUserIds(identityStoreId: string, userIds: readonly string[]): Promise<string[]> {
    const found: string[] = [];
    for (const chunk of chunksOf([...new Set(userIds)])) {
      const rows = await this.db.selectFrom('directory_users').select('user_id').where('identity_store_id', '=', identityStoreId).where('user_id', 'in', chunk).execute();
      found.push(...rows.map((r) => r.user_id));
    }
    return found;
  }

  async deleteMemberships(identityStoreId: string, membershipIds: readonly string[]): Promise<number> {
    let deleted = 0;
    for (const chunk of chunksOf(membershipIds)) {
      const result = await this.db.deleteFrom('directory_memberships').where('identity_store_id', '=', identityStoreId).where('membership_id', 'in', chunk).executeTakeFirst();
      deleted += Number(result.numDeletedRows);
    }
    return deleted;
  }

  async groupIdsOfUser(identityStoreId: string, userId: string): Promise<string[]> {
    const rows = await this.db
      .selectFrom('directory_memberships')
      .select('group_id')
      .where('identity_store_id', '=', identityStoreId)
      .where('user_id', '=', userId)
      .orderBy('group_id')
      .execute();
    return rows.map((r) => r.group_id);
  }
}
