// 0015-policy-store: customer-managed policies per account (issue 7).

import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

export async function up(_db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  // Reserved; filled in by the change that needs it.
  await Promise.resolve();
}
