// 0011-nested-groups: groups that are members of groups. One row per edge (parent group, member
// group); access is worked out on the flattened membership, with WITH RECURSIVE on both databases.

import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  // Deleting either group deletes the edge with it, even under concurrent writers. A group in itself
  // is refused by the database too; longer cycles are refused by the directory under a lock.
  await db.schema
    .createTable('directory_group_members')
    .addColumn('identity_store_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('membership_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('group_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('member_group_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('directory_group_members_pk', ['identity_store_id', 'membership_id'])
    .addForeignKeyConstraint('directory_group_members_group_fk', ['identity_store_id', 'group_id'], 'directory_groups', ['identity_store_id', 'group_id'], (fk) =>
      fk.onDelete('cascade'),
    )
    .addForeignKeyConstraint(
      'directory_group_members_member_fk',
      ['identity_store_id', 'member_group_id'],
      'directory_groups',
      ['identity_store_id', 'group_id'],
      (fk) => fk.onDelete('cascade'),
    )
    .addCheckConstraint('directory_group_members_not_self', sql`group_id <> member_group_id`)
    .execute();
  // Downwards (a group's member groups) and upwards (the groups a group is in: the hot path's walk).
  await db.schema
    .createIndex('directory_group_members_group_member')
    .unique()
    .on('directory_group_members')
    .columns(['identity_store_id', 'group_id', 'member_group_id'])
    .execute();
  await db.schema
    .createIndex('directory_group_members_member_group')
    .on('directory_group_members')
    .columns(['identity_store_id', 'member_group_id', 'group_id'])
    .execute();
}
