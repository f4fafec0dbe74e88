// 0015-policy-store: customer-managed policies per account (issue 7): the policy, and its
// versions (at most 5, one of them the default), as IAM keeps them.

import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('customer_policies')
    .addColumn('policy_arn', 'varchar(2048)', (c) => c.primaryKey())
    .addColumn('account_id', 'varchar(12)', (c) => c.notNull())
    // IAM: a policy name is unique in its account, whatever its path.
    .addColumn('policy_name', 'varchar(128)', (c) => c.notNull())
    .addColumn('path', 'varchar(512)', (c) => c.notNull())
    .addColumn('policy_id', 'varchar(32)', (c) => c.notNull().unique())
    .addColumn('description', 'varchar(1000)')
    .addColumn('default_version_id', 'varchar(16)', (c) => c.notNull())
    .addColumn('next_version', 'integer', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .addUniqueConstraint('customer_policies_account_name', ['account_id', 'policy_name'])
    .execute();
  await db.schema
    .createTable('customer_policy_versions')
    .addColumn('policy_arn', 'varchar(2048)', (c) => c.notNull())
    .addColumn('version_id', 'varchar(16)', (c) => c.notNull())
    .addColumn('document', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('customer_policy_versions_pk', ['policy_arn', 'version_id'])
    .execute();
}
