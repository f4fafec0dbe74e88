// The Kysely database: table types, opening either dialect, and the error shapes both dialects
// share. Only store/ imports Kysely; the domain sees its own ports.

import { chmodSync, closeSync, existsSync, fdatasync, mkdirSync, openSync, statSync } from 'node:fs';
import path from 'node:path';
import SqliteDatabase from 'better-sqlite3';
import { Kysely, PostgresDialect, sql, SqliteDialect } from 'kysely';
import pg from 'pg';
import type { CoreTables } from './schema/core.js';
import type { DirectoryTables } from './schema/directory.js';
import type { OrganizationTables } from './schema/organization.js';
import type { AccessTables } from './schema/access.js';
import type { RevocationTables } from './schema/revocation.js';
import type { AuthTables } from './schema/auth.js';
import type { OidcTables } from './schema/oidc.js';
import type { ScimTables } from './schema/scim.js';
import type { SamlTables } from './schema/saml.js';
import type { AuditTables } from './schema/audit.js';
import type { MfaTables } from './schema/mfa.js';
import type { PolicyTables } from './schema/policy.js';
import type { ConsoleTables } from './schema/console.js';
import type { DeferredSync, RunControl } from './group-commit.js';
import { allowDirectReads, type DirectRunner } from './precompiled.js';
import { writeGateFor, type WriteGate } from './write-gate.js';
import { ConfigError, invalidArgument } from '../shared/errors.js';

export interface Database extends CoreTables, DirectoryTables, OrganizationTables, AccessTables, RevocationTables, AuthTables, OidcTables, ScimTables, SamlTables, AuditTables, MfaTables, PolicyTables, ConsoleTables {}

export type Dialect = 'sqlite' | 'postgres';
export type Db = Kysely<Database>;

export interface OpenedDatabase {
  db: Db;
  dialect: Dialect;
  /** Where it is, with no password: for start-up messages. */
  location: string;
  close(): Promise<void>;
}

/** The SQLite file the audit sealer writes, beside the main one (0023-audit-file.ts). */
export const auditFileOf = (sqliteFile: string) => `${sqliteFile.replace(/\.db$/, '')}-audit.db`;

/**
 * Which SQLite file a connection's transactions lock when they begin: the request thread's, the
 * main file; the audit sealer thread's, the audit file. Another file is locked when a transaction
 * first writes to it.
 */
export type WriteHome = 'main' | 'audit';

/** Kysely's migration bookkeeping, and Atrium's first migration in it: what tells Atrium's database from another's. */
const MIGRATIONS_TABLE = 'kysely_migration';
const FIRST_MIGRATION = '0001-core';

