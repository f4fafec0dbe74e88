// SQL implementation of the OAuth/OIDC store port (clients, grants, codes, tokens): one table, and
// single conditional statements wherever two processes could race.

import { sql } from 'kysely';
import { alreadyExists } from '../../shared/errors.js';
import type { OidcModel, OidcRecord, OidcStore } from '../../protocols/oidc/oidc-store.js';
import { isUniqueViolation, type Database, type Db, type Dialect } from '../database.js';
import { precompiledRead } from '../precompiled.js';
import type { OidcModelsTable } from '../schema/oidc.js';

const findModel = precompiledRead<Database, { model: string; id: string }, OidcModelsTable>((db, arg) =>
  db.selectFrom('oidc_models').selectAll().where('model', '=', arg('model')).where('id', '=', arg('id')),
);

/** Rows one statement of the purge deletes at most. */
const PURGE_BATCH = 1000;

const optionalNumber = (v: number | string | null) => (v === null ? null : Number(v));

function toRecord<P>(r: OidcModelsTable): OidcRecord<P> {
  return {
    model: r.model,
    id: r.id,
    payload: JSON.parse(r.payload) as P,
    grantId: r.grant_id,
    userCode: r.user_code,
    uid: r.uid,
    expiresAt: optionalNumber(r.expires_at),
    consumedAt: optionalNumber(r.consumed_at),
    createdAt: Number(r.created_at),
  };
}

export class SqlOidcStore implements OidcStore {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  insert(r: OidcRecord): Promise<void> {
    return this.write(r, false);
  }

  upsert(r: OidcRecord): Promise<void> {
    return this.write(r, true);
  }

  private async write(r: OidcRecord, replace: boolean): Promise<void> {
    const row = {
      model: r.model,
      id: r.id,
      payload: JSON.stringify(r.payload),
      grant_id: r.grantId,
      user_code: r.userCode,
      uid: r.uid,
      expires_at: r.expiresAt,
      consumed_at: r.consumedAt,
      poll_count: 0,
      created_at: r.createdAt,
    };
    try {
      const insert = this.db.insertInto('oidc_models').values(row);
      await (replace
        ? insert.onConflict((oc) =>
            oc.columns(['model', 'id']).doUpdateSet({ payload: row.payload, grant_id: row.grant_id, user_code: row.user_code, uid: row.uid, expires_at: row.expires_at }),
          )
        : insert
      ).execute();
    } catch (err) {
      if (isUniqueViolation(err)) throw alreadyExists('oidc.taken', `The ${r.model} id or user code is taken.`, { resourceType: r.model });
      throw err;
    }
  }

  async find<P>(model: OidcModel, id: string): Promise<OidcRecord<P> | undefined> {
    // Every bearer-authenticated call reads its token here: the one statement worth precompiling.
    const [r] = (await findModel(this.db, { model, id })).rows;
    return r && toRecord<P>(r);
  }

