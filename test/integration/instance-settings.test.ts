// Settings changed at the same moment by different administrators (or processes) all survive: each
// change is made on the row as it is, not on a copy another change has since replaced.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { createRegistry, type Registry } from '../../src/registry.js';
import { loadConfig } from '../../src/config/config.js';
import { createLogger } from '../../src/shared/logger.js';
import { dialects, startServer, type TestServer } from '../helpers/server.js';

describe.each(dialects())('concurrent settings changes on %s', (dialect) => {
  let server: TestServer;
  let other: Registry;
  const ctx = systemContext('sso.amazonaws.com', 'us-east-1', 'settings-test');

  beforeAll(async () => {
    server = await startServer(dialect);
    // A second process's view of the same database, with its own cached copy of the instance.
    other = await createRegistry(loadConfig({ dataDir: server.dataDir, logLevel: 'silent', ...(dialect === 'postgres' ? { databaseUrl: server.reg.config.databaseUrl } : {}) }, {}), {
      log: createLogger('silent'),
    });
  });
  afterAll(async () => {
    await other?.close();
    await server?.close();
  });

  it('keeps every one of many changes to different settings made at once from two registries', async () => {
    await server.reg.instance.get();
    await other.instance.get();
    await Promise.all([
      server.reg.instance.updateSettings(ctx, { sessionDurationMinutes: 600 }),
      other.instance.updateSettings(ctx, { passwordPolicy: { minLength: 12 } }),
      server.reg.instance.updateSettings(ctx, { passwordPolicy: { historySize: 5 } }),
      other.instance.updateSettings(ctx, { passwordPolicy: { maxLength: 100 } }),
    ]);
    const row = await server.reg.database.db.selectFrom('instances').select('settings').executeTakeFirstOrThrow();
    const settings = JSON.parse(row.settings) as { sessionDurationMinutes: number; passwordPolicy: Record<string, number> };
    expect(settings.sessionDurationMinutes).toBe(600);
    expect(settings.passwordPolicy).toMatchObject({ minLength: 12, historySize: 5, maxLength: 100 });
  });
});
