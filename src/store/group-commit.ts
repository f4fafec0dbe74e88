// Group commit for SQLite: units of work that arrive together share one transaction and one
// COMMIT, each inside its own SAVEPOINT so that it still succeeds or fails alone.
// SQLite has one writer and its commit is the dearest part of a small write; sharing it is
// what lets one process take thousands of audited writes a second.

import { sql, type Kysely } from 'kysely';

interface Unit<C> {
  run(conn: C): Promise<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** The most units one COMMIT may carry, so that no caller waits behind an unbounded batch. */
const MAX_BATCH = 64;

export class GroupCommitter<DB> {
  private readonly queue: Unit<Kysely<DB>>[] = [];
  private scheduled = false;

  constructor(private readonly db: Kysely<DB>) {}

  run<T>(fn: (conn: Kysely<DB>) => Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ run: fn, resolve: (value) => resolve(value as T), reject });
      if (!this.scheduled) {
        this.scheduled = true;
        // Wait one turn of the event loop, so that requests read in the same turn join this batch.
        setImmediate(() => void this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    try {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          await this.db.connection().execute((conn) => this.commitBatch(conn, batch));
        } catch (error) {
          // No connection (the database is closing): the batch cannot run, so its callers hear why.
          for (const unit of batch) unit.reject(error);
        }
      }
    } finally {
      this.scheduled = false;
      if (this.queue.length > 0) {
        this.scheduled = true;
        setImmediate(() => void this.drain());
      }
    }
  }

  private async commitBatch(conn: Kysely<DB>, batch: Unit<Kysely<DB>>[]): Promise<void> {
    const settled: { unit: Unit<Kysely<DB>>; ok: boolean; value: unknown }[] = [];
    try {
      await sql`begin immediate`.execute(conn);
      for (const unit of batch) {
        await sql`savepoint unit`.execute(conn);
        try {
          const value = await unit.run(conn);
          await sql`release unit`.execute(conn);
          settled.push({ unit, ok: true, value });
        } catch (error) {
          await sql`rollback to unit`.execute(conn);
          await sql`release unit`.execute(conn);
          settled.push({ unit, ok: false, value: error });
        }
      }
      await sql`commit`.execute(conn);
    } catch (error) {
      // The shared commit failed (disk full, I/O error): nothing in the batch happened.
      await sql`rollback`.execute(conn).catch(() => undefined);
      for (const unit of batch) unit.reject(error);
      return;
    }
    for (const s of settled) {
      if (s.ok) s.unit.resolve(s.value);
      else s.unit.reject(s.value);
    }
  }
}
