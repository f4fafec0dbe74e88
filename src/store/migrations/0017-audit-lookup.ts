// 0017-audit-lookup: the LookupEvents keys, written by the sealer off the request path (issue 3, 6).

import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

export async function up(_db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  // Reserved; filled in by the change that needs it.
  await Promise.resolve();
}
