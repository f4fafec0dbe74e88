// 0003-organization: the organization, its OUs and accounts, and CreateAccount requests.

import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('organizations')
    .addColumn('organization_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('root_id', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('management_account_id', 'varchar(12)', (c) => c.notNull())
    .addColumn('feature_set', 'varchar(32)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('singleton', 'integer', (c) => c.notNull().defaultTo(1).unique())
    .execute();

  await db.schema
    .createTable('org_accounts')
    .addColumn('account_id', 'varchar(12)', (c) => c.primaryKey())
    .addColumn('email', 'varchar(64)', (c) => c.notNull())
    .addColumn('email_key', 'varchar(255)', (c) => c.notNull().unique())
    .addColumn('name', 'varchar(128)', (c) => c.notNull())
    .addColumn('status', 'varchar(32)', (c) => c.notNull())
    .addColumn('joined_method', 'varchar(16)', (c) => c.notNull())
    .addColumn('joined_at', 'bigint', (c) => c.notNull())
    .addColumn('parent_id', 'varchar(100)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('org_accounts_parent').on('org_accounts').columns(['parent_id', 'account_id']).execute();

  await db.schema
    .createTable('org_units')
    .addColumn('ou_id', 'varchar(100)', (c) => c.primaryKey())
    .addColumn('parent_id', 'varchar(100)', (c) => c.notNull())
    .addColumn('name', 'varchar(128)', (c) => c.notNull())
    .addColumn('depth', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('org_units_parent_name', ['parent_id', 'name'])
    .execute();
  await db.schema.createIndex('org_units_parent').on('org_units').columns(['parent_id', 'ou_id']).execute();

  await db.schema
    .createTable('org_create_account_requests')
    .addColumn('request_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('account_name', 'varchar(64)', (c) => c.notNull())
    .addColumn('email', 'varchar(64)', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('requested_at', 'bigint', (c) => c.notNull())
    .addColumn('completed_at', 'bigint')
    .addColumn('account_id', 'varchar(12)')
    .addColumn('failure_reason', 'varchar(64)')
    .execute();
}
