// Group commit on a real SQLite file: units that share a COMMIT still succeed or fail alone, and
// a caller hears "done" only when its write is durable and visible to another connection.

import { AsyncLocalStorage } from 'node:async_hooks';
import SqliteDatabase from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { sql, type Kysely } from 'kysely';
import { controlRunnerOf, deferredSyncOf, openDatabase, statementRunnerOf, type Database, type OpenedDatabase } from './database.js';
import { GroupCommitter, type DeferredSync } from './group-commit.js';
import { migrateToLatest } from './migrations/index.js';
import { precompiled, precompiledRead } from './precompiled.js';
import { SqlTransactor } from './stores.js';

let opened: OpenedDatabase | undefined;
let dir: string | undefined;
afterEach(async () => {
  await opened?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

async function setup() {
  dir = mkdtempSync(path.join(tmpdir(), 'atrium-gc-'));
  const file = path.join(dir, 'atrium.db');
  opened = openDatabase({ sqliteFile: file });
  await migrateToLatest(opened.db as never, 'sqlite');
  return { tx: new SqlTransactor(opened.db, 'sqlite'), file };
}

const tag = (i: number) => ({ Key: `k${i}`, Value: `v${i}` });

describe('SQLite group commit', () => {
  it("runs each unit in its own caller's async context, not that of whoever opened the batch", async () => {
    const { tx } = await setup();
    const caller = new AsyncLocalStorage<string>();
    // Thirty callers in one turn: one batch, opened by the first.
    const seen = await Promise.all(Array.from({ length: 30 }, (_, i) => caller.run(`caller-${i}`, () => tx.transaction(() => Promise.resolve(caller.getStore())))));
    expect(seen).toEqual(Array.from({ length: 30 }, (_, i) => `caller-${i}`));
  });

  it('keeps each unit atomic and independent inside a shared commit', async () => {
    const { tx, file } = await setup();
    const outcomes = await Promise.allSettled(
      Array.from({ length: 30 }, (_, i) =>
        tx.transaction(async (s) => {
          await s.tags.putTags(`res-${i}`, [tag(i)]);
          // Every third unit fails after it has written: its write must vanish, and only its own.
          if (i % 3 === 0) throw new Error(`unit ${i} refused`);
          await s.tags.putTags(`res-${i}`, [tag(i + 100)]);
          return i;
        }),
      ),
    );
    expect(outcomes.filter((o) => o.status === 'rejected')).toHaveLength(10);
    const other = new SqliteDatabase(file, { readonly: true });
    try {
      const rows = other.prepare('select resource_arn, count(*) as n from tags group by resource_arn order by resource_arn').all() as { resource_arn: string; n: number }[];
      expect(rows).toHaveLength(20);
      expect(rows.every((r) => r.n === 2 && Number(r.resource_arn.slice(4)) % 3 !== 0)).toBe(true);
    } finally {
      other.close();
    }
  });

  it('answers only after the commit: another connection already sees the write', async () => {
    const { tx, file } = await setup();
    const other = new SqliteDatabase(file, { readonly: true });
    try {
      const seen = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          tx.transaction((s) => s.tags.putTags(`seen-${i}`, [tag(i)])).then(
            () => other.prepare('select count(*) as n from tags where resource_arn = ?').get(`seen-${i}`) as { n: number },
          ),
        ),
      );
      expect(seen.map((r) => r.n)).toEqual(Array(10).fill(1));
    } finally {
      other.close();
    }
  });

  it('lets a transaction inside a transaction join it, so both commit or neither does', async () => {
    const { tx } = await setup();
    await expect(
      tx.transaction(async (s) => {
        await s.tags.putTags('outer', [tag(1)]);
        await tx.transaction((inner) => inner.tags.putTags('inner', [tag(2)]));
        throw new Error('outer refused');
      }),
    ).rejects.toThrow('outer refused');
    const rows = await tx.transaction((s) => Promise.all([s.tags.listTags('outer'), s.tags.listTags('inner')]));
    expect(rows).toEqual([[], []]);
  });

  it('undoes a lone unit that fails without a savepoint, and the next one commits', async () => {
    const { tx, file } = await setup();
    // One at a time, so that each unit is alone in its batch.
    await expect(
      tx.transaction(async (s) => {
        await s.tags.putTags('lone', [tag(1)]);
        throw new Error('lone refused');
      }),
    ).rejects.toThrow('lone refused');
    await tx.transaction((s) => s.tags.putTags('after', [tag(2)]));
    const other = new SqliteDatabase(file, { readonly: true });
    try {
      const rows = other.prepare('select resource_arn from tags order by resource_arn').all() as { resource_arn: string }[];
      expect(rows.map((r) => r.resource_arn)).toEqual(['after']);
    } finally {
      other.close();
    }
  });

  it('tells no caller "done" before the WAL sync it waits for has finished (a held sync stands in for a slow disk)', async () => {
    const { file } = await setup();
    const real = deferredSyncOf(opened!.db)!;
    let release: () => void = () => undefined;
    let flushes = 0;
    const held: DeferredSync = {
      defer: () => real.defer(),
      restore: () => real.restore(),
      flush: () => {
        flushes++;
        return new Promise<void>((resolve) => (release = () => void real.flush().then(resolve)));
      },
    };
    const committer = new GroupCommitter(opened!.db, controlRunnerOf(opened!.db), held);
    let done = false;
    const write = committer.run((conn) => new SqlTransactorProbe(conn).put('held')).then(() => (done = true));
    await new Promise((r) => setTimeout(r, 50));
    // Committed and visible to another connection, but not yet acknowledged.
    const other = new SqliteDatabase(file, { readonly: true });
    try {
      expect(other.prepare('select count(*) as n from tags where resource_arn = ?').get('held')).toEqual({ n: 1 });
    } finally {
      other.close();
    }
    expect(done).toBe(false);
    expect(flushes).toBe(1);
    release();
    await write;
    expect(done).toBe(true);
    // Statements outside group commit wait for the disk again.
    expect(await sql<{ synchronous: number }>`pragma synchronous`.execute(opened!.db).then((r) => r.rows[0]?.synchronous)).toBe(2);
  });

  it("runs a unit's after-commit hook as soon as its COMMIT is done, before the WAL sync it waits for (a held sync stands in for a slow disk)", async () => {
    const { file } = await setup();
    const real = deferredSyncOf(opened!.db)!;
    let release: () => void = () => undefined;
    const held: DeferredSync = {
      defer: () => real.defer(),
      restore: () => real.restore(),
      flush: () => new Promise<void>((resolve) => (release = () => void real.flush().then(resolve))),
    };
    const committer = new GroupCommitter(opened!.db, controlRunnerOf(opened!.db), held);
    let hooked = false;
    let done = false;
    const write = committer.run((conn) => new SqlTransactorProbe(conn).put('hooked'), () => (hooked = true)).then(() => (done = true));
    // A failing unit in the same batch: its hook never runs.
    let failedHooked = false;
    const failing = committer.run(() => Promise.reject(new Error('refused')), () => (failedHooked = true)).catch((e: unknown) => e);
    await new Promise((r) => setTimeout(r, 50));
    // Readable from another connection: the hook has run, though the caller has not been answered.
    const other = new SqliteDatabase(file, { readonly: true });
    try {
      expect(other.prepare('select count(*) as n from tags where resource_arn = ?').get('hooked')).toEqual({ n: 1 });
    } finally {
      other.close();
    }
    expect(hooked).toBe(true);
    expect(done).toBe(false);
    release();
    await write;
    expect(await failing).toMatchObject({ message: 'refused' });
    expect(failedHooked).toBe(false);
  });

  it('rejects every caller of a batch whose WAL sync failed (a failing sync stands in for a disk error)', async () => {
    await setup();
    const real = deferredSyncOf(opened!.db)!;
    const failing: DeferredSync = { defer: () => real.defer(), restore: () => real.restore(), flush: () => Promise.reject(new Error('EIO: disk gone')) };
    const committer = new GroupCommitter(opened!.db, controlRunnerOf(opened!.db), failing);
    const outcomes = await Promise.allSettled([1, 2, 3].map((i) => committer.run((conn) => new SqlTransactorProbe(conn).put(`fail-${i}`))));
    expect(outcomes.map((o) => o.status)).toEqual(['rejected', 'rejected', 'rejected']);
  });

  it('acknowledges every write of batches that commit while an earlier sync is still running', async () => {
    const { tx, file } = await setup();
    // Arriving over several turns of the event loop: several batches, whose syncs overlap.
    const results = await Promise.all(
      Array.from({ length: 200 }, (_, i) =>
        new Promise((r) => setTimeout(r, i % 20)).then(() => tx.transaction((s) => s.tags.putTags(`many-${i}`, [tag(i)]).then(() => i))),
      ),
    );
    expect(results).toEqual(Array.from({ length: 200 }, (_, i) => i));
    const other = new SqliteDatabase(file, { readonly: true });
    try {
      expect(other.prepare("select count(*) as n from tags where resource_arn like 'many-%'").get()).toEqual({ n: 200 });
    } finally {
      other.close();
    }
  });
});

