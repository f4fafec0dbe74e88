// 0004-access: tables of the access module.

import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

export async function up(_db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {}
