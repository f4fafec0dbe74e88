// The `atrium` command line: init, serve, user password|disable|enable, sessions list|revoke,
// settings show|set, mfa list|delete|reset, identity-source show|set, scim token create|list|delete,
// saml idp import|show, saml sp-key show|rotate|retire, admin grant|revoke|list, audit verify|public-key|seal|lookup|export, policy
// simulate and access-key create. Every command takes
// the same storage options; ATRIUM_* variables mirror the flags.

import { randomUUID } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import cluster from 'node:cluster';
import { once } from 'node:events';
import { Command, CommanderError, Help, Option } from 'commander';
import { buildApp } from './app.js';
import { verifyExport, type AuditFilter, type TrailVerifyResult } from './audit/index.js';
import type { FileVerifyResult } from './audit/export-verify.js';
import { ed25519PublicKey } from './crypto/index.js';
import { eventOf } from './protocols/aws/cloudtrail.js';
import { ConfigError, configWarnings, loadConfig, publicUrlOf, sqliteFileOf, type Config } from './config/config.js';
import { initialize } from './init.js';
import { MAX_SESSIONS_PAGE, PORTAL_SOURCE, SIGNIN_SOURCE, type SessionRecord } from './auth/index.js';
import type { NameIdMatch, SpKeySummary } from './federation/index.js';
import { SAML_LOGIN_PATH, SAML_METADATA_PATH, spIdentityOf } from './protocols/saml/index.js';
import { readIdpMetadata } from './protocols/saml/samlify.js';
import { fetchIdpMetadata } from './protocols/saml/metadata-url.js';
import { createRegistry, type Registry } from './registry.js';
import { holdsInstance } from './store/database.js';
import { authorizeAction, authorizeContext, authorizeResource } from './protocols/web/authorize-input.js';
import type { UserStatus } from './directory/index.js';
import { CONSOLE_POLICIES, isConsolePolicy, type IdentitySourceType, type SettingsChange } from './instance/index.js';
import { DEFAULT_SCIM_TOKEN_DAYS, isValidExpiryDays, MAX_SCIM_TOKEN_DAYS, SCIM_ADMIN_SOURCE, SCIM_PATH } from './provisioning/index.js';
import { systemContext, type RequestContext } from './shared/context.js';
import { findManagedPolicy, POLICY_KEY_PURPOSE } from './policy/index.js';

/**
 * Exit codes: 0 done; 1 a failure while running (the database, a key, a refusal); 2 a usage or
 * configuration error (commander's own included); 3 `policy simulate` denied; 4 `audit verify`
 * found the log does not verify.
 */
const VERIFY_FAILED = 4;

const program = new Command()
  .name('atrium')
  .description('Atrium: a self-hosted identity center that speaks the AWS IAM Identity Center APIs.')
  .version('0.1.0')
  // Commander's usage errors exit 2, as Atrium's own do (it has printed the message already).
  .exitOverride()
  // Every command's --help marks the options it cannot do without (commands made after inherit this).
  .configureHelp({
    optionDescription(this: Help, option: Option) {
      const described = Help.prototype.optionDescription.call(this, option);
      return option.mandatory ? `${described} (required)` : described;
    },
  });

function storageOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--data-dir <dir>', 'directory for the embedded SQLite database and local key (env ATRIUM_DATA_DIR), default ./data'))
    .addOption(new Option('--database-url <url>', 'postgres://… to use PostgreSQL instead of SQLite (env ATRIUM_DATABASE_URL)'))
    .addOption(new Option('--key-file <file>', 'local key-encryption key file, default <data-dir>/master.key (env ATRIUM_KEY_FILE)'));
}

type StorageFlags = { dataDir?: string; databaseUrl?: string; keyFile?: string };

/** A whole-number flag's value: digits only (`Number()` would read `0x20`, `1e3` and `''`); NaN otherwise. */
const wholeFlag = (value: string) => (/^\d+$/.test(value) ? Number(value) : Number.NaN);

function configFrom(flags: StorageFlags & Partial<Record<keyof Config, unknown>>): Config {
  return loadConfig(flags);
}

storageOptions(program.command('init'))
  .description('create the instance, identity store, organization and bootstrap admin key (idempotent)')
  .option('--region <region>', 'AWS region the instance reports (env ATRIUM_REGION), default us-east-1')
  .option('--rotate-admin-key', 'issue a new bootstrap admin key and delete the old one')
  .option('--json', 'print one JSON object')
  .action(async (opts: StorageFlags & { region?: string; rotateAdminKey?: boolean; json?: boolean }) => {
    const config = configFrom({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, keyFile: opts.keyFile, region: opts.region, logLevel: 'warn' });
    const reg = await createRegistry(config);
    try {
      const { created, ...result } = await initialize(reg, { rotateAdminKey: opts.rotateAdminKey });
      // An instance keeps the region it was made in: a different --region changes nothing, and says so.
      if (!created && opts.region !== undefined && opts.region !== result.region) {
        process.stderr.write(`atrium: warning: the instance already exists in ${result.region}; --region ${opts.region} was not applied\n`);
      }
      if (opts.json) {
        process.stdout.write(JSON.stringify(result) + '\n');
      } else {
        for (const [k, v] of Object.entries(result)) process.stdout.write(`${k}: ${v ?? '(shown only when issued)'}\n`);
      }
    } finally {
      await reg.close();
    }
  });

storageOptions(program.command('serve'))
  .description('serve every API on one port')
  .option('--port <port>', 'port to listen on (env ATRIUM_PORT), default 8080; 0 picks a free one')
  .option('--host <host>', 'address to listen on (env ATRIUM_HOST), default 127.0.0.1')
  .option('--workers <n>', 'processes sharing the port, each with its own event loop, 1 to 64 (env ATRIUM_WORKERS), default 1; about one per core')
  .action(async (opts: StorageFlags & { port?: string; host?: string; workers?: string }) => {
    const config = configFrom({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, keyFile: opts.keyFile, port: opts.port, host: opts.host, workers: opts.workers });
    if (cluster.isWorker) return serveInWorker(config);
    // Migrate and initialise once, here; then serve here, or in workers that share the port.
    const reg = await createRegistry(config, { sealerThread: config.auditSealerThread });
    for (const w of configWarnings(config)) reg.log.warn(`UNSAFE SETTING: ${w}`);
    // Ready means initialised: /healthz answers only once the instance exists. The background work
    // starts after that, so that its first sweep finds the instance on a first start too.
    const init = await initialize(reg, { via: 'atrium-serve' });
    if (config.workers === 1) reg.startBackground();
    const location = reg.database.location;
    if (config.workers > 1) {
      await reg.close();
      const port = await startWorkers(config);
      printBanner(config, port, location, init);
      return;
    }
    const app = await buildApp(reg);
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    printBanner(config, typeof address === 'object' && address ? address.port : config.port, location, init);
    onStop(async () => {
      await app.close();
      await reg.close();
    });
  });