/** A PostgreSQL URL, or a configuration error (the one other kind of storage is the SQLite file). */
function requirePostgresUrl(url: string): string {
  if (!/^postgres(ql)?:\/\//.test(url)) throw new ConfigError('databaseUrl must start with postgres:// or postgresql://');
  return url;
}

/**
 * Whether the database holds an Atrium instance, read without creating or migrating anything (an
 * admin command on an empty or another application's database must leave it as it was).
 */
export async function holdsInstance(opts: { databaseUrl?: string; sqliteFile: string }): Promise<boolean> {
  if (opts.databaseUrl) {
    const client = new pg.Client({ connectionString: requirePostgresUrl(opts.databaseUrl) });
    await client.connect();
    try {
      const tables = await client.query<{ m: string | null; i: string | null }>(`select to_regclass('${MIGRATIONS_TABLE}')::text as m, to_regclass('instances')::text as i`);
      if (!tables.rows[0]?.m || !tables.rows[0].i) return false;
      if ((await client.query(`select 1 from ${MIGRATIONS_TABLE} where name = $1`, [FIRST_MIGRATION])).rowCount !== 1) return false;
      return (await client.query('select 1 from instances limit 1')).rowCount === 1;
    } finally {
      await client.end();
    }
  }
  if (!existsSync(opts.sqliteFile)) return false;
  const sqlite = new SqliteDatabase(opts.sqliteFile, { readonly: true, fileMustExist: true });
  try {
    const table = (name: string) => sqlite.prepare(`select 1 from sqlite_master where type = 'table' and name = ?`).get(name) !== undefined;
    if (!table(MIGRATIONS_TABLE) || !table('instances')) return false;
    if (sqlite.prepare(`select 1 from ${MIGRATIONS_TABLE} where name = ?`).get(FIRST_MIGRATION) === undefined) return false;
    return sqlite.prepare('select 1 from instances limit 1').get() !== undefined;
  } finally {
    sqlite.close();
  }
}

/**
 * PostgreSQL's text cannot hold the NUL character, and refuses a parameter with one as an encoding
 * error (a 500 to whoever sent it, in a URL's path or query). SQLite stores it and finds nothing.
 * Here it is refused before it is sent, as bad input: no stored text holds one, so nothing it would
 * have matched is lost.
 */
function refuseNulParameters(client: pg.PoolClient): void {
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  (client as unknown as { query: (...args: unknown[]) => unknown }).query = (...args: unknown[]) => {
    const params = args[1];
    if (Array.isArray(params) && params.some((p) => typeof p === 'string' && p.includes('\u0000'))) {
      throw invalidArgument('store.nul_character', 'Text must not contain the NUL character.');
    }
    return query(...args);
  };
}

export function openDatabase(opts: { databaseUrl?: string; sqliteFile: string; writeHome?: WriteHome }): OpenedDatabase {
  if (opts.databaseUrl) {
    const url = requirePostgresUrl(opts.databaseUrl);
    const pool = new pg.Pool({
      connectionString: url,
      max: 10,
      // int8 columns hold epoch milliseconds and counters; they fit a JS number.
      types: {
        getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
          oid === 20 ? (v: string) => Number(v) : (pg.types.getTypeParser(oid, format) as unknown)) as typeof pg.types.getTypeParser,
      },
    });
    pool.on('connect', refuseNulParameters);
    const db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }) });
    return { db, dialect: 'postgres', location: url.replace(/\/\/[^@/]*@/, '//'), close: () => db.destroy() };
  }
  mkdirSync(path.dirname(opts.sqliteFile), { recursive: true, mode: 0o700 });
  const auditFile = auditFileOf(opts.sqliteFile);
  for (const file of [opts.sqliteFile, auditFile]) ownerOnly(file);
  const sqlite = new SqliteDatabase(opts.sqliteFile);
  sqlite.pragma('journal_mode = WAL');
  // FULL: a write we acknowledged survives a power cut. Group commit pays one sync per batch, not per write.
  sqlite.pragma('synchronous = FULL');
  sqlite.pragma('foreign_keys = ON');
  sqlite.pragma(`busy_timeout = ${sqliteBusyTimeoutMs()}`);
  // Checkpoint less often: fewer commits pay for writing the WAL back to the database file.
  sqlite.pragma('wal_autocheckpoint = 10000');
  // The sealer's file, on every connection, so that queries join across both as one database
  // (a table name is found in whichever file holds it).
  sqlite.prepare('attach ? as audit').run(auditFile);
  sqlite.pragma('audit.journal_mode = WAL');
  // NORMAL: what the sealer writes is made again from the events after a crash (they are FULL).
  sqlite.pragma('audit.synchronous = NORMAL');
  sqlite.pragma('audit.wal_autocheckpoint = 10000');
  const home = opts.writeHome ?? 'main';
  // BEGIN IMMEDIATE would lock every attached file: a transaction begins by naming its home file's
  // write_lock in a statement that changes nothing, which takes that file's lock alone (0023).
  const beginAtHome = `delete from ${home}.write_lock where 0`;
  let writeLocks = false;
  // Kysely prepares every statement afresh; preparing is a sixth of a small write's cost, so
  // statements are cached by their SQL text (bounded: parameters, not values, are in the text).
  const statements = new Map<string, SqliteDatabase.Statement>();
  const database = {
    close: () => sqlite.close(),
    prepare(text: string) {
      let statement = statements.get(text);
      if (!statement) {
        if (statements.size >= 2000) statements.clear();
        statement = sqlite.prepare(text);
        statements.set(text, statement);
      }
      return statement;
    },
  };
  const db = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  controlRunners.set(db, (statement) => {
    if (statement !== 'begin immediate') return void database.prepare(statement).run();
    // Before 0023 has made the write_lock tables (a database migrated part way, in tests), as before.
    if (!writeLocks && !(writeLocks = sqlite.prepare(`select 1 from ${home}.sqlite_master where name = 'write_lock'`).get() !== undefined)) {
      return void database.prepare(statement).run();
    }
    database.prepare('begin').run();
    try {
      database.prepare(beginAtHome).run();
    } catch (err) {
      database.prepare('rollback').run();
      throw err;
    }
  });
  // Writers of the same file in this process take turns through it (write-gate.ts).
  if (process.env.ATRIUM_SQLITE_WRITE_GATE !== '0') writeGates.set(db, writeGateFor(path.resolve(home === 'audit' ? auditFile : opts.sqliteFile)));
  // precompiledRead's look-ups run at once when no transaction is open on the connection, and every
  // precompiled statement of a group-commit batch runs at once on the connection the batch holds.
  // Their statements are their own (one a streamed query holds open cannot be run again until it ends).
  const direct = new Map<string, SqliteDatabase.Statement>();
  const statementOf = (text: string) => {
    let statement = direct.get(text);
    if (!statement) {
      if (direct.size >= 500) direct.clear();
      direct.set(text, (statement = sqlite.prepare(text)));
    }
    return statement;
  };
  // As Kysely's SQLite connection answers (rows for a reader; counts as bigint for a write).
  const run: DirectRunner = (text, parameters) => {
    const statement = statementOf(text);
    if (statement.reader) return { rows: statement.all(parameters) };
    const { changes, lastInsertRowid } = statement.run(parameters);
    return { numAffectedRows: BigInt(changes), insertId: BigInt(lastInsertRowid), rows: [] };
  };
  statementRunners.set(db, run);
  // The same statements in raw mode (rows as arrays), for precompiledReadValues.
  const asValues = new Map<string, SqliteDatabase.Statement>();
  const valuesStatementOf = (text: string) => {
    let statement = asValues.get(text);
    if (!statement) {
      if (asValues.size >= 100) asValues.clear();
      statement = sqlite.prepare(text);
      if (statement.reader) statement.raw(true);
      asValues.set(text, statement);
    }
    return statement;
  };
  allowDirectReads(db as unknown as Kysely<never>, (text, parameters, values = false) => {
    if (sqlite.inTransaction) return undefined;
    const statement = values ? valuesStatementOf(text) : statementOf(text);
    return statement.reader ? { rows: statement.all(parameters) } : undefined;
  });
  const wal = walSync(home === 'audit' ? auditFile : opts.sqliteFile, home, (statement) => void database.prepare(statement).run());
  if (process.env.ATRIUM_SQLITE_DEFERRED_SYNC !== '0') deferredSyncs.set(db, wal);
  return {
    db,
    dialect: 'sqlite',
    location: opts.sqliteFile,
    close: async () => {
      await db.destroy();
      await wal.close();
    },
  };
}

