// Real peers that nobody on this project wrote: Debian's AWS CLI v2 and boto3. Old botocore ignores
// AWS_ENDPOINT_URL, so we redirect it the way botocore allows: endpoint rule sets in AWS_DATA_PATH.

import { execFile, execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createServer } from 'node:net';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { chromium, type Browser as ChromiumBrowser } from 'playwright-core';
import { afterAll } from 'vitest';

export const AWS_CLI = '/usr/bin/aws';
export const PYTHON = '/usr/bin/python3';
const BOTOCORE_DATA = ['/usr/lib/python3/dist-packages/awscli/botocore/data', '/usr/lib/python3/dist-packages/botocore/data'];
const SERVICES = ['sso-oidc', 'sso', 'sts', 'sso-admin', 'identitystore', 'organizations', 'cloudtrail'];

/** Whether a peer is here. Outside CI a missing one is skipped loudly; under CI=true it is a failure. */
export function peerAvailable(name: string, probe: () => boolean): boolean {
  if (probe()) return true;
  if (process.env.CI === 'true') throw new Error(`CI=true but the peer "${name}" is missing: .ci/run installs it`);
  console.warn(`\n*** peer "${name}" is not installed: its tests are SKIPPED (apt-get install ${name}) ***\n`);
  return false;
}

export const hasAwsCli = () => existsSync(AWS_CLI);
export const CHROMIUM = '/usr/bin/chromium';
export const hasChromium = () => existsSync(CHROMIUM);

/** Debian's Chromium, headless, through playwright-core (never a downloaded browser). */
export function launchChromium(): Promise<ChromiumBrowser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
  });
}
export const hasBoto3 = () => existsSync(PYTHON) && existsSync('/usr/lib/python3/dist-packages/boto3');

/**
 * The directories this test file made here, removed once its tests are done: a hook at the top level
 * of this module belongs to the file that imports it (each file gets the module afresh).
 */
const madeHere: string[] = [];
afterAll(() => {
  for (const dir of madeHere.splice(0)) rmSync(dir, { recursive: true, force: true });
});
const tempDir = (prefix: string): string => {
  const dir = mkdtempSync(path.join(tmpdir(), prefix));
  madeHere.push(dir);
  return dir;
};

/** Write endpoint rule sets that send every request of SERVICES to `url`; returns the AWS_DATA_PATH. */
export function endpointRuleSets(url: string): string {
  const out = tempDir('atrium-aws-models-');
  for (const data of BOTOCORE_DATA.filter(existsSync)) {
    for (const service of SERVICES.filter((s) => existsSync(path.join(data, s)))) {
      for (const version of readdirSync(path.join(data, service))) {
        const dir = path.join(data, service, version);
        const file = readdirSync(dir).find((f) => f.startsWith('endpoint-rule-set-1.json'));
        if (!file) continue;
        const raw = readFileSync(path.join(dir, file));
        const original = JSON.parse((file.endsWith('.gz') ? gunzipSync(raw) : raw).toString('utf8')) as { version?: string; parameters: unknown };
        const endpoint = (u: unknown) => ({ url: u, properties: {}, headers: {} });
        const ruleSet = {
          version: original.version ?? '1.0',
          parameters: original.parameters,
          rules: [
            { conditions: [{ fn: 'isSet', argv: [{ ref: 'Endpoint' }] }], endpoint: endpoint({ ref: 'Endpoint' }), type: 'endpoint' },
            { conditions: [], endpoint: endpoint(url), type: 'endpoint' },
          ],
        };
        mkdirSync(path.join(out, service, version), { recursive: true });
        writeFileSync(path.join(out, service, version, 'endpoint-rule-set-1.json'), JSON.stringify(ruleSet));
      }
    }
  }
  return out;
}

export interface PeerEnv {
  [k: string]: string;
}

/** The environment an unchanged client needs: credentials, region, and the redirect. */
export function peerEnv(url: string, credentials: { accessKeyId: string; secretAccessKey: string }): PeerEnv {
  const home = tempDir('atrium-peer-home-');
  return {
    PATH: '/usr/bin:/bin',
    HOME: home,
    AWS_DATA_PATH: endpointRuleSets(url),
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_DEFAULT_REGION: 'us-east-1',
    AWS_CONFIG_FILE: path.join(home, 'config'),
    AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'credentials'),
    AWS_PAGER: '',
    AWS_MAX_ATTEMPTS: '1',
  };
}

/** An sso-session profile `dev` in the peer's AWS_CONFIG_FILE, as `aws configure sso` would write it. */
export function writeSsoProfile(env: PeerEnv, startUrl: string, accountId: string, roleName: string): void {
  writeFileSync(
    env.AWS_CONFIG_FILE!,
    [
      '[sso-session local]',
      `sso_start_url = ${startUrl}`,
      'sso_region = us-east-1',
      'sso_registration_scopes = sso:account:access',
      '[profile dev]',
      'sso_session = local',
      `sso_account_id = ${accountId}`,
      `sso_role_name = ${roleName}`,
      'region = us-east-1',
      '',
    ].join('\n'),
  );
}

