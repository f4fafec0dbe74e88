// Numbered, forward-only migrations. Each file owns one module's tables; never edit one that
// has shipped, add the next number instead.

import { Migrator, type Kysely, type Migration, type MigrationProvider, type MigrationResultSet } from 'kysely';
import { isBusy, type Dialect } from '../database.js';
import type { MigrationContext } from './context.js';
import * as m0001 from './0001-core.js';
import * as m0002 from './0002-directory.js';
import * as m0003 from './0003-organization.js';
import * as m0004 from './0004-access.js';
import * as m0005 from './0005-one-bootstrap-key.js';
import * as m0006 from './0006-revocation.js';
import * as m0007 from './0007-auth.js';
import * as m0008 from './0008-oidc.js';
import * as m0009 from './0009-scim-tokens.js';
import * as m0010 from './0010-saml.js';
import * as m0011 from './0011-nested-groups.js';
import * as m0012 from './0012-saml-sessions.js';
import * as m0013 from './0013-audit-chain.js';
import * as m0014 from './0014-mfa.js';
import * as m0015 from './0015-policy-store.js';
import * as m0016 from './0016-audit-sinks.js';
import * as m0017 from './0017-audit-lookup.js';
import * as m0018 from './0018-console.js';
import * as m0019 from './0019-housekeeping.js';
import * as m0020 from './0020-audit-write-cost.js';
import * as m0021 from './0021-audit-events-one-key.js';
import * as m0022 from './0022-audit-digest-every.js';
import * as m0023 from './0023-audit-file.js';
import * as m0024 from './0024-oidc-portal-clients.js';
import * as m0025 from './0025-session-paging.js';

type Step = { up(db: Kysely<unknown>, ctx: MigrationContext): Promise<void> };
const STEPS: Record<string, Step> = {
  '0001-core': m0001,
  '0002-directory': m0002,
  '0003-organization': m0003,
  '0004-access': m0004,
  '0005-one-bootstrap-key': m0005,
  '0006-revocation': m0006,
  '0007-auth': m0007,
  '0008-oidc': m0008,
  '0009-scim-tokens': m0009,
  '0010-saml': m0010,
  '0011-nested-groups': m0011,
  '0012-saml-sessions': m0012,
  '0013-audit-chain': m0013,
  '0014-mfa': m0014,
  '0015-policy-store': m0015,
  '0016-audit-sinks': m0016,
  '0017-audit-lookup': m0017,
  '0018-console': m0018,
  '0019-housekeeping': m0019,
  '0020-audit-write-cost': m0020,
  '0021-audit-events-one-key': m0021,
  '0022-audit-digest-every': m0022,
  '0023-audit-file': m0023,
  '0024-oidc-portal-clients': m0024,
  '0025-session-paging': m0025,
};

export async function migrateToLatest(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await migrate(db, dialect, (m) => m.migrateToLatest());
}

/** Up to and including the named migration: for tests that build a database as an earlier release left it. */
export async function migrateTo(db: Kysely<unknown>, dialect: Dialect, name: keyof typeof STEPS): Promise<void> {
  await migrate(db, dialect, (m) => m.migrateTo(name));
}

/**
 * How long a process waits for another that is migrating the same SQLite file. Its migrations run
 * in one transaction that holds the write lock (0020 rebuilds the audit tables: minutes at
 * millions of events); PostgreSQL has Kysely's advisory lock instead.
 */
const WAIT_FOR_OTHER_MIGRATION_MS = 15 * 60_000;
const RETRY_MS = 250;

async function migrate(db: Kysely<unknown>, dialect: Dialect, run: (m: Migrator) => Promise<MigrationResultSet>): Promise<void> {
  const ctx: MigrationContext = { dialect };
  const provider: MigrationProvider = {
    getMigrations: () =>
      Promise.resolve(
        Object.fromEntries(
          Object.entries(STEPS).map(([name, step]): [string, Migration] => [name, { up: (d) => step.up(d, ctx) }]),
        ),
      ),
  };
  const deadline = Date.now() + WAIT_FOR_OTHER_MIGRATION_MS;
  for (;;) {
    // SQLite has no migration lock between processes: another one migrating the same file holds the
    // write lock, and this attempt is rolled back whole with SQLITE_BUSY. Try again once it has
    // finished: only what it did not do is left (nothing, usually).
    const outcome = await run(new Migrator({ db, provider })).catch((error: unknown) => ({ error, results: undefined }));
    const { error, results } = outcome;
    if (!error) return;
    if (dialect === 'sqlite' && isBusy(error) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, RETRY_MS));
      continue;
    }
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new Error(`migration ${failed} failed: ${(error as Error).message}`);
  }
}
