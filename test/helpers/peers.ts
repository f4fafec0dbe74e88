// Real peers that nobody on this project wrote: Debian's AWS CLI v2 and boto3. Old botocore ignores
// AWS_ENDPOINT_URL, so we redirect it the way botocore allows: endpoint rule sets in AWS_DATA_PATH.

import { execFile } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { chromium, type Browser as ChromiumBrowser } from 'playwright-core';

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

/** Write endpoint rule sets that send every request of SERVICES to `url`; returns the AWS_DATA_PATH. */
export function endpointRuleSets(url: string): string {
  const out = mkdtempSync(path.join(tmpdir(), 'atrium-aws-models-'));
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
  const home = mkdtempSync(path.join(tmpdir(), 'atrium-peer-home-'));
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
