// 0004-access: permission sets, their policies, account assignments, provisioning, asynchronous
// requests and access control attributes. Every list the API pages through has an index in its order.

import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

const ARN = 'varchar(1224)';

export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('permission_sets')
    .addColumn('permission_set_arn', ARN, (c) => c.primaryKey())
    .addColumn('name', 'varchar(32)', (c) => c.notNull().unique())
    .addColumn('description', 'varchar(700)')
    .addColumn('session_duration', 'varchar(100)', (c) => c.notNull())
    .addColumn('relay_state', 'varchar(240)')
    .addColumn('inline_policy', 'text')
    .addColumn('permissions_boundary', 'text')
    .addColumn('version', 'integer', (c) => c.notNull())
    .addColumn('policy_count', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('permission_set_policies')
    .addColumn('permission_set_arn', ARN, (c) => c.notNull().references('permission_sets.permission_set_arn').onDelete('cascade'))
    .addColumn('kind', 'varchar(8)', (c) => c.notNull())
    .addColumn('ref', 'varchar(2048)', (c) => c.notNull())
    .addColumn('name', 'varchar(128)', (c) => c.notNull())
    .addColumn('path', 'varchar(512)', (c) => c.notNull())
    .addColumn('attached_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('permission_set_policies_pk', ['permission_set_arn', 'kind', 'ref'])
    .execute();

  // No cascade: a permission set cannot be deleted while assignments use it.
  await db.schema
    .createTable('account_assignments')
    .addColumn('account_id', 'varchar(12)', (c) => c.notNull())
    .addColumn('permission_set_arn', ARN, (c) => c.notNull().references('permission_sets.permission_set_arn'))
    .addColumn('principal_type', 'varchar(8)', (c) => c.notNull())
    .addColumn('principal_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('account_assignments_pk', ['account_id', 'permission_set_arn', 'principal_type', 'principal_id'])
    .execute();
  await db.schema
    .createIndex('account_assignments_principal')
    .on('account_assignments')
    .columns(['principal_type', 'principal_id', 'account_id', 'permission_set_arn'])
    .execute();
  await db.schema.createIndex('account_assignments_permission_set').on('account_assignments').columns(['permission_set_arn']).execute();

  await db.schema
    .createTable('permission_set_provisions')
    .addColumn('permission_set_arn', ARN, (c) => c.notNull().references('permission_sets.permission_set_arn').onDelete('cascade'))
    .addColumn('account_id', 'varchar(12)', (c) => c.notNull())
    .addColumn('role_name', 'varchar(64)', (c) => c.notNull())
    .addColumn('provisioned_version', 'integer', (c) => c.notNull())
    .addColumn('provisioned_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('permission_set_provisions_pk', ['permission_set_arn', 'account_id'])
    .execute();
  await db.schema
    .createIndex('permission_set_provisions_account')
    .on('permission_set_provisions')
    .columns(['account_id', 'permission_set_arn'])
    .execute();

  await db.schema
    .createTable('access_requests')
    .addColumn('request_id', 'varchar(36)', (c) => c.primaryKey())
    .addColumn('kind', 'varchar(24)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('failure_reason', 'text')
    .addColumn('permission_set_arn', ARN, (c) => c.notNull())
    .addColumn('target_id', 'varchar(12)')
    .addColumn('principal_type', 'varchar(8)')
    .addColumn('principal_id', 'varchar(64)')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('access_requests_kind').on('access_requests').columns(['kind', 'created_at', 'request_id']).execute();
  await db.schema
    .createIndex('access_requests_kind_status')
    .on('access_requests')
    .columns(['kind', 'status', 'created_at', 'request_id'])
    .execute();

  await db.schema
    .createTable('access_control_attributes')
    .addColumn('singleton', 'integer', (c) => c.primaryKey().defaultTo(1))
    .addColumn('attributes', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
}
