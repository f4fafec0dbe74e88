// ensureOrganization under races: however many calls and processes run it against one database,
// there is one organization, one root and one management account, created by one audited event.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.js';
import { createRegistry, type Registry } from '../../src/registry.js';
import { systemContext } from '../../src/shared/context.js';
import { createLogger } from '../../src/shared/logger.js';
import { dialects, freshPostgresDatabase } from '../helpers/server.js';

describe.each(dialects())('ensureOrganization on %s', (dialect) => {
  const opened: Registry[] = [];
  const dirs: string[] = [];
  afterAll(async () => {
    for (const reg of opened) await reg.close();
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  });

  it('creates the organization once, even when two processes race to create it', async () => {
    const databaseUrl = dialect === 'postgres' ? await freshPostgresDatabase() : undefined;
    const sharedDir = mkdtempSync(path.join(tmpdir(), 'atrium-org-'));
    dirs.push(sharedDir);
    const open = async (dataDir: string) => {
      // Processes that share a database share its key file (ATRIUM_KEY_FILE), as they must in production.
      const keyFile = path.join(sharedDir, 'master.key');
      const reg = await createRegistry(loadConfig({ dataDir, databaseUrl, keyFile, logLevel: 'silent' }, {}), { log: createLogger('silent') });
      opened.push(reg);
      return reg;
    };
    const first = await open(sharedDir);
    // On PostgreSQL a second process races the first; one SQLite file has one writer, so its race is
    // between concurrent calls in one process.
    const second = dialect === 'postgres' ? await open(mkdtempSync(path.join(tmpdir(), 'atrium-org-'))) : first;
    if (second !== first) dirs.push(second.config.dataDir);
    const ctx = systemContext('organizations.amazonaws.com', 'us-east-1', 'init-race');

    const results = await Promise.all([
      first.organization.ensureOrganization(ctx, 'management@example.com'),
      second.organization.ensureOrganization(ctx, 'management@example.com'),
      first.organization.ensureOrganization(ctx, 'management@example.com'),
      second.organization.ensureOrganization(ctx, 'management@example.com'),
    ]);
    const [winner] = results;
    expect(winner.organizationId).toMatch(/^o-[a-z0-9]{10}$/);
    expect(winner.rootId).toMatch(/^r-[a-z0-9]{4}$/);
    expect(winner.managementAccountId).toMatch(/^\d{12}$/);
    for (const r of results) expect(r).toMatchObject({ ...winner });

    // A later process (a restart) finds the same organization.
    const later = await open(sharedDir);
    expect(await later.organization.ensureOrganization(ctx, 'other@example.com')).toMatchObject({ ...winner });

    const db = first.database.db;
    expect(await db.selectFrom('organizations').selectAll().execute()).toHaveLength(1);
    const accounts = await db.selectFrom('org_accounts').selectAll().execute();
    expect(accounts).toMatchObject([{ account_id: winner.managementAccountId, email: 'management@example.com', name: 'Management' }]);
    const events = await db.selectFrom('audit_events').selectAll().where('event_name', '=', 'CreateOrganization').where('error_code', 'is', null).execute();
    expect(events).toHaveLength(1);
    expect(events[0]!.event_source).toBe('organizations.amazonaws.com');
    expect(await later.organization.accountExists(winner.managementAccountId)).toBe(true);
  });
});
