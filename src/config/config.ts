// One zod schema for every setting. Values come from defaults, then a JSON config file, then
// ATRIUM_* environment variables, then command-line flags; the later wins.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';

export const configSchema = z
  .object({
    /** Where the embedded SQLite file and the local master key live. */
    dataDir: z.string().min(1).default('./data'),
    /** postgres://… to use PostgreSQL; empty for embedded SQLite under dataDir. */
    databaseUrl: z.string().optional(),
    host: z.string().min(1).default('127.0.0.1'),
    port: z.coerce.number().int().min(0).max(65535).default(8080),
    /** `serve` processes sharing the port (node:cluster), each with its own event loop; 1 serves in this process. */
    workers: z.coerce.number().int().min(1).max(64).default(1),
    region: z
      .string()
      .regex(/^[a-z]{2}(-[a-z]+)+-\d$/, 'must look like us-east-1')
      .default('us-east-1'),
    /** The URL users reach Atrium at; defaults to http://host:port. */
    publicUrl: z.string().url().optional(),
    /** The local key provider's key-encryption key file; defaults to <dataDir>/master.key. */
    keyFile: z.string().optional(),
    logLevel: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
    /** How often an idle job worker looks for work that other processes queued. */
    jobPollMs: z.coerce.number().int().min(10).max(60_000).default(250),
    /** How often `serve` appends new audit events to the hash chain. */
    auditSealMs: z.coerce.number().int().min(10).max(60_000).default(1000),
    /** Seal on a worker thread of its own, off the thread that serves requests. */
    auditSealerThread: z.union([z.boolean(), z.stringbool()]).default(true),
    /** Sign a digest of the chain head once this many events are chained past the last one… */
    auditDigestEvery: z.coerce.number().int().min(1).max(1_000_000).default(1000),
    /** …or once this many seconds have passed, if anything new is chained. */
    auditDigestSeconds: z.coerce.number().int().min(1).max(86_400).default(60),
    /** Audit events older than this many days are pruned; 0 keeps them forever. */
    auditRetentionDays: z.coerce.number().int().min(0).max(36_500).default(0),
  })
  .strict();

export type Config = z.infer<typeof configSchema>;
export type ConfigInput = z.input<typeof configSchema>;

const ENV: Record<string, keyof Config> = {
  ATRIUM_DATA_DIR: 'dataDir',
  ATRIUM_DATABASE_URL: 'databaseUrl',
  ATRIUM_HOST: 'host',
  ATRIUM_PORT: 'port',
  ATRIUM_WORKERS: 'workers',
  ATRIUM_REGION: 'region',
  ATRIUM_PUBLIC_URL: 'publicUrl',
  ATRIUM_KEY_FILE: 'keyFile',
  ATRIUM_LOG_LEVEL: 'logLevel',
  ATRIUM_JOB_POLL_MS: 'jobPollMs',
  ATRIUM_AUDIT_SEAL_MS: 'auditSealMs',
  ATRIUM_AUDIT_SEALER_THREAD: 'auditSealerThread',
  ATRIUM_AUDIT_DIGEST_EVERY: 'auditDigestEvery',
  ATRIUM_AUDIT_DIGEST_SECONDS: 'auditDigestSeconds',
  ATRIUM_AUDIT_RETENTION_DAYS: 'auditRetentionDays',
};

export class ConfigError extends Error {}

export function loadConfig(flags: Partial<Record<keyof Config, unknown>> = {}, env = process.env): Config {
  const fromFile: Record<string, unknown> = {};
  const file = env.ATRIUM_CONFIG;
  if (file) {
    try {
      Object.assign(fromFile, JSON.parse(readFileSync(file, 'utf8')) as Record<string, unknown>);
    } catch (err) {
      throw new ConfigError(`cannot read config file ${file}: ${(err as Error).message}`);
    }
  }
  const fromEnv: Record<string, unknown> = {};
  for (const [name, key] of Object.entries(ENV)) {
    if (env[name] !== undefined && env[name] !== '') fromEnv[key] = env[name];
  }
  const fromFlags = Object.fromEntries(Object.entries(flags).filter(([, v]) => v !== undefined));
  const parsed = configSchema.safeParse({ ...fromFile, ...fromEnv, ...fromFlags });
  if (!parsed.success) {
    const detail = parsed.error.issues.map((i) => `${i.path.join('.') || 'config'}: ${i.message}`).join('; ');
    throw new ConfigError(`invalid configuration: ${detail}`);
  }
  return parsed.data;
}

export const publicUrlOf = (c: Config, port = c.port) =>
  (c.publicUrl ?? `http://${c.host.includes(':') ? `[${c.host}]` : c.host}:${port}`).replace(/\/$/, '');
export const keyFileOf = (c: Config) => c.keyFile ?? path.join(c.dataDir, 'master.key');
export const sqliteFileOf = (c: Config) => path.join(c.dataDir, 'atrium.db');

/** Settings that are legal but unsafe: said loudly at start-up. */
export function configWarnings(c: Config): string[] {
  const w: string[] = [];
  if (process.env.ATRIUM_BENCH_AUDIT_OFF === '1') w.push('ATRIUM_BENCH_AUDIT_OFF=1: NOTHING IS AUDITED (a benchmark switch; unset it)');
  if (c.host !== '127.0.0.1' && c.host !== 'localhost' && c.host !== '::1' && !(c.publicUrl ?? '').startsWith('https:')) {
    w.push(`listening on ${c.host} without an https publicUrl: put Atrium behind TLS before users reach it`);
  }
  if (c.databaseUrl && !c.keyFile) {
    w.push('PostgreSQL with the key file under dataDir: every process needs the same key file (set ATRIUM_KEY_FILE)');
  }
  return w;
}
