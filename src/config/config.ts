// One zod schema for every setting. Values come from defaults, then a JSON config file, then
// ATRIUM_* environment variables, then command-line flags; the later wins.

import { readFileSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../shared/errors.js';
import { isValidHashThreads, MAX_HASH_THREADS } from '../shared/hash-thread-count.js';

/** An environment variable holds JSON for a structured setting (ATRIUM_AUDIT_SINKS, ATRIUM_AUDIT_ALERTS). */
const jsonIfString = (v: unknown): unknown => {
  if (typeof v !== 'string') return v;
  try {
    return JSON.parse(v) as unknown;
  } catch {
    return v;
  }
};

const webhookTarget = {
  url: z
    .string()
    .url()
    .refine((u) => /^https?:/.test(u), 'must be an http or https URL')
    // fetch cannot connect to port 0; the sink would fail forever as "unreachable".
    .refine((u) => !URL.canParse(u) || new URL(u).port !== '0', 'must not name port 0')
    // A password in the URL would end up in error messages, logs and `atrium audit sinks`; give it in headers.
    .refine((u) => !URL.canParse(u) || (new URL(u).username === '' && new URL(u).password === ''), 'must not carry a user name or password; put credentials in headers'),
  /**
   * Extra request headers, such as Authorization; never logged. Only what fetch can send: a name
   * that is an RFC 9110 token, a value without CR, LF or NUL (a header that cannot be sent would
   * fail every delivery as if the receiver were down). Neither is ever echoed in the message.
   */
  headers: z
    .record(z.string(), z.string())
    .superRefine((headers, ctx) => {
      for (const [name, value] of Object.entries(headers)) {
        if (!/^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/.test(name)) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, path: [name], message: "a header name must be a token (letters, digits and !#$%&'*+-.^_`|~; no spaces)" });
        } else if (/[\r\n\0]/.test(value)) {
          ctx.addIssue({ code: z.ZodIssueCode.custom, path: [name], message: 'a header value must not hold CR, LF or NUL' });
        } else {
          try {
            new Headers({ [name]: value });
          } catch {
            ctx.addIssue({ code: z.ZodIssueCode.custom, path: [name], message: 'this header cannot be sent' });
          }
        }
      }
    })
    .default({}),
  timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
};
const sinkName = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - (at most 64)').refine((n) => n !== 'alerts', '"alerts" is the alert rules\' own cursor');
const batchSize = z.number().int().min(1).max(10_000).default(100);

/** Audit sinks: each streams the sealed chain, in order, from its own durable cursor. */
export const auditSinkSchema = z.discriminatedUnion('type', [
  z.object({ type: z.literal('webhook'), name: sinkName, batchSize, ...webhookTarget }).strict(),
  z
    .object({
      type: z.literal('syslog'),
      name: sinkName,
      batchSize,
      host: z.string().min(1),
      port: z.number().int().min(1).max(65535),
      /** RFC 5424 facility; 13 is "log audit". */
      facility: z.number().int().min(0).max(23).default(13),
      hostname: z.string().min(1).optional(),
      appName: z.string().min(1).max(48).default('atrium'),
      timeoutMs: z.number().int().min(100).max(120_000).default(10_000),
      /**
       * RFC 5425: syslog over TLS (port 6514 by convention). The receiver's certificate is verified,
       * against `caFile` (PEM) or the system's CAs, for `serverName` (default: `host`).
       */
      tls: z.boolean().default(false),
      caFile: z.string().min(1).optional(),
      serverName: z.string().min(1).max(253).optional(),
      /** A client certificate and its key (PEM files), for a receiver that authenticates its senders. */
      certFile: z.string().min(1).optional(),
      keyFile: z.string().min(1).optional(),
    })
    .strict()
    .refine((s) => s.tls || (s.caFile ?? s.serverName ?? s.certFile ?? s.keyFile) === undefined, { message: 'caFile, serverName, certFile and keyFile need tls: true' })
    .refine((s) => (s.certFile === undefined) === (s.keyFile === undefined), { message: 'certFile and keyFile go together' }),
  z.object({ type: z.literal('file'), name: sinkName, batchSize, path: z.string().min(1) }).strict(),
]);

const severity = z.enum(['low', 'medium', 'high', 'critical']).default('high');
const ruleName = z.string().regex(/^[A-Za-z0-9_.-]{1,128}$/, 'letters, digits, _ . - (at most 128)');

/** Alert rules, evaluated over the sealed chain in order; fired alerts go to one webhook. */
export const auditAlertsSchema = z
  .object({
    webhook: z.object(webhookTarget).strict(),
    rules: z
      .array(
        z.discriminatedUnion('type', [
          z
            .object({
              type: z.literal('assignment-outside-automation'),
              name: ruleName,
              severity,
              /** ARNs or access key ids of the automation allowed to create account assignments. */
              automationPrincipals: z.array(z.string().min(1)).min(1),
            })
            .strict(),
          z
            .object({
              type: z.literal('failed-sign-ins'),
              name: ruleName,
              severity,
              threshold: z.number().int().min(1).max(10_000).default(5),
              windowMinutes: z.number().int().min(1).max(10_080).default(15),
            })
            .strict(),
        ]),
      )
      .min(1)
      .refine((rules) => new Set(rules.map((r) => r.name)).size === rules.length, 'rule names must be unique'),
  })
  .strict();

/**
 * A whole number from a flag, the environment or the config file: digits only. `Number()` would
 * read `0x63DE`, `1e3` and an empty string (0: a random port) as numbers.
 */
