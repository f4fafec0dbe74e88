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
