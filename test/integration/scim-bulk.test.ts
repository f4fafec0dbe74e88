// SCIM 2.0 /Bulk (RFC 7644 §3.7) on both databases, over HTTP: bulkId references (backward,
// forward, in paths and PATCH filters, circular), failOnErrors, an operation that fails alone and
// writes nothing, per-operation versions, the advertised limits, refusals in SCIM's shape, no way
// to pass for an in-process operation, and random bodies that never get a 500.

import fc from 'fast-check';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCIM_ERROR_SCHEMA as ERROR } from '../../src/protocols/scim/errors.js';
import { BULK_REQUEST_SCHEMA as BULK_REQUEST, BULK_RESPONSE_SCHEMA as BULK_RESPONSE, GROUP_SCHEMA as GROUP, PATCH_OP_SCHEMA as PATCH_OP, USER_SCHEMA as USER } from '../../src/protocols/scim/schemas.js';
import { SCIM_ADMIN_SOURCE } from '../../src/provisioning/index.js';
import { systemContext } from '../../src/shared/context.js';
import { suffix } from '../helpers/portal-fixture.js';
import { dialects, startServer, type TestServer } from '../helpers/server.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface Reply {
  status: number;
  headers: Headers;
  json: Json;
}

describe.each(dialects())('SCIM /Bulk on %s', (dialect) => {
  let server: TestServer;
  let token: string;
  let tokenId: string;

  async function scim(method: string, path: string, opts: { body?: unknown; raw?: string; headers?: Record<string, string>; token?: string | null } = {}): Promise<Reply> {
    const headers: Record<string, string> = { ...opts.headers };
    const bearer = opts.token === undefined ? token : opts.token;
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    const body = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
    if (body !== undefined) headers['content-type'] ??= 'application/scim+json';
    const res = await fetch(`${server.url}/scim/v2${path}`, { method, headers, body });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text === '' ? {} : (JSON.parse(text) as Json) };
  }

  const bulk = (Operations: unknown[], extra: Json = {}) => scim('POST', '/Bulk', { body: { schemas: [BULK_REQUEST], Operations, ...extra } });

  /** A 200 BulkResponse; its operations' results. */
  async function bulkOk(Operations: unknown[], extra: Json = {}): Promise<Json[]> {
    const r = await bulk(Operations, extra);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(r.json.schemas).toEqual([BULK_RESPONSE]);
    return r.json.Operations as Json[];
  }

  function expectError(r: Reply, status: number, scimType?: string) {
    expect(r.status, JSON.stringify(r.json)).toBe(status);
    expect(r.json).toMatchObject({ schemas: [ERROR], status: String(status), detail: expect.any(String) });
    expect(r.json.scimType).toBe(scimType);
  }

  /** A failed operation's result: its status, and a SCIM error body with the same status. */
  function expectFailed(result: Json | undefined, status: number, scimType?: string) {
    expect(result?.status, JSON.stringify(result)).toBe(String(status));
    expect(result?.response).toMatchObject({ schemas: [ERROR], status: String(status), detail: expect.any(String) });
    expect(result?.response.scimType).toBe(scimType);
  }

  const user = (userName: string, extra: Json = {}) => ({ schemas: [USER], userName, name: { givenName: 'Bulk', familyName: 'User' }, ...extra });
  const userName = (prefix = 'b') => `${prefix}-${suffix()}@example.com`;
  const findUser = async (name: string) => (await scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${name}"`)}`)).json.Resources as Json[];
  const idOf = (location: string) => location.slice(location.lastIndexOf('/') + 1);

  beforeAll(async () => {
    server = await startServer(dialect);
    const issued = await server.reg.scimTokens.createToken(systemContext(SCIM_ADMIN_SOURCE, 'us-east-1', `test-${suffix()}`));
    [token, tokenId] = [issued.token, issued.tokenId];
  });
  afterAll(() => server?.close());

  it('advertises the limits it enforces in /ServiceProviderConfig', async () => {
    const r = await scim('GET', '/ServiceProviderConfig');
    expect(r.json.bulk).toEqual({ supported: true, maxOperations: 1000, maxPayloadSize: 2 * 1024 * 1024 });
  });

  it('creates a user and a group with that user as a member through a bulkId, each audited as the bulk caller', async () => {
    const name = userName();
    const results = await bulkOk([
      { method: 'POST', path: '/Users', bulkId: 'alice', data: user(name) },
      { method: 'POST', path: '/Groups', bulkId: 'guides', data: { schemas: [GROUP], displayName: `Guides ${suffix()}`, members: [{ value: 'bulkId:alice' }] } },
    ]);
    expect(results).toEqual([
      { method: 'POST', bulkId: 'alice', version: 'W/"1"', location: expect.stringMatching(new RegExp(`^${server.url}/scim/v2/Users/[^/]+$`)), status: '201' },
      { method: 'POST', bulkId: 'guides', version: expect.stringMatching(/^W\/"\d+"$/), location: expect.stringMatching(new RegExp(`^${server.url}/scim/v2/Groups/[^/]+$`)), status: '201' },
    ]);
    const [userId, groupId] = results.map((r) => idOf(r.location as string));
    const group = await scim('GET', `/Groups/${groupId}`);
    expect(group.json.members).toEqual([expect.objectContaining({ value: userId })]);
    expect((await findUser(name)).map((u) => u.id as string)).toEqual([userId]);

    // Each operation is audited as the bulk's caller: the token, through SCIM.
    const created = await server.reg.database.db
      .selectFrom('audit_events')
      .select(['user_identity', 'event_source', 'response_elements'])
      .where('event_name', 'in', ['CreateUser', 'CreateGroup'])
      .where('error_code', 'is', null)
      .execute();
    const mine = created.filter((e) => [userId!, groupId!].some((id) => (e.response_elements ?? '').includes(id)));
    expect(mine).toHaveLength(2);
    for (const e of mine) {
      expect(e.event_source).toBe('identitystore-scim.amazonaws.com');
      expect(JSON.parse(e.user_identity)).toMatchObject({ type: 'ScimBearerToken', principalId: tokenId });
    }
  });

  it('resolves forward references: a group, then the users it names, then a PATCH of the group by bulkId in its path and filter', async () => {
    const [a, b] = [userName('fa'), userName('fb')];
    const results = await bulkOk([
      { method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: [GROUP], displayName: `Fwd ${suffix()}`, members: [{ value: 'bulkId:a' }, { value: 'bulkId:b' }] } },
      { method: 'PATCH', path: '/Groups/bulkId:g', data: { schemas: [PATCH_OP], Operations: [{ op: 'remove', path: 'members[value eq "bulkId:b"]' }] } },
      { method: 'POST', path: '/Users', bulkId: 'a', data: user(a) },
      { method: 'POST', path: '/Users', bulkId: 'b', data: user(b) },
    ]);
    // Results come in the request's order, though the users were created first.
    expect(results.map((r) => [r.method as string, r.bulkId as string | undefined, r.status as string])).toEqual([
      ['POST', 'g', '201'],
      ['PATCH', undefined, '200'],
      ['POST', 'a', '201'],
      ['POST', 'b', '201'],
    ]);
    const groupId = idOf(results[0]!.location as string);
    expect(results[1]!.location).toBe(`${server.url}/scim/v2/Groups/${groupId}`);
    const group = await scim('GET', `/Groups/${groupId}`);
    expect((group.json.members as Json[]).map((m) => m.value as string)).toEqual([idOf(results[2]!.location as string)]);
  });

  it('fails circular and unresolvable references with 409, and their dependants too, writing none of them', async () => {
    const [x, y, self, after] = [userName('cx'), userName('cy'), userName('self'), userName('after')];
    const results = await bulkOk([
      { method: 'POST', path: '/Users', bulkId: 'x', data: user(x, { nickName: 'bulkId:y' }) },
      { method: 'POST', path: '/Users', bulkId: 'y', data: user(y, { nickName: 'bulkId:x' }) },
      { method: 'POST', path: '/Users', bulkId: 'self', data: user(self, { nickName: 'bulkId:self' }) },
      { method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: [GROUP], displayName: `Circ ${suffix()}`, members: [{ value: 'bulkId:x' }] } },
      { method: 'PATCH', path: '/Users/bulkId:nobody', data: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'nickName', value: 'n' }] } },
      { method: 'POST', path: '/Users', bulkId: 'after', data: user(after) },
    ]);
    for (const i of [0, 1, 2, 3, 4]) expectFailed(results[i], 409);
    expect(results[4]!.response.detail).toMatch(/no POST .* bulkId/);
    expect(results[5]!.status).toBe('201');
    for (const name of [x, y, self]) expect(await findUser(name)).toEqual([]);
  });

  it('records each operation it refuses itself under the change that operation asked for, as the route would', async () => {
    const tag = suffix();
    const r = await bulk([
      { method: 'POST', path: '/Groups', bulkId: `c1-${tag}`, data: { schemas: [GROUP], displayName: `Self ${tag}`, members: [{ value: `bulkId:c1-${tag}` }] } },
      { method: 'DELETE', path: `/Groups/bulkId:nothere-${tag}` },
      { method: 'PATCH', path: '/Users', data: { schemas: [PATCH_OP], Operations: [] } },
      { method: 'POST', path: '/Users', data: user(userName('nobulkid')) },
      { method: 'DELETE', path: '/Schemas/x' },
    ]);
    expect(r.status).toBe(200);
    // Every operation of one /Bulk shares its request id: that of the first refusal, found by its bulkId.
    const first = await server.reg.database.db.selectFrom('audit_events').select('request_id').where('request_parameters', 'like', `%c1-${tag}%`).executeTakeFirstOrThrow();
    const events = await server.reg.database.db
      .selectFrom('audit_events')
      .select(['event_name', 'error_code', 'request_parameters'])
      .where('request_id', '=', first.request_id)
      .where('error_code', 'is not', null)
      .execute();
    const refused = events
      .map((e) => ({ name: e.event_name, code: e.error_code, n: (JSON.parse(e.request_parameters!) as { operation?: number }).operation }))
      .sort((a, b) => (a.n ?? 0) - (b.n ?? 0));
    expect(refused).toEqual([
      { name: 'CreateGroup', code: 'scim.409', n: 1 },
      { name: 'DeleteGroup', code: 'scim.409', n: 2 },
      { name: 'UpdateUser', code: 'scim.invalidPath', n: 3 },
      { name: 'CreateUser', code: 'scim.invalidSyntax', n: 4 },
      { name: 'BulkOperation', code: 'scim.invalidPath', n: 5 },
    ]);
  });

  it('nests groups by bulkId, a forward reference included, and fails two groups that reference each other', async () => {
    const group = (displayName: string, members: Json[] = []) => ({ schemas: [GROUP], displayName: `${displayName} ${suffix()}`, members });
    const results = await bulkOk([
      { method: 'POST', path: '/Groups', bulkId: 'parent', data: group('Parent', [{ value: 'bulkId:child', type: 'Group' }]) },
      { method: 'POST', path: '/Groups', bulkId: 'child', data: group('Child') },
      { method: 'POST', path: '/Groups', bulkId: 'a', data: group('A', [{ value: 'bulkId:b', type: 'Group' }]) },
      { method: 'POST', path: '/Groups', bulkId: 'b', data: group('B', [{ value: 'bulkId:a', type: 'Group' }]) },
    ]);
    expect(results.map((r) => r.status as string)).toEqual(['201', '201', '409', '409']);
    const parent = await scim('GET', `/Groups/${idOf(results[0]!.location as string)}`);
    expect(parent.json.members).toEqual([expect.objectContaining({ value: idOf(results[1]!.location as string), type: 'Group' })]);
  });

  it('stops after failOnErrors errors, and reports only what it attempted', async () => {
    const names = [userName('f1'), userName('f2'), userName('f3'), userName('f4')];
    const results = await bulkOk(
      [
        { method: 'POST', path: '/Users', bulkId: '1', data: user(names[0]!, { userName: '' }) },
        { method: 'POST', path: '/Users', bulkId: '2', data: user(names[1]!) },
        { method: 'POST', path: '/Users', bulkId: '3', data: user(names[2]!, { password: 'refused' }) },
        { method: 'POST', path: '/Users', bulkId: '4', data: user(names[3]!) },
      ],
      { failOnErrors: 2 },
    );
    expect(results.map((r) => r.status as string)).toEqual(['400', '201', '400']);
    expect(await findUser(names[3]!)).toEqual([]);
    expect(await findUser(names[1]!)).toHaveLength(1);

    // Without failOnErrors, every operation is attempted.
    const all = await bulkOk([
      { method: 'DELETE', path: '/Users/no-such-user' },
      { method: 'POST', path: '/Users', bulkId: 'z', data: user(userName('z')) },
    ]);
    expect(all.map((r) => r.status as string)).toEqual(['404', '201']);
    expect(all[0]!.location).toBe(`${server.url}/scim/v2/Users/no-such-user`);
  });

  it('fails an operation with a bad body alone: it writes nothing, the others are done', async () => {
    const [good1, bad, good2] = [userName('g1'), userName('bad'), userName('g2')];
    const group = (await bulkOk([{ method: 'POST', path: '/Groups', bulkId: 'g', data: { schemas: [GROUP], displayName: `Alone ${suffix()}` } }]))[0]!;
    const groupId = idOf(group.location as string);
    const results = await bulkOk([
      { method: 'POST', path: '/Users', bulkId: 'u1', data: user(good1) },
      { method: 'POST', path: '/Users', bulkId: 'u2', data: user(bad, { title: { not: 'a string' } }) },
      // One unknown member refuses the whole PATCH: the valid member is not added either.
      { method: 'PATCH', path: `/Groups/${groupId}`, data: { schemas: [PATCH_OP], Operations: [{ op: 'add', path: 'members', value: [{ value: 'bulkId:u1' }, { value: 'no-such-user' }] }] } },
      { method: 'POST', path: '/Users', bulkId: 'u3', data: user(good2) },
    ]);
    expect(results.map((r) => r.status as string)).toEqual(['201', '400', '400', '201']);
    expectFailed(results[1], 400, 'invalidValue');
    expect(results[1]!.location).toBeUndefined();
    expect(results[2]!.location).toBe(`${server.url}/scim/v2/Groups/${groupId}`);
    expect(await findUser(bad)).toEqual([]);
    expect((await scim('GET', `/Groups/${groupId}`)).json.members ?? []).toEqual([]);
  });

  it('creates hundreds of users in one bulk, and of two POSTs with the same userName the first in order wins', async () => {
    const prefix = `many-${suffix()}`;
    const ops: Json[] = Array.from({ length: 300 }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `n${i}`, data: user(`${prefix}-${i}@example.com`) }));
    // Duplicates (in another case) right after their first, and one far from it.
    ops.splice(11, 0, { method: 'POST', path: '/Users', bulkId: 'dup1', data: user(`${prefix}-10@EXAMPLE.com`, { nickName: 'second' }) });
    ops.push({ method: 'POST', path: '/Users', bulkId: 'dup2', data: user(`${prefix}-0@example.com`, { nickName: 'second' }) });
    const results = await bulkOk(ops);
    expect(results.filter((r) => r.status === '201')).toHaveLength(300);
    expectFailed(results[11], 409, 'uniqueness');
    expectFailed(results.at(-1), 409, 'uniqueness');
    expect(results[10]!.status).toBe('201');
    for (const name of [`${prefix}-0@example.com`, `${prefix}-10@example.com`]) {
      const [found] = await findUser(name);
      expect(found?.nickName).toBeUndefined();
    }
  });

  it('checks each operation\'s version (If-Match), 412 on another one', async () => {
    const created = (await bulkOk([{ method: 'POST', path: '/Users', bulkId: 'v', data: user(userName('v')) }]))[0]!;
    const path = `/Users/${idOf(created.location as string)}`;
    const nick = (value: string) => ({ schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'nickName', value }] });
    const results = await bulkOk([
      { method: 'PATCH', path, version: 'W/"7"', data: nick('stale') },
      { method: 'PATCH', path, version: created.version, data: nick('fresh') },
      { method: 'DELETE', path, version: created.version },
    ]);
    expectFailed(results[0], 412);
    expect(results[1]).toMatchObject({ status: '200', version: 'W/"2"', location: `${server.url}/scim/v2${path}` });
    expectFailed(results[2], 412);
    expect((await scim('GET', path)).json.nickName).toBe('fresh');
    expect((await bulkOk([{ method: 'DELETE', path, version: 'W/"2"' }]))[0]!.status).toBe('204');
    expect((await scim('GET', path)).status).toBe(404);
  });

  it('refuses too many operations or too large a body with 413 naming the limit, before running any', async () => {
    const name = userName('many');
    const ops = Array.from({ length: 1001 }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `m${i}`, data: user(i === 0 ? name : userName('m')) }));
    const many = await bulk(ops);
    expectError(many, 413);
    expect(many.json.detail).toMatch(/maxOperations \(1000\)/);
    expect(await findUser(name)).toEqual([]);

    const big = await bulk([{ method: 'POST', path: '/Users', bulkId: 'big', data: user(name, { nickName: 'x'.repeat(2 * 1024 * 1024) }) }]);
    expectError(big, 413);
    expect(big.json.detail).toMatch(/maxPayloadSize \(2097152 bytes\)/);
    // Within maxPayloadSize, an operation is held to the directory's own limits, as alone.
    const one = await bulkOk([{ method: 'POST', path: '/Users', bulkId: 'one', data: user(name, { nickName: 'x'.repeat(1024 * 1024) }) }]);
    expectFailed(one[0], 400, 'invalidValue');
    expect(await findUser(name)).toEqual([]);
  });

  it('refuses unknown methods with invalidSyntax and paths it does not serve with invalidPath, operation by operation', async () => {
    const data = user(userName('p'));
    const results = await bulkOk([
      { method: 'GET', path: '/Users' },
      { method: 'POST', path: '/Bulk', bulkId: 'b1', data: {} },
      { method: 'POST', path: '/Users/abc', bulkId: 'b2', data },
      { method: 'PUT', path: '/Users', data },
      { method: 'DELETE', path: '/Schemas/x' },
      { method: 'DELETE', path: '/Users/a/b' },
      { method: 'DELETE', path: '/Users/a?x=1' },
      { method: 'POST', path: '/Users', data },
      { method: 'PATCH', path: '/Users/x' },
      { method: 'POST', path: '/Users', bulkId: 'v', version: 'W/"1"\r\nx: y', data },
      { method: 'POST', path: '/Users', bulkId: 'b3', data, extra: 1 },
      'not an operation',
    ]);
    expectFailed(results[0], 400, 'invalidSyntax');
    for (const i of [1, 2, 3, 4, 5, 6]) expectFailed(results[i], 400, 'invalidPath');
    expectFailed(results[7], 400, 'invalidSyntax');
    expectFailed(results[8], 400, 'invalidSyntax');
    expectFailed(results[9], 400, 'invalidValue');
    expectFailed(results[10], 400, 'invalidSyntax');
    expectFailed(results[11], 400, 'invalidSyntax');
    expect(await findUser(data.userName)).toEqual([]);
    // Dot segments are no ids: the in-process request would have resolved them to another path.
    const dots = await bulkOk([
      { method: 'DELETE', path: '/Users/.' },
      { method: 'DELETE', path: '/Users/..' },
      { method: 'PATCH', path: '/Groups/..', data: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [] } },
    ]);
    for (const r of dots) expectFailed(r, 400, 'invalidPath');
  });

  it('stops a /Bulk whose token is deleted while it runs: the operations not yet started are refused 401, not run under the dead token', async () => {
    const admin = systemContext(SCIM_ADMIN_SOURCE, 'us-east-1', `test-${suffix()}`);
    const leaked = await server.reg.scimTokens.createToken(admin);
    const prefix = `leak-${suffix()}`;
    const created = async () =>
      Number((await server.reg.database.db.selectFrom('directory_users').select((eb) => eb.fn.countAll().as('n')).where('user_name', 'like', `${prefix}%`).executeTakeFirstOrThrow()).n);
    const Operations = Array.from({ length: 1000 }, (_, i) => ({ method: 'POST', path: '/Users', bulkId: `u${i}`, data: user(`${prefix}-${i}`) }));
    // failOnErrors (never reached) runs the operations one at a time: the Bulk is still running when the token goes.
    const running = scim('POST', '/Bulk', { body: { schemas: [BULK_REQUEST], Operations, failOnErrors: 1000 }, token: leaked.token });
    for (let i = 0; i < 1000 && (await created()) < 10; i++) await new Promise((r) => setTimeout(r, 5));
    await server.reg.scimTokens.deleteToken(admin, leaked.tokenId);
    const atDelete = await created();
    const r = await running;
    expect(r.status).toBe(200);
    const results = r.json.Operations as Json[];
    // The one in flight when it was deleted finishes or is refused; none starts after.
    expect((await created()) - atDelete).toBeLessThanOrEqual(1);
    const refused = results.filter((o) => o.status === '401');
    expect(refused.length).toBeGreaterThan(0);
    expect(results.filter((o) => o.status === '201').length + refused.length).toBe(1000);
    expectFailed(refused[0], 401);
    const event = await server.reg.database.db
      .selectFrom('audit_events')
      .select(['error_code', 'request_parameters'])
      .where('error_code', '=', 'scim.token_revoked')
      .where('event_name', '=', 'BulkOperation')
      .orderBy('seq', 'desc')
      .executeTakeFirst();
    // The one in flight may have been refused too, by its own transaction's check of the token.
    const { notAttempted } = JSON.parse(event!.request_parameters!) as { notAttempted: number };
    expect([refused.length, refused.length - 1]).toContain(notAttempted);
  });

  it('lets a request whose token is deleted after it was accepted change nothing, and records the refusal under the token', async () => {
    const admin = systemContext(SCIM_ADMIN_SOURCE, 'us-east-1', `test-${suffix()}`);
    const leaked = await server.reg.scimTokens.createToken(admin);
    const ctx = systemContext('identitystore-scim.amazonaws.com', 'us-east-1', `late-${suffix()}`);
    // Accepted, as a request is before its body is read; then the administrator deletes the token.
    const { principal } = await server.reg.scimTokens.authenticate(ctx, leaked.token);
    await server.reg.scimTokens.deleteToken(admin, leaked.tokenId);
    const userName = `late-${suffix()}`;
    const write = server.reg.directory.createUser({ ...ctx, principal }, server.init.identityStoreId, { profile: { userName, displayName: 'Late', name: { givenName: 'L', familyName: 'T' } } });
    await expect(write).rejects.toMatchObject({ kind: 'unauthenticated', code: 'scim.token_revoked' });
    const db = server.reg.database.db;
    expect(await db.selectFrom('directory_users').select('user_id').where('user_name', '=', userName).executeTakeFirst()).toBeUndefined();
    const refusal = await db.selectFrom('audit_events').select(['event_name', 'error_code', 'user_identity']).where('request_id', '=', ctx.requestId).orderBy('seq', 'desc').executeTakeFirstOrThrow();
    expect(refusal).toMatchObject({ event_name: 'CreateUser', error_code: 'scim.token_revoked' });
    expect(JSON.parse(refusal.user_identity)).toMatchObject({ type: 'ScimBearerToken', principalId: leaked.tokenId });
  });

  /** PostgreSQL's count of deadlocks it broke in this database (its statistics lag: read until steady); 0 on SQLite. */
  async function deadlocksSoFar(before?: number): Promise<number> {
    if (dialect !== 'postgres') return 0;
    const read = async () => Number((await sql<{ n: string }>`select deadlocks as n from pg_stat_database where datname = current_database()`.execute(server.reg.database.db)).rows[0]!.n);
    if (before === undefined) return read();
    // Statistics reach the view within about a second of the transactions that made them.
    await new Promise((r) => setTimeout(r, 1500));
    return read();
  }

  it('serves many writes at once with one token, each holding the token until it commits, without a deadlock', async () => {
    const prefix = `same-${suffix()}`;
    const deadlocks = deadlocksSoFar();
    const replies = await Promise.all(Array.from({ length: 24 }, (_, i) => scim('POST', '/Users', { body: user(`${prefix}-${i}`) })));
    expect(replies.map((r) => r.status)).toEqual(Array.from({ length: 24 }, () => 201));
    // PostgreSQL would break a deadlock and the write would be tried again: count them.
    expect(await deadlocksSoFar(await deadlocks)).toBe(await deadlocks);
  });

  it('refuses a malformed BulkRequest as a whole', async () => {
    expectError(await scim('POST', '/Bulk', { body: { Operations: [] } }), 400, 'invalidSyntax');
    expectError(await scim('POST', '/Bulk', { body: [1] }), 400, 'invalidSyntax');
    expectError(await scim('POST', '/Bulk', { raw: '{"schemas": [' }), 400, 'invalidSyntax');
    expectError(await bulk([]), 400, 'invalidSyntax');
    expectError(await bulk([{ method: 'DELETE', path: '/Users/x' }], { failOnErrors: 0 }), 400, 'invalidValue');
    expectError(await bulk([{ method: 'DELETE', path: '/Users/x' }], { failOnErrors: '1' }), 400, 'invalidValue');
    const dup = user(userName('dup'));
    const twice = await bulk([
      { method: 'POST', path: '/Users', bulkId: 'same', data: dup },
      { method: 'POST', path: '/Groups', bulkId: 'same', data: { schemas: [GROUP], displayName: 'Dup' } },
    ]);
    expectError(twice, 400, 'invalidValue');
    expect(await findUser(dup.userName)).toEqual([]);
  });

  it('lets no request pass for an in-process operation: without a valid bearer token, /Bulk and every route are refused', async () => {
    const name = userName('forged');
    const op = { method: 'POST', path: '/Users', bulkId: 'f', data: user(name) };
    const looksInternal = { 'x-atrium-scim-bulk': 'anything', 'x-atrium-internal': '1', 'x-forwarded-for': '127.0.0.1' };
    for (const bearer of [null, 'not-a-token', `atrium_scim_${'0'.repeat(64)}`]) {
      expectError(await scim('POST', '/Bulk', { token: bearer, headers: looksInternal, body: { schemas: [BULK_REQUEST], Operations: [op] } }), 401);
      expectError(await scim('POST', '/Users', { token: bearer, headers: looksInternal, body: user(name) }), 401);
    }
    expect(await findUser(name)).toEqual([]);
    // One bulk of many operations authenticates its token once.
    const count = async () =>
      Number(
        (
          await server.reg.database.db
            .selectFrom('audit_events')
            .select((eb) => eb.fn.countAll().as('n'))
            .where('event_name', '=', 'AuthenticateBearerToken')
            .where('error_code', 'is', null)
            .executeTakeFirstOrThrow()
        ).n,
      );
    const before = await count();
    await bulkOk([op, { method: 'POST', path: '/Users', bulkId: 'f2', data: user(userName('f2')) }]);
    expect((await count()) - before).toBe(1);
  });

  it('answers random bodies with a BulkResponse or a SCIM error, never a 500', async () => {
    const paths = fc.constantFrom('/Users', '/Groups', '/Users/bulkId:a', '/Groups/bulkId:b', '/Users/x', '/Bulk', '', '/', 'Users', '/Users/%zz', '/Users/bulkId:');
    const methods = fc.constantFrom('POST', 'PUT', 'PATCH', 'DELETE', 'GET', 'post', '', 'TRACE');
    const values = fc.oneof(fc.constantFrom('bulkId:a', 'bulkId:b', 'bulkId:', 'bulkId:zz'), fc.string({ maxLength: 8 }), fc.integer(), fc.boolean(), fc.constant(null));
    const data = fc.oneof(
      fc.record({ schemas: fc.constant([USER]), userName: values, name: fc.record({ givenName: values, familyName: values }), nickName: values }, { requiredKeys: ['schemas'] }),
      fc.record({ schemas: fc.constant([GROUP]), displayName: values, members: fc.array(fc.record({ value: values }), { maxLength: 3 }) }, { requiredKeys: ['schemas'] }),
      fc.record({ schemas: fc.constant([PATCH_OP]), Operations: fc.array(fc.record({ op: fc.constantFrom('add', 'remove', 'replace', 'x'), path: fc.option(fc.string({ maxLength: 12 })), value: values })) }),
      fc.jsonValue({ maxDepth: 3 }),
    );
    const operation = fc.oneof(
      fc.record({ method: methods, path: paths, bulkId: fc.option(fc.constantFrom('a', 'b', 'c', '', 'a b', 'x"y')), version: fc.option(fc.oneof(fc.constantFrom('W/"1"', '*', 'W/"x"'), fc.string({ maxLength: 6 }))), data }, { requiredKeys: [] }),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const request = fc.oneof(
      { weight: 4, arbitrary: fc.record({ schemas: fc.constant([BULK_REQUEST]), Operations: fc.array(operation, { maxLength: 5 }), failOnErrors: fc.option(fc.oneof(fc.integer({ min: -1, max: 3 }), fc.string({ maxLength: 2 }))) }, { requiredKeys: ['schemas', 'Operations'] }) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
    );
    await fc.assert(
      fc.asyncProperty(request, async (body) => {
        const r = await scim('POST', '/Bulk', { raw: JSON.stringify(body) ?? 'null' });
        expect(r.status, JSON.stringify(r.json)).toBeLessThan(500);
        if (r.status === 200) {
          expect(r.json.schemas).toEqual([BULK_RESPONSE]);
          for (const result of r.json.Operations as Json[]) {
            expect(Number(result.status), JSON.stringify(result)).toBeLessThan(500);
            if (Number(result.status) >= 400) expect(result.response).toMatchObject({ schemas: [ERROR], status: result.status });
          }
        } else {
          expect(r.json).toMatchObject({ schemas: [ERROR], status: String(r.status) });
        }
      }),
      { numRuns: 80 },
    );
  });
});
