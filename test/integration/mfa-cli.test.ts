// `atrium settings set --mfa/--sign-in-protection` and `atrium mfa list|delete|reset` against the
// storage of a running server, on both databases: what an administrator types, what users then meet
// (a reset also ends the user's sessions).

import { existsSync } from 'node:fs';
import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { Browser } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';
import { OATHTOOL, registerTotpAtSignIn } from '../helpers/mfa.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

const PASSWORD = 'Cli#Mfa-Reset-3Vb';

describe.skipIf(!existsSync(OATHTOOL)).each(dialects())('MFA CLI on %s', (dialect) => {
  let server: TestServer;
  let storage: string[];

  beforeAll(async () => {
    server = await startServer(dialect);
    storage = ['--data-dir', server.dataDir, ...(dialect === 'postgres' ? ['--database-url', server.reg.config.databaseUrl!] : [])];
    await new IdentitystoreClient(sdkOptions(server)).send(
      new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: 'fay', DisplayName: 'Fay', Name: { GivenName: 'F', FamilyName: 'Y' } }),
    );
    await server.reg.auth.setPassword(systemContext('sso.amazonaws.com', 'us-east-1', 'test'), 'fay', { password: PASSWORD, oneTime: false });
  });
  afterAll(() => server?.close());

  it('turns MFA on, lists and resets a user\'s devices, and refuses bad settings with a clear message', async () => {
    const set = await runCli(['settings', 'set', '--mfa', '{"mode":"ALWAYS_ON","noDevice":"REGISTER"}', '--sign-in-protection', '{"lockoutMinutes":30}', ...storage]);
    expect(set.stderr).toBe('');
    expect(JSON.parse(set.stdout)).toMatchObject({ mfa: { mode: 'ALWAYS_ON', noDevice: 'REGISTER' }, signInProtection: { lockoutMinutes: 30 } });
    const bad = await runCli(['settings', 'set', '--mfa', '{"mode":"SOMETIMES"}', ...storage]);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain('mfa.mode must be one of ALWAYS_ON, CONTEXT_AWARE, DISABLED');
    expect((await runCli(['settings', 'set', '--mfa', '[1]', ...storage])).stderr).toContain('--mfa must be a JSON object');

    // Within the instance cache (5 s), the server sees the CLI's change.
    const b = new Browser(server.url);
    await expect.poll(async () => (await new Browser(server.url).signIn('fay', PASSWORD)).headers.get('location'), { timeout: 8000 }).toBe('/login/mfa/register?return_to=%2Fstart');
    await b.signIn('fay', PASSWORD);
    expect((await registerTotpAtSignIn(b)).response.status).toBe(303);

    const listed = await runCli(['mfa', 'list', '--user-name', 'fay', '--json', ...storage]);
    expect(listed.stderr).toBe('');
    const { devices } = JSON.parse(listed.stdout) as { devices: { deviceId: string; name: string; type: string }[] };
    expect(devices).toEqual([expect.objectContaining({ name: 'Phone', type: 'TOTP', passkey: false })]);

    const missing = await runCli(['mfa', 'delete', '--user-name', 'fay', '--device-id', 'mfa-0000', ...storage]);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toContain('does not exist');
    // The sign-ins the poll above made before the server saw MFA turned on are sessions too.
    const sessionIds = (await server.reg.auth.listSessions('fay')).map((s) => s.sessionId);
    expect(sessionIds.length).toBeGreaterThan(0);
    const reset = await runCli(['mfa', 'reset', '--user-name', 'fay', '--json', ...storage]);
    // The reset ends every session of the user, the one signed in with the device among them.
    const ended = JSON.parse(reset.stdout) as { deletedDeviceIds: string[]; revokedSessionIds: string[] };
    expect(ended.deletedDeviceIds).toEqual([devices[0]!.deviceId]);
    expect([...ended.revokedSessionIds].sort()).toEqual([...sessionIds].sort());
    expect((await b.request('/api/portal/session')).status).toBe(401);
    // The user registers anew at the next sign-in: the recovery path.
    expect((await new Browser(server.url).signIn('fay', PASSWORD)).headers.get('location')).toBe('/login/mfa/register?return_to=%2Fstart');
    expect((await runCli(['mfa', 'list', '--user-name', 'nobody', ...storage])).stderr).toContain('User nobody does not exist');
  });
});
