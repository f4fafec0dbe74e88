// Audit coverage of the command line: every command of the built `atrium` program, read from
// commander's own tree (so a new command fails here until it is listed), either changes state and
// leaves exactly one audit event naming what it changed, or is listed here as leaving none, with
// why, and is run to show that it leaves none. No secret a command prints reaches an event.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { Browser } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';
import { eventsAfter, expectNoSecretInAnyEvent, identityOf, idpMetadata, lastSeq } from './audit-coverage-helpers.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN_JS = path.join(ROOT, 'dist/main.js');
const PASSWORD = 'Cli#Cov-Pass-7Rk';
const USER = 'cli-cov';

/**
 * The leaf commands of the program `bin/atrium.js` runs, as `group sub`: dist/main.js is loaded
 * with commander's parseAsync replaced by a walk of the tree it built, so no command runs.
 */
async function programCommands(): Promise<string[]> {
  const script = `
    import { Command } from 'commander';
    Command.prototype.parseAsync = function () {
      const out = [];
      const walk = (c, names) => {
        if (c.commands.length === 0) out.push(names.join(' '));
        for (const sub of c.commands) walk(sub, [...names, sub.name()]);
      };
      walk(this, []);
      process.stdout.write(JSON.stringify(out));
      return Promise.resolve(this);
    };
    await import(${JSON.stringify(pathToFileURL(MAIN_JS).href)});
  `;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const [code] = (await once(child, 'exit')) as [number];
  expect(stderr, 'loading dist/main.js (run `npx tsc -p tsconfig.json` first)').toBe('');
  expect(code).toBe(0);
  return JSON.parse(stdout) as string[];
}

/** A command that changes state: it runs, and its event must name these values. */
interface Change {
  run(): Promise<{
    eventName: string;
    mentions: string[];
    results?: string[];
  }>;
}
/** A command that leaves no event: why, and the arguments to show it (none: it is not run here). */
interface NoEvent {
  noEvent: string;
  args?: () => string[];
}

