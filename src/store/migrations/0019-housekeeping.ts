// 0019-housekeeping: indexes that let the background sweep find stale sign-in throttle rows and
// finished jobs without reading the whole table.

import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  await db.schema.createIndex('auth_throttle_last_failure').on('auth_throttle').column('last_failure_at').execute();
  await db.schema.createIndex('jobs_finished').on('jobs').columns(['status', 'updated_at']).execute();
}
