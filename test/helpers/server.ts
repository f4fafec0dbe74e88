// Start a real Atrium server for a test: buildApp on a real database (SQLite in a temp dir, or the
// PostgreSQL named by ATRIUM_TEST_DATABASE_URL in a fresh schema-free database), listening on port 0.

import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config/config.js';
import { initialize, type InitResult } from '../../src/init.js';
import { createRegistry, type Registry } from '../../src/registry.js';
import { createLogger, type Logger } from '../../src/shared/logger.js';

export type DialectName = 'sqlite' | 'postgres';

/** The dialects this run tests: SQLite always, PostgreSQL when a server is given (always in CI). */
export function dialects(): DialectName[] {
  if (process.env.ATRIUM_TEST_DATABASE_URL) return ['sqlite', 'postgres'];
  if (process.env.CI === 'true') throw new Error('CI=true but ATRIUM_TEST_DATABASE_URL is not set: PostgreSQL is required in CI');
  console.warn('\n*** ATRIUM_TEST_DATABASE_URL is not set: PostgreSQL tests are SKIPPED (run .ci/run or set it) ***\n');
  return ['sqlite'];
}

/** A fresh, empty PostgreSQL database on the test server; returns its URL. */
export async function freshPostgresDatabase(): Promise<string> {
  const base = process.env.ATRIUM_TEST_DATABASE_URL;
  if (!base) throw new Error('ATRIUM_TEST_DATABASE_URL is not set');
  const name = `atrium_t_${Date.now().toString(36)}_${Math.random().toString(36).slice(2, 8)}`;
  const client = new pg.Client({ connectionString: base });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE ${name}`);
  } finally {
    await client.end();
  }
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}

export interface TestServer {
  url: string;
  reg: Registry;
  init: InitResult;
  /** Credentials of the bootstrap administrator, for SDK clients. */
  credentials: { accessKeyId: string; secretAccessKey: string };
  dataDir: string;
  close(): Promise<void>;
}

export async function startServer(dialect: DialectName, extra: Record<string, unknown> = {}, opts: { log?: Logger } = {}): Promise<TestServer> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'atrium-test-'));
  const databaseUrl = dialect === 'postgres' ? await freshPostgresDatabase() : undefined;
  let reg: Registry;
  try {
    const config = loadConfig({ dataDir, databaseUrl, port: 0, logLevel: 'silent', jobPollMs: 50, ...extra }, {});
    reg = await createRegistry(config, { startJobs: true, log: opts.log ?? createLogger('silent') });
  } catch (err) {
    // A configuration a test expects to be refused leaves no directory behind.
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const app = await buildApp(reg);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : 0;
  const init = await initialize(reg, { port });
  return {
    url: `http://127.0.0.1:${port}`,
    reg,
    init,
    credentials: { accessKeyId: init.adminAccessKeyId, secretAccessKey: init.adminSecretAccessKey! },
    dataDir,
    async close() {
      await app.close();
      await reg.close();
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The storage flags every `atrium` command takes, for the CLI against a test server's database. */
export function cliStorage(server: TestServer): string[] {
  return ['--data-dir', server.dataDir, ...(server.reg.config.databaseUrl ? ['--database-url', server.reg.config.databaseUrl] : [])];
}

/** Options for any @aws-sdk client against a test server. */
export function sdkOptions(server: TestServer, credentials = server.credentials) {
  return { endpoint: server.url, region: 'us-east-1', credentials, maxAttempts: 1 };
}