describe.each(dialects())('audit coverage of the CLI on %s', (dialect) => {
  let server: TestServer;
  let storage: string[];
  let userId: string;
  const secrets = new Set<string>();
  const state: Record<string, string> = {};
  const setup = () => systemContext('sso.amazonaws.com', 'us-east-1', `setup-${Math.random()}`, 'cov-setup');

  /** Run a command on the test server's storage; it must succeed. */
  async function cli(...args: string[]): Promise<string> {
    const r = await runCli([...args, ...storage]);
    expect(r.stderr, `atrium ${args.join(' ')}`).toBe('');
    expect(r.code, `atrium ${args.join(' ')}`).toBe(0);
    return r.stdout;
  }
  const json = async <T = Record<string, unknown>>(...args: string[]) => JSON.parse(await cli(...args, '--json')) as T;

  async function enrolTotp(): Promise<string> {
    const mfa = server.reg.mfa;
    const user = await mfa.userByName(USER);
    const { enrolmentId, secret } = await mfa.beginTotpEnrolment(user);
    secrets.add(secret);
    const code = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate();
    const device = await mfa.confirmTotpEnrolment({ ...setup(), eventSource: 'signin.amazonaws.com' }, user, { enrolmentId, name: `key-${Math.random().toString(36).slice(2, 8)}`, code });
    return device.deviceId;
  }

  const commands: Record<string, Change | NoEvent> = {
    init: {
      // A second init changes nothing; rotating the bootstrap key replaces it. Run last: the test server's own key goes.
      async run() {
        const out = await json<{ adminAccessKeyId: string; adminSecretAccessKey: string }>('init', '--rotate-admin-key');
        secrets.add(out.adminSecretAccessKey);
        return { eventName: 'CreateAccessKey', mentions: ['bootstrap'], results: [out.adminAccessKeyId, server.credentials.accessKeyId] };
      },
    },
    serve: { noEvent: 'serves the HTTP surfaces, whose every change is covered by audit-coverage.test.ts and audit-coverage-surfaces.test.ts; its start-up initialisation is init\'s' },
    'user password': {
      async run() {
        const out = await json<{ password: string }>('user', 'password', '--user-name', USER, '--one-time');
        secrets.add(out.password);
        return { eventName: 'ResetPassword', mentions: [USER] };
      },
    },
    'user disable': {
      async run() {
        await cli('user', 'disable', '--user-name', USER);
        // The sessions the disable ends are a service event of it (none here: the user has none).
        return { eventName: 'UpdateUser', mentions: [USER, 'DISABLED'] };
      },
    },
    'user enable': {
      async run() {
        await cli('user', 'enable', '--user-name', USER);
        return { eventName: 'UpdateUser', mentions: [USER, 'ENABLED'] };
      },
    },
    'sessions list': { noEvent: 'reads the live portal sessions', args: () => ['sessions', 'list'] },
    'sessions revoke': {
      async run() {
        await server.reg.auth.setPassword(setup(), USER, { password: PASSWORD, oneTime: false });
        expect((await new Browser(server.url).signIn(USER, PASSWORD)).status).toBe(303);
        const { revokedSessionIds } = await json<{ revokedSessionIds: string[] }>('sessions', 'revoke', '--user-name', USER);
        expect(revokedSessionIds).toHaveLength(1);
        return { eventName: 'RevokeSession', mentions: [USER], results: revokedSessionIds };
      },
    },
    'settings show': { noEvent: 'reads the instance settings', args: () => ['settings', 'show'] },
    'settings set': {
      async run() {
        await cli('settings', 'set', '--session-duration-minutes', '600');
        return { eventName: 'UpdateInstanceSettings', mentions: ['sessionDurationMinutes', '600'] };
      },
    },
    'mfa list': { noEvent: "reads a user's MFA devices", args: () => ['mfa', 'list', '--user-name', USER] },
    'mfa delete': {
      async run() {
        const deviceId = await enrolTotp();
        await cli('mfa', 'delete', '--user-name', USER, '--device-id', deviceId);
        return { eventName: 'DeleteMfaDevice', mentions: [USER, deviceId] };
      },
    },
    'mfa reset': {
      async run() {
        const deviceId = await enrolTotp();
        await cli('mfa', 'reset', '--user-name', USER);
        return { eventName: 'ResetUserMfa', mentions: [USER], results: [deviceId] };
      },
    },
    'identity-source show': { noEvent: 'reads the identity source', args: () => ['identity-source', 'show'] },
    'identity-source set': {
      async run() {
        await cli('identity-source', 'set', '--type', 'internal');
        return { eventName: 'UpdateIdentitySource', mentions: ['INTERNAL'] };
      },
    },
    'admin grant': {
      async run() {
        await cli('admin', 'grant', '--user-name', USER, '--policy', 'ReadOnlyAccess');
        return { eventName: 'GrantConsoleAccess', mentions: [USER, 'ReadOnlyAccess'], results: [userId] };
      },
    },
    'admin list': { noEvent: 'reads the console grants', args: () => ['admin', 'list'] },
    'admin revoke': {
      async run() {
        await cli('admin', 'revoke', '--user-name', USER);
        return { eventName: 'RevokeConsoleAccess', mentions: [USER] };
      },
    },
    'scim token create': {
      async run() {
        const out = await cli('scim', 'token', 'create', '--expires-in-days', '9');
        const token = /^token: (\S+)$/m.exec(out)![1]!;
        secrets.add(token);
        state.tokenId = /^tokenId: (\S+)$/m.exec(out)![1]!;
        return { eventName: 'CreateBearerToken', mentions: ['9'], results: [state.tokenId] };
      },
    },
    'scim token list': { noEvent: 'reads the tokens (never their secrets)', args: () => ['scim', 'token', 'list'] },
    'scim token delete': {
      async run() {
        await cli('scim', 'token', 'delete', '--token-id', state.tokenId!);
        return { eventName: 'DeleteBearerToken', mentions: [state.tokenId!] };
      },
    },
    'saml idp import': {
      async run() {
        const file = path.join(server.dataDir, 'idp.xml');
        writeFileSync(file, await idpMetadata('https://idp.cli-cov.test/metadata'));
        await cli('saml', 'idp', 'import', '--metadata-file', file);
        return { eventName: 'UpdateSamlIdentityProvider', mentions: ['https://idp.cli-cov.test/metadata'] };
      },
    },
    'saml idp show': { noEvent: 'reads the IdP and the SP endpoints', args: () => ['saml', 'idp', 'show'] },
    'saml sp-key show': { noEvent: "reads the SP keys' certificates", args: () => ['saml', 'sp-key', 'show'] },
    'saml sp-key rotate': {
      async run() {
        const key = await json<{ keyId: string; certificateSha256: string }>('saml', 'sp-key', 'rotate');
        state.spKeyId = key.keyId;
        return { eventName: 'RotateSamlServiceProviderKey', mentions: [], results: [key.keyId, key.certificateSha256] };
      },
    },
    'saml sp-key retire': {
      async run() {
        const retired = await json<{ currentKeyId: string; retiredKeyIds: string[] }>('saml', 'sp-key', 'retire');
        expect(retired.currentKeyId).toBe(state.spKeyId);
        return { eventName: 'RetireSamlServiceProviderKeys', mentions: [], results: [retired.currentKeyId, ...retired.retiredKeyIds] };
      },
    },
    'audit verify': { noEvent: 'reads the chain and checks it', args: () => ['audit', 'verify'] },
    'audit sinks': { noEvent: "reads the sinks' cursors", args: () => ['audit', 'sinks'] },
    'audit public-key': { noEvent: 'reads the audit public key (made once, as the sealer makes it, on a database that has none)', args: () => ['audit', 'public-key'] },
    'audit seal': {
      noEvent: "chains events already written and signs the chain head: the trail's own bookkeeping, which serve's sealer does every auditSealMs; an event for it would itself need sealing, without end",
      args: () => ['audit', 'seal'],
    },
    'audit lookup': { noEvent: 'reads events (LookupEvents)', args: () => ['audit', 'lookup', '--max-results', '5'] },
    'audit export': { noEvent: "reads the chain; like audit seal, it first chains what is there, the trail's own bookkeeping", args: () => ['audit', 'export', '--start', '2000-01-01T00:00:00Z'] },
    'policy simulate': { noEvent: 'evaluates policies and stores nothing', args: () => ['policy', 'simulate', '--user-name', USER, '--account-id', server.init.managementAccountId] },
    'access-key create': {
      async run() {
        const out = await json<{ accessKeyId: string; secretAccessKey: string }>('access-key', 'create', '--policy', 'ReadOnlyAccess');
        secrets.add(out.secretAccessKey);
        return { eventName: 'CreateAccessKey', mentions: ['atrium-ReadOnlyAccess', 'policy:ReadOnlyAccess'], results: [out.accessKeyId] };
      },
    },
  };

  beforeAll(async () => {
    server = await startServer(dialect);
    storage = ['--data-dir', server.dataDir, ...(dialect === 'postgres' ? ['--database-url', server.reg.config.databaseUrl!] : [])];
    secrets.add(server.credentials.secretAccessKey).add(PASSWORD);
    userId = (await new IdentitystoreClient(sdkOptions(server)).send(new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: USER, DisplayName: 'Cli Cov', Name: { GivenName: 'C', FamilyName: 'C' } }))).UserId!;
  });
  afterAll(() => server?.close());

  it("lists every command of the program, and none it does not have", async () => {
    expect(Object.keys(commands).sort()).toEqual((await programCommands()).sort());
  });

  // init goes last: it rotates the key the test server's own calls sign with.
  const names = [...Object.keys(commands).filter((n) => n !== 'init'), 'init'];
  describe.each(names)('atrium %s', (name) => {
    const c = commands[name]!;
    if ('noEvent' in c) {
      it.skipIf(!c.args)(`leaves no event: ${c.noEvent}`, async () => {
        const before = await lastSeq(server);
        await cli(...c.args!());
        expect((await eventsAfter(server, before)).map((r) => r.event_name)).toEqual([]);
      });
      return;
    }
    it('leaves its one event, by the CLI, naming what it changed', async () => {
      const before = await lastSeq(server);
      const expected = await c.run();
      const rows = (await eventsAfter(server, before)).filter((r) => r.event_type === 'AwsApiCall' && identityOf(r).userName === 'atrium-cli');
      expect(rows.map((r) => r.event_name)).toEqual([expected.eventName]);
      const [event] = rows;
      expect(event!.error_code).toBeNull();
      expect(identityOf(event!)).toMatchObject({ type: 'Atrium', principalId: 'atrium' });
      for (const value of expected.mentions) expect(event!.request_parameters ?? '').toContain(value);
      for (const value of expected.results ?? []) expect(event!.response_elements ?? '').toContain(value);
    });
  });

  it('put no secret a command printed or took into any event', async () => {
    expect(await expectNoSecretInAnyEvent(server, secrets)).toBeGreaterThanOrEqual(6);
  });
});
