// Statements on the hot paths, built with the query builder once per dialect and then run with new
// values. Building and compiling a small query through Kysely costs more than SQLite takes to run
// it (tens of microseconds for an insert of fifteen columns); a precompiled statement pays that once.
//
// Only scalar arguments are supported: a statement whose shape depends on its values (an `in` list
// of varying length, a multi-row insert) keeps the query builder.

import { CompiledQuery, type Compilable, type Kysely, type QueryResult } from 'kysely';

/** Stands for an argument while the statement is compiled; replaced by its value at each run. */
class Slot {
  constructor(readonly name: string) {}
}

type Compiled = { sql: string; parameters: readonly unknown[] };

/**
 * A statement built by `build` on first use with each dialect, then run as compiled SQL. `arg(name)`
 * marks where an argument goes; every other value in the built query is a constant of the statement.
 * Answers with the driver's result: `rows`, and `numAffectedRows` for a write.
 */
export function precompiled<DB, A extends Record<string, unknown>, R>(
  build: (db: Kysely<DB>, arg: <K extends keyof A & string>(name: K) => A[K]) => Compilable<R>,
): (db: Kysely<DB>, args: A) => Promise<QueryResult<R>> {
  return runnerOf(build, false);
}

/**
 * The statement's runner. Inside a group-commit batch on SQLite, the batch holds the one
 * connection: it runs at once on it. A read that may (`precompiledRead`) runs at once outside
 * transactions too; otherwise through the query executor.
 */
function runnerOf<DB, A extends Record<string, unknown>, R>(
  build: (db: Kysely<DB>, arg: <K extends keyof A & string>(name: K) => A[K]) => Compilable<R>,
  directOutsideTransactions: boolean,
): (db: Kysely<DB>, args: A) => Promise<QueryResult<R>> {
  // Keyed by the dialect's adapter class: one compilation per dialect, whichever connection runs it.
  const byDialect = new Map<unknown, Compiled>();
  return async (db, args) => {
    const executor = db.getExecutor();
    const compiled = compiledFor(byDialect, db, executor, build);
    const parameters = parametersOf(compiled, args);
    const direct = heldConnections.get(executor) ?? (directOutsideTransactions ? directReaders.get(executor) : undefined);
    const result = direct?.(compiled.sql, parameters);
    if (result) return result as QueryResult<R>;
    return db.executeQuery<R>(CompiledQuery.raw(compiled.sql, parameters));
  };
}

/** The statement as compiled for the executor's dialect, compiled at its first use there. */
function compiledFor<DB, A>(
  byDialect: Map<unknown, Compiled>,
  db: Kysely<DB>,
  executor: { adapter: object },
  build: (db: Kysely<DB>, arg: <K extends keyof A & string>(name: K) => A[K]) => Compilable<unknown>,
): Compiled {
  const dialectKey = executor.adapter.constructor;
  let compiled = byDialect.get(dialectKey);
  if (!compiled) {
    compiled = build(db, (name) => new Slot(name) as never).compile();
    byDialect.set(dialectKey, compiled);
  }
  return compiled;
}

function parametersOf(compiled: Compiled, args: Record<string, unknown>): unknown[] {
  return compiled.parameters.map((p) => {
    if (!(p instanceof Slot)) return p;
    const value = args[p.name];
    if (value === undefined) throw new Error(`precompiled statement: no value for "${p.name}"`);
    return value;
  });
}

/**
 * Runs a statement at once on a database's one connection (SQLite's driver runs statements
 * synchronously), answering as the driver would through the query executor.
 */
export type DirectRunner = (sql: string, parameters: readonly unknown[]) => QueryResult<unknown>;

/**
 * Runs a read at once, or answers undefined when it must not: a transaction is open on the
 * connection (its uncommitted writes are not everyone's to see; the read then waits its turn
 * through the query executor, as before).
 */
export type DirectReader = (sql: string, parameters: readonly unknown[], asValues?: boolean) => QueryResult<unknown> | undefined;

/** Keyed by the root Kysely instance's executor: a transaction's executor is another, and never has one. */
const directReaders = new WeakMap<object, DirectReader>();
/** Keyed by the executor of a connection that a group-commit batch holds, while it holds it. */
const heldConnections = new WeakMap<object, DirectRunner>();

/** For SQLite: lets precompiledRead skip the query executor outside transactions. */
export function allowDirectReads(db: Kysely<never>, reader: DirectReader): void {
  directReaders.set(db.getExecutor(), reader);
}

/**
 * For group commit on SQLite: while its batch holds the connection `conn`, precompiled statements
 * on it run at once, as nothing else can run on that connection meanwhile. Returns the release.
 */
