// Group commit for SQLite: units of work that arrive together share one transaction and one
// COMMIT, each inside its own SAVEPOINT so that it still succeeds or fails alone.
// SQLite has one writer and its commit is the dearest part of a small write; sharing it is
// what lets one process take thousands of audited writes a second.
//
// With a DeferredSync, the COMMIT itself does not wait for the disk: the WAL is synced on the
// thread pool afterwards, while the event loop serves other requests, and the batch's callers hear
// "done" only once that sync has finished. One sync covers every batch committed before it started;
// the next batch gathers while it runs, and commits when it ends.

import { AsyncResource } from 'node:async_hooks';
import { sql, type Kysely } from 'kysely';
import { runDirectlyWhileHeld, type DirectRunner } from './precompiled.js';
import type { WriteGate } from './write-gate.js';

interface Unit<C> {
  run(conn: C): Promise<unknown>;
  /** Called as soon as the unit's COMMIT is done, before the WAL sync: its writes are visible from then on. */
  committed?: () => void;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** The statements that frame a batch; none takes a parameter. */
export type ControlStatement = 'begin immediate' | 'savepoint unit' | 'release unit' | 'rollback to unit' | 'commit' | 'rollback';

/**
 * Runs a control statement on the connection that the batch holds. Given by the database when it
 * can run them directly on the driver: they are a third of a lone unit's statements, and each one
 * through the query builder costs more than SQLite takes to run it.
 */
export type RunControl = (statement: ControlStatement) => void;

/** How a database lets COMMIT skip its disk sync and syncs later, off the event loop. */
export interface DeferredSync {
  /** Before BEGIN: the next COMMIT does not wait for the disk. */
  defer(): void;
  /** After COMMIT or ROLLBACK: statements outside group commit wait for the disk again. */
  restore(): void;
  /** Resolves once everything committed before the call is on disk. */
  flush(): Promise<void>;
  /** The sync on its way to the disk, if one is. */
  inFlight?(): Promise<void> | undefined;
}

/** The most units one COMMIT may carry, so that no caller waits behind an unbounded batch. */
const MAX_BATCH = 64;

export class GroupCommitter<DB> {
  private readonly queue: Unit<Kysely<DB>>[] = [];
  private scheduled = false;

  constructor(
    private readonly db: Kysely<DB>,
    private readonly runControl?: RunControl,
    private readonly deferredSync?: DeferredSync,
    /** Runs a precompiled statement on the connection the batch holds, skipping the query executor. */
    private readonly runStatement?: DirectRunner,
    /** Taken before BEGIN and let go after COMMIT or ROLLBACK: this process's other writing thread waits its turn there, not in SQLite's busy handler. */
    private readonly gate?: WriteGate,
  ) {}

  /**
   * Run `fn` in the next batch. `onCommitted` runs right after the batch's COMMIT, before the WAL
   * sync and before the caller is answered: what the unit wrote is readable from that moment, so
   * in-memory state that must agree with it (the count of local revocations) moves then too.
   */
  run<T>(fn: (conn: Kysely<DB>) => Promise<T>, onCommitted?: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      // A unit runs inside the batch, which another caller may have started: run in its own
      // caller's async context, it sees that caller's AsyncLocalStorage values (who is asking, for
      // the audit events it writes), never those of whoever opened the batch. (A resource and
      // runInAsyncScope cost under 1 µs; AsyncResource.bind costs about 30 µs a call on Node 20.)
      const caller = new AsyncResource('atrium.group-commit-unit');
      this.queue.push({ run: (conn) => caller.runInAsyncScope(fn, undefined, conn), committed: onCommitted, resolve: (value) => resolve(value as T), reject });
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
        // A unit committed while a sync runs is acknowledged only after the next sync, which cannot
        // start before this one ends: committing it now would not answer it sooner. Waiting lets the
        // units that arrive meanwhile share one COMMIT (a COMMIT costs the event loop more than all
        // the statements of a small unit), and the next sync starts as soon as they are in.
        const syncing = this.deferredSync?.inFlight?.();
        if (syncing) await syncing.catch(() => undefined);
        const batch = this.queue.splice(0, MAX_BATCH);
        try {
          await this.db.connection().execute(async (conn) => {
            const release = this.runStatement && runDirectlyWhileHeld(conn as unknown as Kysely<never>, this.runStatement);
            try {
              await this.commitBatch(conn, batch);
            } finally {
              release?.();
            }
          });
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

  private async control(conn: Kysely<DB>, statement: ControlStatement): Promise<void> {
    if (this.runControl) this.runControl(statement);
    else await sql.raw(statement).execute(conn);
  }

  private async commitBatch(conn: Kysely<DB>, batch: Unit<Kysely<DB>>[]): Promise<void> {
    if (this.gate) await this.gate.enter();
    try {
      await this.commitBatchHoldingGate(conn, batch);
    } finally {
      this.gate?.leave();
    }
  }

  private async commitBatchHoldingGate(conn: Kysely<DB>, batch: Unit<Kysely<DB>>[]): Promise<void> {
    const settled: { unit: Unit<Kysely<DB>>; ok: boolean; value: unknown }[] = [];
    // A lone unit needs no savepoint: if it fails, rolling back the transaction undoes only it.
    const alone = batch.length === 1;
    this.deferredSync?.defer();
    try {
      await this.control(conn, 'begin immediate');
      for (const unit of batch) {
        if (!alone) await this.control(conn, 'savepoint unit');
        try {
          const value = await unit.run(conn);
          if (!alone) await this.control(conn, 'release unit');
          settled.push({ unit, ok: true, value });
        } catch (error) {
          if (alone) {
            await this.control(conn, 'rollback').catch(() => undefined);
            this.deferredSync?.restore();
            unit.reject(error);
            return;
          }
          await this.control(conn, 'rollback to unit');
          await this.control(conn, 'release unit');
          settled.push({ unit, ok: false, value: error });
        }
      }
      await this.control(conn, 'commit');
    } catch (error) {
      // The shared commit failed (disk full, I/O error): nothing in the batch happened.
      await this.control(conn, 'rollback').catch(() => undefined);
      this.deferredSync?.restore();
      for (const unit of batch) unit.reject(error);
      return;
    }
    this.deferredSync?.restore();
    for (const s of settled) {
      try {
        if (s.ok) s.unit.committed?.();
      } catch {
        // A hook that throws is a bug of its own; the batch stays committed and answered.
      }
    }
    const settle = () => {
      for (const s of settled) {
        if (s.ok) s.unit.resolve(s.value);
        else s.unit.reject(s.value);
      }
    };
    if (!this.deferredSync) return settle();
    // Not awaited: the next batch may run while this one's sync is on the disk.
    this.deferredSync.flush().then(settle, (error: unknown) => {
      // Committed and visible, but perhaps not durable: no caller is told it succeeded.
      for (const s of settled) s.unit.reject(error);
    });
  }
}
