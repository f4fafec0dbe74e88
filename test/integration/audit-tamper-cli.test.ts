// Tampering as an operator meets it: someone with write access to the database edits, deletes,
// inserts or reorders audit rows with the stock shell (`sqlite3` on the SQLite file, `psql` on
// PostgreSQL), and `atrium audit verify` (the built CLI) exits 1 naming the first bad event by
// position and eventID. The same attacks through Kysely, and on exported files, are in
// audit-chain.test.ts; this adds the path with no Atrium code on the attacker's side, and the CLI's answer.

import { execFileSync, spawnSync } from 'node:child_process';
import { createPublicKey, generateKeyPairSync } from 'node:crypto';
import { cpSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { keyFingerprint } from '../../src/crypto/index.js';
import { runCli, startServe } from '../helpers/cli.js';
import { dialects, freshPostgresDatabase } from '../helpers/server.js';

/** The attacker's shell for each database; a dialect whose shell is not installed is skipped. */
const SHELL = { sqlite: ['sqlite3', '-version'], postgres: ['psql', '--version'] } as const;
const HAVE_SHELL = (d: keyof typeof SHELL) => spawnSync(SHELL[d][0], [SHELL[d][1]]).status === 0;

interface VerifyJson {
  ok: boolean;
  events: number;
  notYetChained: number;
  unsignedTail: number;
  problem?: { position: number | null; eventId: string | null; reason: string };
}

/** A database to attack: its storage flags, and the attacker's shell on it. */
interface Target {
  flags: string[];
  sql(statements: string): string;
}

describe.each(dialects().filter(HAVE_SHELL))('atrium audit verify on a %s database tampered with by its shell', (dialect) => {
  const dirs: string[] = [];
  let pristine: { dir: string; databaseUrl?: string };
  const tempDir = () => {
    const d = mkdtempSync(path.join(tmpdir(), 'atrium-tamper-'));
    dirs.push(d);
    return d;
  };

  /** A copy of the sealed database (and its key file), so that each attack starts from a good chain. */
  async function copy(): Promise<Target> {
    const dir = tempDir();
    cpSync(pristine.dir, dir, { recursive: true });
    if (dialect === 'sqlite') {
      // Both files, as the attacker with the data directory has them (the chain is in atrium-audit.db).
      const both = `attach '${path.join(dir, 'atrium-audit.db')}' as audit;`;
      return { flags: ['--data-dir', dir], sql: (s) => execFileSync('sqlite3', [path.join(dir, 'atrium.db'), `${both} ${s}`], { encoding: 'utf8' }).trim() };
    }
    const source = new URL(pristine.databaseUrl!);
    const name = `${source.pathname.slice(1)}_${Math.random().toString(36).slice(2, 8)}`;
    const admin = new pg.Client({ connectionString: process.env.ATRIUM_TEST_DATABASE_URL });
    await admin.connect();
    try {
      await admin.query(`CREATE DATABASE ${name} TEMPLATE ${source.pathname.slice(1)}`);
    } finally {
      await admin.end();
    }
    const url = new URL(source);
    url.pathname = `/${name}`;
    return {
      flags: ['--data-dir', dir, '--database-url', url.toString()],
      sql: (s) => execFileSync('psql', [url.toString(), '-v', 'ON_ERROR_STOP=1', '-qAt', '-c', s], { encoding: 'utf8' }).trim(),
    };
  }

  const verify = async (flags: string[]) => {
    const [json, text] = await Promise.all([runCli(['audit', 'verify', ...flags, '--json']), runCli(['audit', 'verify', ...flags])]);
    return { code: json.code, json: JSON.parse(json.stdout) as VerifyJson, text: text.stdout, textCode: text.code };
  };
  const eventIdAt = (t: Target, position: number) => t.sql(`select event_id from audit_chain where position = ${position}`);
  const expectNamed = (r: Awaited<ReturnType<typeof verify>>, position: number, eventId: string, reason: RegExp) => {
    // 4: the log does not verify (1 would be "could not check").
    expect(r.code).toBe(4);
    expect(r.textCode).toBe(4);
    expect(r.json.problem).toMatchObject({ position, eventId });
    expect(r.json.problem!.reason).toMatch(reason);
    expect(r.text).toContain(`first bad event: position ${position}, eventID ${eventId}`);
  };

  beforeAll(async () => {
    pristine = { dir: tempDir(), ...(dialect === 'postgres' ? { databaseUrl: await freshPostgresDatabase() } : {}) };
    const flags = ['--data-dir', pristine.dir, ...(pristine.databaseUrl ? ['--database-url', pristine.databaseUrl] : [])];
    const serve = await startServe(flags, { ATRIUM_AUDIT_SEAL_MS: '50', ATRIUM_AUDIT_DIGEST_EVERY: '4', ATRIUM_AUDIT_DIGEST_SECONDS: '1' });
    try {
      const credentials = { accessKeyId: /AWS_ACCESS_KEY_ID=(\S+)/.exec(serve.banner)![1]!, secretAccessKey: /AWS_SECRET_ACCESS_KEY=(\S+)/.exec(serve.banner)![1]! };
      const IdentityStoreId = /identity store:\s+(\S+)/.exec(serve.banner)![1]!;
      const ids = new IdentitystoreClient({ endpoint: serve.url, region: 'us-east-1', credentials, maxAttempts: 1 });
      for (let i = 0; i < 6; i++) await ids.send(new CreateUserCommand({ IdentityStoreId, UserName: `t-${i}`, DisplayName: 'T', Name: { GivenName: 'T', FamilyName: 'P' } }));
      // serve seals by itself; wait until all of it is chained, signed and verifies.
      for (const until = Date.now() + 30_000; Date.now() < until; ) {
        const j = JSON.parse((await runCli(['audit', 'verify', ...flags, '--json'])).stdout) as VerifyJson;
        if (j.ok && j.notYetChained === 0 && j.unsignedTail === 0 && j.events >= 9) break;
        await new Promise((resolve) => setTimeout(resolve, 300));
      }
    } finally {
      await serve.stop();
    }
    const good = await verify(flags);
    expect(good.code).toBe(0);
    expect(good.json.events).toBeGreaterThanOrEqual(9);
  }, 60_000);
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('names an edited event', async () => {
    const t = await copy();
    const id = eventIdAt(t, 6);
    t.sql(`update audit_events set source_ip = '203.0.113.66' where seq = (select event_seq from audit_chain where position = 6)`);
    expectNamed(await verify(t.flags), 6, id, /edited/);
  }, 30_000);

  it('names a deleted event', async () => {
    const t = await copy();
    const id = eventIdAt(t, 6);
    t.sql(`delete from audit_events where seq = (select event_seq from audit_chain where position = 6)`);
    expectNamed(await verify(t.flags), 6, id, /deleted/);
  }, 30_000);

  it('names an inserted event', async () => {
    const t = await copy();
    // Make room at position 6 and put a copy of event 5 there, under a new eventID, linked to 5.
    t.sql(
      [
        'update audit_chain set position = -position where position >= 6',
        'update audit_chain set position = 1 - position where position < 0',
        `insert into audit_events (event_id, event_time, event_source, event_name, aws_region, source_ip, user_agent, user_identity, request_parameters, response_elements, error_code, error_message, request_id, read_only, event_type, user_name, access_key_id, resource_type, resource_name)
           select 'forged-by-shell', event_time, event_source, 'DeleteUser', aws_region, source_ip, user_agent, user_identity, request_parameters, response_elements, error_code, error_message, request_id, read_only, event_type, user_name, access_key_id, resource_type, resource_name
           from audit_events where seq = (select event_seq from audit_chain where position = 5)`,
        `insert into audit_chain (position, event_seq, event_id, prev_hash, hash, sealed_at)
           select 6, (select seq from audit_events where event_id = 'forged-by-shell'), 'forged-by-shell', hash, hash, sealed_at from audit_chain where position = 5`,
      ].join(';\n'),
    );
    const r = await verify(t.flags);
    expect(r.code).toBe(4);
    expect(r.json.problem).toMatchObject({ position: 6, eventId: 'forged-by-shell' });
    expect(r.text).toContain('first bad event: position 6, eventID forged-by-shell');
  }, 30_000);

  it('names a lookup column edited with its key, and a key added under another user', async () => {
    const t = await copy();
    const at = (p: number) => ({ id: eventIdAt(t, p), seq: t.sql(`select event_seq from audit_chain where position = ${p}`) });
    const [five, six] = [at(5), at(6)];
    // Outside the hashed record: the two agree with each other, not with the event.
    t.sql(`update audit_events set user_name = 'someone-else' where seq = ${five.seq}; update audit_lookup set value = 'someone-else' where kind = 'user' and event_seq = ${five.seq}`);
    expectNamed(await verify(t.flags), 5, five.id, /LookupEvents column user_name does not match the event's record/);
    const u = await copy();
    u.sql(`insert into audit_lookup (kind, value, event_time, event_seq) select 'user', 't-0', event_time, seq from audit_events where seq = ${six.seq}`);
    expectNamed(await verify(u.flags), 6, six.id, /a LookupEvents key \(user = "t-0"\) names event seq/);
    const w = await copy();
    w.sql(`update audit_events set resource_type = 'AWS::Nothing' where seq = ${six.seq}`);
    expectNamed(await verify(w.flags), 6, six.id, /LookupEvents column resource_type does not match/);
  }, 30_000);

  it('with retention on, names recent events deleted up to a signed digest as if pruned', async () => {
    const t = await copy();
    const retained = { ATRIUM_AUDIT_RETENTION_DAYS: '365' };
    const verifyRetained = async () => {
      const r = await runCli(['audit', 'verify', ...t.flags, '--json'], retained);
      return { code: r.code, json: JSON.parse(r.stdout) as VerifyJson };
    };
    expect((await verifyRetained()).code).toBe(0);
    // Everything through the digest at position 4 (minutes old), with its chain links and lookup keys.
    const anchor = Number(t.sql('select min(position) from audit_digests where position >= 4'));
    t.sql(
      `delete from audit_lookup where event_seq in (select event_seq from audit_chain where position <= ${anchor});
       delete from audit_events where seq in (select event_seq from audit_chain where position <= ${anchor});
       delete from audit_chain where position <= ${anchor}`,
    );
    const r = await verifyRetained();
    expect(r.code).toBe(4);
    expect(r.json.problem).toMatchObject({ position: anchor, eventId: null });
    expect(r.json.problem!.reason).toMatch(new RegExp(`the chain starts at position ${anchor + 1}, after the signed digest at position ${anchor}, but that digest was signed at .*auditRetentionDays 365.*: the events through position ${anchor} were deleted, not pruned`));
  }, 30_000);

  it('refuses a replaced public key, and checks the database against a pinned one', async () => {
    const t = await copy();
    const pem = path.join(t.flags[1]!, 'audit-public.pem');
    const shown = await runCli(['audit', 'public-key', ...t.flags]);
    writeFileSync(pem, shown.stdout);
    const fingerprint = (await runCli(['audit', 'public-key', ...t.flags, '--fingerprint'])).stdout.trim();
    expect(fingerprint).toMatch(/^[0-9a-f]{16}$/);
    expect((await verify([...t.flags, '--public-key', pem])).code).toBe(0);
    // The attacker's own key in place of the stored public half (the digests re-signed with it would then check).
    const attacker = generateKeyPairSync('ed25519').publicKey.export({ type: 'spki', format: 'pem' }).toString();
    t.sql(`update audit_signing_keys set public_key_pem = '${attacker}'`);
    const swapped = await verify(t.flags);
    expect(swapped.code).toBe(4);
    expect(swapped.json.problem!.reason).toMatch(/the audit public key stored in the database \(audit_signing_keys, audit-1\) does not match its sealed private key: it was replaced/);
    const pinned = await verify([...t.flags, '--public-key', pem]);
    expect(pinned.code).toBe(4);
    expect(pinned.json.problem!.reason).toBe(`the audit public key in the database (fingerprint ${keyFingerprint(createPublicKey(attacker))}) is not the pinned one (${fingerprint}): it was replaced`);
    // Nor is it handed out, or signed with.
    const refused = await runCli(['audit', 'public-key', ...t.flags]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/does not match its sealed private key/);
    expect((await runCli(['audit', 'seal', ...t.flags])).stderr).toMatch(/does not match its sealed private key/);
  }, 30_000);

  it('names the first of two reordered events', async () => {
    const t = await copy();
    const id = eventIdAt(t, 6);
    const [a, b] = [6, 7].map((p) => t.sql(`select event_seq from audit_chain where position = ${p}`));
    t.sql(`update audit_events set seq = -1 where seq = ${a}; update audit_events set seq = ${a} where seq = ${b}; update audit_events set seq = ${b} where seq = -1`);
    expectNamed(await verify(t.flags), 6, id, /reordered/);
  }, 30_000);
});
