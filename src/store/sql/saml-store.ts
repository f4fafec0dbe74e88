// SQL implementation of federation/'s SAML store: the IdP configuration, the SP key, the one-time
// records (requests consumed by one DELETE, assertion ids inserted once) and sessions' attributes.

import type { NameIdMatch, SamlIdpConfig, SamlIdpOptions, SamlRequestRecord, SamlSpKeyRecord, SamlStore } from '../../federation/index.js';
import { DEFAULT_IDP_OPTIONS } from '../../federation/index.js';
import type { Db } from '../database.js';

const CONFIG_ID = 'default';

/** Stored options over the defaults: a row written before 0012 holds '{}'. */
function optionsOf(json: string): SamlIdpOptions {
  const stored = JSON.parse(json) as Partial<SamlIdpOptions>;
  return { ...DEFAULT_IDP_OPTIONS, ...stored, attributeMapping: { ...(stored.attributeMapping ?? DEFAULT_IDP_OPTIONS.attributeMapping) } };
}

export class SqlSamlStore implements SamlStore {
  constructor(private readonly db: Db) {}

  async findIdp(): Promise<SamlIdpConfig | undefined> {
    const r = await this.db.selectFrom('saml_idp').selectAll().where('config_id', '=', CONFIG_ID).executeTakeFirst();
    return r && { entityId: r.entity_id, metadataXml: r.metadata_xml, nameIdMatch: r.name_id_match as NameIdMatch, options: optionsOf(r.options_json), updatedAt: Number(r.updated_at) };
  }

  async saveIdp(c: SamlIdpConfig): Promise<void> {
    const values = { entity_id: c.entityId, metadata_xml: c.metadataXml, name_id_match: c.nameIdMatch, options_json: JSON.stringify(c.options), updated_at: c.updatedAt };
    await this.db
      .insertInto('saml_idp')
      .values({ config_id: CONFIG_ID, ...values })
      .onConflict((oc) => oc.column('config_id').doUpdateSet(values))
      .execute();
  }

  async listSpKeys(): Promise<SamlSpKeyRecord[]> {
    const rows = await this.db.selectFrom('saml_sp_keys').selectAll().orderBy('created_at', 'desc').orderBy('key_id', 'desc').execute();
    return rows.map((r) => ({ keyId: r.key_id, certificatePem: r.certificate_pem, sealedPrivateKey: r.sealed_private_key, createdAt: Number(r.created_at) }));
  }

  async spKeysVersion(): Promise<string> {
    const r = await this.db
      .selectFrom('saml_sp_keys')
      .select((eb) => [eb.fn.countAll<number>().as('n'), eb.fn.max('created_at').as('newest')])
      .executeTakeFirstOrThrow();
    return `${Number(r.n)}:${r.newest === null ? '' : Number(r.newest)}`;
  }

  async deleteSpKeysExcept(keepKeyId: string): Promise<string[]> {
    const rows = await this.db.deleteFrom('saml_sp_keys').where('key_id', '<>', keepKeyId).returning('key_id').execute();
    return rows.map((r) => r.key_id).sort();
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
    await this.db
      .insertInto('saml_requests')
      .values({ request_id: r.requestId, return_to: r.returnTo, browser_binding: r.browserBinding, created_at: r.createdAt, expires_at: r.expiresAt })
      .execute();
  }

  async consumeRequest(requestId: string, now: number): Promise<SamlRequestRecord | undefined> {
    // One DELETE … RETURNING: of two racers, only one deletes the row.
    const r = await this.db.deleteFrom('saml_requests').where('request_id', '=', requestId).where('expires_at', '>', now).returningAll().executeTakeFirst();
    return r && { requestId: r.request_id, returnTo: r.return_to, browserBinding: r.browser_binding, createdAt: Number(r.created_at), expiresAt: Number(r.expires_at) };
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

  async insertSessionAttributes(sessionId: string, attributes: Record<string, string>, expiresAt: number): Promise<void> {
    await this.db.insertInto('saml_session_attributes').values({ session_id: sessionId, attributes_json: JSON.stringify(attributes), expires_at: expiresAt }).execute();
  }

  async findSessionAttributes(sessionId: string, now: number): Promise<Record<string, string> | undefined> {
    const r = await this.db.selectFrom('saml_session_attributes').select('attributes_json').where('session_id', '=', sessionId).where('expires_at', '>', now).executeTakeFirst();
    return r && (JSON.parse(r.attributes_json) as Record<string, string>);
  }

  async deleteExpired(now: number): Promise<void> {
    await this.db.deleteFrom('saml_requests').where('expires_at', '<=', now).execute();
    await this.db.deleteFrom('saml_assertions').where('expires_at', '<=', now).execute();
    await this.db.deleteFrom('saml_session_attributes').where('expires_at', '<=', now).execute();
  }
}