  async findForUpdate<P>(model: OidcModel, id: string): Promise<OidcRecord<P> | undefined> {
    const q = this.db.selectFrom('oidc_models').selectAll().where('model', '=', model).where('id', '=', id);
    const r = await (this.dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
    return r && toRecord<P>(r);
  }

  async findByUid<P>(model: OidcModel, uid: string): Promise<OidcRecord<P> | undefined> {
    const r = await this.db.selectFrom('oidc_models').selectAll().where('model', '=', model).where('uid', '=', uid).executeTakeFirst();
    return r && toRecord<P>(r);
  }

  async destroy(model: OidcModel, id: string): Promise<void> {
    await this.db.deleteFrom('oidc_models').where('model', '=', model).where('id', '=', id).execute();
  }

  async findByUserCode<P>(userCode: string): Promise<OidcRecord<P> | undefined> {
    const r = await this.db.selectFrom('oidc_models').selectAll().where('model', '=', 'DeviceCode').where('user_code', '=', userCode).executeTakeFirst();
    return r && toRecord<P>(r);
  }

  async consume(model: OidcModel, id: string, at: number): Promise<boolean> {
    const mark = async () =>
      (await this.db.updateTable('oidc_models').set({ consumed_at: at }).where('model', '=', model).where('id', '=', id).where('consumed_at', 'is', null).executeTakeFirst())
        .numUpdatedRows > 0n;
    // On PostgreSQL, an UPDATE that waited for a concurrent one and then finds the row no longer
    // matches still keeps it locked to the end of the transaction (the newest version is locked
    // before the condition is checked again). A loser would hold the code it did not get while it
    // revokes the family, and cross another loser revoking it in the other order. Undoing a savepoint
    // on loss lets the row go.
    if (this.dialect !== 'postgres' || !this.db.isTransaction) return mark();
    await sql`savepoint oidc_consume`.execute(this.db);
    const won = await mark();
    await sql.raw(won ? 'release savepoint oidc_consume' : 'rollback to savepoint oidc_consume').execute(this.db);
    return won;
  }

  async countPoll(id: string, at: number, intervalMs: number, burst: number): Promise<boolean> {
    // One conditional UPDATE, so that concurrent polls on many processes are counted exactly. The
    // n-th poll is allowed once (n - burst) intervals have passed: multiplication, because the
    // dialects do not agree on division.
    const dueAt = sql<number>`created_at + (poll_count + ${1 - burst}) * ${intervalMs}`;
    const r = await this.db
      .updateTable('oidc_models')
      .set((eb) => ({ poll_count: eb('poll_count', '+', 1) }))
      .where('model', '=', 'DeviceCode')
      .where('id', '=', id)
      .where(dueAt, '<=', at)
      .executeTakeFirst();
    return r.numUpdatedRows > 0n;
  }

  async revokeByGrantId(grantId: string): Promise<number> {
    // The Grant row first, then the rest of its family: the same order as oidc-provider's own
    // revocation (Grant.destroy, then each model's revokeByGrantId, in one transaction here). One
    // statement would lock the family in table order instead, and two requests revoking one family
    // at once (a device code polled twice) could then each hold what the other waits for.
    const grant = await this.db.deleteFrom('oidc_models').where('model', '=', 'Grant').where('id', '=', grantId).executeTakeFirst();
    const rest = await this.db.deleteFrom('oidc_models').where('grant_id', '=', grantId).executeTakeFirst();
    return Number(grant.numDeletedRows + rest.numDeletedRows);
  }

  async revokeBySessions(sessionIds: readonly string[]): Promise<number> {
    if (sessionIds.length === 0) return 0;
    const grants = this.db.selectFrom('oidc_models').select('grant_id').where('model', '=', 'GrantSession').where('uid', 'in', sessionIds);
    const ids = (await grants.execute()).flatMap((g) => (g.grant_id === null ? [] : [g.grant_id]));
    if (ids.length === 0) return 0;
    // Grant rows first, as revokeByGrantId does; in id order, so two of these cannot cross either.
    let n = 0n;
    for (const id of [...new Set(ids)].sort()) n += (await this.db.deleteFrom('oidc_models').where('model', '=', 'Grant').where('id', '=', id).executeTakeFirst()).numDeletedRows;
    n += (await this.db.deleteFrom('oidc_models').where('grant_id', 'in', ids).executeTakeFirst()).numDeletedRows;
    return Number(n);
  }

  async deleteExpired(before: number): Promise<number> {
    if (this.dialect !== 'postgres') {
      const r = await this.db.deleteFrom('oidc_models').where('expires_at', '<', before).executeTakeFirst();
      return Number(r.numDeletedRows);
    }
    // Rows another transaction holds (a family being revoked, in its own order) are left for the next
    // purge rather than waited for: a purge that waited, holding others in expiry order, could cross it.
    let total = 0;
    for (;;) {
      const held = this.db.selectFrom('oidc_models').select(['model', 'id']).where('expires_at', '<', before).limit(PURGE_BATCH).forUpdate().skipLocked();
      const r = await this.db
        .deleteFrom('oidc_models')
        .where((eb) => eb(eb.refTuple('model', 'id'), 'in', held.$asTuple('model', 'id')))
        .executeTakeFirst();
      total += Number(r.numDeletedRows);
      if (Number(r.numDeletedRows) < PURGE_BATCH) return total;
    }
  }
}
