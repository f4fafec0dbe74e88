// 0014-mfa: MFA devices (TOTP, WebAuthn), one-shot MFA challenges, the sign-in flows waiting for a
// second factor, and the key that signs remembered browsers (issue 5). Devices go with their user.

import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  const userFk = ['identity_store_id', 'user_id'] as const;
  await db.schema
    .createTable('mfa_devices')
    .addColumn('device_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('identity_store_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
    // 1..8 under a unique index: two concurrent registrations cannot both take the last slot.
    .addColumn('slot', 'integer', (c) => c.notNull())
    .addColumn('name', 'varchar(64)', (c) => c.notNull())
    .addColumn('type', 'varchar(16)', (c) => c.notNull())
    // TOTP: the seed sealed by the envelope (AAD: the device id) and the last time step accepted.
    .addColumn('secret', 'text')
    .addColumn('last_step', 'bigint')
    // WebAuthn: the credential (base64url id and COSE public key), its counter and transports.
    .addColumn('credential_id', 'varchar(1400)')
    .addColumn('public_key', 'text')
    .addColumn('sign_count', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('transports', 'text')
    .addColumn('discoverable', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('last_used_at', 'bigint')
    .addForeignKeyConstraint('mfa_devices_user_fk', [...userFk], 'directory_users', [...userFk], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('mfa_devices_slot').unique().on('mfa_devices').columns([...userFk, 'slot']).execute();
  await db.schema.createIndex('mfa_devices_name').unique().on('mfa_devices').columns([...userFk, 'name']).execute();
  await db.schema.createIndex('mfa_devices_credential').unique().on('mfa_devices').column('credential_id').execute();

  await db.schema
    .createTable('mfa_challenges')
    .addColumn('challenge_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('purpose', 'varchar(32)', (c) => c.notNull())
    .addColumn('identity_store_id', 'varchar(64)')
    .addColumn('user_id', 'varchar(64)')
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('mfa_challenges_expiry').on('mfa_challenges').column('expires_at').execute();

  await db.schema
    .createTable('mfa_signin_flows')
    .addColumn('flow_id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('token_hash', 'varchar(64)', (c) => c.notNull())
    .addColumn('identity_store_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('user_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('user_name', 'text', (c) => c.notNull())
    .addColumn('must_change_password', 'integer', (c) => c.notNull())
    .addColumn('state', 'varchar(16)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addForeignKeyConstraint('mfa_signin_flows_user_fk', [...userFk], 'directory_users', [...userFk], (fk) => fk.onDelete('cascade'))
    .execute();
  await db.schema.createIndex('mfa_signin_flows_token').unique().on('mfa_signin_flows').column('token_hash').execute();

  await db.schema
    .createTable('mfa_keys')
    .addColumn('key_name', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('sealed', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  // A portal session remembers whether it passed a second factor: the device page asks for one if not.
  await db.schema.alterTable('auth_sessions').addColumn('mfa_at', 'bigint').execute();
}
