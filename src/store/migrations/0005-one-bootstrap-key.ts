// 0005: at most one bootstrap administrator key, so that processes racing through their first
// start cannot each issue one (and each print credentials that the other then deletes).

import type { Kysely } from 'kysely';
import { sql } from 'kysely';

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('access_keys_one_bootstrap')
    .unique()
    .on('access_keys')
    .column('purpose')
    .where(sql.ref('purpose'), '=', 'bootstrap')
    .execute();
}
