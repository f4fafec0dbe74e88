// `atrium audit …` as an operator uses it: serve chains events by itself; verify checks the
// database; public-key and export hand a file to someone who checks it offline with no database;
// lookup reads the log. Bad flags get a clear message and exit code 2.

import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ATRIUM_BIN, runCli, startServe, type ServeProcess } from '../helpers/cli.js';
import { dialects, freshPostgresDatabase } from '../helpers/server.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'atrium-audit-cli-'));
  dirs.push(d);
  return d;
}

describe.each(dialects())('atrium audit on %s', (dialect) => {
  let args: string[];
  let serve: ServeProcess | undefined;
  let dir: string;
  afterAll(async () => {
    await serve?.stop();
  });

  it('serve chains and signs events by itself, and verify says so', async () => {
    dir = tempDir();
    args = dialect === 'postgres' ? ['--data-dir', dir, '--database-url', await freshPostgresDatabase()] : ['--data-dir', dir];
    serve = await startServe(args, { ATRIUM_AUDIT_SEAL_MS: '50', ATRIUM_AUDIT_DIGEST_SECONDS: '1' });
    const key = /AWS_ACCESS_KEY_ID=(\S+)/.exec(serve.banner)![1]!;
    const secret = /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(serve.banner)![1]!;
    const store = /identity store:\s+(\S+)/.exec(serve.banner)![1]!;
    const ids = new IdentitystoreClient({ endpoint: serve.url, region: 'us-east-1', credentials: { accessKeyId: key, secretAccessKey: secret }, maxAttempts: 1 });
    for (let i = 0; i < 3; i++) await ids.send(new CreateUserCommand({ IdentityStoreId: store, UserName: `op-${i}`, DisplayName: 'O', Name: { GivenName: 'O', FamilyName: 'P' } }));
    await expect
      .poll(
        async () => {
          const r = await runCli(['audit', 'verify', ...args, '--json']);
          const j = JSON.parse(r.stdout) as { ok: boolean; notYetChained: number; unsignedTail: number; events: number };
          return r.code === 0 && j.ok && j.notYetChained === 0 && j.unsignedTail === 0 && j.events >= 4;
        },
        { timeout: 15_000, interval: 300 },
      )
      .toBe(true);
    const text = await runCli(['audit', 'verify', ...args]);
    expect(text.stdout).toMatch(/^OK: the audit chain verifies/);
    await serve.stop();
    serve = undefined;
    // serve sealed on a thread of its own, which let go of the sealer lease as serve stopped: an
    // operator's seal right after chains what was written since, without waiting out the lease.
    expect((await runCli(['user', 'password', ...args, '--user-name', 'op-0', '--one-time', '--json'])).code).toBe(0);
    const sealed = await runCli(['audit', 'seal', ...args, '--json']);
    expect(JSON.parse(sealed.stdout)).toEqual({ chained: 1 });
  }, 60_000);

  it('exports a file that verifies offline with the public key alone, and names an edited event', async () => {
    const pub = await runCli(['audit', 'public-key', ...args]);
    expect(pub.code).toBe(0);
    expect(pub.stdout).toMatch(/^-----BEGIN PUBLIC KEY-----/);
    const keyFile = path.join(dir, 'audit.pem');
    writeFileSync(keyFile, pub.stdout);
    const exported = await runCli(['audit', 'export', ...args, '--start', '2000-01-01T00:00:00Z']);
    expect(exported.stderr).toBe('');
    const file = path.join(dir, 'audit.jsonl');
    writeFileSync(file, exported.stdout);
    expect(exported.stdout).not.toContain('PRIVATE');
    // Offline: no storage flags, no database.
    const ok = await runCli(['audit', 'verify', '--file', file, '--public-key', keyFile]);
    expect(ok.stdout).toMatch(/^OK/);
    expect(ok.code).toBe(0);

    const lines = readFileSync(file, 'utf8').trim().split('\n');
    const i = lines.findIndex((l) => l.includes('"eventName":"CreateUser"'));
    const line = JSON.parse(lines[i]!) as { position: number; event: { eventID: string; sourceIPAddress: string } };
    line.event.sourceIPAddress = '203.0.113.9';
    lines[i] = JSON.stringify(line);
    const edited = path.join(dir, 'edited.jsonl');
    writeFileSync(edited, lines.join('\n') + '\n');
    const bad = await runCli(['audit', 'verify', '--file', edited, '--public-key', keyFile]);
    expect(bad.code).toBe(4);
    expect(bad.stdout).toContain(`first bad event: position ${line.position}, eventID ${line.event.eventID}, line ${i + 1}`);
    expect(bad.stdout).toMatch(/edited/);
  }, 60_000);

  it('looks events up with filters, as LookupEvents does', async () => {
    const r = await runCli(['audit', 'lookup', ...args, '--event-name', 'CreateUser', '--max-results', '2', '--json']);
    expect(r.stderr).toBe('');
    const page = JSON.parse(r.stdout) as { Events: { EventName: string; Username: string }[]; NextToken?: string };
    expect(page.Events).toHaveLength(2);
    expect(page.Events.every((e) => e.EventName === 'CreateUser' && e.Username === 'atrium-admin')).toBe(true);
    const next = await runCli(['audit', 'lookup', ...args, '--event-name', 'CreateUser', '--max-results', '2', '--next-token', page.NextToken!, '--json']);
    expect((JSON.parse(next.stdout) as { Events: unknown[] }).Events).toHaveLength(1);
    const text = await runCli(['audit', 'lookup', ...args, '--user-name', 'atrium-admin']);
    expect(text.stdout).toMatch(/identitystore\.amazonaws\.com\tCreateUser\tatrium-admin\tok\t/);
  }, 60_000);

  it('ends without a stack trace, and not as a success, when its reader stops reading (audit lookup | head)', async () => {
    for (const command of [['audit', 'lookup', ...args], ['audit', 'export', ...args, '--start', '1970-01-01T00:00:00Z']]) {
      const child = spawn(process.execPath, [ATRIUM_BIN, ...command], { stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      // The reader goes away before the first line, as head does after its own.
      child.stdout.destroy();
      const [code] = (await once(child, 'exit')) as [number | null];
      // No stack trace, and no success either: what it did not write is lost.
      expect({ command: command.slice(0, 2), code, stderr }).toEqual({ command: command.slice(0, 2), code: 1, stderr: '' });
    }
  }, 60_000);

  it('refuses bad flags with a clear message', async () => {
    const noKey = await runCli(['audit', 'verify', '--file', path.join(dir, 'audit.jsonl')]);
    expect(noKey).toMatchObject({ code: 2 });
    expect(noKey.stderr).toContain('--file needs --public-key');
    const notAKey = await runCli(['audit', 'verify', '--file', path.join(dir, 'audit.jsonl'), '--public-key', path.join(dir, 'audit.jsonl')]);
    expect(notAKey.code).toBe(2);
    expect(notAKey.stderr).toContain('cannot use --public-key');
    const badTime = await runCli(['audit', 'export', ...args, '--start', 'yesterday-ish']);
    expect(badTime.code).toBe(2);
    expect(badTime.stderr).toContain('--start must be an ISO 8601 time');
    const badMax = await runCli(['audit', 'lookup', ...args, '--max-results', '500']);
    expect(badMax.code).toBe(2);
  }, 60_000);
});
