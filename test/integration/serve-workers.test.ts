// `atrium serve --workers N`: N processes share the one port and the one database. Users see one
// server: what one process writes the next request reads, whichever process serves it; a worker
// that dies is replaced; stopping serve stops every worker; the audit chain stays whole.

import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateUserCommand, IdentitystoreClient, ListUsersCommand } from '@aws-sdk/client-identitystore';
import { Agent, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli, startServe, type ServeProcess } from '../helpers/cli.js';
import { dialects, freshPostgresDatabase } from '../helpers/server.js';

/** The pids of a process's children, from /proc. */
function childrenOf(pid: number): number[] {
  const tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim();
  return tasks === '' ? [] : tasks.split(/\s+/).map(Number);
}
const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

describe.each(dialects())('atrium serve --workers on %s', (dialect) => {
  let serve: ServeProcess | undefined;
  let dir: string | undefined;
  afterAll(async () => {
    await serve?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('serves one port from two processes, replaces a dead one, and stops them all', async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'atrium-workers-'));
    const args = dialect === 'postgres' ? ['--data-dir', dir, '--database-url', await freshPostgresDatabase()] : ['--data-dir', dir];
    serve = await startServe([...args, '--workers', '2'], { ATRIUM_AUDIT_SEAL_MS: '50' });
    expect(serve.banner).toMatch(/2 worker processes/);
    const primary = serve.child.pid!;
    await expect.poll(() => childrenOf(primary).length, { timeout: 20_000 }).toBe(2);
    const workers = childrenOf(primary);

    const key = /AWS_ACCESS_KEY_ID=(\S+)/.exec(serve.banner)![1]!;
    const secret = /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(serve.banner)![1]!;
    const store = /identity store:\s+(\S+)/.exec(serve.banner)![1]!;
    // A new connection per request, so that the requests spread over both processes.
    const ids = new IdentitystoreClient({
      endpoint: serve.url,
      region: 'us-east-1',
      credentials: { accessKeyId: key, secretAccessKey: secret },
      maxAttempts: 1,
      requestHandler: { httpAgent: new Agent({ keepAlive: false }) },
    });
    const create = (name: string) => ids.send(new CreateUserCommand({ IdentityStoreId: store, UserName: name, DisplayName: name, Name: { GivenName: 'W', FamilyName: 'P' } }));
    const listed = async () => ((await ids.send(new ListUsersCommand({ IdentityStoreId: store, MaxResults: 100 }))).Users ?? []).map((u) => u.UserName).sort();
    for (let i = 0; i < 10; i++) {
      await create(`worker-${i}`);
      // Read back at once, on whichever process takes the next connection.
      expect(await listed()).toContain(`worker-${i}`);
    }

    // A worker that dies is replaced, and the port keeps answering meanwhile.
    process.kill(workers[0]!, 'SIGKILL');
    await expect.poll(() => childrenOf(primary).filter((p) => !workers.includes(p)).length, { timeout: 20_000 }).toBe(1);
    for (let i = 10; i < 14; i++) await create(`worker-${i}`);
    expect(await listed()).toEqual(Array.from({ length: 14 }, (_, i) => `worker-${i}`).sort());

    // Every event is chained once, whichever process sealed it. When the killed worker held the
    // sealer's lease, the chain waits for that lease to lapse (30 s at most), then another takes it.
    await expect
      .poll(
        async () => {
          const r = await runCli(['audit', 'verify', ...args, '--json']);
          const j = JSON.parse(r.stdout) as { ok: boolean; notYetChained: number };
          return r.code === 0 && j.ok && j.notYetChained === 0;
        },
        { timeout: 60_000, interval: 300 },
      )
      .toBe(true);

    const all = childrenOf(primary);
    await serve.stop();
    serve = undefined;
    await expect.poll(() => all.filter(alive).length, { timeout: 10_000 }).toBe(0);
  }, 120_000);
});

describe('atrium serve --workers on a port that is taken', () => {
  it('fails the start with the reason, and leaves no worker behind, instead of forking forever', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const port = (taken.address() as AddressInfo).port;
    const dir = mkdtempSync(path.join(tmpdir(), 'atrium-workers-taken-'));
    try {
      const started = Date.now();
      const r = await runCli(['serve', '--data-dir', dir, '--port', String(port), '--workers', '2'], { ATRIUM_LOG_LEVEL: 'warn' });
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/EADDRINUSE/);
      expect(r.stderr).toMatch(/a worker exited \(1\) before serving/);
      expect(r.stdout).not.toMatch(/serving on/);
      expect(Date.now() - started).toBeLessThan(30_000);
      // No worker outlives the primary: no process left runs on this data directory.
      const running = readdirSync('/proc')
        .filter((d) => /^\d+$/.test(d))
        .filter((d) => {
          try {
            return readFileSync(`/proc/${d}/cmdline`, 'utf8').includes(dir);
          } catch {
            return false;
          }
        });
      expect(running).toEqual([]);
    } finally {
      taken.close();
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
