// Two requests revoking one token family at once: a device code polled several times at once, where
// one loser's oidc-provider revokes the family (Grant first, then each model) while another loser's
// adapter revokes it after losing the consume. On PostgreSQL, rows are locked one by one, so the two
// must take them in the same order, or each holds a row the other waits for and one is killed as a
// deadlock victim (a 500 to an AWS CLI that asked for a token). SQLite runs one writer at a time; the
// test runs there too, as the same sequence of calls.

import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { OidcRecord } from '../../src/protocols/oidc/oidc-store.js';
import { contextualDb } from '../../src/store/stores.js';
import { dialects, startServer, type TestServer } from '../helpers/server.js';

describe.each(dialects())('revoking one token family twice at once on %s', (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(dialect);
  });
  afterAll(async () => {
    await server?.close();
  });

  const record = (model: string, id: string, grantId: string): OidcRecord => ({
    model,
    id,
    payload: { kind: model },
    grantId,
    userCode: null,
    uid: null,
    expiresAt: Date.now() + 600_000,
    consumedAt: null,
    createdAt: Date.now(),
  });

  /** A point one transaction waits at until the test opens it. */
  const gate = () => {
    let open!: () => void;
    const opened = new Promise<void>((r) => (open = r));
    return { open, opened };
  };

  /** Whether another connection waits for a row lock on oidc_models (PostgreSQL only). */
  async function someoneWaits(): Promise<boolean> {
    const { rows } = await sql<{ n: string }>`select count(*) as n from pg_stat_activity
      where wait_event_type = 'Lock' and query like '%oidc_models%' and datname = current_database()`.execute(server.reg.database.db);
    return Number(rows[0]!.n) > 0;
  }

  /** Resolves once another connection waits for a row lock, or `p` (when given) settles. */
  async function someoneWaitsForARow(p?: Promise<unknown>): Promise<void> {
    let settled = false;
    void p?.then(
      () => (settled = true),
      () => (settled = true),
    );
    for (let i = 0; i < 200; i++) {
      if (settled || (await someoneWaits())) return;
      await new Promise((r) => setTimeout(r, 25));
    }
    throw new Error('nothing ever waited for the row');
  }

  it('lets both finish, with the family gone, whichever locks the grant first', async () => {
    const reg = server.reg;
    const grantId = `grant-${dialect}-${Date.now()}`;
    // The device code is written before its grant, as in the device flow: it comes first in the table.
    await reg.tx.transaction(async (s) => {
      await s.oidc.upsert(record('DeviceCode', `dc-${grantId}`, grantId));
      await s.oidc.upsert(record('Grant', grantId, grantId));
    });

    const grantLocked = gate();
    const go = gate();
    // oidc-provider's order: the grant, then each model's family.
    const provider = reg.tx.transaction(async (s) => {
      await s.oidc.destroy('Grant', grantId);
      grantLocked.open();
      await go.opened;
      await s.oidc.revokeByGrantId(grantId);
    });
    await grantLocked.opened;
    // The adapter's, after losing the consume: the whole family.
    const adapter = reg.tx.transaction((s) => s.oidc.revokeByGrantId(grantId));
    if (dialect === 'postgres') await someoneWaitsForARow();
    go.open();

    const outcomes = await Promise.allSettled([provider, adapter]);
    expect(outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'done'))).toEqual(['done', 'done']);
    expect(await reg.database.db.selectFrom('oidc_models').select('model').where('grant_id', '=', grantId).execute()).toEqual([]);
  });

  it('lets a request that lost the race for a device code revoke its family while another revokes it too', async () => {
    const reg = server.reg;
    const grantId = `grant-lost-${dialect}-${Date.now()}`;
    const code = `dc-${grantId}`;
    await reg.tx.transaction(async (s) => {
      await s.oidc.upsert(record('DeviceCode', code, grantId));
      await s.oidc.upsert(record('Grant', grantId, grantId));
    });
    const winnerConsumed = gate();
    const winnerGoes = gate();
    const loserGoes = gate();
    let loserConsumed!: (won: boolean) => void;
    const loserResult = new Promise<boolean>((r) => (loserConsumed = r));

    // The winner consumes the code and is still issuing tokens when the loser tries.
    const winner = reg.tx.transaction(async (s) => {
      expect(await s.oidc.consume('DeviceCode', code, Date.now())).toBe(true);
      winnerConsumed.open();
      await winnerGoes.opened;
    });
    await winnerConsumed.opened;
    const loser = reg.tx.transaction(async (s) => {
      loserConsumed(await s.oidc.consume('DeviceCode', code, Date.now()));
      await loserGoes.opened;
      // The adapter's answer to a lost race: the family goes.
      await s.oidc.revokeByGrantId(grantId);
    });
    if (dialect === 'postgres') await someoneWaitsForARow();
    winnerGoes.open();
    await winner;
    expect(await loserResult).toBe(false);
    // Another loser, whose oidc-provider saw the code consumed, revokes the family its way.
    const other = reg.tx.transaction(async (s) => {
      await s.oidc.destroy('Grant', grantId);
      await s.oidc.revokeByGrantId(grantId);
    });
    if (dialect === 'postgres') await someoneWaitsForARow(other);
    loserGoes.open();

    const outcomes = await Promise.allSettled([loser, other]);
    expect(outcomes.map((o) => (o.status === 'rejected' ? String(o.reason) : 'done'))).toEqual(['done', 'done']);
    expect(await reg.database.db.selectFrom('oidc_models').select('model').where('grant_id', '=', grantId).execute()).toEqual([]);
  });

  // Skipped on SQLite: one writer at a time there, so the purge waits for the write lock by design.
  it.skipIf(dialect === 'sqlite')('purges expired rows without waiting for those a revocation holds, which it could otherwise cross', async () => {
    const reg = server.reg;
    const grantId = `grant-purge-${Date.now()}`;
    const expired = (model: string, id: string) => ({ ...record(model, id, grantId), expiresAt: Date.now() - 3 * 86_400_000 });
    await reg.tx.transaction(async (s) => {
      await s.oidc.upsert(expired('DeviceCode', `dc-${grantId}`));
      await s.oidc.upsert(expired('Grant', grantId));
      await s.oidc.upsert(expired('AccessToken', `at-${grantId}`));
    });
    const holding = gate();
    const released = gate();
    // A revocation under way: it holds the grant's row.
    const revocation = reg.tx.transaction(async (s) => {
      await s.oidc.destroy('Grant', grantId);
      holding.open();
      await released.opened;
    });
    await holding.opened;
    const purge = reg.tx.transaction((s) => s.oidc.deleteExpired(Date.now() - 86_400_000));
    const waited = await someoneWaitsForARow(purge)
      .then(someoneWaits)
      .finally(released.open);
    expect(waited).toBe(false);
    expect(await purge).toBeGreaterThanOrEqual(2);
    await revocation;
    expect(await reg.database.db.selectFrom('oidc_models').select('model').where('grant_id', '=', grantId).execute()).toEqual([]);
  });

  // Skipped on SQLite: it takes the write lock at BEGIN, so a statement inside a running transaction
  // is never refused as busy there.
  it.skipIf(dialect === 'sqlite')('hands a deadlock met inside a joined transaction to the code around it as "busy, retry", not as a fault', async () => {
    const reg = server.reg;
    let seenInside: unknown;
    const victim = reg.tx.transaction(async () => {
      try {
        // Joined, as oidc-provider's adapter joins the token request's transaction.
        await reg.tx.transaction(() => sql`do $$ begin raise exception 'chosen as the victim' using errcode = '40P01'; end $$`.execute(contextualDb(reg.database.db)));
      } catch (err) {
        seenInside = err;
        throw err;
      }
    });
    await expect(victim).rejects.toMatchObject({ kind: 'unavailable', code: 'store.busy' });
    expect(seenInside).toMatchObject({ kind: 'unavailable', code: 'store.busy' });
  });
});
