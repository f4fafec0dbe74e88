// 0006-revocation: service keys of temporary credentials, and revocation marks.

import type { Kysely } from 'kysely';
import { autoIncrementId, type MigrationContext } from './context.js';

export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('service_keys')
    // The primary key makes processes racing to create a key agree on one.
    .addColumn('name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('sealed_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await autoIncrementId(db.schema.createTable('revocations'), 'seq', ctx)
    .addColumn('subject_key', 'varchar(512)', (c) => c.notNull())
    .addColumn('not_before', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('revocations_not_before').on('revocations').columns(['not_before']).execute();
}
