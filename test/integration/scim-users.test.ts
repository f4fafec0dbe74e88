// SCIM 2.0 /scim/v2 on both databases, over HTTP as an IdP calls it: bearer-token refusals, the
// discovery documents, /Users with Okta-like and Entra ID-like request bodies, filters (random ones
// against a reference evaluation), pages, attribute selection, ETags, deprovisioning, the same
// users through identitystore, and bad input, random included.

import { DescribeUserCommand, GetUserIdCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { COMPARE_OPERATORS, filterNode as f, printFilter, type CompareValue, type Filter } from '../../src/protocols/scim/filter.js';
import { referenceMatches, type ReferenceSchema } from '../../src/protocols/scim/filter.testing.js';
import { SCIM_ADMIN_SOURCE } from '../../src/provisioning/index.js';
import { systemContext } from '../../src/shared/context.js';
import { Browser } from '../helpers/browser.js';
import { suffix } from '../helpers/portal-fixture.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

const USER = 'urn:ietf:params:scim:schemas:core:2.0:User';
const ENTERPRISE = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
const PATCH_OP = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const ERROR = 'urn:ietf:params:scim:api:messages:2.0:Error';
const LIST = 'urn:ietf:params:scim:api:messages:2.0:ListResponse';
const PASSWORD = 'Vq7#mXw2!pLz';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
interface Reply {
  status: number;
  headers: Headers;
  json: Json;
}

/** Okta's POST /Users, as its SCIM 2.0 documentation shows it. */
const oktaUser = (userName: string, externalId = `00u${suffix()}`) => ({
  schemas: [USER],
  userName,
  name: { givenName: 'Barbara', familyName: 'Jensen' },
  emails: [{ primary: true, value: userName, type: 'work' }],
  displayName: 'Barbara Jensen',
  locale: 'en-US',
  externalId,
  groups: [],
  active: true,
});

/** Entra ID's POST /Users, as its provisioning documentation shows it: enterprise extension, strings for booleans. */
const entraUser = (userName: string, externalId = suffix()) => ({
  schemas: [USER, ENTERPRISE],
  externalId,
  userName,
  active: 'True',
  addresses: [{ primary: 'False', type: 'work', formatted: '1 Microsoft Way', streetAddress: '1 Microsoft Way', locality: 'Redmond', region: 'WA', postalCode: '98052', country: 'US' }],
  displayName: 'Ryan Leenay',
  emails: [{ primary: true, type: 'work', value: userName }],
  meta: { resourceType: 'User' },
  name: { formatted: 'Ryan Leenay', familyName: 'Leenay', givenName: 'Ryan' },
  phoneNumbers: [
    { primary: 'True', type: 'work', value: '+1 425 555 0100' },
    { type: 'mobile', value: '+1 425 555 0101' },
  ],
  roles: [],
  title: 'Engineer',
  [ENTERPRISE]: { employeeNumber: '701984', department: 'Sales', costCenter: '4130' },
});

// Random filters over the real User schema, for the HTTP properties below. Strings come from the
// same small pools the seeded users are made of, in any case, so filters often match.
const POOL = ['Barbara', 'barbara', 'Ryan', 'Jensen', 'Leenay', 'Tour Guide', 'tour', 'GUIDE', 'Lead', 'Sales', 'sales', 'Marketing', '701984', '42', 'work', 'home', 'mobile', 'example', '@example.com', 'b', ''];
/** The User schema as the reference needs it (schemas.ts: caseExact and dateTime attributes). */
const USER_REFERENCE: ReferenceSchema = {
  caseExact: ['id', 'externalid', 'meta.resourcetype', 'meta.location', 'meta.version'],
  dateTime: ['meta.created', 'meta.lastmodified'],
};
const ENTERPRISE_URN = 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User';
/** [name, sub-attribute, schema, boolean] of the paths the random filters use. */
const FILTER_PATHS: [string, string | undefined, string | undefined, boolean][] = [
  ['userName', undefined, undefined, false],
  ['title', undefined, undefined, false],
  ['displayName', undefined, undefined, false],
  ['nickName', undefined, undefined, false],
  ['name', 'givenName', undefined, false],
  ['name', 'familyName', undefined, false],
  ['emails', undefined, undefined, false],
  ['emails', 'value', undefined, false],
  ['emails', 'type', undefined, false],
  ['emails', 'primary', undefined, true],
  ['phoneNumbers', 'type', undefined, false],
  ['active', undefined, undefined, true],
  ['externalId', undefined, undefined, false],
  ['meta', 'created', undefined, false],
  ['department', undefined, ENTERPRISE_URN, false],
  ['employeeNumber', undefined, ENTERPRISE_URN, false],
  ['userName', undefined, 'urn:ietf:params:scim:schemas:core:2.0:User', false],
];
const filterValue: fc.Arbitrary<CompareValue> = fc.oneof(
  { arbitrary: fc.constantFrom(...POOL).chain((v) => fc.constantFrom(v, v.toUpperCase(), v.toLowerCase())), weight: 6 },
  { arbitrary: fc.constantFrom<CompareValue>('2000-01-01T00:00:00Z', '2999-01-01T00:00:00Z', true, false, 7), weight: 2 },
  { arbitrary: fc.constant(null), weight: 1 },
);
const comparison: fc.Arbitrary<Filter> = fc.constantFrom(...FILTER_PATHS).chain(([name, sub, schema, isBoolean]) =>
  fc.oneof(
    fc.tuple(fc.constantFrom(...(isBoolean ? (['eq', 'ne'] as const) : COMPARE_OPERATORS)), isBoolean ? fc.constantFrom<CompareValue>(true, false, null) : filterValue).map(([op, v]) =>
      f.compare(f.path(name, sub, schema), op, v),
    ),
    fc.constant(f.present(f.path(name, sub, schema))),
  ),
);
const elementFilter: fc.Arbitrary<Filter> = fc.oneof(
  fc.tuple(fc.constantFrom('type', 'value'), fc.constantFrom('eq', 'co', 'sw', 'ew', 'ne' as const), filterValue).map(([n, op, v]) => f.compare(f.path(n), op, v)),
  fc.constantFrom<CompareValue>(true, false).map((v) => f.compare(f.path('primary'), 'eq', v)),
);
const randomUserFilter: fc.Arbitrary<Filter> = fc.letrec<{ node: Filter }>((tie) => ({
  node: fc.oneof(
    { maxDepth: 3, depthIdentifier: 'http-filter' },
    comparison,
    fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((fs) => f.and(fs)),
    fc.array(tie('node'), { minLength: 2, maxLength: 3 }).map((fs) => f.or(fs)),
    tie('node').map((x) => f.not(x)),
    fc.array(elementFilter, { minLength: 1, maxLength: 2 }).map((fs) => f.valuePath(f.path('emails'), fs.length === 1 ? fs[0]! : f.and(fs))),
  ),
})).node;

describe.each(dialects())('SCIM /Users on %s', (dialect) => {
  let server: TestServer;
  let token: string;
  let identitystore: IdentitystoreClient;
  const adminCtx = () => systemContext(SCIM_ADMIN_SOURCE, 'us-east-1', `test-${suffix()}`);

  async function scim(
    method: string,
    path: string,
    opts: { body?: unknown; raw?: string; token?: string | null; contentType?: string; headers?: Record<string, string> } = {},
  ): Promise<Reply> {
    const headers: Record<string, string> = { ...opts.headers };
    const bearer = opts.token === undefined ? token : opts.token;
    if (bearer !== null) headers.authorization = `Bearer ${bearer}`;
    const body = opts.raw ?? (opts.body === undefined ? undefined : JSON.stringify(opts.body));
    if (body !== undefined) headers['content-type'] = opts.contentType ?? 'application/scim+json';
    const res = await fetch(`${server.url}/scim/v2${path}`, { method, headers, body });
    const text = await res.text();
    return { status: res.status, headers: res.headers, json: text === '' ? {} : (JSON.parse(text) as Json) };
  }

  /** An RFC 7644 §3.12 error body with this status (and scimType). */
  function expectError(r: Reply, status: number, scimType?: string) {
    expect(r.status, JSON.stringify(r.json)).toBe(status);
    expect(r.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(r.json).toMatchObject({ schemas: [ERROR], status: String(status), detail: expect.any(String) });
    if (scimType === undefined) expect(r.json.scimType).toBeUndefined();
    else expect(r.json.scimType).toBe(scimType);
  }

  const createUser = async (body: Json) => {
    const r = await scim('POST', '/Users', { body });
    expect(r.status, JSON.stringify(r.json)).toBe(201);
    return r.json;
  };
  const patch = (id: string, Operations: Json[], headers?: Record<string, string>) => scim('PATCH', `/Users/${id}`, { body: { schemas: [PATCH_OP], Operations }, headers });
  const userName = (prefix = 'u') => `${prefix}-${suffix()}@example.com`;

  beforeAll(async () => {
    server = await startServer(dialect);
    token = (await server.reg.scimTokens.createToken(adminCtx())).token;
    identitystore = new IdentitystoreClient(sdkOptions(server));
  });
  afterAll(() => server?.close());

  it('refuses a request without a valid bearer token with 401, a SCIM body and WWW-Authenticate, and audits each refused token', async () => {
    const cases: [string, Record<string, string>][] = [
      ['no header', {}],
      ['another scheme', { authorization: `Basic ${Buffer.from('a:b').toString('base64')}` }],
      ['garbage', { authorization: 'Bearer not-a-token' }],
      ['unknown token', { authorization: `Bearer atrium_scim_${'0'.repeat(64)}` }],
    ];
    for (const [label, headers] of cases) {
      for (const path of ['/Users', '/ServiceProviderConfig', '/NoSuchThing']) {
        const r = await scim('GET', path, { token: null, headers });
        expectError(r, 401);
        expect(r.headers.get('www-authenticate'), label).toMatch(/^Bearer/);
      }
    }
    // A body is never read for an unauthenticated request.
    expectError(await scim('POST', '/Users', { token: null, body: oktaUser(userName()) }), 401);

    // A deleted token stops working at once.
    const issued = await server.reg.scimTokens.createToken(adminCtx());
    expect((await scim('GET', '/ServiceProviderConfig', { token: issued.token })).status).toBe(200);
    await server.reg.scimTokens.deleteToken(adminCtx(), issued.tokenId);
    expectError(await scim('GET', '/ServiceProviderConfig', { token: issued.token }), 401);
    await server.reg.scimTokens.createToken(adminCtx()).then((t) => server.reg.scimTokens.deleteToken(adminCtx(), t.tokenId));

    const refused = await server.reg.database.db
      .selectFrom('audit_events')
      .select(['error_code', 'event_source'])
      .where('event_name', '=', 'AuthenticateBearerToken')
      .where('error_code', 'is not', null)
      .execute();
    expect(refused.length).toBeGreaterThanOrEqual(2 * 3 + 1);
    expect(refused.every((e) => e.event_source === 'identitystore-scim.amazonaws.com')).toBe(true);
  });

  it('describes itself: ServiceProviderConfig, Schemas and ResourceTypes as RFC 7643 §5–7 shape them', async () => {
    const config = await scim('GET', '/ServiceProviderConfig');
    expect(config.status).toBe(200);
    expect(config.headers.get('content-type')).toMatch(/^application\/scim\+json/);
    expect(config.json).toMatchObject({
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig'],
      patch: { supported: true },
      // bulk: the /Bulk helper's tests own what it says.
      filter: { supported: true, maxResults: 1000 },
      changePassword: { supported: false },
      sort: { supported: true },
      etag: { supported: true },
      authenticationSchemes: [expect.objectContaining({ type: 'oauthbearertoken' })],
      meta: { resourceType: 'ServiceProviderConfig', location: `${server.url}/scim/v2/ServiceProviderConfig` },
    });

    const schemas = await scim('GET', '/Schemas');
    expect(schemas.json).toMatchObject({ schemas: [LIST], totalResults: 3, startIndex: 1, itemsPerPage: 3 });
    expect((schemas.json.Resources as Json[]).map((s) => s.id as string)).toEqual([USER, ENTERPRISE, 'urn:ietf:params:scim:schemas:core:2.0:Group']);
    const user = await scim('GET', `/Schemas/${USER}`);
    const attributes = user.json.attributes as Json[];
    const userNameDef = attributes.find((a) => a.name === 'userName');
    expect(userNameDef).toMatchObject({ type: 'string', required: true, caseExact: false, uniqueness: 'server', multiValued: false, mutability: 'readWrite' });
    // The directory needs a given and a family name, as AWS's does: the schema says so.
    const nameDef = attributes.find((a) => a.name === 'name')!;
    expect(nameDef.required).toBe(true);
    expect((nameDef.subAttributes as Json[]).filter((a) => a.required).map((a) => a.name as string)).toEqual(['familyName', 'givenName']);
    const emails = attributes.find((a) => a.name === 'emails')!;
    expect(emails).toMatchObject({ type: 'complex', multiValued: true });
    expect((emails.subAttributes as Json[]).map((a) => a.name as string)).toEqual(['value', 'display', 'type', 'primary']);
    // Okta echoes display; it is accepted and never returned, and the schema says so.
    expect((emails.subAttributes as Json[]).find((a) => a.name === 'display')).toMatchObject({ mutability: 'readOnly', returned: 'never' });
    expect(user.json.meta).toEqual({ resourceType: 'Schema', location: `${server.url}/scim/v2/Schemas/${USER}` });
    const enterprise = await scim('GET', `/Schemas/${ENTERPRISE}`);
    expect((enterprise.json.attributes as Json[]).map((a) => a.name as string)).toEqual(['employeeNumber', 'costCenter', 'organization', 'division', 'department', 'manager']);
    expectError(await scim('GET', '/Schemas/urn:example:nothing'), 404);

    const types = await scim('GET', '/ResourceTypes');
    expect(types.json).toMatchObject({ schemas: [LIST], totalResults: 2 });
    expect(types.json.Resources[0]).toMatchObject({ id: 'User', endpoint: '/Users', schema: USER, schemaExtensions: [{ schema: ENTERPRISE, required: false }] });
    expect((await scim('GET', '/ResourceTypes/User')).json).toEqual(types.json.Resources[0]);
    expectError(await scim('GET', '/ResourceTypes/Printer'), 404);
    expectError(await scim('GET', '/NoSuchThing'), 404);
    // RFC 7644 §4: a filter on a discovery endpoint is refused; §3.11: /Me is not for a token.
    for (const path of ['/ServiceProviderConfig', '/Schemas', '/ResourceTypes']) expectError(await scim('GET', `${path}?filter=id%20pr`), 403);
    expectError(await scim('GET', '/Me'), 501);
    expectError(await scim('PATCH', '/Me', { body: { schemas: [PATCH_OP], Operations: [] } }), 501);
    expectError(await scim('GET', '/Me', { token: null }), 401);
  });

  it('creates an Okta user: 201 with Location and ETag, the same record through identitystore, the externalId among its ExternalIds', async () => {
    const name = userName('okta');
    const body = oktaUser(name);
    const r = await scim('POST', '/Users', { body });
    expect(r.status).toBe(201);
    const id = r.json.id as string;
    expect(r.headers.get('location')).toBe(`${server.url}/scim/v2/Users/${id}`);
    expect(r.headers.get('etag')).toBe('W/"1"');
    expect(r.json).toMatchObject({
      schemas: [USER],
      id,
      externalId: body.externalId,
      userName: name,
      name: { givenName: 'Barbara', familyName: 'Jensen' },
      displayName: 'Barbara Jensen',
      emails: [{ primary: true, value: name, type: 'work' }],
      locale: 'en-US',
      active: true,
      meta: { resourceType: 'User', location: `${server.url}/scim/v2/Users/${id}`, version: 'W/"1"' },
    });
    expect(r.json.meta.created).toBe(r.json.meta.lastModified);
    expect(Date.parse(r.json.meta.created as string)).toBeGreaterThan(Date.now() - 60_000);

    const got = await scim('GET', `/Users/${id}`);
    expect(got.json).toEqual(r.json);
    expect(got.headers.get('etag')).toBe('W/"1"');
    expect((await scim('GET', `/Users/${id}`, { headers: { 'if-none-match': 'W/"1"' } })).status).toBe(304);

    const IdentityStoreId = server.init.identityStoreId;
    const described = await identitystore.send(new DescribeUserCommand({ IdentityStoreId, UserId: id }));
    expect(described).toMatchObject({ UserId: id, UserName: name, DisplayName: 'Barbara Jensen', Locale: 'en-US', UserStatus: 'ENABLED' });
    expect(described.ExternalIds).toEqual([{ Issuer: 'scim', Id: body.externalId }]);
    const byExternalId = await identitystore.send(new GetUserIdCommand({ IdentityStoreId, AlternateIdentifier: { ExternalId: { Issuer: 'scim', Id: body.externalId } } }));
    expect(byExternalId.UserId).toBe(id);

    const events = await server.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', '=', 'CreateUser').where('response_elements', 'like', `%${id}%`).execute();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ event_source: 'identitystore-scim.amazonaws.com', error_code: null });
    expect(events[0]!.request_parameters).not.toContain(name);
  });

  it('refuses a second user with the same userName in any case: 409 uniqueness; and the same externalId', async () => {
    const name = userName('dup');
    const first = await createUser(oktaUser(name));
    expectError(await scim('POST', '/Users', { body: oktaUser(name.toUpperCase()) }), 409, 'uniqueness');
    expectError(await scim('POST', '/Users', { body: oktaUser(userName('dup'), first.externalId as string) }), 409, 'uniqueness');
    const other = await createUser(oktaUser(userName('dup')));
    expectError(await scim('PUT', `/Users/${other.id}`, { body: { ...oktaUser(name.toUpperCase()), externalId: other.externalId } }), 409, 'uniqueness');
    expectError(await patch(other.id as string, [{ op: 'replace', path: 'userName', value: name }]), 409, 'uniqueness');
    expectError(await patch(other.id as string, [{ op: 'replace', path: 'externalId', value: first.externalId }]), 409, 'uniqueness');
    // Changing its own externalId is fine, and identitystore finds it by the new one only.
    const moved = await patch(other.id as string, [{ op: 'replace', path: 'externalId', value: `moved-${suffix()}` }]);
    expect(moved.status).toBe(200);
    const described = await identitystore.send(new DescribeUserCommand({ IdentityStoreId: server.init.identityStoreId, UserId: other.id as string }));
    expect(described.ExternalIds).toEqual([{ Issuer: 'scim', Id: moved.json.externalId }]);

    // A name whose accent is composed (NFC) is the same name decomposed (NFD, as macOS and some HR
    // feeds send it): the IdP's "GET by userName, else POST" finds the user instead of looping on 409.
    const composed = `jos\u00e9-${suffix()}@example.com`;
    const jose = await createUser(oktaUser(composed));
    const decomposed = composed.normalize('NFD');
    expect(decomposed).not.toBe(composed);
    const found = await scim('GET', `/Users?filter=${encodeURIComponent(`userName eq "${decomposed.toUpperCase()}"`)}`);
    expect((found.json.Resources as Json[]).map((u) => u.id as string)).toEqual([jose.id]);
    expectError(await scim('POST', '/Users', { body: oktaUser(decomposed) }), 409, 'uniqueness');
  });

  it('creates and patches an Entra ID user: "True"/"False", "Replace", emails[type eq "work"].value, the enterprise manager path', async () => {
    const manager = await createUser(oktaUser(userName('boss')));
    const name = userName('entra');
    const created = await createUser(entraUser(name));
    expect(created).toMatchObject({
      schemas: [USER, ENTERPRISE],
      active: true,
      phoneNumbers: [
        { primary: true, type: 'work', value: '+1 425 555 0100' },
        { type: 'mobile', value: '+1 425 555 0101' },
      ],
      addresses: [expect.objectContaining({ primary: false, locality: 'Redmond', country: 'US' })],
      [ENTERPRISE]: { employeeNumber: '701984', department: 'Sales', costCenter: '4130' },
    });
    expect(created.roles).toBeUndefined();
    const id = created.id as string;

    const r = await patch(id, [
      { op: 'Replace', path: 'emails[type eq "work"].value', value: `new-${name}` },
      { op: 'Add', path: 'emails[type eq "home"].value', value: 'home@example.net' },
      { op: 'Replace', path: 'name.givenName', value: 'Ryanne' },
      { op: 'Add', path: `${ENTERPRISE}:manager`, value: manager.id },
      { op: 'Replace', path: `${ENTERPRISE}:department`, value: 'Marketing' },
      { op: 'Remove', path: `${ENTERPRISE}:costCenter` },
      { op: 'Replace', path: 'title', value: 'Senior Engineer' },
      { op: 'Add', value: { nickName: 'Ry', 'name.middleName': 'Q' } },
      { op: 'Remove', path: 'phoneNumbers[type eq "mobile"]' },
    ]);
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.headers.get('etag')).toBe('W/"2"');
    expect(r.json).toMatchObject({
      emails: [
        { primary: true, type: 'work', value: `new-${name}` },
        { type: 'home', value: 'home@example.net' },
      ],
      name: { givenName: 'Ryanne', familyName: 'Leenay', middleName: 'Q' },
      nickName: 'Ry',
      title: 'Senior Engineer',
      phoneNumbers: [{ primary: true, type: 'work', value: '+1 425 555 0100' }],
      [ENTERPRISE]: { employeeNumber: '701984', department: 'Marketing', manager: { value: manager.id, $ref: `${server.url}/scim/v2/Users/${manager.id}` } },
      meta: { version: 'W/"2"' },
    });
    expect(r.json[ENTERPRISE].costCenter).toBeUndefined();
    expect((await scim('GET', `/Users/${id}`)).json).toEqual(r.json);
    // Entra ID checks the manager before changing it, naming it without the extension's URN.
    const managerFilter = (managerId: string) => encodeURIComponent(`id eq "${id}" and manager eq "${managerId}"`);
    expect((await scim('GET', `/Users?filter=${managerFilter(manager.id as string)}`)).json.totalResults).toBe(1);
    expect((await scim('GET', `/Users?filter=${managerFilter('someone-else')}`)).json.totalResults).toBe(0);

    // Entra's path-less replace of the whole extension's members, and removing the manager.
    const again = await patch(id, [
      { op: 'replace', value: { [ENTERPRISE]: { division: 'West' }, displayName: 'R. Leenay' } },
      { op: 'remove', path: `${ENTERPRISE}:manager` },
      { op: 'Replace', path: 'emails[type eq "home"].primary', value: 'True' },
    ]);
    expect(again.status, JSON.stringify(again.json)).toBe(200);
    expect(again.json[ENTERPRISE]).toEqual({ employeeNumber: '701984', department: 'Marketing', division: 'West' });
    expect(again.json.displayName).toBe('R. Leenay');
    // One primary at most: making "home" primary made "work" not primary.
    expect(again.json.emails).toEqual([
      { primary: false, type: 'work', value: `new-${name}` },
      { type: 'home', value: 'home@example.net', primary: true },
    ]);

    // A replace through a filter that matches nothing has no target.
    expectError(await patch(id, [{ op: 'Replace', path: 'emails[type eq "other"].value', value: 'x@example.com' }]), 400, 'noTarget');
  });

  it('replaces an Okta user with PUT, and PATCH active=false disables it: no sign-in, portal session ended', async () => {
    const name = userName('leaver');
    const created = await createUser(oktaUser(name));
    const id = created.id as string;
    await server.reg.auth.setPassword(adminCtx(), name, { password: PASSWORD, oneTime: false });
    const browser = new Browser(server.url);
    expect((await browser.signIn(name, PASSWORD)).status).toBe(303);
    expect((await browser.request('/api/portal/session')).status).toBe(200);

    // Okta's PUT: the whole user; what it leaves out is cleared, except externalId and active.
    const put = await scim('PUT', `/Users/${id}`, {
      body: { schemas: [USER], id, userName: name, name: { givenName: 'Barb', familyName: 'Jensen' }, emails: [{ primary: true, value: name, type: 'work' }], title: 'Boss' },
    });
    expect(put.status, JSON.stringify(put.json)).toBe(200);
    expect(put.json).toMatchObject({ id, externalId: created.externalId, active: true, title: 'Boss', displayName: 'Barb Jensen', name: { givenName: 'Barb' } });
    expect(put.json.locale).toBeUndefined();
    expect((await browser.request('/api/portal/session')).status).toBe(200);

    // Okta deactivates with a path-less replace.
    const off = await patch(id, [{ op: 'replace', value: { active: false } }]);
    expect(off.status, JSON.stringify(off.json)).toBe(200);
    expect(off.json.active).toBe(false);
    expect((await browser.request('/api/portal/session')).status).toBe(401);
    const retry = await new Browser(server.url).signIn(name, PASSWORD);
    expect(retry.status).toBe(401);
    expect(retry.text).toContain('The username or password is not correct.');
    const described = await identitystore.send(new DescribeUserCommand({ IdentityStoreId: server.init.identityStoreId, UserId: id }));
    expect(described.UserStatus).toBe('DISABLED');
    // Credentials issued so far are revoked, through the directory's own disable flow.
    const marks = await server.reg.database.db.selectFrom('revocations').select('subject_key').execute();
    expect(marks.some((m) => m.subject_key.includes(id))).toBe(true);
    // Repeating active=false (Okta's PUT of the whole user) writes no second mark.
    expect((await scim('PUT', `/Users/${id}`, { body: { ...oktaUser(name), active: 'False' } })).json.active).toBe(false);
    const after = await server.reg.database.db.selectFrom('revocations').select('subject_key').execute();
    expect(after.filter((m) => m.subject_key.includes(id))).toHaveLength(marks.filter((m) => m.subject_key.includes(id)).length);

    // Removing active, or setting it to null, asserts nothing: the user stays disabled (RFC 7643
    // gives active no default; it used to read as true and let the user sign in again).
    for (const ops of [[{ op: 'remove', path: 'active' }], [{ op: 'replace', path: 'active', value: null }], [{ op: 'replace', value: { active: null } }]]) {
      const kept = await patch(id, ops);
      expect(kept.status, JSON.stringify(ops)).toBe(200);
      expect(kept.json.active, JSON.stringify(ops)).toBe(false);
    }
    expect((await identitystore.send(new DescribeUserCommand({ IdentityStoreId: server.init.identityStoreId, UserId: id }))).UserStatus).toBe('DISABLED');
    expect((await new Browser(server.url).signIn(name, PASSWORD)).status).not.toBe(303);

    // Entra re-enables with "True" as a string; the user can sign in again.
    const on = await patch(id, [{ op: 'Replace', path: 'active', value: 'True' }]);
    expect(on.json.active).toBe(true);
    // The record says who was disabled and enabled again, and which attributes a change touched.
    const updates = await server.reg.database.db
      .selectFrom('audit_events')
      .select(['response_elements'])
      .where('event_name', '=', 'UpdateUser')
      .where('request_parameters', 'like', `%${id}%`)
      .where('error_code', 'is', null)
      .orderBy('seq')
      .execute();
    const changes = updates.map((e) => JSON.parse(e.response_elements!) as { changedAttributes: string[]; userStatus?: string });
    expect(changes.filter((c) => c.userStatus).map((c) => c.userStatus)).toEqual(['DISABLED', 'ENABLED']);
    expect(changes.at(-1)).toEqual({ changedAttributes: ['userStatus'], userStatus: 'ENABLED' });
    expect(changes[0]!.changedAttributes).toContain('title');
    expect(JSON.stringify(changes)).not.toContain('Boss');
    expect((await new Browser(server.url).signIn(name, PASSWORD)).status).toBe(303);
  });

  it('honours If-Match on PUT, PATCH and DELETE: 412 on another version; DELETE answers 204, then 404', async () => {
    const created = await createUser(oktaUser(userName('etag')));
    const id = created.id as string;
    expectError(await patch(id, [{ op: 'replace', path: 'title', value: 'A' }], { 'if-match': 'W/"7"' }), 412);
    const changed = await patch(id, [{ op: 'replace', path: 'title', value: 'A' }], { 'if-match': 'W/"1"' });
    expect(changed.status).toBe(200);
    expect(changed.json.meta.version).toBe('W/"2"');
    expectError(await scim('PUT', `/Users/${id}`, { body: { ...oktaUser(created.userName as string), title: 'B' }, headers: { 'if-match': 'W/"1"' } }), 412);
    expectError(await scim('DELETE', `/Users/${id}`, { headers: { 'if-match': '"1"' } }), 412);
    expect((await scim('GET', `/Users/${id}`)).json.title).toBe('A');
    // RFC 7232 §3.1: a list matches if any of its tags does.
    expectError(await patch(id, [{ op: 'replace', path: 'title', value: 'C' }], { 'if-match': 'W/"1", "junk", W/"7"' }), 412);
    const listed = await patch(id, [{ op: 'replace', path: 'title', value: 'C' }], { 'if-match': 'W/"1", W/"2"' });
    expect(listed.status, JSON.stringify(listed.json)).toBe(200);
    expect(listed.json.meta.version).toBe('W/"3"');
    expect((await scim('GET', `/Users/${id}`, { headers: { 'if-none-match': 'W/"9", W/"3"' } })).status).toBe(304);

    const deleted = await scim('DELETE', `/Users/${id}`, { headers: { 'if-match': 'W/"2", W/"3"' } });
    expect(deleted.status).toBe(204);
    expectError(await scim('GET', `/Users/${id}`), 404);
    expectError(await scim('DELETE', `/Users/${id}`), 404);
    expectError(await patch(id, [{ op: 'replace', path: 'title', value: 'A' }]), 404);
    await expect(identitystore.send(new DescribeUserCommand({ IdentityStoreId: server.init.identityStoreId, UserId: id }))).rejects.toMatchObject({
      name: 'ResourceNotFoundException',
    });
  });

  it('adds a value already there once (no change, no new version), and removes only the values a remove names', async () => {
    const created = await createUser({
      ...oktaUser(userName('values')),
      emails: [
        { value: 'keep@example.com', type: 'work', primary: true },
        { value: 'drop@example.com', type: 'home' },
      ],
      roles: [{ value: 'Keep' }, { value: 'Drop' }],
    });
    const id = created.id as string;
    const version = created.meta.version as string;
    const emailsOf = async () => ((await scim('GET', `/Users/${id}`)).json.emails as Json[]).map((e) => `${e.value as string}/${e.type as string}/${e.primary === true}`);

    // RFC 7644 §3.5.2.1: the value is there already: 200, the same list, the same version.
    for (const operation of [
      { op: 'add', path: 'emails', value: [{ value: 'keep@example.com', type: 'work', primary: true }] },
      { op: 'add', value: { emails: [{ value: 'KEEP@example.com', type: 'work' }] } },
      { op: 'add', path: 'roles', value: [{ value: 'keep' }] },
    ]) {
      const again = await patch(id, [operation], { 'if-match': version });
      expect(again.status, JSON.stringify(again.json)).toBe(200);
      expect(again.json.meta.version).toBe(version);
      expect(again.headers.get('etag')).toBe(version);
    }
    expect(await emailsOf()).toEqual(['keep@example.com/work/true', 'drop@example.com/home/false']);
    // Adding it again as primary makes it the primary one, in place.
    const primary = await patch(id, [{ op: 'add', path: 'emails', value: [{ value: 'drop@example.com', type: 'home', primary: true }] }]);
    expect(primary.status).toBe(200);
    expect(await emailsOf()).toEqual(['keep@example.com/work/false', 'drop@example.com/home/true']);

    // RFC 7644 §3.5.2.2: a remove with a value removes those values, not the attribute.
    const removed = await patch(id, [
      { op: 'remove', path: 'emails', value: [{ value: 'drop@example.com' }] },
      { op: 'remove', path: 'roles', value: [{ value: 'DROP' }] },
    ]);
    expect(removed.status, JSON.stringify(removed.json)).toBe(200);
    expect(await emailsOf()).toEqual(['keep@example.com/work/false']);
    expect((removed.json.roles as Json[]).map((r) => r.value as string)).toEqual(['Keep']);
    // A remove whose value names nothing there, or describes no value at all, changes nothing.
    const before = removed.json.meta.version;
    for (const value of [[{ value: 'never@example.com' }], [{}], [{ primary: false }]]) {
      const nothing = await patch(id, [{ op: 'remove', path: 'emails', value }]);
      expect(nothing.json.meta.version, JSON.stringify(value)).toBe(before);
    }
    expect(await emailsOf()).toEqual(['keep@example.com/work/false']);
  });

  it('answers POST, PUT and PATCH with the attributes asked for, and refuses a bad selector before writing', async () => {
    const name = userName('selected');
    const created = await scim('POST', '/Users?attributes=userName', { body: oktaUser(name) });
    expect(created.status).toBe(201);
    expect(Object.keys(created.json).sort()).toEqual(['id', 'schemas', 'userName']);
    const id = created.json.id as string;
    const patched = await scim('PATCH', `/Users/${id}?excludedAttributes=emails,name,meta`, { body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Lead' }] } });
    expect(patched.status).toBe(200);
    expect(patched.json).toMatchObject({ id, userName: name, title: 'Lead' });
    expect(patched.json).not.toHaveProperty('emails');
    expect(patched.json).not.toHaveProperty('meta');
    expect(patched.headers.get('etag')).toBe('W/"2"');
    const put = await scim('PUT', `/Users/${id}?attributes=title`, { body: { ...oktaUser(name), title: 'Chief' } });
    expect(put.json).toEqual({ schemas: [USER], id, title: 'Chief' });
    // A selector that is not one is refused, and the change is not made.
    expectError(await scim('PATCH', `/Users/${id}?attributes=bad%20name`, { body: { schemas: [PATCH_OP], Operations: [{ op: 'replace', path: 'title', value: 'Never' }] } }), 400, 'invalidValue');
    expect((await scim('GET', `/Users/${id}`)).json.title).toBe('Chief');
  });

  it('applies concurrent PATCHes without If-Match one after the other: none is lost, none is refused', async () => {
    const created = await createUser(oktaUser(userName('busy')));
    const id = created.id as string;
    const numbers = ['+1 555 0001', '+1 555 0002', '+1 555 0003', '+1 555 0004', '+1 555 0005'];
    const replies = await Promise.all(numbers.map((value) => patch(id, [{ op: 'add', path: 'phoneNumbers', value: [{ value, type: 'work' }] }])));
    expect(replies.map((r) => r.status)).toEqual(numbers.map(() => 200));
    const after = await scim('GET', `/Users/${id}`);
    expect((after.json.phoneNumbers as Json[]).map((p) => p.value as string).sort()).toEqual(numbers);
    expect(after.json.meta.version).toBe(`W/"${numbers.length + 1}"`);
  });

  it('filters: userName eq (any case), externalId eq, id eq, a complex filter evaluated in memory; an invalid filter is a 400 invalidFilter', async () => {
    const tag = suffix();
    const a = await createUser({ ...entraUser(`fa-${tag}@example.com`), title: `Lead ${tag}` });
    const b = await createUser({ ...oktaUser(`fb-${tag}@example.org`), title: `Member ${tag}` });
    const c = await createUser({ ...oktaUser(`fc-${tag}@example.org`), active: false });
    const ids = (r: Reply) => (r.json.Resources as Json[]).map((u) => u.id as string);
    const list = (filter: string, extra = '') => scim('GET', `/Users?filter=${encodeURIComponent(filter)}${extra}`);

    const byName = await list(`userName eq "FA-${tag.toUpperCase()}@EXAMPLE.COM"`);
    expect(byName.json).toMatchObject({ schemas: [LIST], totalResults: 1, startIndex: 1, itemsPerPage: 1 });
    expect(ids(byName)).toEqual([a.id]);
    expect(ids(await list(`externalId eq "${b.externalId}"`))).toEqual([b.id]);
    expect((await list(`externalId eq "${(b.externalId as string).toUpperCase()}"`)).json.totalResults).toBe(0);
    expect(ids(await list(`id eq "${c.id}"`))).toEqual([c.id]);
    expect(ids(await list(`userName eq "fa-${tag}@example.com" and active eq false`))).toEqual([]);
    expect((await list('userName eq "nobody@example.com"')).json).toMatchObject({ totalResults: 0, Resources: [] });

    const complex = `userName co "${tag}" and (emails[type eq "work" and value ew "@example.org"] or ${ENTERPRISE}:department eq "sales") and not (active eq false)`;
    expect(ids(await list(complex)).sort()).toEqual([a.id, b.id].sort());
    expect(ids(await list(`title sw "member ${tag}" or phoneNumbers[type eq "mobile"] and userName co "${tag}"`)).sort()).toEqual([a.id, b.id].sort());
    expect(ids(await list(`meta.created ge "2000-01-01T00:00:00Z" and userName ew "${tag}@example.org" and active eq false`))).toEqual([c.id]);

    // An enterprise attribute without its URN, as for PATCH; a core name is never the extension's.
    expect(ids(await list(`department eq "SALES" and userName co "${tag}"`))).toEqual([a.id]);
    expect(ids(await list(`${ENTERPRISE}:department eq "sales" and userName co "${tag}"`))).toEqual([a.id]);
    // Entra ID's look-up by work email: one email both of type work and with that value.
    expect(ids(await list(`emails[type eq "work"].value eq "FB-${tag}@example.org"`))).toEqual([b.id]);
    expect(ids(await list(`emails[type eq "home"].value eq "fb-${tag}@example.org"`))).toEqual([]);
    for (const bad of ['userName eq', 'userName eq "x" and', 'not userName pr', '(userName pr', 'active gt true', 'emails[type eq "w"].value', 'emails[type eq "w"].value.x eq "y"']) {
      expectError(await list(bad), 400, 'invalidFilter');
    }
  });

  it('pages with startIndex and count (1-based, totalResults), sorts with sortBy and sortOrder, and selects attributes and excludedAttributes', async () => {
    const tag = suffix();
    const made: Json[] = [];
    for (let i = 0; i < 5; i++) made.push(await createUser({ ...entraUser(`p${i}-${tag}@example.com`), title: `T${4 - i}` }));
    const expected = made.map((u) => u.id as string).sort();
    const filter = encodeURIComponent(`userName ew "-${tag}@example.com"`);
    const pages: string[] = [];
    for (const startIndex of [1, 3, 5]) {
      const r = await scim('GET', `/Users?filter=${filter}&startIndex=${startIndex}&count=2`);
      expect(r.json).toMatchObject({ totalResults: 5, startIndex, itemsPerPage: startIndex === 5 ? 1 : 2 });
      pages.push(...(r.json.Resources as Json[]).map((u) => u.id as string));
    }
    expect(pages).toEqual(expected);
    expect((await scim('GET', `/Users?filter=${filter}&count=0`)).json).toMatchObject({ totalResults: 5, itemsPerPage: 0, Resources: [] });
    expect((await scim('GET', `/Users?filter=${filter}&startIndex=0&count=-3`)).json).toMatchObject({ totalResults: 5, startIndex: 1, itemsPerPage: 0 });
    expectError(await scim('GET', '/Users?count=ten'), 400, 'invalidValue');

    // sortBy and sortOrder, with the filter and the page applied around them.
    const sortedIds = async (query: string) => ((await scim('GET', `/Users?filter=${filter}&${query}`)).json.Resources as Json[]).map((u) => u.id as string);
    const byCreation = made.map((u) => u.id as string);
    expect(await sortedIds('sortBy=title&startIndex=2&count=2')).toEqual([byCreation[3], byCreation[2]]);
    expect(await sortedIds('sortBy=userName&sortOrder=descending&count=2')).toEqual([byCreation[4], byCreation[3]]);
    expect(await sortedIds('sortBy=emails&sortOrder=Ascending')).toEqual(byCreation);
    expect(await sortedIds(`sortBy=${encodeURIComponent(`${ENTERPRISE}:department`)}`)).toHaveLength(5);
    const unfiltered = await scim('GET', '/Users?sortBy=userName&count=1000');
    const names = (unfiltered.json.Resources as Json[]).map((u) => (u.userName as string).toLowerCase());
    expect(names).toEqual([...names].sort());
    // POST /Users/.search: the same query in a body.
    const search = await scim('POST', '/Users/.search', {
      body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: decodeURIComponent(filter), sortBy: 'title', startIndex: 2, count: 2, attributes: ['userName'] },
    });
    expect(search.json).toMatchObject({ schemas: [LIST], totalResults: 5, startIndex: 2, itemsPerPage: 2 });
    expect(search.json.Resources).toEqual([byCreation[3], byCreation[2]].map((id) => ({ schemas: [USER, ENTERPRISE], id, userName: made.find((u) => u.id === id)!.userName })));
    expectError(await scim('POST', '/Users/.search', { body: { filter: 'userName pr' } }), 400, 'invalidSyntax');
    expectError(await scim('POST', '/Users/.search', { body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], count: '2' } }), 400, 'invalidValue');
    expectError(await scim('POST', '/Users/.search', { body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: 'userName eq' } }), 400, 'invalidFilter');
    expectError(await scim('GET', '/Users?sortBy=shoeSize'), 400, 'invalidValue');
    expectError(await scim('GET', '/Users?sortBy=userName&sortOrder=sideways'), 400, 'invalidValue');

    // Without a filter: every user, in pages by position.
    const all = await scim('GET', '/Users?count=1000');
    const total = all.json.totalResults as number;
    expect(all.json.Resources).toHaveLength(total);
    const second = await scim('GET', '/Users?startIndex=2&count=2');
    expect(second.json).toMatchObject({ totalResults: total, startIndex: 2, itemsPerPage: 2 });
    expect((second.json.Resources as Json[]).map((u) => u.id as string)).toEqual((all.json.Resources as Json[]).slice(1, 3).map((u) => u.id as string));

    const picked = await scim('GET', `/Users?filter=${filter}&count=1&attributes=userName,NAME.givenName,emails.value,${ENTERPRISE}:department`);
    expect(picked.json.Resources[0]).toEqual({
      schemas: [USER, ENTERPRISE],
      id: expected[0],
      userName: made.find((u) => u.id === expected[0])!.userName,
      name: { givenName: 'Ryan' },
      emails: [{ value: made.find((u) => u.id === expected[0])!.userName }],
      [ENTERPRISE]: { department: 'Sales' },
    });
    const one = await scim('GET', `/Users/${expected[1]}?excludedAttributes=emails,name.familyName,meta,id,${ENTERPRISE}`);
    expect(one.json.id).toBe(expected[1]);
    expect(one.json.emails).toBeUndefined();
    expect(one.json.meta).toBeUndefined();
    expect(one.json[ENTERPRISE]).toBeUndefined();
    expect(one.json.name).toEqual({ formatted: 'Ryan Leenay', givenName: 'Ryan' });
    expect(one.json.phoneNumbers).toHaveLength(2);
  });

  it('answers bad input with a 4xx SCIM error, never a 500', async () => {
    const startedAt = Date.now();
    const created = await createUser(oktaUser(userName('bad')));
    const id = created.id as string;
    expectError(await scim('POST', '/Users', { raw: '{"userName": ' }), 400, 'invalidSyntax');
    expectError(await scim('POST', '/Users', { raw: '' }), 400, 'invalidSyntax');
    expectError(await scim('POST', '/Users', { raw: '[1,2]' }), 400, 'invalidSyntax');
    expectError(await scim('POST', '/Users', { raw: JSON.stringify(oktaUser(userName())), contentType: 'text/plain' }), 415);
    expectError(await scim('POST', '/Users', { raw: JSON.stringify({ ...oktaUser(userName()), title: 'x'.repeat(1024 * 1024 + 10) }) }), 413);
    expectError(await scim('POST', '/Users', { raw: `${'['.repeat(100)}${']'.repeat(100)}` }), 400, 'invalidSyntax');
    expectError(await scim('POST', '/Users', { body: { ...oktaUser(userName()), title: 'a\u0000b' } }), 400, 'invalidValue');
    // application/json is accepted too, with a charset.
    expect((await scim('POST', '/Users', { body: oktaUser(userName()), contentType: 'application/json; charset=utf-8' })).status).toBe(201);

    const { schemas: _schemas, ...noSchemas } = oktaUser(userName());
    expectError(await scim('POST', '/Users', { body: noSchemas }), 400, 'invalidSyntax');
    expectError(await scim('POST', '/Users', { body: { ...oktaUser(userName()), shoeSize: 44 } }), 400, 'invalidSyntax');
    expectError(await scim('POST', '/Users', { body: { ...oktaUser(userName()), emails: [{ value: 'a@b.c', label: 'x' }] } }), 400, 'invalidSyntax');
    expectError(await scim('POST', '/Users', { body: { ...oktaUser(userName()), active: 'maybe' } }), 400, 'invalidValue');
    expectError(await scim('POST', '/Users', { body: { ...oktaUser(userName()), name: { givenName: 'Only' } } }), 400, 'invalidValue');
    expectError(await scim('POST', '/Users', { body: { ...oktaUser('has space'), externalId: 'x' } }), 400, 'invalidValue');
    expectError(await scim('POST', '/Users', { body: { ...oktaUser(userName()), password: 'hunter2' } }), 400, 'invalidValue');
    expectError(await scim('POST', '/Users', { body: { ...oktaUser(userName()), emails: [{ value: 'a@b.c', primary: true }, { value: 'd@e.f', primary: 'True' }] } }), 400, 'invalidValue');

    expectError(await scim('PATCH', `/Users/${id}`, { body: { Operations: [{ op: 'replace', path: 'title', value: 'x' }] } }), 400, 'invalidSyntax');
    expectError(await patch(id, []), 400, 'invalidSyntax');
    expectError(await patch(id, [{ op: 'frobnicate', path: 'title', value: 'x' }]), 400, 'invalidSyntax');
    expectError(await patch(id, [{ op: 'replace', path: 'title[', value: 'x' }]), 400, 'invalidPath');
    expectError(await patch(id, [{ op: 'replace', path: 'shoeSize', value: 'x' }]), 400, 'invalidPath');
    expectError(await patch(id, [{ op: 'replace', path: 'title[type eq "x"]', value: 'x' }]), 400, 'invalidPath');
    expectError(await patch(id, [{ op: 'remove' }]), 400, 'noTarget');
    expectError(await patch(id, [{ op: 'replace', path: 'id', value: 'x' }]), 400, 'mutability');
    expectError(await patch(id, [{ op: 'replace', path: 'title' }]), 400, 'invalidValue');
    expectError(await patch(id, [{ op: 'remove', path: 'userName' }]), 400, 'invalidValue');
    expectError(await patch(id, [{ op: 'replace', path: 'title', value: 'ok' }, { op: 'replace', path: 'active', value: 'nope' }]), 400, 'invalidValue');
    expectError(await patch(id, Array.from({ length: 1001 }, () => ({ op: 'replace', path: 'title', value: 'x' }))), 400, 'tooMany');
    expectError(await scim('PUT', `/Users/${id}`, { body: { schemas: [USER] } }), 400, 'invalidValue');
    expectError(await scim('GET', `/Users/${id}?attributes=${encodeURIComponent('a b')}`), 400, 'invalidValue');
    expectError(await scim('GET', '/Users/no-such-user'), 404);
    // Refused by the router before any SCIM handler runs, still in SCIM's shape.
    expectError(await scim('GET', `/Users/${'a'.repeat(200)}`), 404);
    expectError(await scim('GET', '/Users/%zz'), 400, 'invalidValue');
    const awsShaped = await fetch(`${server.url}/federation/%zz`);
    expect(awsShaped.status).toBe(400);
    expect(await awsShaped.json()).toMatchObject({ __type: 'SerializationException' });
    expectError(await scim('PUT', '/Users/no-such-user', { body: oktaUser(userName()) }), 404);

    // None of it changed the user; a refused PATCH is on the audit record with its SCIM code.
    const after = await scim('GET', `/Users/${id}`);
    expect(after.json).toEqual(created);
    const refused = await server.reg.database.db
      .selectFrom('audit_events')
      .select('error_code')
      .where('event_name', '=', 'UpdateUser')
      .where('request_parameters', 'like', `%${id}%`)
      .execute();
    // Refusals before the directory is reached (a PATCH that does not parse) are recorded as well.
    expect(refused.map((e) => e.error_code)).toEqual(expect.arrayContaining(['directory.invalid_attribute', 'scim.invalidValue', 'scim.invalidSyntax', 'scim.invalidPath', 'scim.tooMany']));
    const createRefusals = await server.reg.database.db
      .selectFrom('audit_events')
      .select(['error_code', 'request_parameters'])
      .where('event_name', '=', 'CreateUser')
      .where('error_code', 'is not', null)
      .where('event_time', '>=', startedAt)
      .execute();
    // The unknown attribute and the unknown email sub-attribute, refused while parsing, each leave one.
    expect(createRefusals.filter((e) => e.error_code === 'scim.invalidSyntax').length).toBeGreaterThanOrEqual(3);
    expect(JSON.stringify(createRefusals)).not.toContain('hunter2');

    // A NUL character in an id: no user has it. PostgreSQL's text cannot even hold one, so there it
    // is refused as bad input before it reaches the database; SQLite finds nothing.
    for (const [method, path] of [['GET', '/Users/a%00b'], ['DELETE', '/Users/a%00b'], ['GET', '/Groups/a%00b']] as const) {
      const r = await scim(method, path);
      if (dialect === 'postgres') expectError(r, 400, 'invalidValue');
      else expectError(r, 404);
    }
  });
  it('answers random valid filters exactly as a plain reference evaluation of the same users does', async () => {
    const tag = suffix();
    const seed = fc.record({
      givenName: fc.constantFrom('Barbara', 'barbara', 'Ryan'),
      familyName: fc.constantFrom('Jensen', 'Leenay'),
      title: fc.option(fc.constantFrom('Tour Guide', 'Lead', 'tour'), { nil: undefined }),
      nickName: fc.option(fc.constantFrom('b', 'GUIDE'), { nil: undefined }),
      emails: fc.array(fc.record({ value: fc.constantFrom('barbara@example.com', 'b@EXAMPLE.com', 'ryan@example.org'), type: fc.constantFrom('work', 'home') }), { maxLength: 2 }),
      phone: fc.option(fc.constantFrom('work', 'mobile'), { nil: undefined }),
      active: fc.boolean(),
      department: fc.option(fc.constantFrom('Sales', 'sales', 'Marketing'), { nil: undefined }),
      employeeNumber: fc.option(fc.constantFrom('701984', '42'), { nil: undefined }),
    });
    for (const [i, u] of fc.sample(seed, { numRuns: 12, seed: 4242 }).entries()) {
      await createUser({
        schemas: [USER, ENTERPRISE],
        userName: `${u.givenName}-${i}-${tag}@example.com`,
        externalId: `${u.familyName}-${i}-${tag}`,
        name: { givenName: u.givenName, familyName: u.familyName },
        ...(u.title === undefined ? {} : { title: u.title }),
        ...(u.nickName === undefined ? {} : { nickName: u.nickName }),
        emails: u.emails.map((e, j) => ({ ...e, primary: j === 0 })),
        ...(u.phone === undefined ? {} : { phoneNumbers: [{ type: u.phone, value: '+1 555 0100' }] }),
        active: u.active,
        [ENTERPRISE]: { ...(u.department === undefined ? {} : { department: u.department }), ...(u.employeeNumber === undefined ? {} : { employeeNumber: u.employeeNumber }) },
      });
    }
    // Every user on the server, as the server shows them: the records both evaluations read.
    const all = (await scim('GET', '/Users?count=1000')).json.Resources as Json[];
    let some = 0;
    let notAll = 0;
    await fc.assert(
      fc.asyncProperty(randomUserFilter, async (filter) => {
        const text = printFilter(filter);
        fc.pre(text.length <= 4096);
        const r = await scim('GET', `/Users?count=1000&filter=${encodeURIComponent(text)}`);
        expect(r.status, `${text}: ${JSON.stringify(r.json)}`).toBe(200);
        const expected = all.filter((u) => referenceMatches(filter, u, USER_REFERENCE)).map((u) => u.id as string);
        expect((r.json.Resources as Json[]).map((u) => u.id as string).sort(), text).toEqual(expected.sort());
        expect(r.json.totalResults).toBe(expected.length);
        if (expected.length > 0) some++;
        if (expected.length < all.length) notAll++;
      }),
      { numRuns: 80, seed: 99 },
    );
    // The property says something only if filters both match and leave users out, often.
    expect(some).toBeGreaterThan(15);
    expect(notAll).toBeGreaterThan(15);
  });

  it('answers random broken filters with 400 invalidFilter, any text with a list or invalidFilter, and random PATCH bodies with 200 or a 4xx, never a 500', async () => {
    const printed = randomUserFilter.map(printFilter).filter((t) => t.length < 2000);
    const broken = fc.oneof(
      printed.map((t) => `(${t}`),
      printed.map((t) => `${t} and`),
      printed.map((t) => `${t} ${t}`),
      printed.map((t) => t.replace(/ (eq|ne|co|sw|ew|gt|ge|lt|le) /, ' eqq ')).filter((t) => t.includes(' eqq ')),
      fc.tuple(printed, fc.constantFrom('not not ', '] ', ') ', '"', '. ')).map(([t, junk]) => junk + t),
    );
    await fc.assert(
      fc.asyncProperty(broken, async (text) => {
        expectError(await scim('GET', `/Users?filter=${encodeURIComponent(text)}`), 400, 'invalidFilter');
      }),
      { numRuns: 60, seed: 7 },
    );
    const anyText = fc.oneof(fc.string({ maxLength: 60 }), fc.stringMatching(/^[a-zA-Z .:"\\[\]()0-9<>=!$-]{0,60}$/));
    await fc.assert(
      fc.asyncProperty(anyText, async (text) => {
        const r = await scim('POST', '/Users/.search', { body: { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], filter: text, count: 1 } });
        if (r.status === 200) expect(r.json.schemas).toEqual([LIST]);
        else expectError(r, 400, 'invalidFilter');
      }),
      { numRuns: 60, seed: 8 },
    );

    const target = await createUser(oktaUser(userName('fuzz')));
    const id = target.id as string;
    const path = fc.constantFrom(
      'title', 'USERNAME', 'name.givenName', 'name', 'emails', 'emails[type eq "work"].value', 'emails[type eq "work"]', 'emails[', 'emails[type eq "x"].value.y',
      'phoneNumbers[type eq "mobile"]', 'active', 'id', 'meta.version', 'manager', `${ENTERPRISE}:manager`, `${ENTERPRISE}:department`, ENTERPRISE, 'groups',
      'password', 'shoeSize', '', 'members', 'urn:example:other:title',
    );
    const value = fc.oneof(
      fc.constantFrom<unknown>('x', '', 'True', 'false', true, false, null, 0, [], {}, [{ value: 'a@b.c', type: 'work' }], { givenName: 'G' }, { value: id }, [{ $ref: null, value: 'nobody' }], 'a\u0000b'),
      fc.jsonValue({ maxDepth: 2 }),
    );
    const anyOperation = fc.record(
      { op: fc.constantFrom<unknown>('add', 'Add', 'replace', 'Replace', 'remove', 'Remove', 'move', 1, null), path: fc.option(path, { nil: undefined }), value: fc.option(value, { nil: undefined }) },
      { requiredKeys: ['op'] },
    );
    // Operations an IdP could send, so that many requests are applied and the next ones start elsewhere.
    const plausible = fc.constantFrom<Json>(
      { op: 'Replace', path: 'title', value: 'Lead' },
      { op: 'add', path: 'emails[type eq "home"].value', value: 'h@example.com' },
      { op: 'remove', path: 'emails[type eq "home"]' },
      { op: 'Replace', path: 'active', value: 'True' },
      { op: 'replace', value: { nickName: 'Babs', 'name.middleName': 'Q' } },
      { op: 'Remove', path: `${ENTERPRISE}:department` },
      { op: 'Add', path: `${ENTERPRISE}:department`, value: 'Sales' },
      { op: 'Add', path: 'manager', value: [{ $ref: null, value: id }] },
      { op: 'remove', path: 'manager' },
    );
    const operation = fc.oneof(anyOperation, plausible);
    const body = fc.oneof(
      { weight: 8, arbitrary: fc.array(operation, { minLength: 1, maxLength: 3 }).map((Operations) => ({ schemas: [PATCH_OP], Operations })) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
      { weight: 1, arbitrary: fc.array(operation, { maxLength: 2 }).map((Operations) => ({ Operations })) },
    );
    let applied = 0;
    await fc.assert(
      fc.asyncProperty(body, async (b) => {
        const r = await scim('PATCH', `/Users/${id}`, { body: b });
        expect([200, 400, 409], `${JSON.stringify(b)} answered ${r.status}: ${JSON.stringify(r.json)}`).toContain(r.status);
        if (r.status === 200) applied++;
        else expect(r.json).toMatchObject({ schemas: [ERROR], status: String(r.status), detail: expect.any(String) });
      }),
      { numRuns: 150, seed: 9 },
    );
    expect(applied).toBeGreaterThan(20);
    expect((await scim('GET', `/Users/${id}`)).status).toBe(200);
  });
});
