// The `atrium` command line: init, serve. Every command takes the same storage options, and
// ATRIUM_* environment variables mirror the flags.

import { Command, Option } from 'commander';
import { buildApp } from './app.js';
import { ConfigError, configWarnings, loadConfig, publicUrlOf, type Config } from './config/config.js';
import { initialize } from './init.js';
import { createRegistry } from './registry.js';

const program = new Command()
  .name('atrium')
  .description('Atrium: a self-hosted identity center that speaks the AWS IAM Identity Center APIs.')
  .version('0.1.0');

function storageOptions(cmd: Command): Command {
  return cmd
    .addOption(new Option('--data-dir <dir>', 'directory for the embedded SQLite database and local key (env ATRIUM_DATA_DIR)'))
    .addOption(new Option('--database-url <url>', 'postgres://… to use PostgreSQL instead of SQLite (env ATRIUM_DATABASE_URL)'))
    .addOption(new Option('--key-file <file>', 'local key-encryption key file, default <data-dir>/master.key (env ATRIUM_KEY_FILE)'));
}

type StorageFlags = { dataDir?: string; databaseUrl?: string; keyFile?: string };

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
      const { created: _created, ...result } = await initialize(reg, { rotateAdminKey: opts.rotateAdminKey });
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
  .action(async (opts: StorageFlags & { port?: string; host?: string }) => {
    const config = configFrom({ dataDir: opts.dataDir, databaseUrl: opts.databaseUrl, keyFile: opts.keyFile, port: opts.port, host: opts.host });
    const reg = await createRegistry(config, { startJobs: true });
    for (const w of configWarnings(config)) reg.log.warn(`UNSAFE SETTING: ${w}`);
    // Ready means initialised: /healthz answers only once the instance exists.
    const init = await initialize(reg, { via: 'atrium-serve' });
    const app = await buildApp(reg);
    await app.listen({ port: config.port, host: config.host });
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const endpoint = publicUrlOf(config, port);
    const out = [`Atrium is serving on ${endpoint} (database: ${reg.database.location})`, `  endpoint:          ${endpoint}`, `  region:            ${init.region}`, `  instance:          ${init.instanceArn}`, `  identity store:    ${init.identityStoreId}`, `  start URL:         ${endpoint}/start`];
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
    const shutdown = async () => {
      await app.close();
      await reg.close();
      process.exit(0);
    };
    process.once('SIGINT', () => void shutdown());
    process.once('SIGTERM', () => void shutdown());
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    process.stderr.write(`atrium: ${err.message}\n`);
    process.exit(2);
  }
  process.stderr.write(`atrium: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
