// Sign-in protection over real HTTP, from many source addresses (127.0.0.x): 100 wrong passwords
// from one address, and 100 spread across addresses for one user, are throttled with exponential
// back-off and then locked out as configured; the right password during the lock-out fails, no
// answer tells whether the user exists, and failures and lock-outs are audited. Wrong MFA codes keep
// counting across password re-entries, and parallel guesses on one sign-in are checked no more
// often than the free failures allow (then that sign-in ends). Both databases.

import { existsSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Browser } from '../helpers/browser.js';
import { createUserWithPassword, adminCall, OATHTOOL, oathtool, registerTotpAtSignIn, setMfaSettings } from '../helpers/mfa.js';
import { dialects, startServer, type TestServer } from '../helpers/server.js';

const PASSWORD = 'Guard#Lock-8Wm';

interface Answer {
  status: number;
  retryAfter: number;
  body: string;
}

/** One HTTP exchange from `localAddress`, with the cookies given. */
function exchange(url: string, opts: { localAddress: string; method?: string; cookie?: string; form?: Record<string, string> }): Promise<Answer & { setCookie: string[]; location: string }> {
  const body = opts.form ? new URLSearchParams(opts.form).toString() : undefined;
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method: opts.method ?? (body ? 'POST' : 'GET'),
        localAddress: opts.localAddress,
        headers: { ...(opts.cookie ? { cookie: opts.cookie } : {}), ...(body ? { 'content-type': 'application/x-www-form-urlencoded' } : {}) },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode!, retryAfter: Number(res.headers['retry-after'] ?? 0), body: text, setCookie: res.headers['set-cookie'] ?? [], location: res.headers.location ?? '' }));
      },
    );
    req.on('error', reject);
    req.end(body);
  });
}

/** A password attempt as a browser at `ip` makes it: the sign-in page (its cookie and CSRF token), then the password step. */
async function attempt(server: TestServer, ip: string, userName: string, password: string): Promise<Answer> {
  const login = await exchange(`${server.url}/login`, { localAddress: ip });
  const cookie = login.setCookie.map((c) => c.split(';')[0]!).join('; ');
  const csrf = /name="csrf" value="([^"]+)"/.exec(login.body)![1]!;
  const r = await exchange(`${server.url}/login/password`, { localAddress: ip, cookie, form: { csrf, return_to: '/start', username: userName, password } });
  // The CSRF token and the name typed differ by request; everything else must not.
  return { status: r.status, retryAfter: r.retryAfter, body: r.body.replaceAll(csrf, 'CSRF').replaceAll(userName, 'USER') };
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const cookiesOf = (setCookie: string[]) => setCookie.map((c) => c.split(';')[0]!);
const csrfOf = (html: string) => /name="csrf" value="([^"]+)"/.exec(html)![1]!;

/** The password step at `ip` with the right password: its answer, and the cookies of the MFA step that follows. */
async function passwordStep(server: TestServer, ip: string, userName: string) {
  const login = await exchange(`${server.url}/login`, { localAddress: ip });
  const cookies = cookiesOf(login.setCookie);
  const r = await exchange(`${server.url}/login/password`, { localAddress: ip, cookie: cookies.join('; '), form: { csrf: csrfOf(login.body), return_to: '/start', username: userName, password: PASSWORD } });
  return { ...r, cookie: [...cookies, ...cookiesOf(r.setCookie)].join('; ') };
}

/** The MFA challenge page of a sign-in, then a code posted to it from `ip`. */
async function mfaAnswer(server: TestServer, ip: string, cookie: string, code: string) {
  const page = await exchange(`${server.url}/login/mfa?return_to=%2Fstart`, { localAddress: ip, cookie });
  if (page.status !== 200) return page;
  return exchange(`${server.url}/login/mfa`, { localAddress: ip, cookie, form: { csrf: csrfOf(page.body), return_to: '/start', code } });
}

/** A code of the right shape that the app shows only an hour from now: wrong now. */
const wrongCode = (secret: string) => oathtool(secret, Date.now() + 3_600_000);

