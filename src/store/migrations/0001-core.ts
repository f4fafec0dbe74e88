// 0001: the instance, data keys, access keys, audit log, jobs and tags.

import type { Kysely } from 'kysely';
import { autoIncrementId, type MigrationContext } from './context.js';

export async function up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> {
  await db.schema
    .createTable('instances')
    .addColumn('instance_arn', 'varchar(255)', (c) => c.primaryKey())
    .addColumn('instance_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('identity_store_id', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('owner_account_id', 'varchar(12)', (c) => c.notNull())
    .addColumn('name', 'varchar(255)')
    .addColumn('region', 'varchar(32)', (c) => c.notNull())
    .addColumn('status', 'varchar(32)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('settings', 'text', (c) => c.notNull())
    // There is one instance; two processes racing through init cannot make a second.
    .addColumn('singleton', 'integer', (c) => c.notNull().defaultTo(1).unique())
    .execute();

  await db.schema
    .createTable('data_keys')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('provider_id', 'varchar(255)', (c) => c.notNull())
    .addColumn('wrapped_key', 'text', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('access_keys')
    .addColumn('access_key_id', 'varchar(32)', (c) => c.primaryKey())
    .addColumn('sealed_secret', 'text', (c) => c.notNull())
    .addColumn('principal_type', 'varchar(32)', (c) => c.notNull())
    .addColumn('principal_id', 'varchar(128)', (c) => c.notNull())
    .addColumn('principal_arn', 'varchar(512)', (c) => c.notNull())
    .addColumn('account_id', 'varchar(12)', (c) => c.notNull())
    .addColumn('user_name', 'varchar(128)', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('purpose', 'varchar(32)', (c) => c.notNull())
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .execute();

  await autoIncrementId(db.schema.createTable('audit_events'), 'seq', ctx)
    .addColumn('event_id', 'varchar(64)', (c) => c.notNull().unique())
    .addColumn('event_time', 'bigint', (c) => c.notNull())
    .addColumn('event_source', 'varchar(128)', (c) => c.notNull())
    .addColumn('event_name', 'varchar(128)', (c) => c.notNull())
    .addColumn('aws_region', 'varchar(32)', (c) => c.notNull())
    .addColumn('source_ip', 'varchar(64)', (c) => c.notNull())
    .addColumn('user_agent', 'text', (c) => c.notNull())
    .addColumn('user_identity', 'text', (c) => c.notNull())
    .addColumn('request_parameters', 'text')
    .addColumn('response_elements', 'text')
    .addColumn('error_code', 'varchar(128)')
    .addColumn('error_message', 'text')
    .addColumn('request_id', 'varchar(64)', (c) => c.notNull())
    .addColumn('read_only', 'integer', (c) => c.notNull())
    .addColumn('event_type', 'varchar(64)', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('audit_events_time').on('audit_events').columns(['event_time']).execute();
  await db.schema.createIndex('audit_events_name').on('audit_events').columns(['event_name', 'event_time']).execute();

  await db.schema
    .createTable('jobs')
    .addColumn('id', 'varchar(64)', (c) => c.primaryKey())
    .addColumn('kind', 'varchar(64)', (c) => c.notNull())
    .addColumn('payload', 'text', (c) => c.notNull())
    .addColumn('status', 'varchar(16)', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('run_after', 'bigint', (c) => c.notNull())
    .addColumn('locked_by', 'varchar(64)')
    .addColumn('locked_until', 'bigint')
    .addColumn('last_error', 'text')
    .addColumn('created_at', 'bigint', (c) => c.notNull())
    .addColumn('updated_at', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('jobs_due').on('jobs').columns(['status', 'run_after']).execute();

  await db.schema
    .createTable('tags')
    .addColumn('resource_arn', 'varchar(1024)', (c) => c.notNull())
    .addColumn('tag_key', 'varchar(128)', (c) => c.notNull())
    .addColumn('tag_value', 'varchar(256)', (c) => c.notNull())
    .addPrimaryKeyConstraint('tags_pk', ['resource_arn', 'tag_key'])
    .execute();
}
