// Two processes that start on the same SQLite file at once (an upgrade, say: `serve` and a CLI
// command) must not fail because the other is migrating: SQLite has no migration lock between
// processes, so the one that finds the write lock taken waits for it and tries again.

import SqliteDatabase from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from '../database.js';
import { migrateToLatest } from './index.js';

let opened: OpenedDatabase | undefined;
let other: SqliteDatabase.Database | undefined;
let dir: string | undefined;
afterEach(async () => {
  other?.close();
  await opened?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('SQLite migrations beside another process', () => {
  it('wait while another connection holds the write lock, then run once it is free', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'atrium-migrate-'));
    const file = path.join(dir, 'atrium.db');
    // The other process, in the middle of its own migration: it holds the write lock.
    other = new SqliteDatabase(file);
    other.pragma('journal_mode = WAL');
    other.exec('begin immediate');
    opened = openDatabase({ sqliteFile: file });
    // Wait 50 ms for the lock at a time, not 5 s, so that the test is quick.
    await sql`pragma busy_timeout = 50`.execute(opened.db);
    let done = false;
    const migrating = migrateToLatest(opened.db as never, 'sqlite').then(() => (done = true));
    await new Promise((r) => setTimeout(r, 700));
    // Refused (SQLITE_BUSY) and tried again, not failed, for as long as the lock is held.
    expect(done).toBe(false);
    other.exec('commit');
    await migrating;
    const applied = other.prepare('select count(*) as n from kysely_migration').get() as { n: number };
    expect(applied.n).toBeGreaterThanOrEqual(20);
    // Every table is there, once: a second run has nothing left to do.
    await migrateToLatest(opened.db as never, 'sqlite');
    expect(other.prepare('select count(*) as n from kysely_migration').get()).toEqual(applied);
    expect(other.prepare("select count(*) as n from sqlite_master where name = 'audit_events'").get()).toEqual({ n: 1 });
  });
});
