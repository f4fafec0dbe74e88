// 0025-session-paging: the administrators' list of portal sessions is paged, newest first
// (created_at, session_id descending), of everyone or of one user. Each page is read from where the
// previous one ended by walking an index in that order, instead of sorting every session of every
// user (or of the user) for every page: `auth_sessions_created` for everyone's, and
// `auth_sessions_user_created` for one user's, which replaces `auth_sessions_user` (identity store,
// user, expiry): with it, SQLite's planner walked everyone's sessions to page through one user's.
// It still serves the user's foreign key and the reads of a user's live sessions.

import type { Kysely } from 'kysely';
import type { MigrationContext } from './context.js';

export async function up(db: Kysely<unknown>, _ctx: MigrationContext): Promise<void> {
  await db.schema.createIndex('auth_sessions_created').on('auth_sessions').columns(['identity_store_id', 'created_at', 'session_id']).execute();
  await db.schema.createIndex('auth_sessions_user_created').on('auth_sessions').columns(['identity_store_id', 'user_id', 'created_at', 'session_id']).execute();
  await db.schema.dropIndex('auth_sessions_user').execute();
}