/**
 * How long a SQLite writer waits for another's write lock before the write is refused as busy (a
 * 503 "retry"): 5 s, or ATRIUM_SQLITE_BUSY_TIMEOUT_MS (0 refuses at once: a test uses it to show
 * that the request thread and the sealer's thread never meet at SQLite's lock).
 */
function sqliteBusyTimeoutMs(): number {
  const text = process.env.ATRIUM_SQLITE_BUSY_TIMEOUT_MS;
  if (text === undefined) return 5000;
  const ms = Number(text);
  if (!/^\d{1,5}$/.test(text) || ms > 60_000) throw new ConfigError(`ATRIUM_SQLITE_BUSY_TIMEOUT_MS must be a whole number of milliseconds from 0 to 60000, not ${JSON.stringify(text)}`);
  return ms;
}

/**
 * A database file made readable by its owner alone, whatever the umask or the data directory's mode
 * (it holds password hashes, the directory and the audit trail; SQLite makes its -wal and -shm files
 * with the database file's mode). A file made before loses what others may do, if this process
 * owns it: its group keeps its bits (a deployment may share the files with a group on purpose).
 */
function ownerOnly(file: string): void {
  if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
  const me = process.getuid?.();
  for (const f of [file, `${file}-wal`, `${file}-shm`]) {
    if (!existsSync(f)) continue;
    const { mode, uid } = statSync(f);
    if ((mode & 0o007) === 0 || uid !== me) continue;
    try {
      chmodSync(f, mode & 0o770);
    } catch (err) {
      // Read-only media stays as it is; SQLite says what it can and cannot do there.
      if ((err as NodeJS.ErrnoException).code !== 'EROFS') throw err;
    }
  }
}

