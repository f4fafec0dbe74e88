// `atrium serve` seals the audit log on a thread of its own, with its own SQLite connection. Under
// write load the request thread must never meet that thread at SQLite's write lock: a request batch
// that met it would sleep in SQLite's busy handler with the event loop stopped (up to 200 ms
// measured before the gate). With busy_timeout 0 every such meeting is a refused write (503)
// instead of a sleep, so the load below shows it. Since 0023 the sealer writes a file of its own
// (atrium-audit.db), so the two never meet, with the in-process write gate
// (src/store/write-gate.ts) or without it (until 0023 the gate alone kept them apart, and without
// it the same load was refused within a second). The chain is whole and verifies afterwards. The
// sealer renews its lease only every 15 s, past a short load: a last case holds a request batch
// open and shows a sealer thread taking the lease meanwhile.

import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import Database from 'better-sqlite3';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { afterEach, describe, expect, it } from 'vitest';
import { buildEvent } from '../../src/audit/index.js';
import { loadConfig } from '../../src/config/config.js';
import { createRegistry, type Registry } from '../../src/registry.js';
import { systemContext } from '../../src/shared/context.js';
import { createLogger } from '../../src/shared/logger.js';
import { writeGateBuffers } from '../../src/store/write-gate.js';
import { runCli, startServe, type ServeProcess } from '../helpers/cli.js';

const LOAD_MS = 3000;
const CONNECTIONS = 8;

interface Outcome {
  created: number;
  refused: Map<string, number>;
}

/** CreateUser from CONNECTIONS callers at once, each as soon as its last answer came, until `stop()` says so. */
async function createUsers(url: string, creds: { accessKeyId: string; secretAccessKey: string }, identityStoreId: string, stop: (o: Outcome) => boolean): Promise<Outcome> {
  const client = new IdentitystoreClient({ endpoint: url, region: 'us-east-1', credentials: creds, maxAttempts: 1 });
  const outcome: Outcome = { created: 0, refused: new Map() };
  let n = 0;
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (!stop(outcome)) {
        const i = n++;
        try {
          await client.send(new CreateUserCommand({ IdentityStoreId: identityStoreId, UserName: `load-${i}`, DisplayName: `L ${i}`, Name: { GivenName: 'L', FamilyName: `${i}` } }));
          outcome.created++;
        } catch (err) {
          const name = (err as { name?: string }).name ?? String(err);
          outcome.refused.set(name, (outcome.refused.get(name) ?? 0) + 1);
        }
      }
    }),
  );
  client.destroy();
  return outcome;
}

