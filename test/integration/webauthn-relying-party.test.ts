// Without a configured public URL, WebAuthn's relying party is taken from the Host the browser used.
// A Host no browser would send (`a b`, `[::1`) is not a URL: the pages answer it without a 500, and
// a real Host still gets its own relying party. Both databases.

import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { setMfaSettings } from '../helpers/mfa.js';
import { dialects, startServer, type TestServer } from '../helpers/server.js';

/** One exchange with the Host header given as it is. */
function exchange(url: string, host: string, opts: { method?: string; headers?: Record<string, string>; body?: string } = {}) {
  return new Promise<{ status: number; text: string; setCookie: string[] }>((resolve, reject) => {
    const req = httpRequest(url, { method: opts.method ?? 'GET', headers: { host, ...opts.headers } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode!, text, setCookie: res.headers['set-cookie'] ?? [] }));
    });
    req.on('error', reject);
    req.end(opts.body);
  });
}

describe.each(dialects())('the WebAuthn relying party from the Host header on %s', (dialect) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startServer(dialect);
    await setMfaSettings(server, { Mode: 'ALWAYS_ON', NoDevice: 'ALLOW', AllowedDeviceTypes: ['WEBAUTHN'], PasskeySignIn: true });
  });
  afterAll(() => server?.close());

  it('answers passkey options for a Host no browser would send without a 500, and a real Host with its own relying party', async () => {
    const login = await exchange(`${server.url}/login`, 'localhost');
    const cookie = login.setCookie.map((c) => c.split(';')[0]!).join('; ');
    const csrf = /data-csrf="([^"]+)"/.exec(login.text)![1]!;
    const options = (host: string) => exchange(`${server.url}/login/passkey/options`, host, { method: 'POST', headers: { cookie, 'x-csrf-token': csrf, 'content-type': 'application/json' }, body: '{}' });
    const real = await options('id.example.com:8443');
    expect(real.status).toBe(200);
    expect((JSON.parse(real.text) as { options: { rpId: string } }).options.rpId).toBe('id.example.com');
    for (const host of ['a b', '[::1', 'exa mple.com', '%']) {
      const odd = await options(host);
      expect(odd.status, `${host}: ${odd.text}`).toBeLessThan(500);
    }
  });
});
