// `atrium user password` and `atrium sessions list|revoke` against the storage of a running
// server, on both databases: what an administrator types, and what the user then sees.

import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ATRIUM_BIN, runCli } from '../helpers/cli.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

/** Run the CLI with `input` on stdin (runCli gives none). */
async function runCliWithStdin(args: string[], input: string) {
  const child = spawn(process.execPath, [ATRIUM_BIN, ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  child.stdin.end(input);
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

/** Sign in through the pages; returns the session cookie value and where the browser was sent. */
async function signIn(url: string, userName: string, password: string) {
  const login = await fetch(`${url}/login`);
  const pre = login.headers.getSetCookie()[0]!.split(';')[0]!;
  const csrf = /name="csrf" value="([^"]+)"/.exec(await login.text())![1]!;
  const res = await fetch(`${url}/login/password`, {
    method: 'POST',
    headers: { cookie: pre, 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ csrf, username: userName, password, return_to: '/start' }).toString(),
    redirect: 'manual',
  });
  const cookie = res.headers.getSetCookie().find((c) => c.startsWith('atrium_session='));
  return { status: res.status, location: res.headers.get('location'), cookie: cookie?.split(';')[0] };
}

const sessionWorks = async (url: string, cookie: string) => (await fetch(`${url}/api/portal/session`, { headers: { cookie } })).status === 200;

describe.each(dialects())('auth CLI on %s', (dialect) => {
  let server: TestServer;
  let storage: string[];

  beforeAll(async () => {
    server = await startServer(dialect);
    storage = ['--data-dir', server.dataDir, ...(dialect === 'postgres' ? ['--database-url', server.reg.config.databaseUrl!] : [])];
    await new IdentitystoreClient(sdkOptions(server)).send(
      new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: 'erin', DisplayName: 'Erin', Name: { GivenName: 'E', FamilyName: 'R' } }),
    );
  });
  afterAll(() => server?.close());

  it('sets one-time and stdin passwords, lists and revokes sessions, and audits it all', async () => {
    const oneTime = await runCli(['user', 'password', '--user-name', 'erin', '--one-time', '--json', ...storage]);
    expect(oneTime.stderr).toBe('');
    expect(oneTime.code).toBe(0);
    const printed = JSON.parse(oneTime.stdout) as { userName: string; password: string; oneTime: boolean };
    expect(printed).toEqual({ userName: 'erin', password: expect.any(String), oneTime: true });
    expect(printed.password).toMatch(/^(?=.*[A-Z])(?=.*[a-z])(?=.*\d)(?=.*[^A-Za-z0-9]).{8,64}$/);
    expect(await signIn(server.url, 'erin', printed.password)).toMatchObject({ status: 303, location: '/login/change-password?return_to=%2Fstart' });

    const weak = await runCliWithStdin(['user', 'password', '--user-name', 'erin', '--password-stdin', ...storage], 'Sh0rt!\n');
    expect(weak.code).toBe(1);
    expect(weak.stderr).toMatch(/8 to 64 characters/);
    // A second line ending would be part of a password no one could type at sign-in.
    const twoLines = await runCliWithStdin(['user', 'password', '--user-name', 'erin', '--password-stdin', ...storage], 'Kite#River42z\n\n');
    expect(twoLines.code).toBe(1);
    expect(twoLines.stderr).toMatch(/control characters/);
    const set = await runCliWithStdin(['user', 'password', '--user-name', 'erin', '--password-stdin', '--json', ...storage], 'Kite#River42z\n');
    expect(set.code).toBe(0);
    expect(JSON.parse(set.stdout)).toEqual({ userName: 'erin', oneTime: false });
    // Setting a password signs the user out: the one-time sign-in's session has ended.
    expect(JSON.parse((await runCli(['sessions', 'list', '--user-name', 'erin', '--json', ...storage])).stdout)).toEqual({ sessions: [] });
    const first = await signIn(server.url, 'erin', 'Kite#River42z');
    expect(first).toMatchObject({ status: 303, location: '/start' });
    const second = await signIn(server.url, 'erin', 'Kite#River42z');
    expect(await sessionWorks(server.url, first.cookie!)).toBe(true);

    const missing = await runCli(['user', 'password', '--user-name', 'nobody', '--one-time', ...storage]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nobody does not exist/);

    const listed = await runCli(['sessions', 'list', '--user-name', 'erin', '--json', ...storage]);
    expect(listed.code).toBe(0);
    const sessions = (JSON.parse(listed.stdout) as { sessions: { sessionId: string; userName: string }[] }).sessions;
    expect(sessions).toHaveLength(2);
    expect(sessions.every((s) => s.userName === 'erin')).toBe(true);
    const all = JSON.parse((await runCli(['sessions', 'list', '--json', ...storage])).stdout) as { sessions: unknown[] };
    expect(all.sessions).toHaveLength(2);

    const newest = sessions[0]!.sessionId;
    const revoked = await runCli(['sessions', 'revoke', '--session-id', newest, '--json', ...storage]);
    expect(revoked.code).toBe(0);
    expect(JSON.parse(revoked.stdout)).toEqual({ revokedSessionIds: [newest] });
    expect(await sessionWorks(server.url, second.cookie!)).toBe(false);
    expect(await sessionWorks(server.url, first.cookie!)).toBe(true);
    const again = await runCli(['sessions', 'revoke', '--session-id', newest, ...storage]);
    expect(again.code).toBe(1);

    // An empty --session-id (a script's unset variable) is refused, not read as "every session of the user".
    const empty = await runCli(['sessions', 'revoke', '--session-id', '', '--user-name', 'erin', ...storage]);
    expect(empty.code).toBe(2);
    expect(await sessionWorks(server.url, first.cookie!)).toBe(true);
    const everyone = await runCli(['sessions', 'revoke', '--user-name', 'erin', '--json', ...storage]);
    expect((JSON.parse(everyone.stdout) as { revokedSessionIds: string[] }).revokedSessionIds).toHaveLength(1);
    expect(await sessionWorks(server.url, first.cookie!)).toBe(false);

    const rows = await server.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', 'in', ['ResetPassword', 'RevokeSession']).orderBy('seq').execute();
    expect(rows.map((r) => [r.event_name, r.error_code])).toEqual([
      ['ResetPassword', null],
      ['ResetPassword', 'auth.password_policy'],
      ['ResetPassword', 'auth.password_policy'],
      ['ResetPassword', null],
      ['ResetPassword', 'directory.user_not_found'],
      ['RevokeSession', null],
      ['RevokeSession', 'auth.session_not_found'],
      ['RevokeSession', null],
    ]);
    expect(rows.every((r) => r.event_source === 'sso.amazonaws.com')).toBe(true);
    const dump = JSON.stringify(rows);
    expect(dump).not.toContain(printed.password);
    expect(dump).not.toContain('Kite#River42z');
  });
});
