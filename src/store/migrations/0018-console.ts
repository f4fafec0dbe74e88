// 0018-console: who may use the admin console (issue 8). One row per administrator: the directory
// user and the named policy of the grant (AdministratorAccess or ReadOnlyAccess).

import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('console_admins')
    .addColumn('user_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('user_name', 'varchar(128)', (c) => c.notNull())
    .addColumn('policy', 'varchar(32)', (c) => c.notNull())
    .addColumn('granted_at', 'bigint', (c) => c.notNull())
    .addColumn('granted_by', 'varchar(256)', (c) => c.notNull())
    .execute();
}