export function run(cmd: string, args: string[], env: PeerEnv, input?: string): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = execFile(cmd, args, { env, timeout: 60_000, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
    if (input !== undefined) child.stdin?.end(input);
  });
}

// ---- SimpleSAMLphp as a real SAML IdP, and a browser made of fetch for the pages between ----

export const PHP = '/usr/bin/php';
const SIMPLESAMLPHP_WWW = '/usr/share/simplesamlphp/www';
const SIMPLESAMLPHP_FIXTURE = path.resolve(import.meta.dirname, '../peers/simplesamlphp');
/** SimpleSAMLphp and the PHP extensions it needs (php-xml's dom, php-mbstring). */
export const hasSimpleSamlPhp = () => {
  if (!existsSync(PHP) || !existsSync(SIMPLESAMLPHP_WWW)) return false;
  try {
    execFileSync(PHP, ['-r', 'exit(extension_loaded("dom") && extension_loaded("mbstring") && extension_loaded("openssl") ? 0 : 1);'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
};

export interface SimpleSamlPhp {
  /** Its base URL: the IdP's metadata is at /saml2/idp/metadata.php, its entity id too. */
  url: string;
  metadataUrl: string;
  /** Give it our SP's metadata (saml20-sp-remote reads this file on every request). */
  trustSp(spMetadataXml: string): void;
  /** Its log (warnings and errors), to explain a failure. */
  log(): string;
  stop(): Promise<void>;
}

/** A free loopback port: listen on 0, note the port, close. */
async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Debian's SimpleSAMLphp 1.19 under `php -S`, as an IdP with an exampleauth:UserPass source holding
 * `users` (user name → password; the uid, and so the NameID, is the user name). Its key is made here.
 */
export async function startSimpleSamlPhp(users: Record<string, string>): Promise<SimpleSamlPhp> {
  const state = mkdtempSync(path.join(tmpdir(), 'atrium-simplesamlphp-'));
  mkdirSync(path.join(state, 'tmp'));
  mkdirSync(path.join(state, 'sessions'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=simplesamlphp-test-idp', '-keyout', path.join(state, 'idp.key'), '-out', path.join(state, 'idp.crt')], {
    stdio: 'ignore',
  });
  const port = await freePort();
  const url = `http://127.0.0.1:${port}`;
  const sources = Object.fromEntries(Object.entries(users).map(([name, password]) => [`${name}:${password}`, { uid: [name], mail: [`${name}@example.com`] }]));
  const child = spawn(PHP, ['-d', `session.save_path=${path.join(state, 'sessions')}`, '-d', 'display_errors=stderr', '-S', `127.0.0.1:${port}`, '-t', SIMPLESAMLPHP_WWW], {
    cwd: state,
    env: {
      PATH: '/usr/bin:/bin',
      SIMPLESAMLPHP_CONFIG_DIR: path.join(SIMPLESAMLPHP_FIXTURE, 'config'),
      ATRIUM_SSP_STATE: state,
      ATRIUM_SSP_SECRET: randomBytes(16).toString('hex'),
      ATRIUM_SSP_USERS: JSON.stringify(sources),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr = (stderr + d.toString()).slice(-20_000)));
  const metadataUrl = `${url}/saml2/idp/metadata.php`;
  for (let i = 0; ; i++) {
    const ok = await fetch(metadataUrl).then((r) => r.status === 200, () => false);
    if (ok) break;
    if (i > 100 || child.exitCode !== null) throw new Error(`SimpleSAMLphp did not start: ${stderr}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    url,
    metadataUrl,
    trustSp: (xml) => writeFileSync(path.join(state, 'sp-metadata.xml'), xml),
    log: () => {
      const file = path.join(state, 'simplesamlphp.log');
      return (existsSync(file) ? readFileSync(file, 'utf8') : '') + stderr.split('\n').filter((l) => !/Accepted|Closing|\[\d{3}\]:/.test(l)).join('\n');
    },
    async stop() {
      if (child.exitCode === null) {
        child.kill('SIGTERM');
        await new Promise((r) => child.once('exit', r));
      }
      rmSync(state, { recursive: true, force: true });
    },
  };
}

export interface WebResponse {
  url: string;
  status: number;
  /** The Location header made absolute, if any. */
  location?: string;
  text: string;
}

export interface HtmlForm {
  action: string;
  method: string;
  fields: Record<string, string>;
}

const decodeEntities = (s: string) =>
  s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_m, e: string) =>
    e[0] === '#' ? String.fromCodePoint(e[1]!.toLowerCase() === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1))) : ({ amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" } as Record<string, string>)[e.toLowerCase()]!,
  );
const attributeOf = (tag: string, name: string) => {
  const m = new RegExp(`\\s${name}\\s*=\\s*(?:"([^"]*)"|'([^']*)')`, 'i').exec(tag);
  return m ? decodeEntities(m[1] ?? m[2] ?? '') : undefined;
};

/** The forms of a page: action (absolute), method, and the inputs' names and values. */
export function formsOf(html: string, pageUrl: string): HtmlForm[] {
  return [...html.matchAll(/<form\b([^>]*)>([\s\S]*?)<\/form>/gi)].map((m) => {
    const fields: Record<string, string> = {};
    for (const input of m[2]!.matchAll(/<input\b[^>]*>/gi)) {
      const name = attributeOf(input[0], 'name');
      if (name && !['submit', 'button'].includes((attributeOf(input[0], 'type') ?? '').toLowerCase())) fields[name] = attributeOf(input[0], 'value') ?? '';
    }
    return { action: new URL(attributeOf(m[1]!, 'action') ?? pageUrl, pageUrl).toString(), method: (attributeOf(m[1]!, 'method') ?? 'get').toLowerCase(), fields };
  });
}

/**
 * A browser made of fetch, for server-rendered pages on several origins (Atrium and an IdP): cookies
 * kept per host, as browsers do (ports share them), and redirects followed only when asked.
 */
export class WebClient {
  private readonly jars = new Map<string, Map<string, string>>();
  /** Every URL visited, in order. */
  readonly visited: string[] = [];

  cookies(url: string): Map<string, string> {
    const host = new URL(url).hostname;
    let jar = this.jars.get(host);
    if (!jar) this.jars.set(host, (jar = new Map<string, string>()));
    return jar;
  }

  async request(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<WebResponse> {
    const jar = this.cookies(url);
    const headers: Record<string, string> = {};
    if (jar.size) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    if (init.form) headers['content-type'] = 'application/x-www-form-urlencoded';
    this.visited.push(url);
    const res = await fetch(url, { method: init.method ?? (init.form ? 'POST' : 'GET'), headers, body: init.form ? new URLSearchParams(init.form).toString() : undefined, redirect: 'manual' });
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const eq = pair!.indexOf('=');
      const [name, value] = [pair!.slice(0, eq).trim(), pair!.slice(eq + 1)];
      if (/max-age=0|expires=thu, 01 jan 1970/i.test(c) || value === '' || value === 'deleted') jar.delete(name);
      else jar.set(name, value);
    }
    const location = res.headers.get('location');
    return { url, status: res.status, location: location ? new URL(location, url).toString() : undefined, text: await res.text() };
  }

  /** Request `url`, then follow redirects (as GETs) until a page answers; at most 15 hops. */
  async follow(url: string, init: { method?: string; form?: Record<string, string> } = {}): Promise<WebResponse> {
    let res = await this.request(url, init);
    for (let hops = 0; res.status >= 300 && res.status < 400 && res.location; hops++) {
      if (hops >= 15) throw new Error(`too many redirects from ${url}`);
      res = await this.request(res.location);
    }
    return res;
  }

  /** Submit a page's form (the first, or the one whose action matches), with `values` over its own fields. */
  submit(page: WebResponse, values: Record<string, string> = {}, action?: RegExp): Promise<WebResponse> {
    const form = formsOf(page.text, page.url).find((f) => !action || action.test(f.action));
    if (!form) throw new Error(`no form${action ? ` with action ${String(action)}` : ''} on ${page.url} (${page.status}): ${page.text.slice(0, 500)}`);
    const fields = { ...form.fields, ...values };
    if (form.method === 'post') return this.follow(form.action, { form: fields });
    const target = new URL(form.action);
    for (const [k, v] of Object.entries(fields)) target.searchParams.set(k, v);
    return this.follow(target.toString());
  }
}

/** A running `aws sso login --no-browser`: the code and link it printed, and how it ended. */
export interface SsoLogin {
  userCode: string;
  verificationUrl: string;
  /** Waits up to 30 s for the CLI to exit (killing it after that, code -1); its whole output. */
  finish: () => Promise<{ code: number; stdout: string; stderr: string }>;
}

/**
 * Starts Debian's `aws sso login --profile PROFILE --no-browser`. The CLI prints the code and then
 * polls, so its output is read as it comes, not at exit.
 */
export async function startSsoLogin(env: PeerEnv, profile = 'dev'): Promise<SsoLogin> {
  const child = spawn(AWS_CLI, ['sso', 'login', '--profile', profile, '--no-browser'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  let stderr = '';
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exited = new Promise<number>((resolve) => child.on('close', (code) => resolve(code ?? 1)));
  const [userCode, verificationUrl] = await new Promise<[string, string]>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no user code printed; stdout: ${stdout} stderr: ${stderr}`)), 30_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const code = /\b([B-Z]{4}-[B-Z]{4})\b/.exec(stdout);
      const url = /(http\S+\/device\?user_code=\S+)/.exec(stdout);
      if (code && url) {
        clearTimeout(timer);
        resolve([code[1]!, url[1]!]);
      }
    });
  });
  return {
    userCode,
    verificationUrl,
    finish: async () => {
      const code = await Promise.race([exited, new Promise<number>((resolve) => setTimeout(() => resolve(-1), 30_000))]);
      if (code === -1) child.kill();
      return { code, stdout, stderr };
    },
  };
}