export function runDirectlyWhileHeld(conn: Kysely<never>, runner: DirectRunner): () => void {
  const executor = conn.getExecutor();
  heldConnections.set(executor, runner);
  return () => heldConnections.delete(executor);
}

/**
 * A precompiled read (a select) for the hottest look-ups. On SQLite, outside any transaction, it
 * runs straight on the connection: the query executor's connection hand-off (a mutex and half a
 * dozen promises) costs more than SQLite takes to answer such a look-up. The answer is the same:
 * on SQLite's one connection, a read through the executor also runs alone and sees what is
 * committed; when a transaction is open it waits its turn through the executor as before, or, made
 * inside a group-commit batch, runs on the connection the batch holds.
 */
export function precompiledRead<DB, A extends Record<string, unknown>, R>(
  build: (db: Kysely<DB>, arg: <K extends keyof A & string>(name: K) => A[K]) => Compilable<R>,
): (db: Kysely<DB>, args: A) => Promise<QueryResult<R>> {
  return runnerOf(build, true);
}

/**
 * A precompiled read whose rows come back as arrays of their values, in the select's column order.
 * On SQLite, outside transactions, it runs straight on the connection in the driver's raw mode: no
 * object per row, which is most of what reading a wide row costs. Otherwise it runs through the
 * query executor, and each row's values are taken in order (the drivers key a row's object by its
 * columns, in order; no column name may look like an array index).
 */
export function precompiledReadValues<DB, A extends Record<string, unknown>, R>(
  build: (db: Kysely<DB>, arg: <K extends keyof A & string>(name: K) => A[K]) => Compilable<R>,
): (db: Kysely<DB>, args: A) => Promise<unknown[][]> {
  const byDialect = new Map<unknown, Compiled>();
  return async (db, args) => {
    const executor = db.getExecutor();
    const compiled = compiledFor(byDialect, db, executor, build);
    const parameters = parametersOf(compiled, args);
    const direct = directReaders.get(executor)?.(compiled.sql, parameters, true);
    if (direct) return direct.rows as unknown[][];
    const result = await db.executeQuery<Record<string, unknown>>(CompiledQuery.raw(compiled.sql, parameters));
    return result.rows.map((r) => Object.values(r));
  };
}

/**
 * A multi-row insert, precompiled: rows go in statements of at most `rowsPerStatement`, each shape
 * (row count) compiled once per dialect, so a batch pays the query builder a handful of times, not
 * once per statement. `build` gets the rows as slots, for `insertInto(…).values(rows)`.
 */
export function precompiledRows<DB, Row extends object>(
  columns: readonly (keyof Row & string)[],
  rowsPerStatement: number,
  build: (db: Kysely<DB>, rows: Row[]) => Compilable<unknown>,
): (db: Kysely<DB>, rows: readonly Row[]) => Promise<void> {
  /** Per dialect and row count: the SQL, and where each parameter comes from (a constant, or a row's column). */
  type Shape = { sql: string; parameters: readonly ({ row: number; column: string } | { constant: unknown })[] };
  const shapes = new Map<unknown, Map<number, Shape>>();
  const shapeOf = (db: Kysely<DB>, count: number): Shape => {
    const dialectKey = db.getExecutor().adapter.constructor;
    let byCount = shapes.get(dialectKey);
    if (!byCount) shapes.set(dialectKey, (byCount = new Map<number, Shape>()));
    let shape = byCount.get(count);
    if (!shape) {
      const slots = Array.from({ length: count }, (_, i) => Object.fromEntries(columns.map((c) => [c, new Slot(`${i}\n${c}`)])) as unknown as Row);
      const compiled = build(db, slots).compile();
      shape = {
        sql: compiled.sql,
        parameters: compiled.parameters.map((p) => {
          if (!(p instanceof Slot)) return { constant: p };
          const [row, column] = p.name.split('\n') as [string, string];
          return { row: Number(row), column };
        }),
      };
      byCount.set(count, shape);
    }
    return shape;
  };
  return async (db, rows) => {
    for (let from = 0; from < rows.length; from += rowsPerStatement) {
      const chunk = rows.slice(from, from + rowsPerStatement) as readonly Record<string, unknown>[];
      const shape = shapeOf(db, chunk.length);
      const parameters = shape.parameters.map((p) => {
        if (!('row' in p)) return p.constant;
        const value = chunk[p.row]![p.column];
        if (value === undefined) throw new Error(`precompiled insert: no value for "${p.column}"`);
        return value;
      });
      await db.executeQuery(CompiledQuery.raw(shape.sql, parameters));
    }
  };
}
