// SQL implementation of the directory module's store port: users, groups, memberships (of users, and
// of groups in groups), external ids. Conflicts are detected by unique and foreign keys; nesting is walked with WITH RECURSIVE.

import { createHash } from 'node:crypto';
import { sql, type Insertable, type Selectable } from 'kysely';
import {
  directoryErrors,
  primaryEmail,
  uniqueKeyOf,
  type DirectoryStore,
  type ExternalId,
  type GroupMember,
  type GroupNestingRecord,
  type GroupRecord,
  type KeysetQuery,
  type MembershipRecord,
  type PrincipalType,
  type UserProfile,
  type UserRecord,
  type UserStatus,
  type UserSummary,
} from '../../directory/index.js';
import { countRows, isForeignKeyViolation, isUniqueViolation, type Database, type Db, type Dialect } from '../database.js';
import { precompiled } from '../precompiled.js';
import type { DirectoryExternalIdsTable, DirectoryGroupsTable, DirectoryMembershipsTable, DirectoryUsersTable } from '../schema/directory.js';

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
  type: 'USER',
  memberId: r.user_id,
  membershipId: r.membership_id,
  ...(r.display_name === null ? {} : { displayName: r.display_name }),
});

const toGroupMember = (r: { member_group_id: string; membership_id: string; display_name: string }): GroupMember => ({
  type: 'GROUP',
  memberId: r.member_group_id,
  membershipId: r.membership_id,
  displayName: r.display_name,
});

const nestingRow = (n: GroupNestingRecord) => ({
  identity_store_id: n.identityStoreId,
  membership_id: n.membershipId,
  group_id: n.groupId,
  member_group_id: n.memberGroupId,
  created_at: n.created.at,
  created_by: n.created.by,
});

/**
 * PostgreSQL advisory-lock class of "groups are being nested in this identity store" (the key is a
 * hash of the identity store id): one number no other lock in Atrium uses.
 */
const NESTING_LOCK_CLASS = 0x4e47; // "NG"

/** An IN list of bound parameters. */
const inList = (ids: readonly string[]) => sql.join(ids.map((id) => sql`${id}`));

