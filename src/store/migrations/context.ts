// What a migration may know about where it runs: only the dialect, for the few DDL forms
// (auto-increment keys) that have no portable spelling.

import type { CreateTableBuilder } from 'kysely';
import type { Dialect } from '../database.js';

export interface MigrationContext {
  dialect: Dialect;
}

export function autoIncrementId<T extends string>(
  table: CreateTableBuilder<T, never>,
  column: string,
  ctx: MigrationContext,
): CreateTableBuilder<T, never> {
  return ctx.dialect === 'postgres'
    ? table.addColumn(column, 'bigserial', (c) => c.primaryKey())
    : table.addColumn(column, 'integer', (c) => c.primaryKey().autoIncrement());
}