/**
 * Group commit's deferred sync for a SQLite file in WAL mode: COMMIT runs with synchronous=NORMAL
 * (it writes the WAL but does not sync it), and flush() fdatasyncs the WAL file on the thread pool.
 * Syncing any descriptor of a file writes all its dirty pages, whichever descriptor wrote them.
 * At most one sync runs at a time; callers who arrive during one share the next.
 */
function walSync(file: string, schema: WriteHome, run: (statement: string) => void): DeferredSync & { close(): Promise<void> } {
  let fd: number | undefined;
  let running: Promise<void> | undefined;
  let next: Promise<void> | undefined;
  const syncNow = () =>
    new Promise<void>((resolve, reject) => {
      // The WAL exists once the first transaction has committed, which precedes any flush.
      fd ??= openSync(`${file}-wal`, 'r+');
      fdatasync(fd, (err) => (err ? reject(err) : resolve()));
    });
  const flush = (): Promise<void> => {
    if (!running) {
      running = syncNow().finally(() => (running = undefined));
      return running;
    }
    // A sync is on its way, but it may have started before this caller's COMMIT: wait for the next.
    const after = () => {
      next = undefined;
      return flush();
    };
    next ??= running.then(after, after);
    return next;
  };
  return {
    defer: () => run(`pragma ${schema}.synchronous = NORMAL`),
    restore: () => run(`pragma ${schema}.synchronous = ${schema === 'audit' ? 'NORMAL' : 'FULL'}`),
    flush,
    inFlight: () => running,
    close: async () => {
      // A sync still on the thread pool keeps its descriptor until it has finished.
      await (next ?? running)?.catch(() => undefined);
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    },
  };
}

const controlRunners = new WeakMap<Db, RunControl>();
const statementRunners = new WeakMap<Db, DirectRunner>();
const deferredSyncs = new WeakMap<Db, DeferredSync>();
const writeGates = new WeakMap<Db, WriteGate>();

/** For SQLite, runs group commit's control statements on the handle, not through the query builder. */
export const controlRunnerOf = (db: Db): RunControl | undefined => controlRunners.get(db);

/** For SQLite, lets group commit run precompiled statements straight on the connection its batch holds. */
export const statementRunnerOf = (db: Db): DirectRunner | undefined => statementRunners.get(db);

/** For a SQLite file, lets group commit sync the WAL off the event loop. */
export const deferredSyncOf = (db: Db): DeferredSync | undefined => deferredSyncs.get(db);

/** The in-process write gate of a SQLite file's connection (none on PostgreSQL). */
export const writeGateOf = (db: Db): WriteGate | undefined => writeGates.get(db);

/** A unique or primary-key violation, in either dialect. */
export function isUniqueViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23505' || code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

/**
 * The database could not serve the statement now, though nothing is wrong with it: SQLite's write
 * lock stayed taken past busy_timeout, or PostgreSQL refused a lock, a serialization, a deadlock
 * victim or a connection. The request may be retried as it is.
 */
export function isBusy(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code !== 'string') return false;
  return code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED') || ['55P03', '40001', '40P01', '53300', '57P03'].includes(code);
}

/** A foreign-key violation, in either dialect. */
export function isForeignKeyViolation(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return code === '23503' || code === 'SQLITE_CONSTRAINT_FOREIGNKEY';
}

/** The tables the console counts whole (the directory's, per identity store). */
type CountedTable = 'permission_sets' | 'org_accounts' | 'directory_users' | 'directory_groups';

/** How many rows `table` holds, or how many of one identity store's. */
export async function countRows(db: Db, table: CountedTable, identityStoreId?: string): Promise<number> {
  const where = identityStoreId === undefined ? sql`` : sql` where identity_store_id = ${identityStoreId}`;
  const r = await sql<{ n: number | string | bigint }>`select count(*) as n from ${sql.table(table)}${where}`.execute(db);
  return Number(r.rows[0]?.n ?? 0);
}
