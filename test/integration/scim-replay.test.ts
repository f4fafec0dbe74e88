// The request sequences Microsoft Entra ID and Okta document sending (test/fixtures/scim/**, each
// file citing its source) replayed in order against a real server over HTTP, on both databases,
// with what a deprovisioned user then meets: portal session ended, credentials refused at STS.

import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GetRoleCredentialsCommand, SSOClient } from '@aws-sdk/client-sso';
import { CreateTokenCommand } from '@aws-sdk/client-sso-oidc';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SCIM_ADMIN_SOURCE } from '../../src/provisioning/index.js';
import { systemContext } from '../../src/shared/context.js';
import { Browser } from '../helpers/browser.js';
import { REFRESH_TOKEN_GRANT } from '../../src/protocols/oidc/index.js';
import { portalFixture, suffix } from '../helpers/portal-fixture.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any
type Creds = { accessKeyId?: string; secretAccessKey?: string; sessionToken?: string };

interface RequestStep {
  name: string;
  request: { method: string; path: string; headers?: Record<string, string>; body?: unknown };
  response: { status: number | number[]; headers?: Record<string, string>; body?: unknown };
  save?: Record<string, string>;
  /** A known bug: the step is skipped with this reason (see the report naming it). */
  skip?: string;
}
interface HarnessStep {
  name: string;
  harness: 'grantAccess' | 'expectLockedOut';
  user: string;
  skip?: string;
}
type Step = RequestStep | HarnessStep;
interface Fixture {
  title: string;
  sources: { document: string; url: string }[];
  steps: Step[];
}

const FIXTURES = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../fixtures/scim');
const fixtures = ['entra', 'okta'].flatMap((vendor) =>
  readdirSync(path.join(FIXTURES, vendor))
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: `${vendor}/${f}`, fixture: JSON.parse(readFileSync(path.join(FIXTURES, vendor, f), 'utf8')) as Fixture })),
);

const PASSWORD = 'Vq7#mXw2!pLz';
/** How the SDK reports revoked credentials at STS. */
const REVOKED = { name: 'InvalidClientTokenId', $metadata: { httpStatusCode: 403 } };

/** `{{name}}` in every string of `value`, from `vars`; an unknown name is a broken fixture. */
function substitute<T>(value: T, vars: Record<string, string>): T {
  if (typeof value === 'string') {
    return value.replace(/\{\{(\w+)\}\}/g, (_, name: string) => {
      if (vars[name] === undefined) throw new Error(`The fixture uses {{${name}}} before a step saved it.`);
      return vars[name];
    }) as T;
  }
  if (Array.isArray(value)) return value.map((v) => substitute(v, vars) as unknown) as T;
  if (typeof value === 'object' && value !== null) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, vars)])) as T;
  return value;
}

/** The fixture's response body as vitest expectations: "<string>", "<any>", "<absent>", {"<unordered>": […]}. */
function expectation(value: unknown): unknown {
  if (value === '<string>') return expect.any(String);
  if (value === '<any>') return expect.anything();
  if (Array.isArray(value)) return value.map(expectation);
  if (typeof value === 'object' && value !== null) {
    const unordered = (value as Json)['<unordered>'] as unknown[] | undefined;
    if (unordered !== undefined) {
      const items = unordered.map((item) => expect.objectContaining(expectation(item)) as { asymmetricMatch(actual: unknown): boolean });
      return {
        asymmetricMatch: (actual: unknown) => Array.isArray(actual) && actual.length === items.length && items.every((m) => actual.some((a) => m.asymmetricMatch(a))),
        toString: () => `Unordered<${JSON.stringify(unordered)}>`,
        toAsymmetricMatcher: () => `Unordered<${JSON.stringify(unordered)}>`,
      };
    }
    return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== '<absent>').map(([k, v]) => [k, expectation(v)]));
  }
  return value;
}

/** Where the fixture's body says "<absent>", as property paths. */
function absentPaths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (value === '<absent>') return [at];
  if (Array.isArray(value)) return value.flatMap((v, i) => absentPaths(v, [...at, i]));
  if (typeof value === 'object' && value !== null && !('<unordered>' in value)) return Object.entries(value).flatMap(([k, v]) => absentPaths(v, [...at, k]));
  return [];
}

/** The path as the IdP sends it: the query's values percent-encoded. */
function encodedPath(text: string): string {
  const [pathname, query] = text.split(/\?(.*)/s) as [string, string | undefined];
  if (query === undefined) return pathname;
  const pairs = query.split('&').map((pair) => {
    const eq = pair.indexOf('=');
    return `${pair.slice(0, eq)}=${encodeURIComponent(pair.slice(eq + 1))}`;
  });
  return `${pathname}?${pairs.join('&')}`;
}

