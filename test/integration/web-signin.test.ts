// The sign-in pages and portal sessions over real HTTP, as a browser would use them (fetch and a
// tiny cookie jar): first sign-in with a one-time password, forced change, sessions, sign-out,
// throttling, CSRF and open redirects, on both databases.

import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { SignatureV4 } from '@smithy/signature-v4';
import type { SourceData } from '@smithy/types';
import { createHash, createHmac, type Hash, type Hmac } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { Browser } from '../helpers/browser.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

const STRONG = 'Vq7#mXw2!pLz';

const bytesOf = (d: SourceData) => (typeof d === 'string' ? d : ArrayBuffer.isView(d) ? new Uint8Array(d.buffer, d.byteOffset, d.byteLength) : new Uint8Array(d));

/** SHA-256 for the smithy signer, from node:crypto. */
class Sha256 {
  private readonly h: Hash | Hmac;
  constructor(secret?: SourceData) {
    this.h = secret === undefined ? createHash('sha256') : createHmac('sha256', bytesOf(secret));
  }
  update(data: SourceData) {
    this.h.update(bytesOf(data));
  }
  digest() {
    return Promise.resolve(new Uint8Array(this.h.digest()));
  }
}

/** A request to the admin session API, signed by the real SigV4 signer of the AWS SDK. */
async function adminFetch(server: TestServer, method: string, path: string, query: Record<string, string> = {}, credentials = server.credentials) {
  const url = new URL(server.url);
  const signer = new SignatureV4({ service: 'sso', region: 'us-east-1', credentials, sha256: Sha256 });
  const signed = await signer.sign({ method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path, query, headers: { host: url.host } });
  const qs = new URLSearchParams(query).toString();
  const res = await fetch(`${server.url}${path}${qs ? `?${qs}` : ''}`, { method, headers: signed.headers });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

describe.each(dialects())('sign-in pages on %s', (dialect) => {
  let server: TestServer;
  let identityStoreId: string;
  const ctx = systemContext('sso.amazonaws.com', 'us-east-1', 'test');

  async function createUser(userName: string): Promise<string> {
    const client = new IdentitystoreClient(sdkOptions(server));
    const r = await client.send(new CreateUserCommand({ IdentityStoreId: identityStoreId, UserName: userName, DisplayName: userName, Name: { GivenName: 'A', FamilyName: 'B' } }));
    return r.UserId!;
  }

  async function userWithPassword(userName: string, password = STRONG): Promise<string> {
    const userId = await createUser(userName);
    await server.reg.auth.setPassword(ctx, userName, { password, oneTime: false });
    return userId;
  }

  const events = (eventName: string) =>
    server.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', '=', eventName).orderBy('seq').execute();

  beforeAll(async () => {
    server = await startServer(dialect);
    identityStoreId = server.init.identityStoreId;
  });
  afterAll(() => server?.close());

  it('first sign-in with a one-time password forces a change, then the session works, lists itself and signs out', async () => {
    await createUser('alice');
    const { password } = await server.reg.auth.setPassword(ctx, 'alice', { oneTime: true });
    const b = new Browser(server.url);

    const signedIn = await b.signIn('alice', password, '/start?x=1');
    expect(signedIn.status).toBe(303);
    expect(signedIn.headers.get('location')).toBe('/login/change-password?return_to=%2Fstart%3Fx%3D1');
    const cookie = signedIn.setCookies.find((c) => c.startsWith('atrium_session='))!;
    expect(cookie).toMatch(/HttpOnly/);
    expect(cookie).toMatch(/SameSite=Lax/);
    expect(cookie).not.toMatch(/Secure/);

    // Until the password is changed, the session is not usable.
    expect((await b.request('/api/portal/session')).status).toBe(401);
    const change = await b.request('/login/change-password?return_to=%2Fstart%3Fx%3D1');
    expect(change.status).toBe(200);
    expect(change.text).not.toContain('current_password');
    const csrf = Browser.csrfOf(change.text);
    const weak = await b.request('/login/change-password', { form: { csrf, return_to: '/start', new_password: 'short1!', confirm_password: 'short1!' } });
    expect(weak.status).toBe(400);
    expect(weak.text).toContain('8 to 64 characters');
    const same = await b.request('/login/change-password', { form: { csrf, return_to: '/start', new_password: password, confirm_password: password } });
    expect(same.status).toBe(400);
    expect(same.text).toContain('last 3 passwords');
    const changed = await b.request('/login/change-password', { form: { csrf, return_to: '/start?x=1', new_password: STRONG, confirm_password: STRONG } });
    expect(changed.status).toBe(303);
    expect(changed.headers.get('location')).toBe('/start?x=1');

    const me = await b.request('/api/portal/session');
    expect(me.status).toBe(200);
    const session = JSON.parse(me.text) as { sessionId: string; userName: string; expiresAt: number; csrfToken: string };
    expect(session.userName).toBe('alice');
    // The default duration is 8 hours.
    expect(session.expiresAt * 1000 - Date.now()).toBeGreaterThan(8 * 3600_000 - 60_000);
    expect(session.expiresAt * 1000 - Date.now()).toBeLessThanOrEqual(8 * 3600_000);
    const sessionCookie = b.cookies.get('atrium_session');
    const resolved = await server.reg.auth.resolveSession(sessionCookie);
    expect(resolved).toMatchObject({ sessionId: session.sessionId, userName: 'alice' });

    // A second browser: the first sees both sessions and ends the other one.
    const other = new Browser(server.url);
    expect((await other.signIn('alice', STRONG)).status).toBe(303);
    const list = JSON.parse((await b.request('/api/portal/sessions')).text) as { sessions: { sessionId: string; current: boolean }[] };
    expect(list.sessions).toHaveLength(2);
    const otherId = list.sessions.find((s) => !s.current)!.sessionId;
    expect((await b.request(`/api/portal/sessions/${otherId}`, { method: 'DELETE' })).status).toBe(403);
    expect((await b.request(`/api/portal/sessions/${otherId}`, { method: 'DELETE', headers: { 'x-csrf-token': 'nope' } })).status).toBe(403);
    expect((await b.request(`/api/portal/sessions/${otherId}`, { method: 'DELETE', headers: { 'x-csrf-token': session.csrfToken } })).status).toBe(204);
    expect((await other.request('/api/portal/session')).status).toBe(401);
    expect((await b.request(`/api/portal/sessions/${otherId}`, { method: 'DELETE', headers: { 'x-csrf-token': session.csrfToken } })).status).toBe(404);

    // Sign-out needs the session's CSRF token, and ends the session.
    const page = await b.request('/login/change-password');
    expect((await b.request('/logout', { form: { csrf: 'wrong' } })).status).toBe(403);
    const out = await b.request('/logout', { form: { csrf: Browser.csrfOf(page.text) } });
    expect(out.status).toBe(303);
    expect(out.headers.get('location')).toBe('/login');
    expect(b.cookies.has('atrium_session')).toBe(false);
    expect(await server.reg.auth.resolveSession(sessionCookie)).toBeUndefined();

    const auth = await events('UserAuthentication');
    expect(auth.some((e) => e.event_source === 'signin.amazonaws.com' && e.error_code === null)).toBe(true);
    expect((await events('UpdatePassword')).map((e) => e.error_code)).toEqual(['auth.password_policy', 'auth.password_reused', null]);
    expect((await events('Logout')).length).toBe(1);
    expect((await events('RevokeSession')).map((e) => e.error_code)).toEqual([null, 'auth.session_not_found']);
    const all = await server.reg.database.db.selectFrom('audit_events').selectAll().execute();
    const dump = JSON.stringify(all);
    expect(dump).not.toContain(password);
    expect(dump).not.toContain(STRONG);
    expect(dump).not.toContain('$argon2id$');
  });

  it("a password change ends the user's other sessions, and an administrator's reset ends them all", async () => {
    await userWithPassword('erin');
    const [a, b] = [new Browser(server.url), new Browser(server.url)];
    expect((await a.signIn('erin', STRONG)).status).toBe(303);
    expect((await b.signIn('erin', STRONG)).status).toBe(303);
    const page = await b.request('/login/change-password');
    const renewed = 'Wr8$nYq3!kMx';
    const form = { csrf: Browser.csrfOf(page.text), return_to: '/start', current_password: STRONG, new_password: renewed, confirm_password: renewed };
    expect((await b.request('/login/change-password', { form })).status).toBe(303);
    // Whoever held the other browser's session is out; this one stays signed in.
    expect((await a.request('/api/portal/session')).status).toBe(401);
    expect((await b.request('/api/portal/session')).status).toBe(200);
    expect((await server.reg.auth.listSessions('erin')).length).toBe(1);
    const changed = (await events('UpdatePassword')).at(-1)!;
    expect(changed.error_code).toBeNull();
    expect(changed.user_name).toBe('erin');
    // An administrator's reset signs the user out everywhere.
    await server.reg.auth.setPassword(ctx, 'erin', { oneTime: true });
    expect((await b.request('/api/portal/session')).status).toBe(401);
    expect(await server.reg.auth.listSessions('erin')).toEqual([]);
  });

  it('counts wrong current passwords at a password change as failed sign-ins, and throttles them', async () => {
    // A server of its own: this address's failures would count against the other tests'.
    const own = await startServer(dialect);
    try {
      const ids = new IdentitystoreClient(sdkOptions(own));
      await ids.send(new CreateUserCommand({ IdentityStoreId: own.init.identityStoreId, UserName: 'gina', DisplayName: 'G', Name: { GivenName: 'G', FamilyName: 'H' } }));
      await own.reg.auth.setPassword(ctx, 'gina', { password: STRONG, oneTime: false });
      const b = new Browser(own.url);
      expect((await b.signIn('gina', STRONG)).status).toBe(303);
      const csrf = Browser.csrfOf((await b.request('/login/change-password')).text);
      const change = (current: string) =>
        b.request('/login/change-password', { form: { csrf, return_to: '/start', current_password: current, new_password: 'Wr8$nYq3!kMx', confirm_password: 'Wr8$nYq3!kMx' } });
      // A stolen session cookie is no way to test passwords at will: the fifth failure starts the back-off.
      for (let i = 0; i < 5; i++) expect((await change('Guess#Numb3r' + i)).status).toBe(400);
      const throttled = await change(STRONG);
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
      // They counted against the user, as failed sign-ins do.
      expect((await new Browser(own.url).signIn('gina', STRONG)).status).toBe(429);
      const failures = await own.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', '=', 'CredentialVerification').where('error_code', '=', 'auth.wrong_password').execute();
      expect(failures).toHaveLength(5);
      expect(failures.every((e) => e.user_name === 'gina' && !(e.request_parameters ?? '').includes('Guess'))).toBe(true);
    } finally {
      await own.close();
    }
  });

  it('a wrong password and an unknown user get the same answer, and both are throttled with Retry-After', async () => {
    await userWithPassword('bob');
    const b = new Browser(server.url);
    const wrong = await b.signIn('bob', 'Wrong#Pass1x');
    const unknown = await b.signIn('nobody', 'Wrong#Pass1x');
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(unknown.text).toBe(wrong.text.replace('bob', 'nobody').replace('value="bob"', 'value="nobody"'));
    expect(wrong.setCookies).toEqual(unknown.setCookies);

    for (const name of ['bob', 'nobody']) {
      for (let i = 0; i < 3; i++) expect((await b.signIn(name, 'Wrong#Pass1x')).status).toBe(401);
      // The fifth failure starts the back-off: even the right password waits.
      expect((await b.signIn(name, 'Wrong#Pass1x')).status).toBe(401);
      const throttled = await b.signIn(name, STRONG);
      expect(throttled.status).toBe(429);
      expect(Number(throttled.headers.get('retry-after'))).toBeGreaterThan(0);
      expect(Number(throttled.headers.get('retry-after'))).toBeLessThanOrEqual(30);
    }
    const failures = await events('CredentialVerification');
    expect(failures.filter((e) => e.error_code === 'auth.failed').length).toBeGreaterThanOrEqual(10);
  });

  it('counts guesses at a name against one user however its accents are composed or its case typed', async () => {
    const name = 'ren\u00e9e';
    await userWithPassword(name);
    const b = new Browser(server.url);
    // Five wrong guesses, spread over the spellings that name the same user (NFD, upper case).
    for (const typed of [name, name.normalize('NFD'), name.toUpperCase(), name.toUpperCase().normalize('NFD'), name]) {
      expect((await b.signIn(typed, 'Wrong#Pass1x')).status).toBe(401);
    }
    expect((await b.signIn(name, STRONG)).status).toBe(429);
  });

  it('refuses POSTs without the right CSRF token', async () => {
    const b = new Browser(server.url);
    await b.request('/login');
    expect((await b.request('/login', { form: { username: 'alice' } })).status).toBe(403);
    expect((await b.request('/login', { form: { csrf: 'x'.repeat(43), username: 'alice' } })).status).toBe(403);
    // A token of another browser's pre-session is not this one's.
    const other = new Browser(server.url);
    const page = await other.request('/login');
    expect((await b.request('/login/password', { form: { csrf: Browser.csrfOf(page.text), username: 'alice', password: STRONG } })).status).toBe(403);
    expect((await new Browser(server.url).request('/logout', { form: { csrf: 'x' } })).status).toBe(403);
  });

  it('never redirects to another origin', async () => {
    await userWithPassword('carol');
    for (const evil of ['https://evil.example/', '//evil.example/x', '/\\evil.example', 'javascript:alert(1)', '/\t/evil.example']) {
      const b = new Browser(server.url);
      const r = await b.signIn('carol', STRONG, evil);
      expect(r.status).toBe(303);
      expect(r.headers.get('location')).toBe('/start');
    }
    const login = await new Browser(server.url).request('/login?return_to=https://evil.example/');
    expect(login.text).toContain('name="return_to" value="/start"');
  });

  it('applies the password policy', async () => {
    await createUser('dave');
    const set = (password: string) => server.reg.auth.setPassword(ctx, 'dave', { password, oneTime: false });
    await expect(set('Ab1!')).rejects.toThrow(/8 to 64/);
    await expect(set('Abcdefgh12')).rejects.toThrow(/symbol/);
    await expect(set('abcdefg1!x')).rejects.toThrow(/upper-case/);
    await expect(set('Password123!')).rejects.toThrow(/too common/);
    await expect(set('P@ssw0rd2024')).rejects.toThrow(/too common/);
    const history = ['First#Pass1', 'Second#Pass2', 'Third#Pass3'];
    for (const p of history) await set(p);
    for (const p of history) await expect(set(p)).rejects.toThrow(/last 3/);
    await set('Fourth#Pass4');
    // The oldest has left the history.
    await set('First#Pass1');
    const refused = await events('ResetPassword');
    expect(refused.filter((e) => e.error_code === 'auth.password_policy').length).toBe(5);
  });

  it('lets an administrator list and revoke any user\'s sessions through the SigV4-signed API', async () => {
    await userWithPassword('frank');
    const b = new Browser(server.url);
    expect((await b.signIn('frank', STRONG)).status).toBe(303);
    const listed = await adminFetch(server, 'GET', '/api/admin/sessions', { userName: 'frank' });
    expect(listed.status).toBe(200);
    const sessions = listed.json.Sessions as { SessionId: string; UserName: string }[];
    expect(sessions).toHaveLength(1);
    expect(sessions[0]!.UserName).toBe('frank');

    const unsigned = await fetch(`${server.url}/api/admin/sessions`);
    expect(unsigned.status).toBe(403);
    const forged = await adminFetch(server, 'GET', '/api/admin/sessions', {}, { accessKeyId: server.credentials.accessKeyId, secretAccessKey: 'x'.repeat(40) });
    expect(forged.status).toBe(403);
    expect(forged.json.__type).toBe('InvalidSignatureException');
    const unknownUser = await adminFetch(server, 'GET', '/api/admin/sessions', { userName: 'nobody-at-all' });
    expect(unknownUser.status).toBe(404);
    expect(unknownUser.json.__type).toBe('ResourceNotFoundException');

    const revoked = await adminFetch(server, 'DELETE', `/api/admin/sessions/${sessions[0]!.SessionId}`);
    expect(revoked).toEqual({ status: 200, json: { RevokedSessionIds: [sessions[0]!.SessionId] } });
    expect((await b.request('/api/portal/session')).status).toBe(401);
    expect((await adminFetch(server, 'DELETE', `/api/admin/sessions/${sessions[0]!.SessionId}`)).status).toBe(404);
    expect((await adminFetch(server, 'DELETE', '/api/admin/sessions', { userName: 'frank' })).json).toEqual({ RevokedSessionIds: [] });
    const [event] = await server.reg.database.db
      .selectFrom('audit_events')
      .selectAll()
      .where('event_name', '=', 'RevokeSession')
      .where('request_parameters', 'like', `%${sessions[0]!.SessionId}%`)
      .where('error_code', 'is', null)
      .execute();
    expect(JSON.parse(event!.user_identity)).toMatchObject({ accessKeyId: server.credentials.accessKeyId });
  });

  // Last: it locks out this test's address for the rest of the file.
  it('throttles an address that fails for many user names, even for a right password', async () => {
    await userWithPassword('grace');
    const b = new Browser(server.url);
    const page = await b.request('/login');
    const post = (username: string, password: string) =>
      b.request('/login/password', { form: { csrf: Browser.csrfOf(page.text), return_to: '/start', username, password } });
    let status = 0;
    let attempts = 0;
    // Each name fails once only, so no per-user limit applies: the address's limit must.
    while (attempts < 150 && (status = (await post(`spray-${attempts}`, 'Wrong#Pass1x')).status) === 401) attempts += 1;
    expect(status).toBe(429);
    expect(attempts).toBeGreaterThanOrEqual(50);
    const right = await post('grace', STRONG);
    expect(right.status).toBe(429);
    expect(Number(right.headers.get('retry-after'))).toBeGreaterThan(0);
  });
});
