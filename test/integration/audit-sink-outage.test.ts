// Audit sinks deliver every sealed event at least once, in chain order, through a receiver outage
// and an Atrium restart: a real HTTP webhook receiver and a real TCP syslog listener go down while
// users are created, Atrium is stopped and started again on the same database, and once the
// receivers are back every event has arrived (duplicates allowed, each carrying its eventID).
// The outage lasts ATRIUM_SINK_OUTAGE_MS (the 30 s with ATRIUM_SINK_OUTAGE_MS=30000).

import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { initialize } from '../../src/init.js';
import { createRegistry, type Registry } from '../../src/registry.js';
import { createLogger } from '../../src/shared/logger.js';
import { runCli } from '../helpers/cli.js';
import { dialects, freshPostgresDatabase, type DialectName } from '../helpers/server.js';
import { octetCountedFrames } from '../helpers/syslog.js';

const OUTAGE_MS = Number(process.env.ATRIUM_SINK_OUTAGE_MS ?? 30_000);

interface Received {
  eventID: string;
  eventName: string;
}

/** A webhook receiver on a fixed port, which can be taken down and brought back. */
class WebhookReceiver {
  readonly records: Received[] = [];
  posts = 0;
  /** Keep the next batch but answer 503, as when a receiver's answer is lost: Atrium must send it again. */
  loseNextAnswer = false;
  private server?: Server;
  port = 0;
  async up(): Promise<void> {
    this.server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { Records: Received[] };
        this.posts++;
        this.records.push(...body.Records);
        const status = this.loseNextAnswer ? 503 : 200;
        this.loseNextAnswer = false;
        res.writeHead(status).end('{}');
      });
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }
  async down(): Promise<void> {
    this.server!.closeAllConnections();
    await new Promise((r) => this.server!.close(r));
  }
}

/** A syslog listener (RFC 5424 messages framed by octet counting, RFC 6587) on a fixed port. */
class SyslogReceiver {
  readonly records: Received[] = [];
  readonly headers: string[] = [];
  private server?: net.Server;
  private readonly sockets = new Set<net.Socket>();
  port = 0;
  async up(): Promise<void> {
    this.server = net.createServer((socket) => {
      this.sockets.add(socket);
      socket.on('close', () => this.sockets.delete(socket));
      socket.on('data', octetCountedFrames((msg) => this.parse(msg)));
    });
    await new Promise<void>((r) => this.server!.listen(this.port, '127.0.0.1', r));
    this.port = (this.server.address() as net.AddressInfo).port;
  }
  private parse(msg: string): void {
    const m = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (\[[^\]]*\]) \ufeff(.*)$/s.exec(msg);
    if (!m) throw new Error(`not an RFC 5424 message: ${msg.slice(0, 80)}`);
    this.headers.push(msg.slice(0, msg.indexOf('\ufeff')));
    const record = JSON.parse(m[8]!) as Received;
    expect(m[7]).toContain(`eventID="${record.eventID}"`);
    expect(m[6]).toBe(record.eventName.slice(0, 32));
    this.records.push(record);
  }
  async down(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise((r) => this.server!.close(r));
  }
}

interface Running {
  reg: Registry;
  url: string;
  close(): Promise<void>;
}

/** Atrium as `serve` runs it, on a given database, so that a second one can start where the first stopped. */
async function startAtrium(dataDir: string, databaseUrl: string | undefined, extra: Record<string, unknown>): Promise<Running> {
  const config = loadConfig({ dataDir, databaseUrl, port: 0, logLevel: 'silent', jobPollMs: 50, auditSealMs: 50, ...extra }, {});
  const reg = await createRegistry(config, { startJobs: true, log: createLogger('silent') });
  const app = await buildApp(reg);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const port = (app.server.address() as net.AddressInfo).port;
  return {
    reg,
    url: `http://127.0.0.1:${port}`,
    async close() {
      await app.close();
      await reg.close();
    },
  };
}

/** Each eventID once, in the order it first arrived. */
const firstArrivals = (records: readonly Received[]) => [...new Set(records.map((r) => r.eventID))];