describe.each(dialects())('SCIM sequences of Entra ID and Okta, replayed on %s', (dialect) => {
  for (const { file, fixture } of fixtures) {
    describe(`${file}: ${fixture.title}`, () => {
      let server: TestServer;
      let token: string;
      let f: ReturnType<typeof portalFixture>;
      let portal: SSOClient;
      let account: { accountId: string } | undefined;
      let role: { name: string; arn: string } | undefined;
      const vars: Record<string, string> = {};
      const assigned = new Set<string>();
      const access = new Map<string, { browser: Browser; fromPortal: Creds; fromSso: Creds; device: Awaited<ReturnType<typeof f.login>>; userName: string }>();

      beforeAll(async () => {
        server = await startServer(dialect);
        token = (await server.reg.scimTokens.createToken(systemContext(SCIM_ADMIN_SOURCE, 'us-east-1', `test-${suffix()}`))).token;
        f = portalFixture(server);
        portal = new SSOClient({ endpoint: server.url, region: 'us-east-1', maxAttempts: 1 });
        vars.baseUrl = `${server.url}/scim/v2`;
      });
      afterAll(() => server?.close());

      const whoAmI = (c: Creds) =>
        new STSClient({ ...sdkOptions(server), credentials: { accessKeyId: c.accessKeyId!, secretAccessKey: c.secretAccessKey!, sessionToken: c.sessionToken } }).send(
          new GetCallerIdentityCommand({}),
        );
      const ssoCredentials = (accessToken: string) =>
        portal.send(new GetRoleCredentialsCommand({ accessToken, accountId: account!.accountId, roleName: role!.name })).then((r) => r.roleCredentials!);
      const portalCredentials = (b: Browser) => b.portalCredentials(account!.accountId, role!.name);

      async function send(step: RequestStep) {
        const request = substitute(step.request, vars);
        const headers: Record<string, string> = { authorization: `Bearer ${token}`, ...request.headers };
        const res = await fetch(`${server.url}/scim/v2${encodedPath(request.path)}`, {
          method: request.method,
          headers,
          body: request.body === undefined ? undefined : JSON.stringify(request.body),
        });
        const text = await res.text();
        return { status: res.status, headers: res.headers, json: text === '' ? undefined : (JSON.parse(text) as Json) };
      }

      /** A password and the role in an account (once), then a portal session and role credentials from both the portal and the CLI's device flow. */
      async function grantAccess(key: string) {
        const userId = vars[key]!;
        const userName = ((await send({ name: 'read', request: { method: 'GET', path: `/Users/${userId}` }, response: { status: 200 } })).json as Json).userName as string;
        account ??= await f.newAccount();
        role ??= await f.newPermissionSet();
        if (!assigned.has(userId)) {
          await server.reg.auth.setPassword(systemContext('sso.amazonaws.com', 'us-east-1', 'test'), userName, { password: PASSWORD, oneTime: false });
          await f.assignment('create', account.accountId, role.arn, 'USER', userId);
          assigned.add(userId);
        }
        const browser = new Browser(server.url);
        expect((await browser.signIn(userName, PASSWORD)).status).toBe(303);
        const fromPortal = await portalCredentials(browser);
        expect(fromPortal.status).toBe(200);
        const device = await f.login({ userId, userName });
        const fromSso = await ssoCredentials(device.accessToken);
        expect((await whoAmI(fromPortal.creds)).Account).toBe(account.accountId);
        expect((await whoAmI(fromSso)).Account).toBe(account.accountId);
        access.set(key, { browser, fromPortal: fromPortal.creds, fromSso, device, userName });
      }

      /** At once, with no waiting: the session is over, everything refuses, and STS refuses what was issued. */
      async function expectLockedOut(key: string) {
        const granted = access.get(key);
        if (granted === undefined) throw new Error(`The fixture checks ${key}'s access before granting it.`);
        expect((await granted.browser.request('/api/portal/session')).status).toBe(401);
        expect((await portalCredentials(granted.browser)).status).toBe(401);
        const refused = await ssoCredentials(granted.device.accessToken).then(
          () => 'issued',
          (err: { $metadata?: { httpStatusCode?: number } }) => err.$metadata?.httpStatusCode,
        );
        expect([401, 403]).toContain(refused);
        // The CLI cannot renew its access token either.
        const { clientId, clientSecret, refreshToken } = granted.device;
        await expect(f.oidc.send(new CreateTokenCommand({ clientId, clientSecret, grantType: REFRESH_TOKEN_GRANT, refreshToken }))).rejects.toMatchObject({ name: 'InvalidGrantException', $metadata: { httpStatusCode: 400 } });
        await expect(whoAmI(granted.fromPortal)).rejects.toMatchObject(REVOKED);
        await expect(whoAmI(granted.fromSso)).rejects.toMatchObject(REVOKED);
        const again = await new Browser(server.url).signIn(granted.userName, PASSWORD);
        expect(again.status).toBe(401);
        expect(again.text).toContain('The username or password is not correct.');
      }

      for (const step of fixture.steps) {
        // A step with `skip` names a known bug in a file this suite does not own; see the fixture.
        const run = step.skip === undefined ? it : it.skip;
        run(step.name, async () => {
          if ('harness' in step) return step.harness === 'grantAccess' ? grantAccess(step.user) : expectLockedOut(step.user);
          const r = await send(step);
          const statuses = Array.isArray(step.response.status) ? step.response.status : [step.response.status];
          expect(statuses, `${step.request.method} ${step.request.path} answered ${r.status}: ${JSON.stringify(r.json)}`).toContain(r.status);
          if (r.json !== undefined) expect(r.headers.get('content-type')).toMatch(/^application\/scim\+json/);
          for (const [name, value] of Object.entries(step.save ?? {})) vars[name] = (r.json as Json)[value] as string;
          for (const [name, value] of Object.entries(substitute(step.response.headers ?? {}, vars))) expect(r.headers.get(name), name).toBe(value);
          if (step.response.body === undefined) return;
          const body = substitute(step.response.body, vars);
          expect(r.json).toMatchObject(expectation(body) as Json);
          for (const absent of absentPaths(body)) expect(r.json, `${absent.join('.')} is absent`).not.toHaveProperty(absent);
        });
      }
    });
  }
});
