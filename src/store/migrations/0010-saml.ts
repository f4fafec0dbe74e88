// 0010-saml: the SAML service provider's state. One IdP configuration per instance, this instance's
// SP key (sealed), the AuthnRequests we issued (for InResponseTo), and the assertion ids seen (replay).

import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('saml_idp')
    .addColumn('config_id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('entity_id', 'varchar(1024)', (c) => c.notNull())
    .addColumn('metadata_xml', 'text', (c) => c.notNull())
    .addColumn('name_id_match', 'varchar(16)', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('saml_sp_keys')
    .addColumn('key_id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('certificate_pem', 'text', (c) => c.notNull())
    .addColumn('sealed_private_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('saml_requests')
    .addColumn('request_id', 'varchar(128)', (c) => c.primaryKey())
    .addColumn('return_to', 'varchar(2048)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('saml_requests_expiry').on('saml_requests').column('expires_at').execute();
  await db.schema
    .createTable('saml_assertions')
    // SHA-256 (hex) of the issuer and the assertion ID: ids are unique per issuer only.
    .addColumn('assertion_key', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('saml_assertions_expiry').on('saml_assertions').column('expires_at').execute();
}
