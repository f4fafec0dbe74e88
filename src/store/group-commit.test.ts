// Group commit on a real SQLite file: units that share a COMMIT still succeed or fail alone, and
// a caller hears "done" only when its write is durable and visible to another connection.

import SqliteDatabase from 'better-sqlite3';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, type OpenedDatabase } from './database.js';
import { migrateToLatest } from './migrations/index.js';
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
});
