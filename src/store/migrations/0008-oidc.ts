// 0008-oidc: the OAuth/OIDC model table. Every lookup path has an index: by id, by grant (family
// revocation), by user code (the verification page), by uid, and by expiry (the purge).

import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('oidc_models')
    .addColumn('model', 'varchar(32)', (c) => c.notNull())
    .addColumn('id', 'varchar(128)', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('grant_id', 'varchar(64)')
    .addColumn('user_code', 'varchar(16)')
    .addColumn('uid', 'varchar(64)')
    .addColumn('expires_at', 'bigint')
    .addColumn('consumed_at', 'bigint')
    .addColumn('poll_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('oidc_models_pk', ['model', 'id'])
    .execute();
  await db.schema.createIndex('oidc_models_grant').on('oidc_models').column('grant_id').where('grant_id', 'is not', null).execute();
  await db.schema
    .createIndex('oidc_models_user_code')
    .unique()
    .on('oidc_models')
    .columns(['model', 'user_code'])
    .where('user_code', 'is not', null)
    .execute();
  await db.schema.createIndex('oidc_models_expiry').on('oidc_models').column('expires_at').where('expires_at', 'is not', null).execute();
  await db.schema.createIndex('oidc_models_uid').on('oidc_models').columns(['model', 'uid']).where('uid', 'is not', null).execute();
}
