// 0002-directory: users, groups, memberships and external ids of the identity store.
// Every lookup path has an index; uniqueness is enforced by the database, never by a read first.

import type { CreateTableBuilder, Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

/** Who created the row, and when. */
function withAudit<T extends string, C extends string>(table: CreateTableBuilder<T, C>) {
  return table
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('created_by', 'text', (c) => c.notNull());
}

/** Who last changed the row, when, and its version for optimistic concurrency. */
function withVersioning<T extends string, C extends string>(table: CreateTableBuilder<T, C>) {
  return withAudit(table)
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_by', 'text', (c) => c.notNull());
}

export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  await withVersioning(
    db.schema
      .createTable('directory_users')
      .addColumn('identity_store_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('user_name', 'text', (c) => c.notNull())
      .addColumn('user_name_key', 'varchar(64)', (c) => c.notNull())
      .addColumn('email_key', 'varchar(64)')
      .addColumn('profile', 'text', (c) => c.notNull())
      .addColumn('extensions', 'text')
      .addColumn('status', 'varchar(16)', (c) => c.notNull()),
  )
    .addPrimaryKeyConstraint('directory_users_pk', ['identity_store_id', 'user_id'])
    .execute();
  await db.schema.createIndex('directory_users_name').unique().on('directory_users').columns(['identity_store_id', 'user_name_key']).execute();
  // Partial: users without an email cost this index nothing.
  await db.schema
    .createIndex('directory_users_email')
    .on('directory_users')
    .columns(['identity_store_id', 'email_key'])
    .where('email_key', 'is not', null)
    .execute();

  await withVersioning(
    db.schema
      .createTable('directory_groups')
      .addColumn('identity_store_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('group_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('display_name', 'text', (c) => c.notNull())
      .addColumn('display_name_key', 'varchar(64)', (c) => c.notNull())
      .addColumn('description', 'text'),
  )
    .addPrimaryKeyConstraint('directory_groups_pk', ['identity_store_id', 'group_id'])
    .execute();
  await db.schema.createIndex('directory_groups_name').unique().on('directory_groups').columns(['identity_store_id', 'display_name_key']).execute();

  // Deleting a user or a group deletes its memberships with it, even under concurrent writers.
  await withAudit(
    db.schema
      .createTable('directory_memberships')
      .addColumn('identity_store_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('membership_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('group_id', 'varchar(64)', (c) => c.notNull())
      .addColumn('user_id', 'varchar(64)', (c) => c.notNull()),
  )
    .addPrimaryKeyConstraint('directory_memberships_pk', ['identity_store_id', 'membership_id'])
    .addForeignKeyConstraint('directory_memberships_group_fk', ['identity_store_id', 'group_id'], 'directory_groups', ['identity_store_id', 'group_id'], (fk) =>
      fk.onDelete('cascade'),
    )
    .addForeignKeyConstraint('directory_memberships_user_fk', ['identity_store_id', 'user_id'], 'directory_users', ['identity_store_id', 'user_id'], (fk) =>
      fk.onDelete('cascade'),
    )
    .execute();
  await db.schema
    .createIndex('directory_memberships_group_user')
    .unique()
    .on('directory_memberships')
    .columns(['identity_store_id', 'group_id', 'user_id'])
    .execute();
  await db.schema.createIndex('directory_memberships_user_group').on('directory_memberships').columns(['identity_store_id', 'user_id', 'group_id']).execute();

  await db.schema
    .createTable('directory_external_ids')
    .addColumn('identity_store_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('resource_type', 'varchar(16)', (c) => c.notNull())
    .addColumn('issuer', 'varchar(100)', (c) => c.notNull())
    .addColumn('external_id', 'varchar(256)', (c) => c.notNull())
    .addColumn('resource_id', 'varchar(64)', (c) => c.notNull())
    .addPrimaryKeyConstraint('directory_external_ids_pk', ['identity_store_id', 'resource_type', 'issuer', 'external_id'])
    .execute();
  await db.schema.createIndex('directory_external_ids_resource').on('directory_external_ids').columns(['identity_store_id', 'resource_id']).execute();
}
