// A precompiled statement answers as the query builder does, on both databases, inside and outside a
// transaction, and is built once per dialect however often it runs.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dialects, freshPostgresDatabase } from '../helpers/server.js';
import { openDatabase, type Database, type OpenedDatabase } from '../../src/store/database.js';
import { migrateToLatest } from '../../src/store/migrations/index.js';
import { precompiled } from '../../src/store/precompiled.js';
import { contextualDb, SqlTransactor } from '../../src/store/stores.js';

describe.each(dialects())('precompiled statements on %s', (dialect) => {
  let opened: OpenedDatabase;
  let dir: string;
  let builds = 0;
  const tagsOf = precompiled<Database, { arn: string; key: string }, { tag_value: string }>((db, arg) => {
    builds++;
    return db.selectFrom('tags').select('tag_value').where('resource_arn', '=', arg('arn')).where('tag_key', '=', arg('key')).orderBy('tag_value');
  });

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'atrium-pre-'));
    opened = openDatabase({ sqliteFile: path.join(dir, 'atrium.db'), ...(dialect === 'postgres' ? { databaseUrl: await freshPostgresDatabase() } : {}) });
    await migrateToLatest(opened.db as never, opened.dialect);
    await opened.db
      .insertInto('tags')
      .values([
        { resource_arn: 'arn:a', tag_key: 'team', tag_value: 'red' },
        { resource_arn: 'arn:a', tag_key: 'env', tag_value: 'prod' },
        { resource_arn: 'arn:b', tag_key: 'team', tag_value: "o'brien; drop table tags" },
      ])
      .execute();
  });
  afterAll(async () => {
    await opened?.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('answers as the query builder does for every argument, compiling once', async () => {
    const cases = [
      { arn: 'arn:a', key: 'team' },
      { arn: 'arn:a', key: 'env' },
      { arn: 'arn:b', key: 'team' },
      { arn: 'arn:c', key: 'team' },
    ];
    for (const c of cases) {
      const expected = await opened.db.selectFrom('tags').select('tag_value').where('resource_arn', '=', c.arn).where('tag_key', '=', c.key).orderBy('tag_value').execute();
      expect((await tagsOf(opened.db, c)).rows).toEqual(expected);
    }
    expect((await tagsOf(opened.db, { arn: 'arn:b', key: 'team' })).rows).toEqual([{ tag_value: "o'brien; drop table tags" }]);
    expect(builds).toBe(1);
  });

  it('runs on the transaction it is given, seeing its uncommitted writes', async () => {
    await opened.db.transaction().execute(async (trx) => {
      await trx.insertInto('tags').values({ resource_arn: 'arn:tx', tag_key: 'k', tag_value: 'inside' }).execute();
      expect((await tagsOf(trx, { arn: 'arn:tx', key: 'k' })).rows).toEqual([{ tag_value: 'inside' }]);
    });
    // Through the transactor too, on the database view its stores use: the current transaction.
    const tx = new SqlTransactor(opened.db, opened.dialect);
    const seen = await tx.transaction(async (s) => {
      await s.tags.putTags('arn:unit', [{ Key: 'k', Value: 'unit' }]);
      return (await tagsOf(contextualDb(opened.db), { arn: 'arn:unit', key: 'k' })).rows;
    });
    expect(seen).toEqual([{ tag_value: 'unit' }]);
  });

  it('tells how many rows a write changed', async () => {
    const retag = precompiled<Database, { arn: string; value: string }, never>((db, arg) =>
      db.updateTable('tags').set({ tag_value: arg('value') }).where('resource_arn', '=', arg('arn')),
    );
    expect((await retag(opened.db, { arn: 'arn:a', value: 'blue' })).numAffectedRows).toBe(2n);
    expect((await retag(opened.db, { arn: 'arn:none', value: 'blue' })).numAffectedRows).toBe(0n);
    expect((await tagsOf(opened.db, { arn: 'arn:a', key: 'team' })).rows).toEqual([{ tag_value: 'blue' }]);
  });

  it('refuses to run without a value for an argument', async () => {
    await expect(tagsOf(opened.db, { arn: 'arn:a' } as never)).rejects.toThrow('no value for "key"');
  });
});
