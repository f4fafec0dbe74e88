// 0009-scim-tokens: the bearer tokens an IdP uses for SCIM provisioning, kept as hashes. A live
// token holds one of a few `slot`s, unique, so the database itself caps the number of live tokens.

import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('scim_tokens')
    .addColumn('token_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('token_hash', 'varchar(64)', (c) => c.notNull().unique())
    // Null once the token has expired; both dialects let many rows hold null under a unique constraint.
    .addColumn('slot', 'smallint', (c) => c.unique())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .execute();
}
