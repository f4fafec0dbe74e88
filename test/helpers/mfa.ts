// MFA test helpers: the SigV4-signed admin API (MFA settings, users' devices), TOTP codes from
// Debian's oathtool (an independent RFC 6238 implementation), and the sign-in steps after the password.

import { execFileSync } from 'node:child_process';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { expect } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { Browser } from './browser.js';
import { sdkOptions, type TestServer } from './server.js';

/** The admin API, signed by the AWS SDK's own SigV4 signer over the exact body sent. */
export async function adminCall(server: TestServer, method: string, urlPath: string, body?: unknown) {
  const url = new URL(server.url);
  const text = body === undefined ? undefined : JSON.stringify(body);
  const headers: Record<string, string> = { host: url.host, ...(text === undefined ? {} : { 'content-type': 'application/json' }) };
  const signer = new SignatureV4({ service: 'sso', region: 'us-east-1', credentials: server.credentials, sha256: Hash.bind(null, 'sha256') });
  const signed = await signer.sign({ method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: urlPath, headers, body: text });
  const res = await fetch(server.url + urlPath, { method, headers: signed.headers, body: text });
  return { status: res.status, json: (await res.json()) as Record<string, unknown> };
}

/** A directory user (created through the real identitystore API) with a password; returns the user id. */
export async function createUserWithPassword(server: TestServer, userName: string, password: string): Promise<string> {
  const client = new IdentitystoreClient(sdkOptions(server));
  const r = await client.send(new CreateUserCommand({ IdentityStoreId: server.init.identityStoreId, UserName: userName, DisplayName: userName, Name: { GivenName: 'Test', FamilyName: 'User' } }));
  await server.reg.auth.setPassword(systemContext('sso.amazonaws.com', 'us-east-1', 'test'), userName, { password, oneTime: false });
  return r.UserId!;
}

/** Change the MFA settings through the admin API, as an administrator would. */
export async function setMfaSettings(server: TestServer, settings: Record<string, unknown>) {
  const r = await adminCall(server, 'PUT', '/api/admin/mfa/settings', settings);
  expect(r.status, JSON.stringify(r.json)).toBe(200);
  return r.json;
}

export const OATHTOOL = '/usr/bin/oathtool';

/** The TOTP code of `secret` (base32) at `atMs` (default now), computed by oathtool. */
export function oathtool(secret: string, atMs = Date.now()): string {
  return execFileSync(OATHTOOL, ['--totp', '-b', '-N', `@${Math.floor(atMs / 1000)}`, secret], { encoding: 'utf8' }).trim();
}

/** The enrolment a TOTP registration page shows: the secret, its id and the form's CSRF token. */
export function totpEnrolmentOf(html: string) {
  return {
    secret: /id="totp-secret">([A-Z2-7]+)</.exec(html)![1]!,
    enrolmentId: /name="enrolment_id" value="([0-9a-f]+)"/.exec(html)![1]!,
    csrf: Browser.csrfOf(html),
  };
}

/** Register an authenticator app at sign-in (state REGISTER); returns its secret and the final response. */
export async function registerTotpAtSignIn(b: Browser, returnTo = '/start', code = (secret: string) => oathtool(secret)) {
  const page = await b.request(`/login/mfa/register?return_to=${encodeURIComponent(returnTo)}`);
  expect(page.status).toBe(200);
  const e = totpEnrolmentOf(page.text);
  const done = await b.request('/login/mfa/register/totp', { form: { csrf: e.csrf, return_to: returnTo, enrolment_id: e.enrolmentId, name: 'Phone', code: code(e.secret) } });
  return { secret: e.secret, response: done };
}

/** Answer the MFA challenge page with a TOTP code. */
export async function answerTotp(b: Browser, code: string, returnTo = '/start') {
  const page = await b.request(`/login/mfa?return_to=${encodeURIComponent(returnTo)}`);
  expect(page.status).toBe(200);
  return b.request('/login/mfa', { form: { csrf: Browser.csrfOf(page.text), return_to: returnTo, code } });
}