describe('the audit sealer thread under write load (SQLite, busy_timeout 0)', () => {
  /** The data directory's two files, read-only, as one database. */
  const openBoth = () => {
    const db = new Database(path.join(dataDir!, 'atrium.db'), { readonly: true });
    db.prepare('attach ? as audit').run(path.join(dataDir!, 'atrium-audit.db'));
    return db;
  };
  const chainedCount = () => {
    const db = openBoth();
    try {
      return (db.prepare('select count(*) as n from audit_chain').get() as { n: number }).n;
    } finally {
      db.close();
    }
  };
  let serve: ServeProcess | undefined;
  let dataDir: string | undefined;
  afterEach(async () => {
    await serve?.stop();
    if (dataDir) rmSync(dataDir, { recursive: true, force: true });
    serve = dataDir = undefined;
  });

  async function start(env: Record<string, string>) {
    dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-sealer-load-'));
    const init = await runCli(['init', '--data-dir', dataDir, '--json']);
    expect(init.code, init.stderr).toBe(0);
    const out = JSON.parse(init.stdout) as { adminAccessKeyId: string; adminSecretAccessKey: string; identityStoreId: string };
    // The sealer chains every 20 ms, so its write transactions overlap the load's all the time.
    serve = await startServe(['--data-dir', dataDir], { ATRIUM_AUDIT_SEAL_MS: '20', ATRIUM_SQLITE_BUSY_TIMEOUT_MS: '0', ...env });
    return { creds: { accessKeyId: out.adminAccessKeyId, secretAccessKey: out.adminSecretAccessKey }, identityStoreId: out.identityStoreId };
  }

  it('refuses no write: the request thread never meets the sealer at SQLite’s lock, and every event is chained and verifies', async () => {
    const { creds, identityStoreId } = await start({});
    const t0 = Date.now();
    const outcome = await createUsers(serve!.url, creds, identityStoreId, () => Date.now() - t0 > LOAD_MS);
    expect(Object.fromEntries(outcome.refused)).toEqual({});
    expect(outcome.created).toBeGreaterThan(100);

    // The sealer kept up through it all: every event is chained (within a few seconds of the load's end).
    const db = openBoth();
    try {
      const behind = db.prepare('select (select count(*) from audit_events) - (select count(*) from audit_chain) as n');
      const until = Date.now() + 15_000;
      while ((behind.get() as { n: number }).n > 0 && Date.now() < until) await new Promise((r) => setTimeout(r, 50));
      expect((behind.get() as { n: number }).n).toBe(0);
      const created = db.prepare("select count(*) as n from audit_events where event_name = 'CreateUser' and error_code is null").get() as { n: number };
      expect(created.n).toBe(outcome.created);
    } finally {
      db.close();
    }
    await serve!.stop();
    const verify = await runCli(['audit', 'verify', '--data-dir', dataDir!, '--json']);
    expect(verify.code, verify.stderr).toBe(0);
    expect(JSON.parse(verify.stdout)).toMatchObject({ ok: true, notYetChained: 0 });
  }, 60_000);

  it('refuses no write without the gate either (ATRIUM_SQLITE_WRITE_GATE=0): the sealer writes its own file', async () => {
    const { creds, identityStoreId } = await start({ ATRIUM_SQLITE_WRITE_GATE: '0' });
    const t0 = Date.now();
    // Before 0023 the first refusal came within a second or so, with a pass every 20 ms.
    const outcome = await createUsers(serve!.url, creds, identityStoreId, (o) => o.refused.size > 0 || Date.now() - t0 > LOAD_MS);
    expect(Object.fromEntries(outcome.refused)).toEqual({});
    expect(outcome.created).toBeGreaterThan(100);
    await expect.poll(() => chainedCount(), { timeout: 15_000 }).toBeGreaterThanOrEqual(outcome.created);
  }, 60_000);

  it('runs the sealer thread 5 nice steps below the request thread, and level with it at auditSealerNice 0 (Linux)', async () => {
    /** Each thread's nice value (stat field 19, counted after the command name's closing parenthesis). */
    const niceByThread = (pid: number) =>
      new Map(
        readdirSync(`/proc/${pid}/task`).map((tid) => {
          const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
          return [Number(tid), Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16])] as const;
        }),
      );
    const chained = chainedCount;

    await start({});
    const pid = serve!.child.pid!;
    const base = niceByThread(pid).get(pid)!;
    // One thread, the sealer's, below the rest; the request thread and every other keep the process's.
    await expect.poll(() => [...niceByThread(pid).values()].filter((n) => n !== base), { timeout: 10_000 }).toEqual([Math.min(19, base + 5)]);
    await expect.poll(chained, { timeout: 10_000 }).toBeGreaterThan(0);
    await serve!.stop();
    rmSync(dataDir!, { recursive: true, force: true });

    await start({ ATRIUM_AUDIT_SEALER_NICE: '0' });
    // Once the sealer thread has chained the bootstrap's events it is running: still level.
    await expect.poll(chained, { timeout: 10_000 }).toBeGreaterThan(0);
    expect([...niceByThread(serve!.child.pid!).values()].filter((n) => n !== base)).toEqual([]);
  }, 60_000);

  it('takes the sealer’s lease at the write gate too: a request batch in flight makes the sealer thread wait, not fail', async () => {
    dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-sealer-lease-'));
    const config = loadConfig({ dataDir, logLevel: 'silent' }, {});
    process.env.ATRIUM_SQLITE_BUSY_TIMEOUT_MS = '0';
    let requests: Registry | undefined;
    let sealer: Worker | undefined;
    let release: () => void = () => undefined;
    let batch: Promise<void> = Promise.resolve();
    try {
      // This thread stands for serve's request thread; a worker thread with its own connection and
      // the same gate (as sealer-thread.ts hands it over) for the sealer's, running the built code.
      requests = await createRegistry(config, { log: createLogger('silent') });
      sealer = new Worker(SEALER_IN_A_WORKER, {
        eval: true,
        workerData: { dist: pathToFileURL(path.resolve(import.meta.dirname, '../../dist')).href, config, gates: writeGateBuffers() },
        env: { ...process.env },
      });
      const answers: unknown[] = [];
      sealer.on('message', (m: unknown) => answers.push(m));
      sealer.on('error', (err) => answers.push({ error: String(err) }));
      const answered = async (n: number, withinMs: number) => {
        const until = Date.now() + withinMs;
        while (answers.length < n && Date.now() < until) await new Promise((r) => setTimeout(r, 10));
        return answers.slice(0, n);
      };
      expect(await answered(1, 20_000)).toEqual(['ready']);

      const held = new Promise<void>((r) => (release = r));
      let entered!: () => void;
      const inBatch = new Promise<void>((r) => (entered = r));
      const reg = requests;
      const ctx = systemContext('sso.amazonaws.com', 'us-east-1', 'lease-test');
      batch = reg.tx.transaction(async (s) => {
        await s.audit.appendEvent(buildEvent(ctx, reg, 'LeaseTest', {}, {}));
        entered();
        await held;
      });
      await inBatch;
      // The sealer has no lease yet: its first pass takes it while the batch holds the write lock.
      sealer.postMessage('seal');
      await new Promise((r) => setTimeout(r, 300));
      expect(answers).toEqual(['ready']);
      release();
      await batch;
      expect((await answered(2, 20_000))[1]).toMatchObject({ sealed: expect.any(Number) });
      const names = await reg.database.db.selectFrom('audit_chain as c').innerJoin('audit_events as e', 'e.seq', 'c.event_seq').select('e.event_name').execute();
      expect(names.map((r) => r.event_name)).toContain('LeaseTest');
    } finally {
      delete process.env.ATRIUM_SQLITE_BUSY_TIMEOUT_MS;
      release();
      await batch.catch(() => undefined);
      await sealer?.terminate();
      await requests?.close();
    }
  }, 60_000);
});

/** The sealer's side: a registry on the built code, with the gates of the thread that started it. */
const SEALER_IN_A_WORKER = `
const { parentPort, workerData } = require('node:worker_threads');
(async () => {
  const { shareWriteGates } = await import(workerData.dist + '/store/write-gate.js');
  shareWriteGates(workerData.gates);
  const { createRegistry } = await import(workerData.dist + '/registry.js');
  const { createLogger } = await import(workerData.dist + '/shared/logger.js');
  const reg = await createRegistry(workerData.config, { log: createLogger('silent') });
  parentPort.postMessage('ready');
  await new Promise((r) => parentPort.once('message', r));
  try {
    parentPort.postMessage({ sealed: await reg.auditTrail.sealOnce() });
  } catch (err) {
    parentPort.postMessage({ failed: String(err) });
  }
  await reg.close();
})();
`;
