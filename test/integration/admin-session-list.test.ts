// The administrators' list of portal sessions is paged, on both databases: `GET /api/admin/sessions`
// (SigV4-signed, as the console and scripts call it) answers at most 100 sessions by default with a
// NextToken, `maxResults` and `nextToken` walk every session once, newest first, a bad page size or
// token is a ValidationException and never a 500, and `atrium sessions list` reads every page or
// prints one.

import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { UserSummary } from '../../src/directory/index.js';
import { systemContext } from '../../src/shared/context.js';
import { runCli } from '../helpers/cli.js';
import { portalFixture, type PortalUser } from '../helpers/portal-fixture.js';
import { dialects, startServer, type TestServer } from '../helpers/server.js';

type Listed = { SessionId: string; UserName: string; CreatedAt: number };
type Query = Record<string, string | string[]>;

describe.each(dialects())('the admin list of sessions on %s', (dialect) => {
  let server: TestServer;
  let storage: string[];
  const users: PortalUser[] = [];

  /** The admin API, signed by the AWS SDK's SigV4 signer over the exact query sent. */
  async function listSessions(query: Query = {}) {
    const url = new URL(server.url);
    const signer = new SignatureV4({ service: 'sso', region: 'us-east-1', credentials: server.credentials, sha256: Hash.bind(null, 'sha256') });
    const path = '/api/admin/sessions';
    const signed = await signer.sign({ method: 'GET', protocol: 'http:', hostname: url.hostname, port: Number(url.port), path, query, headers: { host: url.host } });
    const qs = new URLSearchParams(Object.entries(query).flatMap(([k, v]) => (Array.isArray(v) ? v.map((x) => [k, x]) : [[k, v]]))).toString();
    const res = await fetch(`${server.url}${path}${qs ? `?${qs}` : ''}`, { headers: signed.headers });
    return { status: res.status, errorType: res.headers.get('x-amzn-errortype'), json: (await res.json()) as { Sessions?: Listed[]; NextToken?: string; __type?: string; message?: string } };
  }

  /** Every page, `query` given to each; returns the pages' sizes and their sessions in order. */
  async function walk(query: Query = {}) {
    const sizes: number[] = [];
    const sessions: Listed[] = [];
    let nextToken: string | undefined;
    do {
      const page = await listSessions({ ...query, ...(nextToken ? { nextToken } : {}) });
      expect(page.status, JSON.stringify(page.json)).toBe(200);
      sizes.push(page.json.Sessions!.length);
      sessions.push(...page.json.Sessions!);
      nextToken = page.json.NextToken;
    } while (nextToken);
    return { sizes, sessions };
  }

  /** What the database holds, newest first: the order every walk must give. */
  const storedIds = async () =>
    (await server.reg.database.db.selectFrom('auth_sessions').select(['session_id', 'created_at']).execute())
      .sort((a, b) => Number(b.created_at) - Number(a.created_at) || (a.session_id < b.session_id ? 1 : -1))
      .map((r) => r.session_id);

  const openSessions = async (user: PortalUser, n: number) => {
    const summary: UserSummary = { identityStoreId: server.init.identityStoreId, userId: user.userId, userName: user.userName, status: 'ENABLED' };
    const ctx = systemContext('signin.amazonaws.com', 'us-east-1', 'test');
    for (let i = 0; i < n; i++) await server.reg.auth.signInFederated(ctx, summary, 'SAML');
  };

  beforeAll(async () => {
    server = await startServer(dialect);
    storage = ['--data-dir', server.dataDir, ...(dialect === 'postgres' ? ['--database-url', server.reg.config.databaseUrl!] : [])];
    const f = portalFixture(server);
    for (let i = 0; i < 3; i++) users.push(await f.newUser());
    // 108 sessions in all: more than one default page. Many are opened within the same millisecond,
    // so the session id must order the ties.
    await openSessions(users[0]!, 103);
    await openSessions(users[1]!, 3);
    await openSessions(users[2]!, 2);
  });
  afterAll(() => server?.close());

  it('answers at most 100 sessions by default, and the NextToken leads to the rest, each once, newest first', async () => {
    const first = await listSessions();
    expect(first.status).toBe(200);
    expect(first.json.Sessions).toHaveLength(100);
    expect(first.json.NextToken).toEqual(expect.any(String));
    const all = await walk();
    expect(all.sizes).toEqual([100, 8]);
    expect(all.sessions.map((s) => s.SessionId)).toEqual(await storedIds());
  });

  it('pages by maxResults, of everyone or of one user, and a sign-in between two pages moves nothing', async () => {
    const byDefault = (await walk()).sessions.map((s) => s.SessionId);
    const bySeven = await walk({ maxResults: '7' });
    expect(bySeven.sizes).toEqual([...Array<number>(15).fill(7), 3]);
    expect(bySeven.sessions.map((s) => s.SessionId)).toEqual(byDefault);

    const ofOne = await walk({ userName: users[1]!.userName, maxResults: '2' });
    expect(ofOne.sizes).toEqual([2, 1]);
    expect(ofOne.sessions.map((s) => s.UserName)).toEqual(Array<string>(3).fill(users[1]!.userName));
    expect(ofOne.sessions.map((s) => s.SessionId)).toEqual(byDefault.filter((id) => ofOne.sessions.some((s) => s.SessionId === id)));

    // The token is where the last page ended, not an offset: a newer session does not shift the rest.
    const page1 = await listSessions({ maxResults: '50' });
    await openSessions(users[2]!, 1);
    const rest = await walk({ nextToken: page1.json.NextToken!, maxResults: '50' });
    expect([...page1.json.Sessions!, ...rest.sessions].map((s) => s.SessionId)).toEqual(byDefault);
  });

  it('refuses a bad page size, page token or parameter with a ValidationException, never a 500', async () => {
    const forged = (p: unknown) => Buffer.from(JSON.stringify({ v: 1, p })).toString('base64');
    const bad: Query[] = [
      { maxResults: '0' },
      { maxResults: '101' },
      { maxResults: 'ten' },
      { maxResults: '1.5' },
      { maxResults: '-1' },
      { maxResults: '' },
      { maxResults: ['5', '6'] },
      { nextToken: 'not-a-token' },
      { nextToken: '' },
      { nextToken: forged({ 0: 'x' }) },
      { nextToken: forged({ 0: 1, 1: 'a', 2: 'b' }) },
      { nextToken: forged({ 0: 'late', 1: 'a' }) },
      { nextToken: forged({ 0: 1e300, 1: 'a' }) },
      { userName: '' },
      { MaxResults: '5' },
      { limit: '5' },
    ];
    for (const query of bad) {
      const r = await listSessions(query);
      expect([r.status, r.errorType, r.json.__type], JSON.stringify(query)).toEqual([400, 'ValidationException', 'ValidationException']);
      expect(r.json.message, JSON.stringify(query)).toMatch(/maxresults|nexttoken|username|limit/i);
    }
    expect((await listSessions({ maxResults: '101' })).json.message).toContain('100');
    const unknown = await listSessions({ userName: 'nobody-at-all' });
    expect([unknown.status, unknown.json.__type]).toEqual([404, 'ResourceNotFoundException']);
  });

  it('`atrium sessions list` reads every page, or prints one with --max-results and --next-token', async () => {
    const byDefault = (await walk()).sessions.map((s) => s.SessionId);
    const all = await runCli(['sessions', 'list', '--json', ...storage]);
    expect(all.stderr).toBe('');
    expect((JSON.parse(all.stdout) as { sessions: { sessionId: string }[] }).sessions.map((s) => s.sessionId)).toEqual(byDefault);
    const text = await runCli(['sessions', 'list', ...storage]);
    expect(text.stdout.trimEnd().split('\n').map((line) => line.split('\t')[0])).toEqual(byDefault);

    const one = await runCli(['sessions', 'list', '--max-results', '5', '--json', ...storage]);
    const page = JSON.parse(one.stdout) as { sessions: { sessionId: string }[]; nextToken: string };
    expect(page.sessions.map((s) => s.sessionId)).toEqual(byDefault.slice(0, 5));
    const next = await runCli(['sessions', 'list', '--max-results', '5', '--next-token', page.nextToken, ...storage]);
    const lines = next.stdout.trimEnd().split('\n');
    expect(lines.slice(0, 5).map((line) => line.split('\t')[0])).toEqual(byDefault.slice(5, 10));
    expect(lines[5]).toMatch(/^next token: \S+$/);
    const ofOne = await runCli(['sessions', 'list', '--user-name', users[2]!.userName, '--max-results', '100', '--json', ...storage]);
    expect(JSON.parse(ofOne.stdout)).toEqual({ sessions: expect.any(Array) });

    for (const n of ['0', '101', 'x']) {
      const r = await runCli(['sessions', 'list', '--max-results', n, ...storage]);
      expect([r.code, r.stderr.trim()]).toEqual([2, 'atrium: --max-results must be a whole number from 1 to 100']);
    }
    const forged = await runCli(['sessions', 'list', '--next-token', 'bm90LWEtdG9rZW4=', ...storage]);
    expect(forged.code).toBe(1);
    expect(forged.stderr).toContain('The NextToken is not valid');
  });
});
