// 0016-audit-sinks: audit sink cursors and alert state (issue 6).

import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

export async function up(_db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  // Reserved; filled in by the change that needs it.
  await Promise.resolve();
}
