// 0023-audit-file: on SQLite, what the sealer writes moves to a file of its own, attached to every
// connection as `audit` (database.ts): the hash chain, the lookup keys, the digests, the signing
// key, the sealer's lease and watermark, and the gaps. SQLite has one writer per file; while the
// sealer chained a batch, every request's commit waited behind it. In a file of its own, the
// sealer's transactions no longer hold the lock the requests need, and the requests' pages stay
// in their connection's cache (another connection's commit to the same file empties it). The
// events themselves stay with the changes they record, written in the same transaction.
// `write_lock`, one in each file, is what a writer names first to take that file's lock alone
// (database.ts: BEGIN IMMEDIATE would take every attached file's).
// Each table is copied, then dropped from the main file; a rerun after a crash between the files
// starts that table over. PostgreSQL keeps the tables where they are (rows lock, not files).

import { sql, type Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

export const AUDIT_FILE_TABLES = ['audit_chain', 'audit_lookup', 'audit_digests', 'audit_signing_keys', 'audit_sealer', 'audit_gaps'] as const;

export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  if (ctx.dialect !== 'sqlite') return;
  await sql`create table if not exists main.write_lock (x integer)`.execute(db);
  await sql`create table if not exists audit.write_lock (x integer)`.execute(db);
  for (const table of AUDIT_FILE_TABLES) {
    const { rows } = await sql<{ type: string; sql: string | null }>`select type, sql from main.sqlite_master where tbl_name = ${table} and sql is not null`.execute(db);
    const create = rows.find((r) => r.type === 'table');
    // Moved already (a rerun), or never made here.
    if (!create?.sql) continue;
    await sql.raw(`drop table if exists audit."${table}"`).execute(db);
    await sql.raw(create.sql.replace(/^CREATE TABLE\s+("?)(\w+)\1/i, 'CREATE TABLE audit."$2"')).execute(db);
    for (const index of rows.filter((r) => r.type === 'index')) {
      await sql.raw(index.sql!.replace(/^CREATE (UNIQUE )?INDEX\s+("?)(\w+)\2/i, 'CREATE $1INDEX audit."$3"')).execute(db);
    }
    await sql.raw(`insert into audit."${table}" select * from main."${table}"`).execute(db);
    await sql.raw(`drop table main."${table}"`).execute(db);
  }
}
