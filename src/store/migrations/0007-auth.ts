// 0007-auth: password hashes, portal sessions and the sign-in throttle. Passwords and sessions
// go with their user: deleting the user deletes them, even under concurrent writers.

import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  const userFk = ['identity_store_id', 'user_id'] as const;
  await db.schema
    .createTable('auth_passwords')
    .addColumn('identity_store_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('history', 'text', (c) => c.notNull())
    .addColumn('one_time', 'integer', (c) => c.notNull())
    .addColumn('changed_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('auth_passwords_pk', [...userFk])
    .addForeignKeyConstraint('auth_passwords_user_fk', [...userFk], 'directory_users', [...userFk], (fk) => fk.onDelete('cascade'))
    .execute();

  await db.schema
    .createTable('auth_sessions')
    .addColumn('session_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('token_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('identity_store_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('user_name', 'text', (c) => c.notNull())
    .addColumn('must_change_password', 'integer', (c) => c.notNull())
    .addColumn('source_ip', 'varchar(64)', (c) => c.notNull())
    .addColumn('user_agent', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addForeignKeyConstraint('auth_sessions_user_fk', [...userFk], 'directory_users', [...userFk], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('auth_sessions_token').unique().on('auth_sessions').column('token_hash').execute();
  await db.schema.createIndex('auth_sessions_user').on('auth_sessions').columns(['identity_store_id', 'user_id', 'expires_at']).execute();
  await db.schema.createIndex('auth_sessions_expiry').on('auth_sessions').column('expires_at').execute();

  await db.schema
    .createTable('auth_throttle')
    .addColumn('throttle_key', 'varchar(200)', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('last_failure_at', 'bigint', (c) => c.notNull())
    .addColumn('locked_until', 'bigint', (c) => c.notNull())
    .execute();
}
