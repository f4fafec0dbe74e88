// 0018-console: who may use the admin console (issue 8).

import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

export async function up(_db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  // Reserved; filled in by the change that needs it.
  await Promise.resolve();
}