describe.each(dialects())('audit sinks through an outage on %s', (dialect: DialectName) => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it(`deliver every event in chain order after a ${OUTAGE_MS / 1000} s outage and a restart`, async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-sinks-'));
    dirs.push(dataDir);
    const databaseUrl = dialect === 'postgres' ? await freshPostgresDatabase() : undefined;
    const webhook = new WebhookReceiver();
    const syslog = new SyslogReceiver();
    await webhook.up();
    await syslog.up();
    const jsonl = path.join(dataDir, 'audit.jsonl');
    const extra = {
      auditSinks: [
        { type: 'webhook', name: 'siem', url: `http://127.0.0.1:${webhook.port}/ingest`, batchSize: 7, timeoutMs: 2000 },
        { type: 'syslog', name: 'syslog', host: '127.0.0.1', port: syslog.port, batchSize: 5, timeoutMs: 2000 },
        { type: 'file', name: 'file', path: jsonl },
      ],
      auditSinkPollMs: 50,
      auditSinkRetryMs: 100,
      // Short enough that delivery resumes soon after the receivers are back.
      auditSinkRetryMaxMs: 1000,
    };

    let atrium = await startAtrium(dataDir, databaseUrl, extra);
    const init = await initialize(atrium.reg, {});
    const credentials = { accessKeyId: init.adminAccessKeyId, secretAccessKey: init.adminSecretAccessKey! };
    const createUsers = async (prefix: string, n: number) => {
      const client = new IdentitystoreClient({ endpoint: atrium.url, region: 'us-east-1', credentials, maxAttempts: 1 });
      for (let i = 0; i < n; i++) {
        await client.send(new CreateUserCommand({ IdentityStoreId: init.identityStoreId, UserName: `${prefix}-${i}`, DisplayName: 'S', Name: { GivenName: 'S', FamilyName: 'Y' } }));
      }
    };
    const chainOrder = async () =>
      (await atrium.reg.database.db.selectFrom('audit_chain').select('event_id').orderBy('position').execute()).map((r) => r.event_id);

    // Receivers up: the first events arrive.
    await createUsers('before', 10);
    await expect.poll(() => firstArrivals(webhook.records).length, { timeout: 10_000 }).toBeGreaterThanOrEqual(10);

    // Receivers down; events keep coming; Atrium restarts in between; the outage lasts OUTAGE_MS.
    const outageStart = Date.now();
    await webhook.down();
    await syslog.down();
    const duringOutage = { webhook: webhook.records.length, syslog: syslog.records.length };
    await createUsers('outage-first', 10);
    await new Promise((r) => setTimeout(r, 300)); // sealed, tried and failed at least once
    await atrium.close();
    atrium = await startAtrium(dataDir, databaseUrl, extra);
    await createUsers('outage-second', 10);
    // Asked while the outage goes on (a separate process, as an operator would run it).
    const sinksCli = runCli(['audit', 'sinks', '--data-dir', dataDir, ...(databaseUrl ? ['--database-url', databaseUrl] : []), '--json'], {
      ATRIUM_AUDIT_SINKS: JSON.stringify(extra.auditSinks),
    });
    await new Promise((r) => setTimeout(r, Math.max(0, OUTAGE_MS - (Date.now() - outageStart))));
    // Nothing could have arrived.
    expect(webhook.records.length).toBe(duringOutage.webhook);
    expect(syslog.records.length).toBe(duringOutage.syslog);
    // The operator sees it: `atrium audit sinks` names the failing sinks, their error and their lag.
    const cli = await sinksCli;
    expect(cli.stderr).toBe('');
    const status = (JSON.parse(cli.stdout) as { sinks: { name: string; behind: number; failures: number; lastError: string | null }[] }).sinks;
    expect(status.find((s) => s.name === 'siem')).toMatchObject({ behind: expect.any(Number) as unknown, lastError: expect.stringMatching(/webhook unreachable: ECONNREFUSED/) as unknown });
    expect(status.find((s) => s.name === 'syslog')!.lastError).toMatch(/syslog receiver unreachable: ECONNREFUSED/);
    for (const name of ['siem', 'syslog']) expect(status.find((s) => s.name === name)!.behind).toBeGreaterThanOrEqual(20);
    expect(status.find((s) => s.name === 'file')).toMatchObject({ failures: 0, lastError: null });

    // Back up: everything arrives, in chain order.
    webhook.loseNextAnswer = true;
    await webhook.up();
    await syslog.up();
    await createUsers('after', 5);
    const created = 35;
    const expected = await expect
      .poll(async () => {
        const order = await chainOrder();
        const w = firstArrivals(webhook.records);
        const s = firstArrivals(syslog.records);
        return w.length === order.length && s.length === order.length && order.length >= created + 3 ? order : undefined; // and init's three
      }, { timeout: 20_000, interval: 200 })
      .toBeDefined()
      .then(chainOrder);
    expect(firstArrivals(webhook.records)).toEqual(expected);
    // The batch whose answer was lost came again: a duplicate, harmless since each carries its eventID.
    expect(webhook.records.length).toBeGreaterThan(expected.length);
    expect(firstArrivals(syslog.records)).toEqual(expected);
    const readFile = () => readFileSync(jsonl, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Received);
    await expect.poll(() => firstArrivals(readFile()).length, { timeout: 10_000 }).toBe(expected.length);
    const fileRecords = readFile();
    expect(firstArrivals(fileRecords)).toEqual(expected);
    // Every record, duplicates included, carries its eventID; the users created are all there.
    for (const r of [...webhook.records, ...syslog.records, ...fileRecords]) expect(r.eventID).toMatch(/^[0-9a-f-]{36}$/);
    expect(new Set(webhook.records.filter((r) => r.eventName === 'CreateUser').map((r) => r.eventID)).size).toBe(created);
    // The syslog header: facility 13 (log audit), informational, RFC 5424 version 1.
    expect(syslog.headers[0]).toMatch(/^<110>1 \d{4}-\d\d-\d\dT[\d:.]+Z \S+ atrium \d+ \S+ \[atrium@32473 eventID="[^"]+" position="1" eventSource="[^"]+"\] $/);

    await atrium.close();
    await webhook.down();
    await syslog.down();
  }, 60_000 + OUTAGE_MS * 2);

  it('share a sink between two processes: one delivers at a time, and nothing is lost when it stops', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-sinks-'));
    dirs.push(dataDir);
    const databaseUrl = dialect === 'postgres' ? await freshPostgresDatabase() : undefined;
    const webhook = new WebhookReceiver();
    await webhook.up();
    const extra = {
      auditSinks: [{ type: 'webhook', name: 'siem', url: `http://127.0.0.1:${webhook.port}/`, batchSize: 3 }],
      auditSinkPollMs: 20,
    };
    const a = await startAtrium(dataDir, databaseUrl, extra);
    const init = await initialize(a.reg, {});
    const b = await startAtrium(dataDir, databaseUrl, extra);
    const credentials = { accessKeyId: init.adminAccessKeyId, secretAccessKey: init.adminSecretAccessKey! };
    const create = (server: Running, name: string) =>
      new IdentitystoreClient({ endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 }).send(
        new CreateUserCommand({ IdentityStoreId: init.identityStoreId, UserName: name, DisplayName: 'M', Name: { GivenName: 'M', FamilyName: 'P' } }),
      );
    await Promise.all(Array.from({ length: 20 }, (_, i) => create(i % 2 ? a : b, `mp-${i}`)));
    const chainOrder = async () => (await b.reg.database.db.selectFrom('audit_chain').select('event_id').orderBy('position').execute()).map((r) => r.event_id);
    await expect.poll(async () => firstArrivals(webhook.records).length === (await chainOrder()).length && webhook.records.length >= 23, { timeout: 15_000 }).toBe(true);
    // The process holding the lease stops; the other takes over once the lease is let go.
    await a.close();
    await Promise.all(Array.from({ length: 5 }, (_, i) => create(b, `mp-after-${i}`)));
    await expect.poll(async () => firstArrivals(webhook.records).length === (await chainOrder()).length && webhook.records.length >= 28, { timeout: 15_000 }).toBe(true);
    expect(firstArrivals(webhook.records)).toEqual(await chainOrder());
    // One deliverer at a time, each batch sent once: no event arrived twice.
    expect(webhook.records.length).toBe(firstArrivals(webhook.records).length);
    await b.close();
    await webhook.down();
  }, 60_000);
});
