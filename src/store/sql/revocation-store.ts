// SQL implementation of the credentials module's revocation port: revocation marks and service keys.

import type { RevocationMark, RevocationStore } from '../../credentials/index.js';
import type { Db, Dialect } from '../database.js';

const INSERT_CHUNK = 500;

export class SqlRevocationStore implements RevocationStore {
  constructor(
    private readonly db: Db,
    // Kept for the shape every store shares; both statements here are portable.
    readonly dialect: Dialect,
  ) {}

  async insertRevocations(subjectKeys: string[], notBefore: number): Promise<void> {
    // In chunks: both dialects cap the parameters of one statement.
    for (let i = 0; i < subjectKeys.length; i += INSERT_CHUNK) {
      const rows = subjectKeys.slice(i, i + INSERT_CHUNK).map((subject_key) => ({ subject_key, not_before: notBefore }));
      await this.db.insertInto('revocations').values(rows).execute();
    }
  }

  async deleteRevocationsBefore(notBefore: number): Promise<void> {
    await this.db.deleteFrom('revocations').where('not_before', '<', notBefore).execute();
  }

  async listRevocationsSince(afterSeq: number, notBeforeAfter: number): Promise<RevocationMark[]> {
    const rows = await this.db
      .selectFrom('revocations')
      .select(['seq', 'subject_key', 'not_before'])
      .where('seq', '>', afterSeq)
      .where('not_before', '>', notBeforeAfter)
      .orderBy('seq')
      .execute();
    return rows.map((r) => ({ seq: Number(r.seq), subjectKey: r.subject_key, notBefore: Number(r.not_before) }));
  }

  async findServiceKey(name: string): Promise<string | undefined> {
    const r = await this.db.selectFrom('service_keys').select('sealed_key').where('name', '=', name).executeTakeFirst();
    return r?.sealed_key;
  }

  async insertServiceKeyIfAbsent(name: string, sealedKey: string, now: number): Promise<void> {
    await this.db
      .insertInto('service_keys')
      .values({ name, sealed_key: sealedKey, created_at: now })
      .onConflict((oc) => oc.column('name').doNothing())
      .execute();
  }
}