const insertTag = precompiled<Database, { arn: string }, never>((db, arg) => db.insertInto('tags').values({ resource_arn: arg('arn'), tag_key: 'k', tag_value: 'v' }));
const countTags = precompiledRead<Database, { arn: string }, { n: number }>((db, arg) =>
  db.selectFrom('tags').select((eb) => eb.fn.countAll<number>().as('n')).where('resource_arn', '=', arg('arn')),
);

describe('SQLite group commit: precompiled statements and syncs', () => {
  it('keeps units atomic when their precompiled statements run straight on the connection the batch holds', async () => {
    const { file } = await setup();
    const committer = new GroupCommitter(opened!.db, controlRunnerOf(opened!.db), deferredSyncOf(opened!.db), statementRunnerOf(opened!.db));
    const results = await Promise.allSettled(
      Array.from({ length: 12 }, (_, i) =>
        committer.run(async (conn) => {
          await insertTag(conn, { arn: `pre-${i}` });
          // Inside the unit, a read sees the unit's own write.
          const [seen] = (await countTags(conn, { arn: `pre-${i}` })).rows;
          if (i % 4 === 0) throw new Error(`unit ${i} refused`);
          return seen?.n;
        }),
      ),
    );
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : 'refused'))).toEqual(Array.from({ length: 12 }, (_, i) => (i % 4 === 0 ? 'refused' : 1)));
    const other = new SqliteDatabase(file, { readonly: true });
    try {
      const rows = other.prepare("select resource_arn from tags where resource_arn like 'pre-%' order by resource_arn").all() as { resource_arn: string }[];
      expect(rows.map((r) => r.resource_arn).sort()).toEqual(Array.from({ length: 12 }, (_, i) => i).filter((i) => i % 4 !== 0).map((i) => `pre-${i}`).sort());
    } finally {
      other.close();
    }
    // Outside any transaction, the read sees what is committed.
    expect((await countTags(opened!.db, { arn: 'pre-1' })).rows).toEqual([{ n: 1 }]);
    expect((await countTags(opened!.db, { arn: 'pre-0' })).rows).toEqual([{ n: 0 }]);
  });

  it('holds units that arrive during a WAL sync, and commits them together when it ends', async () => {
    const { file } = await setup();
    const real = deferredSyncOf(opened!.db)!;
    const releases: (() => void)[] = [];
    let running: Promise<void> | undefined;
    const held: DeferredSync = {
      defer: () => real.defer(),
      restore: () => real.restore(),
      flush: () => {
        running = new Promise<void>((resolve) => releases.push(() => void real.flush().then(resolve))).finally(() => (running = undefined));
        return running;
      },
      inFlight: () => running,
    };
    const committer = new GroupCommitter(opened!.db, controlRunnerOf(opened!.db), held);
    const visible = () => {
      const other = new SqliteDatabase(file, { readonly: true });
      try {
        return (other.prepare("select resource_arn from tags where resource_arn like 'held-%'").all() as { resource_arn: string }[]).map((r) => r.resource_arn).sort();
      } finally {
        other.close();
      }
    };
    const first = committer.run((conn) => new SqlTransactorProbe(conn).put('held-0'));
    await new Promise((r) => setTimeout(r, 30));
    expect(visible()).toEqual(['held-0']);
    const later = [1, 2, 3].map((i) => committer.run((conn) => new SqlTransactorProbe(conn).put(`held-${i}`)));
    await new Promise((r) => setTimeout(r, 30));
    // Not committed while the first sync runs: they would wait for the next one anyway.
    expect(visible()).toEqual(['held-0']);
    releases.shift()!();
    await first;
    await new Promise((r) => setTimeout(r, 30));
    expect(visible()).toEqual(['held-0', 'held-1', 'held-2', 'held-3']);
    // One COMMIT, one sync for the three.
    expect(releases).toHaveLength(1);
    releases.shift()!();
    await Promise.all(later);
  });

  it('answers a write that cannot get the lock in time as retryable (unavailable), with nothing written, and serves the retry', async () => {
    const { tx, file } = await setup();
    // Another process holds the write lock past this connection's busy timeout (shortened here from 5 s).
    await sql`pragma busy_timeout = 50`.execute(opened!.db);
    const other = new SqliteDatabase(file);
    try {
      other.exec('begin immediate');
      const refused = await tx.transaction((s) => s.tags.putTags('busy-0', [tag(0)])).catch((err: unknown) => err);
      expect(refused).toMatchObject({ name: 'DomainError', kind: 'unavailable', code: 'store.busy' });
      other.exec('rollback');
      expect(other.prepare("select count(*) as n from tags where resource_arn = 'busy-0'").get()).toEqual({ n: 0 });
      // The same write, retried once the lock is free, goes through.
      await tx.transaction((s) => s.tags.putTags('busy-0', [tag(0)]));
      expect(other.prepare("select count(*) as n from tags where resource_arn = 'busy-0'").get()).toEqual({ n: 1 });
    } finally {
      other.close();
    }
  });
});

/** Writes one tag row on a connection, as a unit of work does. */
class SqlTransactorProbe {
  constructor(private readonly conn: Kysely<Database>) {}
  put(resource: string): Promise<unknown> {
    return this.conn.insertInto('tags').values({ resource_arn: resource, tag_key: 'k', tag_value: 'v' }).execute();
  }
}