describe.each(dialects())('sign-in protection on %s', (dialect) => {
  let server: TestServer;
  const events = (eventName: string) => server.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', '=', eventName).orderBy('seq').execute();

  const userWithPassword = (userName: string) => createUserWithPassword(server, userName, PASSWORD);

  /** 100 wrong passwords, waiting out each back-off as a patient attacker would; returns the answers. */
  async function bruteForce(next: (i: number) => { ip: string; userName: string }): Promise<Answer[]> {
    const answers: Answer[] = [];
    for (let i = 0; i < 100; i++) {
      const { ip, userName } = next(i);
      const a = await attempt(server, ip, userName, `Wrong#${i}-password`);
      answers.push(a);
      // Back-off is seconds here; the lock-out is minutes, and no one waits for it.
      if (a.status === 429 && a.retryAfter <= 2) await sleep(a.retryAfter * 1000 + 50);
    }
    return answers;
  }

  beforeAll(async () => {
    server = await startServer(dialect);
    const r = await adminCall(server, 'PUT', '/api/admin/sign-in-protection', {
      UserFreeFailures: 3,
      UserLockoutFailures: 6,
      IpFreeFailures: 10,
      IpLockoutFailures: 13,
      BackoffBaseSeconds: 1,
      BackoffMaxSeconds: 2,
      LockoutMinutes: 10,
    });
    expect(r.status, JSON.stringify(r.json)).toBe(200);
    expect(r.json).toMatchObject({ UserFreeFailures: 3, LockoutMinutes: 10, FailureWindowMinutes: 15 });
    expect((await adminCall(server, 'PUT', '/api/admin/sign-in-protection', { LockoutMinutes: 0 })).status).toBe(400);
    expect((await adminCall(server, 'PUT', '/api/admin/sign-in-protection', { Lockout: 1 })).status).toBe(400);
  });
  afterAll(() => server?.close());

  it('throttles 100 wrong passwords from one address, then locks it out; the right password from there fails, elsewhere it works', async () => {
    await userWithPassword('olga');
    const ip = '127.0.0.2';
    // Many user names from one address, real and not: only the address's own count stops them.
    const answers = await bruteForce((i) => ({ ip, userName: i === 1 ? 'olga' : `ghost-${i}` }));
    const failed = answers.filter((a) => a.status === 401).length;
    expect(failed).toBeLessThanOrEqual(13);
    expect(answers.slice(-50).every((a) => a.status === 429)).toBe(true);
    // Locked out for the configured 10 minutes, not a back-off of seconds.
    expect(answers.at(-1)!.retryAfter).toBeGreaterThan(500);
    expect(answers.at(-1)!.retryAfter).toBeLessThanOrEqual(600);

    const right = await attempt(server, ip, 'olga', PASSWORD);
    expect(right.status).toBe(429);
    // Another address is not locked: the right password works there (olga's own count is below her lock-out).
    expect((await attempt(server, '127.0.0.3', 'olga', PASSWORD)).status).toBe(303);

    const lockouts = await events('SignInLockout');
    expect(lockouts.some((e) => String(e.request_parameters).includes(ip))).toBe(true);
    expect((await events('CredentialVerification')).filter((e) => e.error_code === 'auth.throttled').length).toBeGreaterThan(50);
  });

  it('throttles 100 wrong passwords for one user spread across addresses, then locks the user out', async () => {
    await userWithPassword('victor');
    const answers = await bruteForce((i) => ({ ip: `127.0.1.${i + 1}`, userName: 'victor' }));
    expect(answers.filter((a) => a.status === 401).length).toBe(6);
    expect(answers.slice(-50).every((a) => a.status === 429 && a.retryAfter > 500)).toBe(true);
    // The right password, from an address never seen, fails during the lock-out.
    expect((await attempt(server, '127.0.2.1', 'victor', PASSWORD)).status).toBe(429);
    // Someone else signs in from the addresses the attack used.
    await userWithPassword('wendy');
    expect((await attempt(server, '127.0.1.1', 'wendy', PASSWORD)).status).toBe(303);
  });

  it('tells no more verdicts on parallel password guesses than the free failures allow, a right password among them included', async () => {
    await userWithPassword('petra');
    // Nineteen wrong passwords and the right one, all at once from twenty addresses: every one passes
    // the check before its hash, so only the check in the commit that would tell its verdict stops them.
    const answers = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt(server, `127.0.4.${i + 1}`, 'petra', i === 19 ? PASSWORD : `Wrong#${i}-petra`)));
    const wrongTold = answers.filter((a) => a.status === 401).length;
    const rightTold = answers.filter((a) => a.status === 303).length;
    // 3 free failures, and the fourth sets the first back-off: no failure after it is told.
    expect(wrongTold).toBeGreaterThanOrEqual(1);
    expect(wrongTold).toBeLessThanOrEqual(4);
    expect(rightTold).toBeLessThanOrEqual(1);
    expect(answers.filter((a) => a.status === 429).length).toBe(20 - wrongTold - rightTold);
  });

  it('answers an unknown user exactly as a real one, failures and back-off alike, in about the same time', async () => {
    await userWithPassword('uma');
    // A back-off longer than the test, so that a slow machine cannot see it lapse for one of the two.
    expect((await adminCall(server, 'PUT', '/api/admin/sign-in-protection', { BackoffBaseSeconds: 60, BackoffMaxSeconds: 120 })).status).toBe(200);
    const timed = async (ip: string, userName: string) => {
      const start = process.hrtime.bigint();
      const a = await attempt(server, ip, userName, 'Wrong#pass-1');
      return { a, ms: Number(process.hrtime.bigint() - start) / 1e6 };
    };
    // The first unknown name also makes the dummy hash: done here, untimed, for another name and address.
    await attempt(server, '127.0.5.1', 'nobody-else', 'Wrong#pass-1');
    const real: { a: Answer; ms: number }[] = [];
    const ghost: { a: Answer; ms: number }[] = [];
    for (let i = 0; i < 6; i++) {
      real.push(await timed(`127.0.3.${i + 1}`, 'uma'));
      ghost.push(await timed(`127.0.4.${i + 1}`, 'nobody-here'));
    }
    // Same statuses in the same order (401s, then 429s), and the same bodies.
    expect(ghost.map((g) => g.a.status)).toEqual(real.map((r) => r.a.status));
    for (let i = 0; i < real.length; i++) expect(ghost[i]!.a.body).toBe(real[i]!.a.body);
    // More told failures to time, from two more users and names (each name has three before its
    // back-off): the quickest of three alone can all fall on a moment another test is hashing.
    for (const n of [2, 3]) {
      await userWithPassword(`uma${n}`);
      for (let i = 0; i < 3; i++) {
        real.push(await timed(`127.0.${20 + 2 * n}.${i + 1}`, `uma${n}`));
        ghost.push(await timed(`127.0.${21 + 2 * n}.${i + 1}`, `nobody-here-${n}`));
      }
    }
    // The unknown user is checked against a dummy hash: the quickest times are close (a busy machine
    // only ever adds time, so the quickest of each is the steadiest; skipping the hash would show as
    // a fraction of it).
    const [r401, g401] = [real.filter((r) => r.a.status === 401).map((r) => r.ms), ghost.filter((g) => g.a.status === 401).map((g) => g.ms)];
    expect([r401.length, g401.length]).toEqual([9, 9]);
    expect(Math.min(...g401) / Math.min(...r401)).toBeGreaterThan(0.5);
    expect(Math.min(...g401) / Math.min(...r401)).toBeLessThan(2);
  });

  describe.skipIf(!existsSync(OATHTOOL))('second factor', () => {
    /** A user with an authenticator app registered at sign-in; returns its secret. */
    async function userWithTotp(userName: string): Promise<string> {
      await userWithPassword(userName);
      const b = new Browser(server.url);
      await b.signIn(userName, PASSWORD);
      const { secret, response } = await registerTotpAtSignIn(b);
      expect(response.status).toBe(303);
      return secret;
    }

    /** An MFA answer that checked the code: it says the code is wrong. */
    const wasChecked = (a: Answer) => a.body.includes('The code is not correct');
    /**
     * An MFA answer that tells nothing of the code: the user or address is locked (429), the flow's
     * answers are used up (401 without a verdict), or the sign-in is over (back to the password, no session).
     */
    const toldNothing = (a: Answer & { setCookie: string[]; location: string }) =>
      a.status === 429 ||
      (a.status === 401 && a.body.includes('Too many wrong answers') && !wasChecked(a)) ||
      (a.status === 303 && a.location.startsWith('/login?') && !a.setCookie.some((c) => c.startsWith('atrium_session=')));

    beforeAll(async () => {
      expect((await adminCall(server, 'PUT', '/api/admin/sign-in-protection', { BackoffBaseSeconds: 1, BackoffMaxSeconds: 2 })).status).toBe(200);
      await setMfaSettings(server, { Mode: 'ALWAYS_ON', NoDevice: 'REGISTER', AllowedDeviceTypes: ['TOTP'] });
    });

    it('keeps counting wrong MFA codes when the attacker re-enters the right password, then locks the user out', async () => {
      const secret = await userWithTotp('gina');
      const answers: Answer[] = [];
      // The attacker knows the password and guesses codes, from a new address each time.
      for (let i = 0; i < 20; i++) {
        const ip = `127.0.7.${i + 1}`;
        const step = await passwordStep(server, ip, 'gina');
        const a = step.status === 303 && step.location.startsWith('/login/mfa?') ? await mfaAnswer(server, ip, step.cookie, wrongCode(secret)) : step;
        answers.push(a);
        if (a.status === 429 && a.retryAfter <= 2) await sleep(a.retryAfter * 1000 + 50);
      }
      // UserFreeFailures 3, UserLockoutFailures 6: six codes checked at most, then locked out for minutes.
      expect(answers.filter((a) => a.status === 401).length).toBeLessThanOrEqual(6);
      expect(answers.slice(-5).every((a) => a.status === 429 && a.retryAfter > 500)).toBe(true);
      // The right password from a fresh address is refused during the lock-out.
      expect((await passwordStep(server, '127.0.7.200', 'gina')).status).toBe(429);
      expect((await events('SignInLockout')).some((e) => String(e.request_parameters).includes('gina'))).toBe(true);
    });

    /** A user with an authenticator app past their password at 127.0.`net`.1, then `codes` answered at once from as many addresses. */
    async function answersAtOnce(userName: string, net: number, codes: (secret: string) => string[]) {
      const secret = await userWithTotp(userName);
      const step = await passwordStep(server, `127.0.${net}.1`, userName);
      expect(step.location).toBe('/login/mfa?return_to=%2Fstart');
      const page = await exchange(`${server.url}/login/mfa?return_to=%2Fstart`, { localAddress: `127.0.${net}.1`, cookie: step.cookie });
      const csrf = csrfOf(page.body);
      const answers = await Promise.all(
        codes(secret).map((code, i) => exchange(`${server.url}/login/mfa`, { localAddress: `127.0.${net}.${i + 2}`, cookie: step.cookie, form: { csrf, return_to: '/start', code } })),
      );
      return { secret, cookie: step.cookie, csrf, answers };
    }

    it('checks parallel MFA guesses on one sign-in no more often than the free failures, then ends that sign-in', async () => {
      // Twenty wrong codes at once, from twenty addresses, on the same sign-in.
      const { secret, cookie, csrf, answers } = await answersAtOnce('hugo', 8, (secret) => Array.from({ length: 20 }, () => wrongCode(secret)));
      // Only three were checked: the others found the user locked (429) or the sign-in over.
      expect(answers.filter(wasChecked).length).toBeLessThanOrEqual(3);
      const checked = await server.reg.database.db.selectFrom('audit_events').select('error_code').where('event_name', '=', 'CredentialVerification').where('user_name', '=', 'hugo').where('error_code', '=', 'mfa.wrong_code').execute();
      expect(checked.length).toBeLessThanOrEqual(3);
      expect(answers.filter((a) => !wasChecked(a) && !toldNothing(a))).toEqual([]);
      // That sign-in is over: after the back-off, even the right code leads back to the password.
      await sleep(2100);
      const right = await exchange(`${server.url}/login/mfa`, { localAddress: '127.0.8.1', cookie, form: { csrf, return_to: '/start', code: oathtool(secret) } });
      expect(right.status).toBe(303);
      expect(right.location).toBe('/login?return_to=%2Fstart');
      expect(right.setCookie.some((c) => c.startsWith('atrium_session='))).toBe(false);
    });

    it('counts a right code sent among parallel wrong ones like any other: no more answers are checked than the free failures', async () => {
      // Nineteen wrong codes and, sent last, the right one (the next time step's, never used): all at once.
      const { answers } = await answersAtOnce('ivan', 9, (secret) => [...Array.from({ length: 19 }, () => wrongCode(secret)), oathtool(secret, Date.now() + 30_000)]);
      expect(answers.every((a) => [401, 429, 303].includes(a.status))).toBe(true);
      const signedIn = answers.filter((a) => a.setCookie.some((c) => c.startsWith('atrium_session=')));
      const wrong = await server.reg.database.db.selectFrom('audit_events').select('error_code').where('event_name', '=', 'CredentialVerification').where('user_name', '=', 'ivan').where('error_code', '=', 'mfa.wrong_code').execute();
      // UserFreeFailures 3: three answers checked at most, the right one included if it was one of them.
      expect(wrong.length + signedIn.length).toBeLessThanOrEqual(3);
      expect(answers.filter(wasChecked).length).toBe(wrong.length);
      expect(signedIn.length).toBeLessThanOrEqual(1);
      expect(answers.filter((a) => !wasChecked(a) && !signedIn.includes(a) && !toldNothing(a))).toEqual([]);
    });
  });
});
