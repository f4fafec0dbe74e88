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
  // Keyed by the dialect's adapter class: one compilation per dialect, whichever connection runs it.
  const byDialect = new Map<unknown, Compiled>();
  return async (db, args) => {
    const dialectKey = db.getExecutor().adapter.constructor;
    let compiled = byDialect.get(dialectKey);
    if (!compiled) {
      compiled = build(db, (name) => new Slot(name) as never).compile();
      byDialect.set(dialectKey, compiled);
    }
    const parameters = compiled.parameters.map((p) => {
      if (!(p instanceof Slot)) return p;
      const value = args[p.name];
      if (value === undefined) throw new Error(`precompiled statement: no value for "${p.name}"`);
      return value;
    });
    return db.executeQuery<R>(CompiledQuery.raw(compiled.sql, parameters));
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
  const byCount = new Map<number, (db: Kysely<DB>, args: Record<string, unknown>) => Promise<unknown>>();
  const statementFor = (count: number) => {
    let statement = byCount.get(count);
    if (!statement) {
      statement = precompiled<DB, Record<string, unknown>, unknown>((db, arg) =>
        build(db, Array.from({ length: count }, (_, i) => Object.fromEntries(columns.map((c) => [c, arg(`${i}.${c}`)])) as unknown as Row)),
      );
      byCount.set(count, statement);
    }
    return statement;
  };
  return async (db, rows) => {
    for (let from = 0; from < rows.length; from += rowsPerStatement) {
      const chunk = rows.slice(from, from + rowsPerStatement);
      const args: Record<string, unknown> = {};
      chunk.forEach((row, i) => {
        for (const c of columns) args[`${i}.${c}`] = (row as Record<string, unknown>)[c];
      });
      await statementFor(chunk.length)(db, args);
    }
  };
}
