// A browser without a browser, for server-rendered pages: fetch with a cookie jar that never
// follows redirects by itself, and the sign-in steps as a person takes them.

import { expect } from 'vitest';

/** What the portal's credentials route answers with. */
export type PortalCreds = { accessKeyId?: string; secretAccessKey?: string; sessionToken?: string };

/** A browser: keeps cookies, never follows redirects by itself. */
export class Browser {
  readonly cookies = new Map<string, string>();
  constructor(private readonly base: string) {}

  async request(path: string, init: { method?: string; form?: Record<string, string>; headers?: Record<string, string> } = {}) {
    const headers: Record<string, string> = { ...init.headers };
    if (this.cookies.size) headers.cookie = [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    const res = await fetch(this.base + path, {
      method: init.method ?? (init.form ? 'POST' : 'GET'),
      headers,
      body: init.form ? new URLSearchParams(init.form).toString() : undefined,
      redirect: 'manual',
    });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const [name, value] = [pair!.slice(0, eq), pair!.slice(eq + 1)];
      if (/Max-Age=0/.test(c)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return { status: res.status, headers: res.headers, text: await res.text(), setCookies: res.headers.getSetCookie() };
  }

  /** The CSRF token of the last page's form. */
  static csrfOf(html: string): string {
    return /name="csrf" value="([^"]+)"/.exec(html)![1]!;
  }

  /** Username step then password step; returns the password step's response. */
  async signIn(userName: string, password: string, returnTo = '/start') {
    const login = await this.request(`/login?return_to=${encodeURIComponent(returnTo)}`);
    const step1 = await this.request('/login', { form: { csrf: Browser.csrfOf(login.text), return_to: returnTo, username: userName } });
    expect(step1.status).toBe(200);
    expect(step1.text).toContain('name="password"');
    return this.request('/login/password', { form: { csrf: Browser.csrfOf(step1.text), return_to: returnTo, username: userName, password } });
  }

  /** Role credentials from the access portal app, with this browser's portal session and CSRF token. */
  async portalCredentials(accountId: string, roleName: string): Promise<{ status: number; creds: PortalCreds }> {
    const session = await this.request('/api/portal/session');
    const csrf = session.status === 200 ? (JSON.parse(session.text) as { csrfToken: string }).csrfToken : 'none';
    const res = await fetch(`${this.base}/api/portal/credentials`, {
      method: 'POST',
      headers: { cookie: [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'content-type': 'application/json', 'x-csrf-token': csrf },
      body: JSON.stringify({ accountId, roleName }),
    });
    return { status: res.status, creds: (await res.json()) as PortalCreds };
  }
}
