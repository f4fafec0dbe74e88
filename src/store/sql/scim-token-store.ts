// SQL implementation of the SCIM token store port. Slots make "at most N live tokens" a unique
// constraint: concurrent creators on PostgreSQL wait for each other's slot instead of counting.

import { sql } from 'kysely';
import type { ScimTokenRecord, ScimTokenStore } from '../../provisioning/scim-token-store.js';
import type { Database, Db, Dialect } from '../database.js';
import { precompiled } from '../precompiled.js';
import type { ScimTokensTable } from '../schema/scim.js';

const optionalNumber = (v: number | string | null) => (v === null ? null : Number(v));
const toRecord = (r: ScimTokensTable): ScimTokenRecord => ({
  tokenId: r.token_id,
  tokenHash: r.token_hash,
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
  lastUsedAt: optionalNumber(r.last_used_at),
});

// Every SCIM request runs these two: precompiled, as the query builder costs more than they do.
const findByHash = precompiled<Database, { hash: string }, ScimTokensTable>((db, arg) => db.selectFrom('scim_tokens').selectAll().where('token_hash', '=', arg('hash')));
const touch = precompiled<Database, { id: string; at: number }, never>((db, arg) =>
  db.updateTable('scim_tokens').set({ last_used_at: arg('at') }).where('token_id', '=', arg('id')).where('expires_at', '>', arg('at')),
);

/**
 * PostgreSQL advisory-lock class of "a change is made under this SCIM token" (the key is a hash of
 * the token id): shared by each change until it commits, exclusive for the token's delete. Row locks
 * alone let the delete starve: FOR KEY SHARE holders that come while it waits do not queue behind
 * it, so overlapping requests with a leaked token kept it alive, and writing, as long as they came.
 * The lock manager queues a shared request behind a waiting exclusive one.
 */
const TOKEN_LOCK_CLASS = 0x5354; // "ST"

export class SqlScimTokenStore implements ScimTokenStore {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}

  async releaseExpiredSlots(now: number): Promise<void> {
    await this.db.updateTable('scim_tokens').set({ slot: null }).where('slot', 'is not', null).where('expires_at', '<=', now).execute();
  }

  async insertTokenInFreeSlot(t: ScimTokenRecord, slots: number): Promise<boolean> {
    for (let slot = 1; slot <= slots; slot++) {
      // ON CONFLICT DO NOTHING waits for an uncommitted holder of the slot, then skips it if that
      // holder committed: two creators never share a slot, and neither transaction is aborted.
      const r = await this.db
        .insertInto('scim_tokens')
        .values({ token_id: t.tokenId, token_hash: t.tokenHash, slot, created_at: t.createdAt, expires_at: t.expiresAt, last_used_at: t.lastUsedAt })
        .onConflict((oc) => oc.column('slot').doNothing())
        .executeTakeFirst();
      if ((r.numInsertedOrUpdatedRows ?? 0n) > 0n) return true;
    }
    return false;
  }

  async findTokenByHash(tokenHash: string): Promise<ScimTokenRecord | undefined> {
    const [r] = (await findByHash(this.db, { hash: tokenHash })).rows;
    return r && toRecord(r);
  }

  async tokenActive(tokenId: string, now: number, opts: { holdUntilCommit?: boolean } = {}): Promise<boolean> {
    const q = this.db.selectFrom('scim_tokens').select('token_id').where('token_id', '=', tokenId).where('expires_at', '>', now);
    // FOR KEY SHARE: a delete waits for this transaction's commit, and one in progress is waited
    // for and then seen; the last-used mark (an UPDATE of no key) and other requests with the same
    // token do not wait, so two of them cannot deadlock. SQLite's transactions take turns whole, so
    // there it needs nothing.
    const hold = opts.holdUntilCommit && this.dialect === 'postgres';
    if (hold) await sql`select pg_advisory_xact_lock_shared(${TOKEN_LOCK_CLASS}::integer, hashtext(${tokenId}))`.execute(this.db);
    const r = await (hold ? q.forKeyShare() : q).executeTakeFirst();
    return r !== undefined;
  }

  async listTokens(): Promise<ScimTokenRecord[]> {
    return (await this.db.selectFrom('scim_tokens').selectAll().orderBy('created_at').orderBy('token_id').execute()).map(toRecord);
  }

  async deleteToken(tokenId: string): Promise<boolean> {
    // Waits for the changes under way with the token; those that come meanwhile wait for this one.
    if (this.dialect === 'postgres') await sql`select pg_advisory_xact_lock(${TOKEN_LOCK_CLASS}::integer, hashtext(${tokenId}))`.execute(this.db);
    const r = await this.db.deleteFrom('scim_tokens').where('token_id', '=', tokenId).executeTakeFirst();
    return r.numDeletedRows > 0n;
  }

  async touchToken(tokenId: string, at: number): Promise<boolean> {
    return ((await touch(this.db, { id: tokenId, at })).numAffectedRows ?? 0n) > 0n;
  }
}