function printBanner(config: Config, port: number, location: string, init: Awaited<ReturnType<typeof initialize>>): void {
  const endpoint = publicUrlOf(config, port);
  const workers = config.workers > 1 ? `, ${config.workers} worker processes` : '';
  const out = [`Atrium is serving on ${endpoint} (database: ${location}${workers})`, `  endpoint:          ${endpoint}`, `  region:            ${init.region}`, `  instance:          ${init.instanceArn}`, `  identity store:    ${init.identityStoreId}`, `  start URL:         ${endpoint}/start`];
  if (init.adminSecretAccessKey) {
    out.push(
      '',
      'Bootstrap administrator credentials (shown once; `atrium init --rotate-admin-key` issues new ones):',
      `  AWS_ACCESS_KEY_ID=${init.adminAccessKeyId}`,
      `  AWS_SECRET_ACCESS_KEY=${init.adminSecretAccessKey}`,
      `  AWS_REGION=${init.region}`,
      `  AWS_ENDPOINT_URL=${endpoint}`,
    );
  }
  process.stdout.write(out.join('\n') + '\n');
}

function onStop(stop: () => Promise<void>): void {
  const shutdown = async () => {
    await stop();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

/**
 * `--workers N`: N processes serve the one port (node:cluster hands each new connection to one of
 * them), each with its own registry on the same database. Background work is already safe with
 * several processes: jobs are claimed, the audit sealer holds a lease, revocations are polled. A
 * worker that dies is started again; the port is the first worker's, once it listens. A worker that
 * dies before any has listened (the port is taken, the database unreachable) fails the start: the
 * others are stopped and serve exits with the worker's error, instead of forking forever.
 */
async function startWorkers(config: Config): Promise<number> {
  let stopping = false;
  let listened = false;
  const fork = () => cluster.fork();
  const stopAll = async () => {
    stopping = true;
    await Promise.all(
      Object.values(cluster.workers ?? {}).map(async (w) => {
        if (!w || w.isDead()) return;
        const exited = once(w, 'exit');
        w.process.kill('SIGTERM');
        await exited;
      }),
    );
  };
  const failedToStart = new Promise<never>((_, reject) => {
    cluster.on('exit', (worker, code, signal) => {
      if (stopping) return;
      if (!listened) {
        reject(new Error(`a worker exited (${signal ?? code}) before serving; its error is above`));
        return;
      }
      process.stderr.write(`atrium: worker ${worker.process.pid} exited (${signal ?? code}); starting another\n`);
      setTimeout(fork, 1000).unref();
    });
  });
  const listening = once(cluster, 'listening') as Promise<[unknown, { port: number }]>;
  for (let i = 0; i < config.workers; i++) fork();
  try {
    const [, address] = await Promise.race([listening, failedToStart]);
    listened = true;
    onStop(stopAll);
    return address.port;
  } catch (err) {
    await stopAll();
    throw err;
  }
}

/** One of `--workers`: serves until the primary stops it; the primary printed the banner. */
async function serveInWorker(config: Config): Promise<void> {
  const reg = await createRegistry(config, { startJobs: true, sealerThread: config.auditSealerThread });
  const app = await buildApp(reg);
  await app.listen({ port: config.port, host: config.host });
  onStop(async () => {
    await app.close();
    await reg.close();
  });
}

/** Run `fn` with a registry on the given storage, closed afterwards; the CLI acts as Atrium itself. */
async function withRegistry<T>(flags: StorageFlags, fn: (reg: Registry, ctx: RequestContext) => Promise<T>): Promise<T> {
  const config = configFrom({ dataDir: flags.dataDir, databaseUrl: flags.databaseUrl, keyFile: flags.keyFile, logLevel: 'warn' });
  // A command on storage with no instance says so, and leaves nothing behind: opening the store
  // would create the database file and a key, and migrate whatever database it was pointed at.
  if (!config.databaseUrl && !existsSync(sqliteFileOf(config))) throw new ConfigError(`no Atrium instance in ${config.dataDir} (no ${sqliteFileOf(config)}); run atrium init`);
  if (!(await holdsInstance({ databaseUrl: config.databaseUrl, sqliteFile: sqliteFileOf(config) }))) {
    throw new ConfigError(`no Atrium instance in ${config.databaseUrl ? 'that database' : sqliteFileOf(config)}; run atrium init`);
  }
  const reg = await createRegistry(config);
  try {
    const instance = await reg.instance.get();
    return await fn(reg, systemContext(PORTAL_SOURCE, instance.region, randomUUID()));
  } finally {
    await reg.close();
  }
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  // One trailing newline is how `echo` and here-strings end a line, not part of the password.
  return Buffer.concat(chunks).toString('utf8').replace(/\r?\n$/, '');
}

const user = program.command('user').description('manage users of the internal directory');
storageOptions(user.command('password'))
  .description('set a user\'s password: a generated one-time password (changed at first sign-in), or one read from stdin. Ends the user\'s portal sessions, CLI tokens and the credentials issued under them')
  .requiredOption('--user-name <name>', 'the user\'s UserName')
  .option('--one-time', 'generate a one-time password and print it')
  .option('--password-stdin', 'read the password from stdin')
  .option('--json', 'print one JSON object')
  .action(async (opts: StorageFlags & { userName: string; oneTime?: boolean; passwordStdin?: boolean; json?: boolean }) => {
    if (Boolean(opts.oneTime) === Boolean(opts.passwordStdin)) throw new ConfigError('give exactly one of --one-time and --password-stdin');
    // A terminal would show the password as it is typed, with no prompt: it is for a pipe only.
    if (opts.passwordStdin && process.stdin.isTTY) throw new ConfigError('--password-stdin reads a password piped in, e.g. --password-stdin < file; it does not prompt');
    const password = opts.passwordStdin ? await readStdin() : undefined;
    const result = await withRegistry(opts, async (reg, ctx) => {
      // Kept for a switch back to INTERNAL, but useless until then: said so rather than refused.
      if ((await reg.instance.identitySource()) === 'EXTERNAL_IDP') {
        process.stderr.write('atrium: warning: the identity source is EXTERNAL_IDP, so users sign in at the identity provider; this password works only after `atrium identity-source set --type internal`\n');
      }
      return reg.auth.setPassword(ctx, opts.userName, { password, oneTime: Boolean(opts.oneTime) });
    });
    // A password the administrator typed is not printed back.
    const shown = opts.oneTime ? result : { userName: result.userName, oneTime: false };
    process.stdout.write(opts.json ? JSON.stringify(shown) + '\n' : Object.entries(shown).map(([k, v]) => `${k}: ${String(v)}`).join('\n') + '\n');
  });

const userStatusCommand = (name: 'disable' | 'enable', status: UserStatus, description: string) =>
  storageOptions(user.command(name))
    .description(description)
    .requiredOption('--user-name <name>', 'the user\'s UserName')
    .option('--json', 'print one JSON object')
    .action(async (opts: StorageFlags & { userName: string; json?: boolean }) => {
      const changed = await withRegistry(opts, async (reg, ctx) => {
        const { identityStoreId } = await reg.instance.get();
        // Audited as the identitystore UpdateUser it is.
        return reg.directory.setUserStatus({ ...ctx, eventSource: 'identitystore.amazonaws.com' }, identityStoreId, opts.userName, status);
      });
      const shown = { userName: changed.profile.userName, userId: changed.userId, userStatus: changed.status };
      process.stdout.write(opts.json ? JSON.stringify(shown) + '\n' : Object.entries(shown).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n');
    });
userStatusCommand('disable', 'DISABLED', 'disable a user: sign-in is refused, their portal sessions end and every credential issued to them stops working within 5 s');
userStatusCommand('enable', 'ENABLED', 'enable a disabled user again: they can sign in and get new credentials (those issued before the disable stay revoked)');

const sessions = program.command('sessions').description('portal sessions');
storageOptions(sessions.command('list'))
  .description(
    `list live portal sessions, newest first, of one user or of everyone: every one, read and printed ${MAX_SESSIONS_PAGE} at a time, ` +
      'or one page with --max-results / --next-token (as `audit lookup` pages)',
  )
  .option('--user-name <name>', 'only this user\'s sessions')
  .option('--max-results <n>', `one page of at most n sessions, 1 to ${MAX_SESSIONS_PAGE}; the token of the next page is printed after it`)
  .option('--next-token <token>', 'the page that starts at the token printed after the previous page')
  .option('--json', 'print one JSON object: {sessions}; with one page, {sessions, nextToken} (no nextToken on the last page)')
  .action(async (opts: StorageFlags & { userName?: string; maxResults?: string; nextToken?: string; json?: boolean }) => {
    const maxResults = opts.maxResults === undefined ? undefined : wholeFlag(opts.maxResults);
    if (maxResults !== undefined && !(maxResults >= 1 && maxResults <= MAX_SESSIONS_PAGE)) throw new ConfigError(`--max-results must be a whole number from 1 to ${MAX_SESSIONS_PAGE}`);
    if (opts.nextToken === '' || opts.userName === '') throw new ConfigError(`--${opts.nextToken === '' ? 'next-token' : 'user-name'} must not be empty`);
    const onePage = maxResults !== undefined || opts.nextToken !== undefined;
    const rowOf = (s: SessionRecord) => ({ sessionId: s.sessionId, userName: s.userName, userId: s.userId, createdAt: iso(s.createdAt), expiresAt: iso(s.expiresAt), sourceIp: s.sourceIp });
    const out = async (text: string) => {
      if (!process.stdout.write(text)) await once(process.stdout, 'drain');
    };
    await withRegistry(opts, async (reg) => {
      const pageAt = (nextToken: string | undefined) => reg.auth.listSessionsPage({ userName: opts.userName, maxResults, nextToken });
      let page = await pageAt(opts.nextToken);
      if (onePage) {
        const rows = page.items.map(rowOf);
        if (opts.json) return out(JSON.stringify({ sessions: rows, ...(page.nextToken ? { nextToken: page.nextToken } : {}) }) + '\n');
        return out(rows.map((r) => Object.values(r).join('\t') + '\n').join('') + (page.nextToken ? `next token: ${page.nextToken}\n` : ''));
      }
      // Every page, each printed as it comes: memory holds one page however many sessions there are.
      // The JSON is the one object {sessions: [...]} it always was, written a page at a time.
      let first = true;
      if (opts.json) await out('{"sessions":[');
      for (;;) {
        for (const row of page.items.map(rowOf)) {
          await out(opts.json ? `${first ? '' : ','}${JSON.stringify(row)}` : Object.values(row).join('\t') + '\n');
          first = false;
        }
        if (!page.nextToken) break;
        page = await pageAt(page.nextToken);
      }
      if (opts.json) await out(']}\n');
    });
  });
storageOptions(sessions.command('revoke'))
  .description('end one portal session, or every session of a user, with the CLI tokens, credentials and pending MFA sign-ins that came from them')
  .option('--session-id <id>', 'the session to end')
  .option('--user-name <name>', 'end every session of this user')
  .option('--json', 'print one JSON object')
  .action(async (opts: StorageFlags & { sessionId?: string; userName?: string; json?: boolean }) => {
    // Given is given: an empty --session-id (a script's unset variable) must not end every session of the user.
    if ((opts.sessionId !== undefined) === (opts.userName !== undefined)) throw new ConfigError('give exactly one of --session-id and --user-name');
    if (opts.sessionId === '' || opts.userName === '') throw new ConfigError(`--${opts.sessionId === '' ? 'session-id' : 'user-name'} must not be empty`);
    const target = opts.sessionId !== undefined ? { sessionId: opts.sessionId } : { userName: opts.userName! };
    const ended = await withRegistry(opts, (reg, ctx) => reg.auth.revokeSessions(ctx, target));
    process.stdout.write(opts.json ? JSON.stringify({ revokedSessionIds: ended }) + '\n' : `revoked ${ended.length} session(s)\n`);
  });

const settings = program.command('settings').description('instance settings: portal session duration, password policy, MFA and sign-in protection');
storageOptions(settings.command('show'))
  .description('print the instance settings as JSON')
  .action(async (opts: StorageFlags) => {
    const shown = await withRegistry(opts, async (reg) => (await reg.instance.get()).settings);
    process.stdout.write(JSON.stringify(shown) + '\n');
  });
/** A JSON object flag, or a clear error naming it. */
function jsonFlag<T>(flag: string, value: string): T {
  try {
    const parsed = JSON.parse(value) as unknown;
    if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) return parsed as T;
  } catch {
    // Reported below.
  }
  throw new ConfigError(`${flag} must be a JSON object`);
}
storageOptions(settings.command('set'))
  .description('change instance settings; every running process applies them within 5 s (a new session duration applies to sessions opened after it)')
  .option('--session-duration-minutes <n>', 'portal session duration, 15 to 129600 (90 days); default 480 (8 h)')
  .option('--password-policy <json>', 'password policy fields to change, e.g. {"minLength":12,"historySize":5}')
  .option(
    '--mfa <json>',
    'MFA fields to change: mode (ALWAYS_ON | CONTEXT_AWARE | DISABLED), allowedDeviceTypes ([TOTP, WEBAUTHN]), noDevice (REGISTER | BLOCK | ALLOW), ' +
      'rememberDays (context-aware, 1-365), webauthnAttestation (NONE | REQUIRED), passkeySignIn (true | false); e.g. {"mode":"ALWAYS_ON"}',
  )
  .option(
    '--sign-in-protection <json>',
    'throttling fields to change: userFreeFailures, ipFreeFailures, backoffBaseSeconds, backoffMaxSeconds, userLockoutFailures, ipLockoutFailures, lockoutMinutes, failureWindowMinutes',
  )
  .action(async (opts: StorageFlags & { sessionDurationMinutes?: string; passwordPolicy?: string; mfa?: string; signInProtection?: string }) => {
    const change: SettingsChange = {};
    if (opts.sessionDurationMinutes !== undefined) {
      change.sessionDurationMinutes = wholeFlag(opts.sessionDurationMinutes);
      if (Number.isNaN(change.sessionDurationMinutes)) throw new ConfigError('--session-duration-minutes must be a whole number of minutes');
    }
    if (opts.passwordPolicy !== undefined) change.passwordPolicy = jsonFlag('--password-policy', opts.passwordPolicy);
    if (opts.mfa !== undefined) change.mfa = jsonFlag('--mfa', opts.mfa);
    if (opts.signInProtection !== undefined) change.signInProtection = jsonFlag('--sign-in-protection', opts.signInProtection);
    if (Object.keys(change).length === 0) throw new ConfigError('give --session-duration-minutes, --password-policy, --mfa and/or --sign-in-protection');
    const next = await withRegistry(opts, (reg, ctx) => reg.instance.updateSettings(ctx, change));
    process.stdout.write(JSON.stringify(next) + '\n');
  });

const mfa = program.command('mfa').description("users' MFA devices (authenticator apps, security keys, passkeys); the settings are under `atrium settings`");
storageOptions(mfa.command('list'))
  .description("list a user's MFA devices (never a secret)")
  .requiredOption('--user-name <name>', 'the user')
  .option('--json', 'print one JSON object')
  .action(async (opts: StorageFlags & { userName: string; json?: boolean }) => {
    const devices = await withRegistry(opts, async (reg) => reg.mfa.listDevices(await reg.mfa.userByName(opts.userName)));
    const rows = devices.map((d) => ({ deviceId: d.deviceId, name: d.name, type: d.type, passkey: d.passkey, createdAt: iso(d.createdAt), lastUsedAt: iso(d.lastUsedAt) }));
    process.stdout.write(opts.json ? JSON.stringify({ devices: rows }) + '\n' : rows.map((r) => Object.values(r).map((v) => v ?? '-').join('\t')).join('\n') + (rows.length ? '\n' : ''));
  });
storageOptions(mfa.command('delete'))
  .description("delete one of a user's MFA devices")
  .requiredOption('--user-name <name>', 'the user')
  .requiredOption('--device-id <id>', 'the device, from `atrium mfa list`')
  .option('--json', 'print one JSON object')
  .action(async (opts: StorageFlags & { userName: string; deviceId: string; json?: boolean }) => {
    await withRegistry(opts, async (reg, ctx) => reg.mfa.deleteDevice({ ...ctx, eventSource: SIGNIN_SOURCE }, await reg.mfa.userByName(opts.userName), opts.deviceId));
    process.stdout.write(opts.json ? JSON.stringify({ deletedDeviceId: opts.deviceId }) + '\n' : `deleted ${opts.deviceId}\n`);
  });
storageOptions(mfa.command('reset'))
  .description(
    'the recovery path for a lost or stolen device: delete every MFA device of a user and end every portal session of theirs, with the CLI tokens, ' +
      'credentials (refused within 5 s) and pending MFA sign-ins that came from them; they register a new device at their next sign-in (if the settings say REGISTER)',
  )
  .requiredOption('--user-name <name>', 'the user')
  .option('--json', 'print one JSON object: {deletedDeviceIds, revokedSessionIds}')
  .action(async (opts: StorageFlags & { userName: string; json?: boolean }) => {
    const reset = await withRegistry(opts, (reg, ctx) => reg.auth.resetUserMfa({ ...ctx, eventSource: SIGNIN_SOURCE }, opts.userName));
    process.stdout.write(
      opts.json ? JSON.stringify(reset) + '\n' : `deleted ${reset.deletedDeviceIds.length} device(s), revoked ${reset.revokedSessionIds.length} session(s)\n`,
    );
  });

const IDENTITY_SOURCE_FLAGS: Record<string, IdentitySourceType> = { internal: 'INTERNAL', 'external-idp': 'EXTERNAL_IDP' };
const identitySource = program
  .command('identity-source')
  .description('where users sign in: the internal directory (passwords, the default) or the external SAML identity provider');
storageOptions(identitySource.command('show'))
  .description('print the identity source and the configured identity provider')
  .option('--json', 'print one JSON object')
  .action(async (opts: StorageFlags & { json?: boolean }) => {
    const shown = await withRegistry(opts, async (reg) => ({ identitySource: await reg.instance.identitySource(), idpEntityId: (await reg.federation.getIdp())?.entityId ?? null }));
    process.stdout.write(opts.json ? JSON.stringify(shown) + '\n' : Object.entries(shown).map(([k, v]) => `${k}: ${v ?? '(none)'}`).join('\n') + '\n');
  });
storageOptions(identitySource.command('set'))
  .description(
    'switch the identity source; users, groups, assignments and passwords are kept. external-idp needs an imported IdP (atrium saml idp import): ' +
      'the sign-in page then sends users to it and password sign-in is refused. internal: passwords again, and the IdP stays a second way in. ' +
      'Every running process applies the switch within 5 s; portal sessions already open stay until they end',
  )
  .addOption(new Option('--type <type>', 'the identity source').choices(Object.keys(IDENTITY_SOURCE_FLAGS)).makeOptionMandatory())
  .option('--json', 'print one JSON object')
  .action(async (opts: StorageFlags & { type: string; json?: boolean }) => {
    const changed = await withRegistry(opts, (reg, ctx) => reg.instance.setIdentitySource(ctx, IDENTITY_SOURCE_FLAGS[opts.type]!));
    const shown = { identitySource: changed.type, previousIdentitySource: changed.previous };
    process.stdout.write(opts.json ? JSON.stringify(shown) + '\n' : Object.entries(shown).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n');
  });

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
const admin = program.command('admin').description('who may use the admin console (/console): AdministratorAccess, or ReadOnlyAccess (read-only operations only)');
storageOptions(admin.command('grant'))
  .description('grant a directory user console access with a named policy (or change their policy); this is how the first administrator is made')
  .requiredOption('--user-name <name>', 'the user\'s UserName')
  .requiredOption('--policy <name>', `${CONSOLE_POLICIES.join(' or ')}`)
  .option('--json', 'print one JSON object')
  .action(async (opts: StorageFlags & { userName: string; policy: string; json?: boolean }) => {
    if (!isConsolePolicy(opts.policy)) throw new ConfigError(`--policy must be ${CONSOLE_POLICIES.join(' or ')}`);
    const g = await withRegistry(opts, (reg, ctx) => reg.consoleAdmins.grant(ctx, opts.userName, opts.policy));
    const shown = { userName: g.userName, userId: g.userId, policy: g.policy };
    process.stdout.write(opts.json ? JSON.stringify(shown) + '\n' : Object.entries(shown).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n');
  });
storageOptions(admin.command('revoke'))
  .description("take a user's console access away: their next console request is refused")
  .requiredOption('--user-name <name>', 'the user\'s UserName')
  .option('--json', 'print one JSON object')
  .action(async (opts: StorageFlags & { userName: string; json?: boolean }) => {
    await withRegistry(opts, (reg, ctx) => reg.consoleAdmins.revoke(ctx, opts.userName));
    process.stdout.write(opts.json ? JSON.stringify({ revokedUserName: opts.userName }) + '\n' : `revoked console access of ${opts.userName}\n`);
  });
storageOptions(admin.command('list'))
  .description('list the users with console access and their policies')
  .option('--json', 'print one JSON object')
  .action(async (opts: StorageFlags & { json?: boolean }) => {
    const list = await withRegistry(opts, (reg) => reg.consoleAdmins.listGrants());
    const rows = list.map((g) => ({ userName: g.userName, userId: g.userId, policy: g.policy, grantedAt: iso(g.grantedAt), grantedBy: g.grantedBy }));
    process.stdout.write(opts.json ? JSON.stringify({ grants: rows }) + '\n' : rows.map((r) => Object.values(r).join('\t')).join('\n') + (rows.length ? '\n' : ''));
  });

const scimToken = program.command('scim').description('SCIM 2.0 provisioning').command('token').description('the bearer tokens an identity provider uses for SCIM (at most 2 active)');
storageOptions(scimToken.command('create'))
  .description('issue a SCIM bearer token (shown once; only its hash is kept) and print it with the SCIM endpoint')
  .option('--expires-in-days <n>', `days until it expires, 1 to ${MAX_SCIM_TOKEN_DAYS}; default ${DEFAULT_SCIM_TOKEN_DAYS}`)
  .option('--json', 'print one JSON object: {tokenId, token, expiresAt, endpoint}')
  .action(async (opts: StorageFlags & { expiresInDays?: string; json?: boolean }) => {
    const days = opts.expiresInDays === undefined ? undefined : wholeFlag(opts.expiresInDays);
    if (days !== undefined && !isValidExpiryDays(days)) throw new ConfigError(`--expires-in-days must be a whole number from 1 to ${MAX_SCIM_TOKEN_DAYS}`);
    const { issued, endpoint } = await withRegistry(opts, async (reg, ctx) => ({
      issued: await reg.scimTokens.createToken({ ...ctx, eventSource: SCIM_ADMIN_SOURCE }, { expiresInDays: days }),
      endpoint: publicUrlOf(reg.config) + SCIM_PATH,
    }));
    const shown = { tokenId: issued.tokenId, token: issued.token, expiresAt: iso(issued.expiresAt), endpoint };
    process.stdout.write(opts.json ? JSON.stringify(shown) + '\n' : Object.entries(shown).map(([k, v]) => `${k}: ${v}`).join('\n') + '\n');
  });
storageOptions(scimToken.command('list'))
  .description('list SCIM bearer tokens, expired ones too (never the secret)')
  .option('--json', 'print one JSON object')
  .action(async (opts: StorageFlags & { json?: boolean }) => {
    const list = await withRegistry(opts, (reg) => reg.scimTokens.listTokens());
    const rows = list.map((t) => ({ tokenId: t.tokenId, createdAt: iso(t.createdAt), expiresAt: iso(t.expiresAt), lastUsedAt: iso(t.lastUsedAt), active: t.active }));
    process.stdout.write(opts.json ? JSON.stringify({ tokens: rows }) + '\n' : rows.map((r) => Object.values(r).map((v) => v ?? '-').join('\t')).join('\n') + (rows.length ? '\n' : ''));
  });
storageOptions(scimToken.command('delete'))
  .description('delete a SCIM bearer token: it stops working at once')
  .requiredOption('--token-id <id>', 'the token to delete, from `atrium scim token list`')
  .option('--json', 'print one JSON object')
  .action(async (opts: StorageFlags & { tokenId: string; json?: boolean }) => {
    await withRegistry(opts, (reg, ctx) => reg.scimTokens.deleteToken({ ...ctx, eventSource: SCIM_ADMIN_SOURCE }, opts.tokenId));
    process.stdout.write(opts.json ? JSON.stringify({ deletedTokenId: opts.tokenId }) + '\n' : `deleted ${opts.tokenId}\n`);
  });

const saml = program.command('saml').description('SAML 2.0 sign-in through an external identity provider');
const samlIdp = saml.command('idp').description('the identity provider users sign in through (one per instance)');
type SamlIdpImportFlags = StorageFlags & {
  metadataFile?: string;
  metadataUrl?: string;
  allowHttp?: boolean;
  nameIdMatch?: NameIdMatch;
  attribute?: string[];
  clearAttributes?: boolean;
  idpInitiated?: boolean;
  jit?: boolean;
  json?: boolean;
};
storageOptions(samlIdp.command('import'))
  .description("import the IdP's SAML 2.0 metadata from a file or URL (replaces any earlier one) and set how its NameID finds a user")
  .option('--metadata-file <file>', "the IdP's metadata XML (EntityDescriptor with an IDPSSODescriptor)")
  .option('--metadata-url <url>', "fetch the IdP's metadata from this https URL (at most 1 MiB, 10 s, 3 redirects)")
  .option('--allow-http', 'with --metadata-url, allow plain http to a host that is not loopback (unsafe: anyone on the path can swap the IdP key)')
  .addOption(new Option('--name-id-match <attribute>', 'the user attribute the NameID must equal (default: the one set before, else userName)').choices(['userName', 'email']))
  .option('--attribute <key=name...>', 'map the assertion attribute NAME to the principal attribute KEY (aws:PrincipalTag/KEY); replaces the earlier mapping. AccessControl:<Key> attributes are always mapped')
  .option('--clear-attributes', 'remove the attribute mapping')
  .option('--idp-initiated', 'accept sign-ins started at the IdP (unsolicited responses) (default: as set before, else on)')
  .option('--no-idp-initiated', 'accept only responses to sign-ins started at Atrium, bound to the browser (login-CSRF safe)')
  .option('--jit', 'create an unknown user at their first sign-in, from the assertion (NameID as userName; givenName, sn, displayName, mail)')
  .option('--no-jit', 'refuse unknown users: they come from SCIM (default: as set before, else this)')
  .option('--json', 'print one JSON object')
  .action(async (opts: SamlIdpImportFlags) => {
    if (Boolean(opts.metadataFile) === Boolean(opts.metadataUrl)) throw new ConfigError('give exactly one of --metadata-file and --metadata-url');
    if (opts.attribute && opts.clearAttributes) throw new ConfigError('give --attribute or --clear-attributes, not both');
    let attributeMapping: Record<string, string> | undefined = opts.clearAttributes ? {} : undefined;
    for (const pair of opts.attribute ?? []) {
      const eq = pair.indexOf('=');
      if (eq <= 0 || eq === pair.length - 1) throw new ConfigError(`--attribute ${pair}: expected KEY=AssertionAttributeName`);
      (attributeMapping ??= {})[pair.slice(0, eq)] = pair.slice(eq + 1);
    }
    let metadataXml: string;
    if (opts.metadataFile) {
      try {
        metadataXml = readFileSync(opts.metadataFile, 'utf8');
      } catch {
        throw new ConfigError(`cannot read --metadata-file ${opts.metadataFile}`);
      }
    } else {
      metadataXml = await fetchIdpMetadata(opts.metadataUrl!, { allowHttp: opts.allowHttp });
    }
    const options = {
      ...(opts.idpInitiated === undefined ? {} : { allowIdpInitiated: opts.idpInitiated }),
      ...(opts.jit === undefined ? {} : { jitProvisioning: opts.jit }),
      ...(attributeMapping ? { attributeMapping } : {}),
    };
    const shown = await withRegistry(opts, async (reg, ctx) => {
      const { entityId, ssoUrl } = readIdpMetadata(metadataXml);
      const nameIdMatch = opts.nameIdMatch ?? (await reg.federation.getIdp())?.nameIdMatch ?? 'userName';
      const saved = await reg.federation.importIdp({ ...ctx, eventSource: SIGNIN_SOURCE }, { entityId, metadataXml, nameIdMatch, options });
      return {
        idpEntityId: saved.entityId,
        idpSignInUrl: ssoUrl,
        nameIdMatch: saved.nameIdMatch,
        idpInitiated: saved.options.allowIdpInitiated,
        jit: saved.options.jitProvisioning,
        attributeMapping: saved.options.attributeMapping,
        ...samlEndpoints(reg),
      };
    });
    process.stdout.write(opts.json ? JSON.stringify(shown) + '\n' : Object.entries(shown).map(([k, v]) => `${k}: ${typeof v === 'object' ? JSON.stringify(v) : v}`).join('\n') + '\n');
  });
storageOptions(samlIdp.command('show'))
  .description('print the configured IdP and the URLs to give it: our SP metadata, entity id and ACS URL')
  .option('--json', 'print one JSON object')
  .action(async (opts: StorageFlags & { json?: boolean }) => {
    const shown = await withRegistry(opts, async (reg) => {
      const idp = await reg.federation.getIdp();
      return {
        idpEntityId: idp?.entityId ?? null,
        nameIdMatch: idp?.nameIdMatch ?? null,
        idpInitiated: idp?.options.allowIdpInitiated ?? null,
        jit: idp?.options.jitProvisioning ?? null,
        attributeMapping: idp?.options.attributeMapping ?? null,
        updatedAt: idp ? iso(idp.updatedAt) : null,
        ...samlEndpoints(reg),
      };
    });
    process.stdout.write(
      opts.json ? JSON.stringify(shown) + '\n' : Object.entries(shown).map(([k, v]) => `${k}: ${v === null ? '(none)' : typeof v === 'object' ? JSON.stringify(v) : v}`).join('\n') + '\n',
    );
  });

const samlSpKey = saml.command('sp-key').description("this instance's SAML SP key, which signs its AuthnRequests: show, rotate, retire the earlier ones");
const printSpKeys = (keys: SpKeySummary[]) => keys.map((k) => `${k.keyId}${k.current ? ' (current)' : ''}: SHA-256 ${k.certificateSha256}, valid until ${k.notAfter}, made ${k.createdAt}`).join('\n');
storageOptions(samlSpKey.command('show'))
  .description('list the SP keys (the current one first) by certificate fingerprint, and where our metadata is')
  .option('--json', 'print one JSON object')
  .action(async (opts: StorageFlags & { json?: boolean }) => {
    const shown = await withRegistry(opts, async (reg) => ({ keys: await reg.federation.spKeys(), spMetadataUrl: samlEndpoints(reg).spMetadataUrl }));
    process.stdout.write(opts.json ? JSON.stringify(shown) + '\n' : `${shown.keys.length ? printSpKeys(shown.keys) : '(none yet: the first is made at the first SAML request)'}\nspMetadataUrl: ${shown.spMetadataUrl}\n`);
  });
storageOptions(samlSpKey.command('rotate'))
  .description('make a new SP key the current one; our metadata lists the earlier ones after it until `retire`. Give the IdP our metadata again')
  .option('--json', 'print one JSON object')
  .action(async (opts: StorageFlags & { json?: boolean }) => {
    const shown = await withRegistry(opts, async (reg, ctx) => {
      const key = await reg.federation.rotateSpKey({ ...ctx, eventSource: SIGNIN_SOURCE }, spIdentityOf(publicUrlOf(reg.config)).entityId);
      return { ...key, spMetadataUrl: samlEndpoints(reg).spMetadataUrl };
    });
    process.stdout.write(
      opts.json ? JSON.stringify(shown) + '\n' : `${printSpKeys([shown])}\nnext: give the IdP our metadata again (${shown.spMetadataUrl}), then \`atrium saml sp-key retire\`\n`,
    );
  });
storageOptions(samlSpKey.command('retire'))
  .description('delete every SP key but the current one: our metadata then lists it alone')
  .option('--json', 'print one JSON object')
  .action(async (opts: StorageFlags & { json?: boolean }) => {
    const shown = await withRegistry(opts, (reg, ctx) => reg.federation.retireSpKeys({ ...ctx, eventSource: SIGNIN_SOURCE }));
    process.stdout.write(opts.json ? JSON.stringify(shown) + '\n' : `retired: ${shown.retiredKeyIds.length ? shown.retiredKeyIds.join(', ') : '(none)'}\ncurrent: ${shown.currentKeyId ?? '(none)'}\n`);
  });

const audit = program.command('audit').description('the tamper-evident audit log: verify, look up, export, and the state of its sinks');

/** --start/--end: ISO 8601, or epoch seconds. */
function timeFlag(name: string, value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = /^\d+(\.\d+)?$/.test(value) ? Math.round(Number(value) * 1000) : Date.parse(value);
  if (!Number.isFinite(ms)) throw new ConfigError(`${name} must be an ISO 8601 time (2026-01-31T12:00:00Z) or epoch seconds`);
  return ms;
}

function describeVerify(r: TrailVerifyResult | FileVerifyResult): string {
  const out = [
    r.ok ? 'OK: the audit chain verifies' : 'FAILED: the audit chain does not verify',
    `  events checked:  ${r.events}${r.firstPosition === null ? '' : ` (positions ${r.firstPosition}..${r.lastPosition ?? r.firstPosition})`}`,
    `  digests checked: ${r.digests}`,
  ];
  if (r.unsignedTail > 0) out.push(`  unsigned tail:   ${r.unsignedTail} event(s) after the last signed digest`);
  if ('notYetChained' in r && r.notYetChained > 0) out.push(`  not yet chained: ${r.notYetChained} event(s) the sealer has not reached`);
  if ('sealingStalled' in r && r.sealingStalled && r.problem?.reason !== r.sealingStalled) out.push(`  WARNING:         sealing has stalled: ${r.sealingStalled}`);
  if (r.problem) {
    out.push(`  first bad event: position ${r.problem.position ?? '(not in the chain)'}, eventID ${r.problem.eventId ?? '(unknown)'}${'line' in r && r.line ? `, line ${r.line}` : ''}`);
    out.push(`  reason:          ${r.problem.reason}`);
  }
  return out.join('\n') + '\n';
}

storageOptions(audit.command('verify'))
  .description('check the hash chain and signed digests: of the database, or offline of an exported file given the public key; exits 4 naming the first bad event')
  .option('--file <file>', 'an export from `atrium audit export` to check offline, without the database')
  .option(
    '--public-key <file>',
    'the PEM public key from `atrium audit public-key`, kept where the database cannot change it: required with --file; on the database, the digests are checked with it and the stored key must be it',
  )
  .option('--allow-unsigned-tail', 'with --file: accept events after the last signed digest in the file (counted, not vouched for); without it they fail')
  .option('--json', 'print one JSON object')
  .action(async (opts: StorageFlags & { file?: string; publicKey?: string; allowUnsignedTail?: boolean; json?: boolean }) => {
    let result: TrailVerifyResult | FileVerifyResult;
    let key: ReturnType<typeof ed25519PublicKey> | undefined;
    if (opts.publicKey !== undefined) {
      try {
        key = ed25519PublicKey(readFileSync(opts.publicKey, 'utf8'));
      } catch (err) {
        throw new ConfigError(`cannot use --public-key ${opts.publicKey}: ${(err as Error).message}`);
      }
    }
    if (opts.file !== undefined) {
      if (key === undefined) throw new ConfigError('--file needs --public-key (the PEM from `atrium audit public-key`)');
      if (!existsSync(opts.file)) throw new ConfigError(`cannot read --file ${opts.file}`);
      result = await verifyExport(opts.file, key, { allowUnsignedTail: opts.allowUnsignedTail });
    } else {
      if (opts.allowUnsignedTail) throw new ConfigError('--allow-unsigned-tail goes with --file');
      result = await withRegistry(opts, (reg) => reg.auditTrail.verifyDatabase(key === undefined ? {} : { publicKey: key }));
    }
    process.stdout.write(opts.json ? JSON.stringify(result) + '\n' : describeVerify(result));
    if ('sealingStalled' in result && result.sealingStalled) process.stderr.write(`atrium: warning: audit sealing has stalled: ${result.sealingStalled}\n`);
    // 4, apart from 1 and 2 (could not check: no key, no database, a bad flag): a cron check can tell tampering from an outage.
    if (!result.ok) process.exitCode = VERIFY_FAILED;
  });

storageOptions(audit.command('sinks'))
  .description('show each configured audit sink, and the alert rules: the chain position delivered, how many events are still to send (those the sealer has not chained yet too), and the last failure')
  .option('--json', 'print one JSON object')
  .action(async (opts: StorageFlags & { json?: boolean }) => {
    const sinks = await withRegistry(opts, (reg) => reg.auditStreams.status());
    if (opts.json) return void process.stdout.write(JSON.stringify({ sinks }) + '\n');
    if (sinks.length === 0) return void process.stdout.write('no audit sinks or alert rules are configured (auditSinks, auditAlerts)\n');
    for (const s of sinks) {
      const state = s.failures > 0 ? `FAILING (${s.failures} in a row; next try ${new Date(s.retryAt ?? 0).toISOString()}): ${s.lastError ?? ''}` : 'ok';
      const unsealed = s.unsealed > 0 ? ` (${s.unsealed} not sealed yet)` : '';
      process.stdout.write(`${s.name}: delivered through position ${s.position}, ${s.behind} behind${unsealed}; ${state}\n`);
    }
  });

storageOptions(audit.command('public-key'))
  .description(
    'print the PEM public key that checks the audit digests (the one the sealed private key gives; a replaced stored key is refused): keep it off the database, and give it to `audit verify --public-key`',
  )
  .option('--fingerprint', 'print its fingerprint (16 hex digits of SHA-256 over the key) instead')
  .action(async (opts: StorageFlags & { fingerprint?: boolean }) => {
    const key = await withRegistry(opts, (reg) => reg.auditTrail.publicKey());
    if (opts.fingerprint) return void process.stdout.write(`${key.fingerprint}\n`);
    process.stdout.write(key.pem.endsWith('\n') ? key.pem : key.pem + '\n');
  });

storageOptions(audit.command('seal'))
  .description('append new events to the chain and sign a digest of its head now (serve does this every auditSealMs; while it runs, it holds the sealer lease and this chains nothing)')
  .option('--json', 'print one JSON object')
  .action(async (opts: StorageFlags & { json?: boolean }) => {
    const chained = await withRegistry(opts, (reg) => reg.auditTrail.sealOnce({ forceDigest: true }));
    process.stdout.write(opts.json ? JSON.stringify({ chained }) + '\n' : `chained ${chained} event(s)\n`);
  });

const lookupFlags: [string, string, keyof AuditFilter][] = [
  ['--event-id <id>', 'this eventID', 'eventId'],
  ['--event-name <name>', 'e.g. CreateUser', 'eventName'],
  ['--user-name <name>', "the caller's user name", 'userName'],
  ['--resource-type <type>', 'e.g. AWS::IdentityStore::User', 'resourceType'],
  ['--resource-name <name>', 'the id or name of the resource', 'resourceName'],
  ['--event-source <source>', 'e.g. identitystore.amazonaws.com', 'eventSource'],
  ['--access-key-id <id>', 'the access key that signed the call', 'accessKeyId'],
];
const lookupCommand = storageOptions(audit.command('lookup'))
  .description('look up audit events, newest first; every filter given must match')
  .addOption(new Option('--read-only <bool>', 'only read-only (true) or only changing (false) events').choices(['true', 'false']))
  .option('--start <time>', 'events at or after this time (ISO 8601 or epoch seconds)')
  .option('--end <time>', 'events at or before this time')
  .option('--max-results <n>', 'events per page, 1 to 50; default 50')
  .option('--next-token <token>', 'the token printed after the previous page')
  .option('--json', 'print one JSON object: {Events, NextToken}, as LookupEvents returns them');
for (const [flag, help] of lookupFlags) lookupCommand.option(flag, help);
lookupCommand.action(async (opts: StorageFlags & Record<string, string | boolean | undefined>) => {
  const filter: AuditFilter = {};
  for (const [, , field] of lookupFlags) {
    const value = opts[field];
    if (typeof value === 'string') (filter as Record<string, string>)[field] = value;
  }
  if (opts.readOnly !== undefined) filter.readOnly = opts.readOnly === 'true';
  filter.startTime = timeFlag('--start', opts.start as string | undefined);
  filter.endTime = timeFlag('--end', opts.end as string | undefined);
  const max = opts.maxResults === undefined ? undefined : wholeFlag(String(opts.maxResults));
  if (max !== undefined && !(Number.isInteger(max) && max >= 1 && max <= 50)) throw new ConfigError('--max-results must be a whole number from 1 to 50');
  const page = await withRegistry(opts, (reg) => reg.auditTrail.lookup(filter, { maxResults: max, nextToken: opts.nextToken as string | undefined }));
  if (opts.json) {
    process.stdout.write(JSON.stringify({ Events: page.items.map(eventOf), ...(page.nextToken ? { NextToken: page.nextToken } : {}) }) + '\n');
    return;
  }
  for (const e of page.items) {
    process.stdout.write([iso(e.eventTime), e.eventSource, e.eventName, e.userIdentity.userName ?? '-', e.errorCode ?? 'ok', e.eventId].join('\t') + '\n');
  }
  if (page.nextToken) process.stdout.write(`next token: ${page.nextToken}\n`);
});

storageOptions(audit.command('export'))
  .description('write the chain for a time range as JSON Lines to stdout, widened to the signed digests either side so that `audit verify --file` checks it offline')
  .requiredOption('--start <time>', 'from this time (ISO 8601 or epoch seconds)')
  .option('--end <time>', 'to this time; default now')
  .action(async (opts: StorageFlags & { start: string; end?: string }) => {
    const start = timeFlag('--start', opts.start)!;
    const end = timeFlag('--end', opts.end) ?? Date.now();
    if (start > end) throw new ConfigError('--start must not be after --end');
    await withRegistry(opts, async (reg) => {
      // Chain and sign what is there, so that the newest events are covered (a no-op while serve holds the lease).
      await reg.auditTrail.sealOnce({ forceDigest: true });
      for await (const line of reg.auditTrail.exportLines(start, end)) {
        if (!process.stdout.write(JSON.stringify(line) + '\n')) await once(process.stdout, 'drain');
      }
    });
  });

const policyCommand = program.command('policy').description('the IAM policy engine: simulate a user\'s access');
storageOptions(policyCommand.command('simulate'))
  .description('can the user, in the account, do the action on the resource? Without --action: what the user can do there (permission sets, and the assignments and groups they come through)')
  .requiredOption('--user-name <name>', 'the user')
  .requiredOption('--account-id <id>', 'the 12-digit account')
  .option('--action <service:Action>', 'the action, e.g. s3:GetObject')
  .option('--resource <arn>', 'the resource ARN', '*')
  .option('--context <json>', 'extra condition keys as a JSON object, e.g. {"aws:SourceIp":"10.0.0.1"}')
  .option('--json', 'print one JSON object')
  .action(async (opts: StorageFlags & { userName: string; accountId: string; action?: string; resource: string; context?: string; json?: boolean }) => {
    // As the admin API checks them: a typing mistake must not read as "access denied".
    let context: Record<string, string> | undefined;
    if (opts.context !== undefined) {
      let given: unknown;
      try {
        given = JSON.parse(opts.context);
      } catch {
        throw new ConfigError('--context must be a JSON object');
      }
      const checked = authorizeContext.safeParse(given);
      if (!checked.success) throw new ConfigError(`--context must be a JSON object of condition keys and values: ${checked.error.issues[0]?.message ?? 'not one'}`);
      context = checked.data as Record<string, string>;
    }
    if (opts.action !== undefined && !authorizeAction.safeParse(opts.action).success) throw new ConfigError('--action must be service:Action, e.g. s3:GetObject');
    if (!authorizeResource.safeParse(opts.resource).success) throw new ConfigError('--resource must be an ARN or *, at most 2048 characters');
    if (!opts.action) {
      const held = await withRegistry(opts, (reg) => reg.policy.effectiveAccess(opts.userName, opts.accountId));
      const lines = held.map((p) => `${p.name}\t${p.permissionSetArn}\t${p.via.map((v) => (v.principalType === 'USER' ? 'direct' : `group ${v.groupName ?? v.principalId}`)).join(', ')}`);
      process.stdout.write(opts.json ? JSON.stringify({ permissionSets: held }) + '\n' : lines.join('\n') + (lines.length ? '\n' : ''));
      return;
    }
    const r = await withRegistry(opts, (reg) => reg.policy.simulate({ userName: opts.userName, accountId: opts.accountId, action: opts.action!, resource: opts.resource, ...(context ? { context } : {}) }));
    const by = r.statement ? ` by ${r.statement.policyId}${r.statement.sid ? ` (${r.statement.sid})` : ''} statement ${r.statement.index}` : '';
    process.stdout.write(opts.json ? JSON.stringify(r) + '\n' : `${r.decision}${by}${r.permissionSetName ? ` in permission set ${r.permissionSetName}` : ''}\n`);
    if (!r.allowed) process.exitCode = 3;
  });

const accessKey = program.command('access-key').description("Atrium's own access keys for the admin APIs, each holding an AWS managed policy");
storageOptions(accessKey.command('create'))
  .description('create an access key that holds one AWS managed policy (e.g. ReadOnlyAccess: it can list but not create); the secret is shown once')
  .requiredOption('--policy <name>', 'the AWS managed policy name, e.g. ReadOnlyAccess')
  .option('--json', 'print one JSON object')
  .action(async (opts: StorageFlags & { policy: string; json?: boolean }) => {
    const purpose = `${POLICY_KEY_PURPOSE}${opts.policy}`;
    // The purpose column holds 32 characters.
    if (purpose.length > 32 || !(await findManagedPolicy(`arn:aws:iam::aws:policy/${opts.policy}`))) throw new ConfigError(`${opts.policy} is not an AWS managed policy (at most ${32 - POLICY_KEY_PURPOSE.length} characters)`);
    const issued = await withRegistry(opts, async (reg, ctx) => {
      const { ownerAccountId } = await reg.instance.get();
      const userName = `atrium-${opts.policy}`;
      const owner = { principalType: 'IAMUser', principalId: `AIDA${randomUUID().replace(/-/g, '').slice(0, 16).toUpperCase()}`, principalArn: `arn:aws:iam::${ownerAccountId}:user/${userName}`, accountId: ownerAccountId, userName };
      return reg.credentials.createAccessKey(ctx, owner, purpose);
    });
    const policyArn = `arn:aws:iam::aws:policy/${opts.policy}`;
    process.stdout.write(
      opts.json ? JSON.stringify({ ...issued, policyArn }) + '\n' : `AWS_ACCESS_KEY_ID=${issued.accessKeyId}\nAWS_SECRET_ACCESS_KEY=${issued.secretAccessKey}\n# holds ${policyArn}\n`,
    );
  });

function samlEndpoints(reg: Registry) {
  const publicUrl = publicUrlOf(reg.config);
  const { entityId, acsUrl } = spIdentityOf(publicUrl);
  return { spMetadataUrl: publicUrl + SAML_METADATA_PATH, spEntityId: entityId, spAcsUrl: acsUrl, signInUrl: publicUrl + SAML_LOGIN_PATH };
}

// A reader that stops reading (`atrium audit lookup | head`) ends the command without a stack
// trace, but not as a success: what it did not write is lost (a cut-off export must not pass for a
// backup), and a code already set (verify's 4) stays.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(typeof process.exitCode === 'number' && process.exitCode !== 0 ? process.exitCode : 1);
  throw err;
});

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof CommanderError) process.exit(err.exitCode === 0 ? 0 : 2);
  if (err instanceof ConfigError) {
    process.stderr.write(`atrium: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`atrium: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
