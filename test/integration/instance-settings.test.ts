// Settings changed at the same moment by different administrators (or processes) all survive: each
// change is made on the row as it is, not on a copy another change has since replaced. A setting
// that does not exist is refused, and one an older version stored under a wrong name is dropped.

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

  it('refuses a change naming a setting that does not exist, on the record, and changes nothing', async () => {
    const before = (await server.reg.instance.get()).settings;
    const change = { mfa: { webAuthnAttestation: 'REQUIRED' } } as unknown as Parameters<Registry['instance']['updateSettings']>[1];
    await expect(server.reg.instance.updateSettings(ctx, change)).rejects.toThrow('mfa.webAuthnAttestation is not a setting.');
    expect((await server.reg.instance.get()).settings).toEqual(before);
    const last = await server.reg.database.db.selectFrom('audit_events').select(['event_name', 'error_code']).orderBy('seq', 'desc').executeTakeFirstOrThrow();
    expect(last).toEqual({ event_name: 'UpdateInstanceSettings', error_code: 'instance.invalid_setting' });
  });

  it('drops a name an older version stored by mistake, so it neither shows nor comes back', async () => {
    // Session 5's admin API stored the attestation setting as `webAuthnAttestation`, which nothing read.
    const row = await server.reg.database.db.selectFrom('instances').select(['instance_arn', 'settings']).executeTakeFirstOrThrow();
    const junk = JSON.parse(row.settings) as { mfa: Record<string, unknown> };
    junk.mfa.webAuthnAttestation = 'REQUIRED';
    await server.reg.database.db.updateTable('instances').set({ settings: JSON.stringify(junk) }).where('instance_arn', '=', row.instance_arn).execute();
    const fresh = await createRegistry(loadConfig({ dataDir: server.dataDir, logLevel: 'silent', ...(dialect === 'postgres' ? { databaseUrl: server.reg.config.databaseUrl } : {}) }, {}), { log: createLogger('silent') });
    try {
      expect(Object.keys((await fresh.instance.get()).settings.mfa)).not.toContain('webAuthnAttestation');
      await fresh.instance.updateSettings(ctx, { mfa: { rememberDays: 30 } });
    } finally {
      await fresh.close();
    }
    const after = await server.reg.database.db.selectFrom('instances').select('settings').executeTakeFirstOrThrow();
    const mfa = (JSON.parse(after.settings) as { mfa: Record<string, unknown> }).mfa;
    expect(mfa).toMatchObject({ rememberDays: 30 });
    expect(mfa).not.toHaveProperty('webAuthnAttestation');
  });
});
