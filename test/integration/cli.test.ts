// The CLI contract that tools rely on: `atrium init --json` and `atrium serve`, on both databases.

import { ListInstancesCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { spawnSync } from 'node:child_process';
import SqliteDatabase from 'better-sqlite3';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ATRIUM_BIN, runCli, startServe, type ServeProcess } from '../helpers/cli.js';
import { dialects, freshPostgresDatabase } from '../helpers/server.js';

interface InitJson {
  instanceArn: string;
  identityStoreId: string;
  managementAccountId: string;
  adminAccessKeyId: string;
  adminSecretAccessKey: string | null;
  startUrl: string;
  region: string;
}

const dirs: string[] = [];
const servers: ServeProcess[] = [];
afterEach(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function tempDir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'atrium-cli-'));
  dirs.push(d);
  return d;
}

async function storageArgs(dialect: string): Promise<string[]> {
  const dataDir = tempDir();
  return dialect === 'postgres' ? ['--data-dir', dataDir, '--database-url', await freshPostgresDatabase()] : ['--data-dir', dataDir];
}

async function init(args: string[], env: Record<string, string> = {}): Promise<InitJson> {
  const r = await runCli(['init', ...args, '--json'], env);
  expect(r.stderr).toBe('');
  expect(r.code).toBe(0);
  const lines = r.stdout.trim().split('\n');
  expect(lines).toHaveLength(1);
  return JSON.parse(lines[0]!) as InitJson;
}

const listInstances = (url: string, accessKeyId: string, secretAccessKey: string) =>
  new SSOAdminClient({ endpoint: url, region: 'us-east-1', credentials: { accessKeyId, secretAccessKey }, maxAttempts: 1 }).send(
    new ListInstancesCommand({}),
  );

describe.each(dialects())('atrium CLI on %s', (dialect) => {
  it('init is idempotent, prints AWS-shaped ids, and never prints an old secret again', async () => {
    const args = await storageArgs(dialect);
    const first = await init([...args, '--region', 'eu-west-1']);
    expect(first.instanceArn).toMatch(/^arn:aws:sso:::instance\/ssoins-[0-9a-f]{16}$/);
    expect(first.identityStoreId).toMatch(/^d-[0-9a-f]{10}$/);
    expect(first.managementAccountId).toMatch(/^\d{12}$/);
    expect(first.adminAccessKeyId).toMatch(/^AKIA[A-Z2-7]{16}$/);
    expect(first.adminSecretAccessKey).toMatch(/^[A-Za-z0-9]{40}$/);
    expect(first.region).toBe('eu-west-1');
    expect(first.startUrl).toMatch(/^http:\/\/.+\/start$/);

    const second = await init(args);
    expect(second).toEqual({ ...first, adminSecretAccessKey: null });
  });

  it('--rotate-admin-key issues a new key and the old one stops working', async () => {
    const args = await storageArgs(dialect);
    const first = await init(args);
    const rotated = await init([...args, '--rotate-admin-key']);
    expect(rotated.instanceArn).toBe(first.instanceArn);
    expect(rotated.adminAccessKeyId).not.toBe(first.adminAccessKeyId);
    expect(rotated.adminSecretAccessKey).toMatch(/^[A-Za-z0-9]{40}$/);

    const server = await startServe(args);
    servers.push(server);
    expect(server.banner).not.toContain('AWS_SECRET_ACCESS_KEY');
    const ok = await listInstances(server.url, rotated.adminAccessKeyId, rotated.adminSecretAccessKey!);
    expect(ok.Instances?.[0]?.InstanceArn).toBe(first.instanceArn);
    await expect(listInstances(server.url, first.adminAccessKeyId, first.adminSecretAccessKey!)).rejects.toMatchObject({
      name: 'UnrecognizedClientException',
    });
  });

  it('serve initialises an empty store, prints the credentials once, answers /healthz, and keeps data across a restart', async () => {
    const args = await storageArgs(dialect);
    const server = await startServe(args);
    servers.push(server);
    const key = /AWS_ACCESS_KEY_ID=(\S+)/.exec(server.banner)?.[1];
    const secret = /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(server.banner)?.[1];
    expect(key).toMatch(/^AKIA/);
    expect(secret).toHaveLength(40);
    expect(server.banner).toContain(`AWS_ENDPOINT_URL=${server.url}`);
    const health = await fetch(`${server.url}/healthz`);
    expect(health.status).toBe(200);
    const before = await listInstances(server.url, key!, secret!);
    await server.stop();
    // The background work starts once the instance exists: its first sweep, right at start, fails on
    // nothing (it once ran before the first start's initialisation and logged an error).
    expect(server.output()).not.toMatch(/"level":(50|60)/);
    expect(server.output()).not.toContain('No instance exists');

    const again = await startServe(args);
    servers.push(again);
    expect(again.banner).not.toContain('AWS_SECRET_ACCESS_KEY');
    const after = await listInstances(again.url, key!, secret!);
    expect(after.Instances?.[0]?.InstanceArn).toBe(before.Instances?.[0]?.InstanceArn);
  });
});