/** Run a write; a unique violation becomes the given domain error. */
type UserRow = Insertable<DirectoryUsersTable>;
const USER_COLUMNS: readonly (keyof UserRow)[] = [
  'identity_store_id',
  'user_id',
  'created_at',
  'created_by',
  'user_name',
  'user_name_key',
  'email_key',
  'profile',
  'extensions',
  'status',
  'version',
  'updated_at',
  'updated_by',
];
// Provisioning creates users by the hundred thousand: these two inserts are precompiled.
const insertUserRow = precompiled<Database, UserRow, never>((db, arg) =>
  db.insertInto('directory_users').values(Object.fromEntries(USER_COLUMNS.map((c) => [c, arg(c)])) as unknown as UserRow),
);
const directGroupsOf = precompiled<Database, { store: string; user: string }, { group_id: string }>((db, arg) =>
  db.selectFrom('directory_memberships').select('group_id').where('identity_store_id', '=', arg('store')).where('user_id', '=', arg('user')),
);
/** A user's id, name and status, by id or by user name: every sign-in and every portal call reads one. */
const userSummaryById = precompiled<Database, { store: string; id: string }, { user_id: string; user_name: string; status: string }>((db, arg) =>
  db.selectFrom('directory_users').select(['user_id', 'user_name', 'status']).where('identity_store_id', '=', arg('store')).where('user_id', '=', arg('id')),
);
const userSummaryByName = precompiled<Database, { store: string; key: string }, { user_id: string; user_name: string; status: string }>((db, arg) =>
  db.selectFrom('directory_users').select(['user_id', 'user_name', 'status']).where('identity_store_id', '=', arg('store')).where('user_name_key', '=', arg('key')),
);
type ExternalIdRow = Insertable<DirectoryExternalIdsTable>;
const insertExternalIdRow = precompiled<Database, ExternalIdRow, never>((db, arg) =>
  db.insertInto('directory_external_ids').values({
    identity_store_id: arg('identity_store_id'),
    resource_type: arg('resource_type'),
    issuer: arg('issuer'),
    external_id: arg('external_id'),
    resource_id: arg('resource_id'),
  }),
);

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
    for (const e of externalIds) {
      const row = { identity_store_id: identityStoreId, resource_type: type, issuer: e.issuer, external_id: e.id, resource_id: id };
      await unique(insertExternalIdRow(this.db, row), directoryErrors.externalIdTaken);
    }
  }

  private async deleteExternalIds(identityStoreId: string, id: string): Promise<void> {
    await this.db.deleteFrom('directory_external_ids').where('identity_store_id', '=', identityStoreId).where('resource_id', '=', id).execute();
  }

  // ---- users ----

  async insertUser(u: UserRecord): Promise<void> {
    const row = { identity_store_id: u.identityStoreId, user_id: u.userId, created_at: u.created.at, created_by: u.created.by, ...userColumns(u) };
    await unique(insertUserRow(this.db, row), directoryErrors.userNameTaken);
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

  countGroups(identityStoreId: string): Promise<number> {
    return countRows(this.db, 'directory_groups', identityStoreId);
  }

  countUsers(identityStoreId: string): Promise<number> {
    return countRows(this.db, 'directory_users', identityStoreId);
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
    const [row] = (
      'userId' in by
        ? await userSummaryById(this.db, { store: identityStoreId, id: by.userId })
        : await userSummaryByName(this.db, { store: identityStoreId, key: lookupKey(by.userName) })
    ).rows;
    return row && { identityStoreId, userId: row.user_id, userName: row.user_name, status: row.status as UserStatus };
  }

  async findUserIdsByEmail(identityStoreId: string, email: string, limit: number): Promise<string[]> {
    // Oldest first, so that an answer that takes the first is stable.
    const rows = await this.db
      .selectFrom('directory_users')
      .select('user_id')
      .where('identity_store_id', '=', identityStoreId)
      .where('email_key', '=', lookupKey(email))
      .orderBy('created_at')
      .orderBy('user_id')
      .limit(limit)
      .execute();
    return rows.map((r) => r.user_id);
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
    // NO KEY UPDATE, not UPDATE: a concurrent nesting that references this group (a FOR KEY SHARE by
    // its foreign key) must not wait on it, or it could deadlock with the nesting lock we take next.
    const row = await (this.dialect === 'postgres' ? q.forNoKeyUpdate() : q).executeTakeFirst();
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

  async listGroupMembersOfGroup(identityStoreId: string, groupId: string, q: KeysetQuery): Promise<GroupMember[]> {
    let query = this.groupMembersQuery(identityStoreId, groupId);
    if (q.after !== undefined) query = query.where('n.member_group_id', '>', q.after);
    return (await query.orderBy('n.member_group_id').limit(q.limit).execute()).map(toGroupMember);
  }

  async findMembersOfGroup(identityStoreId: string, groupId: string, memberIds: readonly string[]): Promise<GroupMember[]> {
    const found: GroupMember[] = [];
    for (const chunk of chunksOf([...new Set(memberIds)])) {
      found.push(...(await this.membersQuery(identityStoreId, groupId).where('m.user_id', 'in', chunk).execute()).map(toMember));
      found.push(...(await this.groupMembersQuery(identityStoreId, groupId).where('n.member_group_id', 'in', chunk).execute()).map(toGroupMember));
    }
    return found;
  }

  /** A group's member groups joined to them for their display names. */
  private groupMembersQuery(identityStoreId: string, groupId: string) {
    return this.db
      .selectFrom('directory_group_members as n')
      .innerJoin('directory_groups as g', (j) => j.onRef('g.identity_store_id', '=', 'n.identity_store_id').onRef('g.group_id', '=', 'n.member_group_id'))
      .select(['n.member_group_id', 'n.membership_id', 'g.display_name'])
      .where('n.identity_store_id', '=', identityStoreId)
      .where('n.group_id', '=', groupId);
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

  async findExistingGroupIds(identityStoreId: string, groupIds: readonly string[]): Promise<string[]> {
    const found: string[] = [];
    for (const chunk of chunksOf([...new Set(groupIds)])) {
      const rows = await this.db.selectFrom('directory_groups').select('group_id').where('identity_store_id', '=', identityStoreId).where('group_id', 'in', chunk).execute();
      found.push(...rows.map((r) => r.group_id));
    }
    return found;
  }

  // ---- groups in groups ----

  /**
   * On the hot path (GetRoleCredentials, ListAccounts): the user's groups, then, only if one of them
   * is itself in a group, the groups those are in, walked up the index on (member group, group) in
   * one recursive statement. UNION, not UNION ALL: it stops on a repeat, and a ladder of diamonds
   * (groups in two groups each in the same two…) cannot make the walk exponential. Sorted here, not
   * by the database: a few ids, and no sorter to set up.
   */
  async groupIdsOfUser(identityStoreId: string, userId: string): Promise<string[]> {
    // Most groups are in no group: the recursive walk (about 35 µs on SQLite, against 4 for a plain
    // read) runs only when one of the user's own groups is itself a member of another.
    const direct = (await directGroupsOf(this.db, { store: identityStoreId, user: userId })).rows.map((r) => r.group_id);
    if (direct.length === 0) return [];
    const nested = await this.db
      .selectFrom('directory_group_members')
      .select('group_id')
      .where('identity_store_id', '=', identityStoreId)
      .where('member_group_id', 'in', direct)
      .limit(1)
      .execute();
    if (nested.length === 0) return direct.sort();
    const { rows } = await sql<{ group_id: string }>`
      with recursive up(group_id) as (
        select group_id from directory_memberships where identity_store_id = ${identityStoreId} and user_id = ${userId}
        union
        select e.group_id from directory_group_members e join up on e.member_group_id = up.group_id where e.identity_store_id = ${identityStoreId}
      )
      select group_id from up`.execute(this.db);
    return rows.map((r) => r.group_id).sort();
  }

  async groupIdsOfUsers(identityStoreId: string, userIds: readonly string[]): Promise<Map<string, string[]>> {
    const byUser = new Map<string, string[]>();
    for (const chunk of chunksOf([...new Set(userIds)])) {
      const { rows } = await sql<{ user_id: string; group_id: string }>`
        with recursive up(user_id, group_id) as (
          select user_id, group_id from directory_memberships where identity_store_id = ${identityStoreId} and user_id in (${inList(chunk)})
          union
          select up.user_id, e.group_id from directory_group_members e join up on e.member_group_id = up.group_id where e.identity_store_id = ${identityStoreId}
        )
        select user_id, group_id from up`.execute(this.db);
      for (const r of rows) byUser.set(r.user_id, [...(byUser.get(r.user_id) ?? []), r.group_id]);
    }
    return byUser;
  }

  async lockGroupNesting(identityStoreId: string): Promise<void> {
    if (this.dialect !== 'postgres') return;
    await sql`select pg_advisory_xact_lock(${NESTING_LOCK_CLASS}::integer, hashtext(${identityStoreId}))`.execute(this.db);
  }

  /** The group and every group above it, walked from directory_groups so the anchor's type is the column's. */
  private selfAndAncestors(identityStoreId: string, groupId: string) {
    return sql`
      with recursive up(group_id) as (
        select group_id from directory_groups where identity_store_id = ${identityStoreId} and group_id = ${groupId}
        union
        select e.group_id from directory_group_members e join up on e.member_group_id = up.group_id where e.identity_store_id = ${identityStoreId}
      )`;
  }

  async selfOrAncestorsAmong(identityStoreId: string, groupId: string, candidateIds: readonly string[]): Promise<string[]> {
    const found: string[] = [];
    for (const chunk of chunksOf([...new Set(candidateIds)])) {
      const { rows } = await sql<{ group_id: string }>`${this.selfAndAncestors(identityStoreId, groupId)}
        select group_id from up where group_id in (${inList(chunk)})`.execute(this.db);
      found.push(...rows.map((r) => r.group_id));
    }
    return found;
  }

  async ancestorGroupIds(identityStoreId: string, groupId: string): Promise<string[]> {
    const { rows } = await sql<{ group_id: string }>`${this.selfAndAncestors(identityStoreId, groupId)}
      select group_id from up where group_id <> ${groupId} order by group_id`.execute(this.db);
    return rows.map((r) => r.group_id);
  }

  async userIdsBelow(identityStoreId: string, groupIds: readonly string[]): Promise<string[]> {
    const users = new Set<string>();
    for (const chunk of chunksOf([...new Set(groupIds)])) {
      const { rows } = await sql<{ user_id: string }>`
        with recursive down(group_id) as (
          select group_id from directory_groups where identity_store_id = ${identityStoreId} and group_id in (${inList(chunk)})
          union
          select e.member_group_id from directory_group_members e join down on e.group_id = down.group_id where e.identity_store_id = ${identityStoreId}
        )
        select distinct m.user_id from directory_memberships m join down on m.group_id = down.group_id where m.identity_store_id = ${identityStoreId}`.execute(this.db);
      for (const r of rows) users.add(r.user_id);
    }
    return [...users].sort();
  }

  async insertGroupNestings(nestings: readonly GroupNestingRecord[]): Promise<void> {
    for (const chunk of chunksOf(nestings)) {
      try {
        await this.db.insertInto('directory_group_members').values(chunk.map(nestingRow)).execute();
      } catch (err) {
        if (isUniqueViolation(err)) throw directoryErrors.membershipExists();
        // A group deleted by a concurrent request since it was looked up.
        if (isForeignKeyViolation(err)) throw directoryErrors.someGroupNotFound();
        throw err;
      }
    }
  }

  async deleteGroupNestings(identityStoreId: string, membershipIds: readonly string[]): Promise<number> {
    let deleted = 0;
    for (const chunk of chunksOf(membershipIds)) {
      const result = await this.db.deleteFrom('directory_group_members').where('identity_store_id', '=', identityStoreId).where('membership_id', 'in', chunk).executeTakeFirst();
      deleted += Number(result.numDeletedRows);
    }
    return deleted;
  }
}
