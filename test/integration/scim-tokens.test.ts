// SCIM bearer tokens on both databases: what an administrator does with `atrium scim token` and the
// signed admin API, what an attacker tries against both, and what a token's holder can do with it.

import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { HIDDEN } from '../../src/audit/index.js';
import { AUDITED_REFUSALS_PER_MINUTE } from '../../src/provisioning/index.js';
import { systemContext } from '../../src/shared/context.js';
import { isDomainError } from '../../src/shared/errors.js';
import { runCli } from '../helpers/cli.js';
import { dialects, startServer, type TestServer } from '../helpers/server.js';

const DAY_MS = 86_400_000;
const TOKEN = /^atrium_scim_[0-9a-f]{64}$/;

interface CreatedJson {
  tokenId: string;
  token: string;
  expiresAt: string;
  endpoint: string;
}
interface ListedJson {
  tokens: { tokenId: string; createdAt: string; expiresAt: string; lastUsedAt: string | null; active: boolean }[];
}

/** The admin API, signed by the AWS SDK's own SigV4 signer and hash, over the exact body sent. */
async function adminCall(server: TestServer, method: string, path: string, opts: { body?: string; credentials?: TestServer['credentials']; service?: string; sendBody?: string } = {}) {
  const url = new URL(server.url);
  const signer = new SignatureV4({ service: opts.service ?? 'sso', region: 'us-east-1', credentials: opts.credentials ?? server.credentials, sha256: Hash.bind(null, 'sha256') });
  const headers: Record<string, string> = { host: url.host, ...(opts.body === undefined ? {} : { 'content-type': 'application/json' }) };
  const signed = await signer.sign({ method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path, headers, body: opts.body });
  const res = await fetch(server.url + path, { method, headers: signed.headers, body: opts.sendBody ?? opts.body });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe.each(dialects())('SCIM bearer tokens on %s', (dialect) => {
  let server: TestServer;
  let storage: string[];
  // Its own address: the refusals it provokes must not spend the budget of the HTTP test's 127.0.0.1.
  const scimCtx = { ...systemContext('identitystore-scim.amazonaws.com', 'us-east-1', 'scim-test', 'okta-scim'), sourceIp: '192.0.2.10' };
  const cli = (args: string[], env: Record<string, string> = {}) => runCli(['scim', 'token', ...args, ...storage], env);
  const db = () => server.reg.database.db;
  const events = (eventName: string) => db().selectFrom('audit_events').selectAll().where('event_name', '=', eventName).orderBy('seq').execute();
  const activeRows = async () => (await db().selectFrom('scim_tokens').select('token_id').where('expires_at', '>', Date.now()).execute()).length;
  /** The DomainError code `authenticate` refuses with, or 'accepted'. */
  const authenticateCode = (bearer: string) =>
    server.reg.scimTokens.authenticate(scimCtx, bearer).then(
      () => 'accepted',
      (err: unknown) => (isDomainError(err) && err.kind === 'unauthenticated' ? err.code : `unexpected: ${String(err)}`),
    );
  const createWithCli = async (args: string[] = [], env: Record<string, string> = {}) => {
    const r = await cli(['create', '--json', ...args], env);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    return JSON.parse(r.stdout) as CreatedJson;
  };
  const listWithCli = async () => {
    const r = await cli(['list', '--json']);
    expect(r.code).toBe(0);
    return { stdout: r.stdout, tokens: (JSON.parse(r.stdout) as ListedJson).tokens };
  };

  beforeAll(async () => {
    server = await startServer(dialect);
    storage = ['--data-dir', server.dataDir, ...(dialect === 'postgres' ? ['--database-url', server.reg.config.databaseUrl!] : [])];
  });
  afterAll(() => server?.close());
  // Every test starts with no tokens, so that the limit of two is each test's own.
  beforeEach(async () => void (await db().deleteFrom('scim_tokens').execute()));

  it('creates a token with the CLI: shown once with its endpoint, valid a year, kept only as a hash, listed without it', async () => {
    const before = Date.now();
    const created = await createWithCli([], { ATRIUM_PUBLIC_URL: 'https://id.example.com/' });
    // With its id, so a script can delete the token it made without matching it up in the list.
    expect(Object.keys(created)).toEqual(['tokenId', 'token', 'expiresAt', 'endpoint']);
    expect(created.token).toMatch(TOKEN);
    expect(created.endpoint).toBe('https://id.example.com/scim/v2');
    expect(created.expiresAt).toBe(new Date(created.expiresAt).toISOString());
    const expiresAt = Date.parse(created.expiresAt);
    expect(expiresAt).toBeGreaterThanOrEqual(before + 365 * DAY_MS);
    expect(expiresAt).toBeLessThanOrEqual(Date.now() + 365 * DAY_MS);
    // Without a public URL, the endpoint is the default listening address.
    expect((await createWithCli()).endpoint).toBe('http://127.0.0.1:8080/scim/v2');

    const listed = await listWithCli();
    expect(listed.tokens).toHaveLength(2);
    expect(listed.tokens[0]).toEqual({ tokenId: created.tokenId, createdAt: expect.any(String), expiresAt: created.expiresAt, lastUsedAt: null, active: true });
    expect(listed.stdout).not.toContain(created.token.slice('atrium_scim_'.length));
    const text = await cli(['list']);
    expect(text.stdout.trim().split('\n')).toHaveLength(2);
    expect(text.stdout).toContain(listed.tokens[0]!.tokenId);

    // The table holds the SHA-256 and nothing from which the secret could be read back.
    const rows = await db().selectFrom('scim_tokens').selectAll().execute();
    const secretPart = created.token.slice('atrium_scim_'.length);
    expect(JSON.stringify(rows)).not.toContain(secretPart);
    expect(rows.map((r) => r.token_hash)).toContain(createHash('sha256').update(created.token).digest('hex'));

    expect(await authenticateCode(created.token)).toBe('accepted');
    const used = (await listWithCli()).tokens[0]!;
    expect(Date.parse(used.lastUsedAt!)).toBeGreaterThanOrEqual(before);

    const [event] = (await events('CreateBearerToken')).filter((e) => e.response_elements?.includes(listed.tokens[0]!.tokenId));
    expect(event).toMatchObject({ event_source: 'sso-directory.amazonaws.com', error_code: null });
    expect(JSON.parse(event!.request_parameters!)).toEqual({ expiresInDays: 365 });
    expect(JSON.stringify(await db().selectFrom('audit_events').selectAll().execute())).not.toContain(secretPart);
  });

  it('refuses a third active token from the CLI and the API; an expired or deleted one frees its place', async () => {
    await createWithCli(['--expires-in-days', '30']);
    const second = await createWithCli(['--expires-in-days', '1']);
    expect(Date.parse(second.expiresAt) - Date.now()).toBeLessThanOrEqual(DAY_MS);
    const third = await cli(['create', '--json']);
    expect(third).toMatchObject({ code: 1, stdout: '' });
    expect(third.stderr).toMatch(/At most 2 SCIM bearer tokens can be active/);
    const viaApi = await adminCall(server, 'POST', '/api/admin/scim/tokens', { body: '{}' });
    expect(viaApi.status).toBe(409);
    expect(viaApi.json.__type).toBe('ConflictException');
    expect(await activeRows()).toBe(2);

    // An expired token still shows, inactive, and no longer counts.
    const [soonest] = (await listWithCli()).tokens.filter((t) => t.expiresAt === second.expiresAt);
    await db().updateTable('scim_tokens').set({ expires_at: Date.now() - 1 }).where('token_id', '=', soonest!.tokenId).execute();
    const replacement = await createWithCli();
    const listed = (await listWithCli()).tokens;
    expect(listed.map((t) => t.active)).toEqual([true, false, true]);
    expect((await cli(['create'])).code).toBe(1);

    const deleted = await cli(['delete', '--token-id', listed[0]!.tokenId, '--json']);
    expect(deleted).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(deleted.stdout)).toEqual({ deletedTokenId: listed[0]!.tokenId });
    await createWithCli();
    expect(await activeRows()).toBe(2);
    expect(await authenticateCode(replacement.token)).toBe('accepted');

    const again = await cli(['delete', '--token-id', listed[0]!.tokenId]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/does not exist/);
    expect((await events('CreateBearerToken')).some((e) => e.error_code === 'scim.token_limit')).toBe(true);
    expect((await events('DeleteBearerToken')).map((e) => e.error_code).slice(-2)).toEqual([null, 'scim.token_not_found']);
  });

  it('refuses a bad --expires-in-days with exit code 2, naming the option', async () => {
    const bad = ['0', '731', '1.5', 'ten', '-3'];
    const [missingId, ...refused] = await Promise.all([cli(['delete']), ...bad.map((days) => cli(['create', '--expires-in-days', days]))]);
    for (const r of refused) {
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/--expires-in-days must be a whole number from 1 to 730/);
    }
    expect(missingId.stderr).toMatch(/--token-id/);
    expect(await activeRows()).toBe(0);
  });

  it('manages tokens through the signed admin API with PascalCase fields and AWS-shaped errors', async () => {
    const before = Date.now();
    const created = await adminCall(server, 'POST', '/api/admin/scim/tokens', { body: JSON.stringify({ ExpiresInDays: 30 }) });
    expect(created.status).toBe(200);
    expect(created.json).toEqual({ TokenId: expect.any(String), Token: expect.stringMatching(TOKEN), ExpiresAt: expect.any(Number), Endpoint: `${server.url}/scim/v2` });
    expect((created.json.ExpiresAt as number) * 1000).toBeGreaterThanOrEqual(before + 30 * DAY_MS);
    expect((created.json.ExpiresAt as number) * 1000).toBeLessThanOrEqual(Date.now() + 30 * DAY_MS);
    // No body at all means the defaults.
    const unbodied = await adminCall(server, 'POST', '/api/admin/scim/tokens');
    expect(unbodied.status).toBe(200);
    expect((unbodied.json.ExpiresAt as number) * 1000).toBeGreaterThanOrEqual(before + 365 * DAY_MS);

    const listed = await adminCall(server, 'GET', '/api/admin/scim/tokens');
    expect(listed.status).toBe(200);
    const tokens = listed.json.Tokens as Record<string, unknown>[];
    expect(tokens).toHaveLength(2);
    expect(tokens[0]).toEqual({ TokenId: created.json.TokenId, CreatedAt: expect.any(Number), ExpiresAt: created.json.ExpiresAt, Active: true });
    expect(JSON.stringify(listed.json)).not.toContain(created.json.Token as string);

    expect(await adminCall(server, 'DELETE', `/api/admin/scim/tokens/${String(created.json.TokenId)}`)).toEqual({ status: 200, json: {} });
    const missing = await adminCall(server, 'DELETE', `/api/admin/scim/tokens/${String(created.json.TokenId)}`);
    expect(missing.status).toBe(404);
    expect(missing.json).toMatchObject({ __type: 'ResourceNotFoundException', ResourceType: 'BEARER_TOKEN' });
    expect(await authenticateCode(created.json.Token as string)).toBe('scim.token_invalid');

    for (const body of ['{"ExpiresInDays":0}', '{"ExpiresInDays":731}', '{"ExpiresInDays":"30"}', '{"ExpiresInDays":1.5}', '{"Token":"mine"}', '[]', 'null', '{oops']) {
      const refused = await adminCall(server, 'POST', '/api/admin/scim/tokens', { body });
      expect(refused.status, body).toBe(400);
      expect(refused.json.__type, body).toBe('ValidationException');
    }
    expect(await activeRows()).toBe(1);
    // Refused creates are on the record (the unparseable body never reached a handler that could read it).
    const refusals = (await events('CreateBearerToken')).filter((e) => e.error_code !== null && e.error_code !== 'scim.token_limit');
    expect(refusals.length).toBeGreaterThanOrEqual(7);
    expect(refusals.map((e) => e.request_parameters).join()).not.toContain('mine');
    expect(refusals.some((e) => e.request_parameters?.includes(HIDDEN))).toBe(true);
  });

  it('refuses unsigned, forged, re-scoped and tampered admin API calls, and changes nothing', async () => {
    const unsigned = await fetch(`${server.url}/api/admin/scim/tokens`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(unsigned.status).toBe(403);
    expect(((await unsigned.json()) as { __type: string }).__type).toBe('MissingAuthenticationTokenException');
    const forged = await adminCall(server, 'POST', '/api/admin/scim/tokens', { body: '{}', credentials: { accessKeyId: server.credentials.accessKeyId, secretAccessKey: 'x'.repeat(40) } });
    expect(forged).toMatchObject({ status: 403, json: { __type: 'InvalidSignatureException' } });
    const unknownKey = await adminCall(server, 'POST', '/api/admin/scim/tokens', { body: '{}', credentials: { accessKeyId: 'AKIAAAAAAAAAAAAAAAAA', secretAccessKey: 'x'.repeat(40) } });
    expect(unknownKey.status).toBe(403);
    const otherService = await adminCall(server, 'POST', '/api/admin/scim/tokens', { body: '{}', service: 'identitystore' });
    expect(otherService.status).toBe(403);
    // A captured signature does not carry over to another body.
    const tampered = await adminCall(server, 'POST', '/api/admin/scim/tokens', { body: '{"ExpiresInDays":30}', sendBody: '{"ExpiresInDays":730}' });
    expect(tampered).toMatchObject({ status: 403, json: { __type: 'InvalidSignatureException' } });
    expect(await activeRows()).toBe(0);

    const created = await adminCall(server, 'POST', '/api/admin/scim/tokens', { body: '{}' });
    const id = String(created.json.TokenId);
    const unsignedList = await fetch(`${server.url}/api/admin/scim/tokens`);
    expect(unsignedList.status).toBe(403);
    expect(await unsignedList.text()).not.toContain(id);
    expect((await fetch(`${server.url}/api/admin/scim/tokens/${id}`, { method: 'DELETE' })).status).toBe(403);
    const forgedDelete = await adminCall(server, 'DELETE', `/api/admin/scim/tokens/${id}`, { credentials: { accessKeyId: server.credentials.accessKeyId, secretAccessKey: 'y'.repeat(40) } });
    expect(forgedDelete.status).toBe(403);
    expect(await authenticateCode(String(created.json.Token))).toBe('accepted');

    // A SCIM token is not an admin credential.
    const withScimToken = await fetch(`${server.url}/api/admin/scim/tokens`, { headers: { authorization: `Bearer ${String(created.json.Token)}` } });
    expect(withScimToken.status).toBe(400);
    const big = await adminCall(server, 'POST', '/api/admin/scim/tokens', { body: `{"ExpiresInDays":1,"x":"${'a'.repeat(70 * 1024)}"}` });
    expect(big).toMatchObject({ status: 413, json: { __type: 'RequestEntityTooLargeException' } });
    expect(await activeRows()).toBe(1);
  });

  it('authenticates only a live token, and audits every use, accepted or refused, without the secret', async () => {
    const { token } = await createWithCli();
    const { tokenId } = (await listWithCli()).tokens[0]!;
    const sameShape = `atrium_scim_${'0'.repeat(64)}`;
    const attempts: [string, string][] = [
      [token, 'accepted'],
      [sameShape, 'scim.token_invalid'],
      [token.slice(0, -1), 'scim.token_invalid'],
      [`${token} `, 'scim.token_invalid'],
      [token.toUpperCase(), 'scim.token_invalid'],
      ['garbage', 'scim.token_invalid'],
      ['', 'scim.token_invalid'],
      ['x'.repeat(100_000), 'scim.token_invalid'],
      [token, 'accepted'],
    ];
    const seqBefore = (await db().selectFrom('audit_events').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst())?.seq ?? 0;
    for (const [bearer, expected] of attempts) expect(await authenticateCode(bearer), bearer.slice(0, 80)).toBe(expected);

    await db().updateTable('scim_tokens').set({ expires_at: Date.now() - 1 }).where('token_id', '=', tokenId).execute();
    expect(await authenticateCode(token)).toBe('scim.token_expired');
    expect((await listWithCli()).tokens[0]!.active).toBe(false);
    const other = await createWithCli();
    expect((await cli(['delete', '--token-id', (await listWithCli()).tokens[1]!.tokenId])).code).toBe(0);
    expect(await authenticateCode(other.token)).toBe('scim.token_invalid');

    const used = await db().selectFrom('audit_events').selectAll().where('event_name', '=', 'AuthenticateBearerToken').where('seq', '>', seqBefore).orderBy('seq').execute();
    expect(used.map((e) => e.error_code ?? 'accepted')).toEqual([...attempts.map(([, code]) => code), 'scim.token_expired', 'scim.token_invalid']);
    expect(used.every((e) => e.event_source === 'identitystore-scim.amazonaws.com' && e.user_agent === 'okta-scim')).toBe(true);
    const accepted = used.filter((e) => e.error_code === null);
    expect(accepted.map((e) => JSON.parse(e.user_identity) as unknown)).toEqual([
      { type: 'ScimBearerToken', principalId: tokenId },
      { type: 'ScimBearerToken', principalId: tokenId },
    ]);
    expect(JSON.parse(used.at(-2)!.request_parameters!)).toEqual({ id: tokenId });
    const dump = JSON.stringify(await db().selectFrom('audit_events').selectAll().execute());
    for (const secret of [token, other.token]) expect(dump).not.toContain(secret.slice('atrium_scim_'.length));
  });

  it('answers token guessing from one address with 429 past its budget, audits it once, and still lets a valid token in', async () => {
    const { token } = await createWithCli();
    const seqBefore = (await db().selectFrom('audit_events').select('seq').orderBy('seq', 'desc').limit(1).executeTakeFirst())?.seq ?? 0;
    const get = (bearer: string) => fetch(`${server.url}/scim/v2/Users?count=1`, { headers: { authorization: `Bearer ${bearer}` } });
    const statuses: number[] = [];
    for (let i = 0; i < AUDITED_REFUSALS_PER_MINUTE + 5; i++) {
      const res = await get(`atrium_scim_${i.toString(16).padStart(64, '0')}`);
      statuses.push(res.status);
      if (res.status === 429) {
        expect((await res.json()) as { detail: string }).toMatchObject({ detail: expect.stringMatching(/Too many refused SCIM bearer tokens/) });
        // The wait is in the header clients read, and says the same as the detail.
        expect(Number(res.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(Number(res.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      } else await res.body?.cancel();
    }
    expect(statuses).toEqual([...Array<number>(AUDITED_REFUSALS_PER_MINUTE).fill(401), ...Array<number>(5).fill(429)]);
    // The IdP behind the same address is not held back.
    expect((await get(token)).status).toBe(200);
    const used = await db().selectFrom('audit_events').select('error_code').where('event_name', '=', 'AuthenticateBearerToken').where('seq', '>', seqBefore).orderBy('seq').execute();
    expect(used.map((e) => e.error_code ?? 'accepted')).toEqual([...Array<string>(AUDITED_REFUSALS_PER_MINUTE).fill('scim.token_invalid'), 'scim.refusals_throttled', 'accepted']);
  });

  it('never leaves three active tokens when creates race, in one process or across CLI processes', async () => {
    const ctx = systemContext('sso-directory.amazonaws.com', 'us-east-1', 'race');
    const inProcess = await Promise.allSettled(Array.from({ length: 8 }, () => server.reg.scimTokens.createToken(ctx)));
    expect(inProcess.filter((r) => r.status === 'fulfilled')).toHaveLength(2);
    const reasons = inProcess.flatMap((r) => (r.status === 'rejected' ? [r.reason as unknown] : []));
    expect(reasons.every((e) => isDomainError(e) && e.code === 'scim.token_limit')).toBe(true);
    expect(await activeRows()).toBe(2);

    // One place free: of four processes racing for it, one wins.
    const [first] = (await listWithCli()).tokens;
    await server.reg.scimTokens.deleteToken(ctx, first!.tokenId);
    const processes = await Promise.all(Array.from({ length: 4 }, () => cli(['create', '--json'])));
    expect(processes.map((p) => p.code).sort()).toEqual([0, 1, 1, 1]);
    expect(await activeRows()).toBe(2);
  });
});
