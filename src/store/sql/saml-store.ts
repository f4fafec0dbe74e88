// SQL implementation of federation/'s SAML store: the IdP configuration, the SP key, and the
// one-time records (requests consumed by one DELETE, assertion ids inserted once).

import type { NameIdMatch, SamlIdpConfig, SamlRequestRecord, SamlSpKeyRecord, SamlStore } from '../../federation/index.js';
import type { Db } from '../database.js';

const CONFIG_ID = 'default';

export class SqlSamlStore implements SamlStore {
  constructor(private readonly db: Db) {}

  async findIdp(): Promise<SamlIdpConfig | undefined> {
    const r = await this.db.selectFrom('saml_idp').selectAll().where('config_id', '=', CONFIG_ID).executeTakeFirst();
    return r && { entityId: r.entity_id, metadataXml: r.metadata_xml, nameIdMatch: r.name_id_match as NameIdMatch, updatedAt: Number(r.updated_at) };
  }

  async saveIdp(c: SamlIdpConfig): Promise<void> {
    const values = { entity_id: c.entityId, metadata_xml: c.metadataXml, name_id_match: c.nameIdMatch, updated_at: c.updatedAt };
    await this.db
      .insertInto('saml_idp')
      .values({ config_id: CONFIG_ID, ...values })
      .onConflict((oc) => oc.column('config_id').doUpdateSet(values))
      .execute();
  }

  async findSpKey(): Promise<SamlSpKeyRecord | undefined> {
    const r = await this.db.selectFrom('saml_sp_keys').selectAll().orderBy('created_at').executeTakeFirst();
    return r && { keyId: r.key_id, certificatePem: r.certificate_pem, sealedPrivateKey: r.sealed_private_key, createdAt: Number(r.created_at) };
  }

  async insertSpKey(k: SamlSpKeyRecord): Promise<boolean> {
    const r = await this.db
      .insertInto('saml_sp_keys')
      .values({ key_id: k.keyId, certificate_pem: k.certificatePem, sealed_private_key: k.sealedPrivateKey, created_at: k.createdAt })
      .onConflict((oc) => oc.column('key_id').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async insertRequest(r: SamlRequestRecord): Promise<void> {
    await this.db.insertInto('saml_requests').values({ request_id: r.requestId, return_to: r.returnTo, created_at: r.createdAt, expires_at: r.expiresAt }).execute();
  }

  async consumeRequest(requestId: string, now: number): Promise<SamlRequestRecord | undefined> {
    // One DELETE … RETURNING: of two racers, only one deletes the row.
    const r = await this.db.deleteFrom('saml_requests').where('request_id', '=', requestId).where('expires_at', '>', now).returningAll().executeTakeFirst();
    return r && { requestId: r.request_id, returnTo: r.return_to, createdAt: Number(r.created_at), expiresAt: Number(r.expires_at) };
  }

  async recordAssertion(assertionKey: string, expiresAt: number): Promise<boolean> {
    // ON CONFLICT DO NOTHING: a duplicate must not abort the PostgreSQL transaction it runs in.
    const r = await this.db
      .insertInto('saml_assertions')
      .values({ assertion_key: assertionKey, expires_at: expiresAt })
      .onConflict((oc) => oc.column('assertion_key').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) > 0;
  }

  async deleteExpired(now: number): Promise<void> {
    await this.db.deleteFrom('saml_requests').where('expires_at', '<=', now).execute();
    await this.db.deleteFrom('saml_assertions').where('expires_at', '<=', now).execute();
  }
}