const wholeNumber = (min: number, max: number) =>
  z.preprocess((v) => (typeof v === 'string' ? (/^\d+$/.test(v.trim()) ? Number(v.trim()) : Number.NaN) : v), z.number().int().min(min).max(max));

export const configSchema = z
  .object({
    /** Where the embedded SQLite file and the local master key live. */
    dataDir: z.string().min(1).default('./data'),
    /** postgres://… to use PostgreSQL; empty for embedded SQLite under dataDir. */
    databaseUrl: z.string().optional(),
    host: z.string().min(1).default('127.0.0.1'),
    port: wholeNumber(0, 65535).default(8080),
    /** `serve` processes sharing the port (node:cluster), each with its own event loop; 1 serves in this process. */
    workers: wholeNumber(1, 64).default(1),
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
    jobPollMs: wholeNumber(10, 60_000).default(250),
    /** How often `serve` appends new audit events to the hash chain. */
    auditSealMs: wholeNumber(10, 60_000).default(1000),
    /** Seal on a worker thread of its own, off the thread that serves requests. */
    auditSealerThread: z.union([z.boolean(), z.stringbool()]).default(true),
    /** How many nice steps below the request thread the sealer thread runs (Linux; 0: the same priority). */
    auditSealerNice: wholeNumber(0, 19).default(5),
    /** Sign a digest of the chain head once this many events are chained past the last one… */
    auditDigestEvery: wholeNumber(1, 1_000_000).default(1000),
    /** …or once this many seconds have passed, if anything new is chained. */
    auditDigestSeconds: wholeNumber(1, 86_400).default(60),
    /** Audit events older than this many days are pruned; 0 keeps them forever. */
    auditRetentionDays: wholeNumber(0, 36_500).default(0),
    /** Where the sealed audit trail is streamed: webhooks, syslog over TCP, JSON Lines files. */
    auditSinks: z.preprocess(
      jsonIfString,
      z.array(auditSinkSchema).refine((sinks) => new Set(sinks.map((s) => s.name)).size === sinks.length, 'sink names must be unique'),
    ).default([]),
    /** How often an idle sink (and the alert evaluator) looks for newly sealed events. */
    auditSinkPollMs: wholeNumber(10, 60_000).default(1000),
    /** A failed delivery is retried after this long, doubling each time… */
    auditSinkRetryMs: wholeNumber(10, 3_600_000).default(1000),
    /** …up to this. */
    auditSinkRetryMaxMs: wholeNumber(10, 86_400_000).default(300_000),
    auditAlerts: z.preprocess(jsonIfString, auditAlertsSchema.optional()),
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
  ATRIUM_AUDIT_SEALER_NICE: 'auditSealerNice',
  ATRIUM_AUDIT_DIGEST_EVERY: 'auditDigestEvery',
  ATRIUM_AUDIT_DIGEST_SECONDS: 'auditDigestSeconds',
  ATRIUM_AUDIT_RETENTION_DAYS: 'auditRetentionDays',
  ATRIUM_AUDIT_SINKS: 'auditSinks',
  ATRIUM_AUDIT_SINK_POLL_MS: 'auditSinkPollMs',
  ATRIUM_AUDIT_SINK_RETRY_MS: 'auditSinkRetryMs',
  ATRIUM_AUDIT_SINK_RETRY_MAX_MS: 'auditSinkRetryMaxMs',
  ATRIUM_AUDIT_ALERTS: 'auditAlerts',
};

export { ConfigError };

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
  // Read where hashing starts (src/auth/password-hash.ts), checked here so that a bad value stops start-up.
  const hashThreads = env.ATRIUM_HASH_THREADS;
  if (hashThreads !== undefined && hashThreads !== '' && !isValidHashThreads(hashThreads)) {
    throw new ConfigError(`ATRIUM_HASH_THREADS must be a whole number from 1 to ${MAX_HASH_THREADS}, not ${JSON.stringify(hashThreads)}`);
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

/** A host name or address that never leaves this machine (a URL's hostname keeps IPv6's brackets). */
const isLoopback = (host: string) => ['127.0.0.1', 'localhost', '::1', '[::1]'].includes(host);

/** Settings that are legal but unsafe: said loudly at start-up. */
export function configWarnings(c: Config): string[] {
  const w: string[] = [];
  if (process.env.ATRIUM_BENCH_AUDIT_OFF === '1') w.push('ATRIUM_BENCH_AUDIT_OFF=1: NOTHING IS AUDITED (a benchmark switch; unset it)');
  if (!isLoopback(c.host) && !(c.publicUrl ?? '').startsWith('https:')) {
    w.push(`listening on ${c.host} without an https publicUrl: put Atrium behind TLS before users reach it`);
  }
  for (const target of [...c.auditSinks.filter((s) => s.type === 'webhook'), ...(c.auditAlerts ? [c.auditAlerts.webhook] : [])]) {
    const u = new URL(target.url);
    if (u.protocol === 'http:' && !isLoopback(u.hostname)) {
      w.push(`audit webhook ${u.origin} is plain http: audit events and alerts cross the network unencrypted`);
    }
  }
  for (const sink of c.auditSinks) {
    if (sink.type === 'syslog' && !sink.tls && !isLoopback(sink.host)) {
      w.push(`audit syslog ${sink.host}:${sink.port} is plain TCP: audit events cross the network unencrypted (set "tls": true)`);
    }
  }
  if (c.databaseUrl && !c.keyFile) {
    w.push('PostgreSQL with the key file under dataDir: every process needs the same key file (set ATRIUM_KEY_FILE)');
  }
  return w;
}
