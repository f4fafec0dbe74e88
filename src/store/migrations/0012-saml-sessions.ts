// 0012-saml-sessions: the IdP configuration's options (IdP-initiated sign-in, attribute mapping),
// the browser each AuthnRequest was issued to (login CSRF), and the principal attributes of SAML sessions.

import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  // JSON: { allowIdpInitiated, attributeMapping }; '{}' reads as the defaults.
  await db.schema.alterTable('saml_idp').addColumn('options_json', 'text', (c) => c.notNull().defaultTo('{}')).execute();
  // SHA-256 (hex) of the binding cookie of the browser that started the sign-in.
  await db.schema.alterTable('saml_requests').addColumn('browser_binding', 'varchar(64)', (c) => c.notNull().defaultTo('')).execute();
  await db.schema
    .createTable('saml_session_attributes')
    // The portal session's id (auth/'s sessions table); kept apart so that auth/ needs no change.
    .addColumn('session_id', 'varchar(64)', (c) => c.primaryKey())
    // JSON object: principal tag key → value, from the assertion's attributes.
    .addColumn('attributes_json', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('saml_session_attributes_expiry').on('saml_session_attributes').column('expires_at').execute();
}