describe('atrium CLI settings', () => {
  it('ATRIUM_* environment variables mirror the flags', async () => {
    const dataDir = tempDir();
    const viaEnv = await init([], { ATRIUM_DATA_DIR: dataDir, ATRIUM_REGION: 'ap-southeast-2' });
    expect(viaEnv.region).toBe('ap-southeast-2');
    const viaFlag = await init(['--data-dir', dataDir]);
    expect(viaFlag.instanceArn).toBe(viaEnv.instanceArn);
    expect(statSync(path.join(dataDir, 'master.key')).mode & 0o077).toBe(0);
  });

  it('keeps the database files from other users, in a data directory anyone may read', async () => {
    const dataDir = tempDir();
    chmodSync(dataDir, 0o755);
    await init(['--data-dir', dataDir]);
    const files = readdirSync(dataDir).filter((f) => f.startsWith('atrium'));
    expect(files).toEqual(expect.arrayContaining(['atrium.db', 'atrium-audit.db']));
    for (const f of files) expect({ f, other: statSync(path.join(dataDir, f)).mode & 0o077 }).toEqual({ f, other: 0 });
    // A file made readable by all before loses that when Atrium next opens it; its group keeps its bits.
    chmodSync(path.join(dataDir, 'atrium.db'), 0o644);
    await init(['--data-dir', dataDir]);
    expect(statSync(path.join(dataDir, 'atrium.db')).mode & 0o777).toBe(0o640);
  });

  it('an unusable setting exits 2 and names it, the SQLite busy timeout as much as the schema', async () => {
    const dataDir = tempDir();
    await init(['--data-dir', dataDir]);
    const badPort = await runCli(['settings', 'show', '--data-dir', dataDir], { ATRIUM_PORT: '70000' });
    expect(badPort.code).toBe(2);
    expect(badPort.stderr).toMatch(/port/);
    // Digits only: Number() would read these as 25566, 1000 and 0 (a random port).
    for (const port of ['0x63DE', '1e3']) {
      const odd = await runCli(['settings', 'show', '--data-dir', dataDir], { ATRIUM_PORT: port });
      expect({ port, code: odd.code }).toEqual({ port, code: 2 });
    }
    const emptyPort = await runCli(['serve', '--data-dir', dataDir, '--port', '']);
    expect(emptyPort.code).toBe(2);
    expect(emptyPort.stderr).toMatch(/port/);
    // Usage errors commander finds exit 2 too, as the README says; help does not fail.
    const missing = await runCli(['user', 'password', '--one-time', '--data-dir', dataDir]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/--user-name/);
    expect((await runCli(['sessions', 'list', '--no-such-flag', '--data-dir', dataDir])).code).toBe(2);
    expect((await runCli(['--help'])).code).toBe(0);
    const mysql = await runCli(['serve', '--database-url', 'mysql://x/y']);
    expect(mysql.code).toBe(2);
    expect(mysql.stderr).toContain('databaseUrl must start with postgres://');
    const hexMinutes = await runCli(['settings', 'set', '--data-dir', dataDir, '--session-duration-minutes', '0x20']);
    expect(hexMinutes.code).toBe(2);
    expect(hexMinutes.stderr).toContain('--session-duration-minutes must be a whole number');
    const badBusy = await runCli(['settings', 'show', '--data-dir', dataDir], { ATRIUM_SQLITE_BUSY_TIMEOUT_MS: 'soon' });
    expect(badBusy.code).toBe(2);
    expect(badBusy.stderr).toContain('ATRIUM_SQLITE_BUSY_TIMEOUT_MS must be a whole number of milliseconds from 0 to 60000');
  });

  it('a command on a directory with no instance says so, and leaves nothing behind', async () => {
    const dataDir = path.join(tempDir(), 'never-initialised');
    const r = await runCli(['sessions', 'list', '--data-dir', dataDir]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(`no Atrium instance in ${dataDir}`);
    expect(r.stderr).toContain('run atrium init');
    expect(existsSync(dataDir)).toBe(false);
    // Nor on a database file with no instance in it: nothing is migrated into it, no key is made.
    const other = tempDir();
    writeFileSync(path.join(other, 'atrium.db'), '');
    const empty = await runCli(['sessions', 'list', '--data-dir', other]);
    expect(empty.code).toBe(2);
    expect(empty.stderr).toContain('no Atrium instance');
    expect(readdirSync(other)).toEqual(['atrium.db']);
    expect(statSync(path.join(other, 'atrium.db')).size).toBe(0);
    // Nor on another application's database that has an `instances` table of its own.
    const foreign = tempDir();
    const theirs = new SqliteDatabase(path.join(foreign, 'atrium.db'));
    theirs.exec("create table instances (id text); insert into instances values ('theirs')");
    theirs.close();
    const notOurs = await runCli(['sessions', 'list', '--data-dir', foreign]);
    expect(notOurs.code).toBe(2);
    const after = new SqliteDatabase(path.join(foreign, 'atrium.db'), { readonly: true });
    expect(after.prepare(`select name from sqlite_master where type = 'table'`).all()).toEqual([{ name: 'instances' }]);
    after.close();
  });

  it('changes instance settings through `atrium settings`, within their bounds', async () => {
    const dataDir = tempDir();
    await init(['--data-dir', dataDir]);
    const set = await runCli(['settings', 'set', '--data-dir', dataDir, '--session-duration-minutes', '60', '--password-policy', '{"minLength":12}']);
    expect(set.code).toBe(0);
    const shown = JSON.parse((await runCli(['settings', 'show', '--data-dir', dataDir])).stdout) as { sessionDurationMinutes: number; passwordPolicy: { minLength: number } };
    expect(shown.sessionDurationMinutes).toBe(60);
    expect(shown.passwordPolicy.minLength).toBe(12);
    const tooShort = await runCli(['settings', 'set', '--data-dir', dataDir, '--session-duration-minutes', '5']);
    expect(tooShort.code).toBe(1);
    expect(tooShort.stderr).toMatch(/sessionDurationMinutes must be a whole number from 15 to 129600/);
    // A rule is true or false: "false" would keep it on, null would turn the common-password check off.
    for (const policy of ['{"rejectCommon":null}', '{"requireUppercase":"false"}']) {
      const refused = await runCli(['settings', 'set', '--data-dir', dataDir, '--password-policy', policy]);
      expect(refused.code, policy).toBe(1);
      expect(refused.stderr).toMatch(/passwordPolicy\.(rejectCommon|requireUppercase) must be true or false/);
    }
    const after = JSON.parse((await runCli(['settings', 'show', '--data-dir', dataDir])).stdout) as { passwordPolicy: Record<string, unknown> };
    expect(after.passwordPolicy).toMatchObject({ rejectCommon: true, requireUppercase: true });
  });

  it('refuses --password-stdin on a terminal, where the password would show as typed', async () => {
    const dataDir = tempDir();
    await init(['--data-dir', dataDir]);
    // `script` gives the command a real terminal (util-linux's, in every Debian).
    const r = spawnSync('script', ['-qec', `${process.execPath} ${ATRIUM_BIN} user password --data-dir ${dataDir} --user-name atrium-admin --password-stdin`, '/dev/null'], { encoding: 'utf8', timeout: 30_000 });
    expect(r.status).toBe(2);
    expect(r.stdout).toContain('--password-stdin reads a password piped in');
  });

  it('rejects bad settings with a clear message and exit code 2', async () => {
    const r = await runCli(['init', '--data-dir', tempDir(), '--region', 'moon', '--json']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/region: must look like us-east-1/);
    expect(r.stdout).toBe('');
  });
});
