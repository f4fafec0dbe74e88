// The second step of sign-in (a TOTP code, or a security key through WebAuthn), registering a first
// device when the MFA settings require one, passkey-only sign-in, and the user's own device page.
// WebAuthn runs in the browser through @simplewebauthn/browser, served from /assets with our script.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import QRCode from 'qrcode';
import { PASSKEYS_OFF, type MfaDeviceView, type MfaUser, type PortalSession, type RelyingParty, type SignedIn, type SignInResult } from '../../auth/index.js';
import { HIDDEN } from '../../audit/index.js';
import { isDomainError } from '../../shared/errors.js';
import { csrfMatches, csrfTokenOf, MFA_FLOW_COOKIE, readCookie, REMEMBER_COOKIE, SESSION_COOKIE } from './cookies.js';
import type { WebDeps } from './index.js';
import { escape, page } from './pages.js';
import { STEP_UP_PATH } from './signed-in.js';
import { formOf, safeReturnTo } from './signin.js';

const BROWSER_BUNDLE_PATH = '/assets/simplewebauthn-browser.js';
const SCRIPT_PATH = '/assets/mfa.js';
/** Pages with WebAuthn run our two scripts and show the QR code as a data: image; nothing else. */
const MFA_CSP = "default-src 'none'; script-src 'self'; connect-src 'self'; img-src data:; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'";
const EXPIRED = 'This sign-in expired: start again.';
const DEVICES_PATH = '/mfa/devices';

/** The browser side: every [data-webauthn] button fetches options, calls the authenticator, posts the answer, then follows `location`. */
const MFA_SCRIPT = `'use strict';
document.querySelectorAll('[data-webauthn]').forEach(function (button) {
  button.addEventListener('click', async function (event) {
    event.preventDefault();
    var status = document.getElementById('webauthn-status');
    var headers = { 'content-type': 'application/json', 'x-csrf-token': button.dataset.csrf };
    var body = {};
    var nameInput = button.dataset.nameInput ? document.getElementById(button.dataset.nameInput) : null;
    if (nameInput) body.name = nameInput.value;
    if (button.dataset.passkey) body.passkey = button.dataset.passkey === 'true';
    try {
      var r = await fetch(button.dataset.optionsUrl, { method: 'POST', headers: headers, body: JSON.stringify(body) });
      var o = await r.json();
      if (!r.ok) throw new Error(o.message);
      var lib = window.SimpleWebAuthnBrowser;
      var response = button.dataset.webauthn === 'register' ? await lib.startRegistration({ optionsJSON: o.options }) : await lib.startAuthentication({ optionsJSON: o.options });
      body.challengeId = o.challengeId;
      body.response = response;
      var f = await fetch(button.dataset.finishUrl, { method: 'POST', headers: headers, body: JSON.stringify(body) });
      var d = await f.json();
      if (!f.ok) throw new Error(d.message);
      location.assign(d.location);
    } catch (err) {
      status.textContent = (err && err.message) || String(err);
    }
  });
});
`;

let browserBundle: string | undefined;
function browserBundleSource(): string {
  // The package exports only its modules; its UMD bundle sits beside them.
  const main = createRequire(import.meta.url).resolve('@simplewebauthn/browser');
  browserBundle ??= readFileSync(path.join(path.dirname(main), '..', 'dist', 'bundle', 'index.umd.min.js'), 'utf8');
  return browserBundle;
}

const html = (reply: FastifyReply, status: number, title: string, body: string) =>
  reply.status(status).header('content-security-policy', MFA_CSP).type('text/html; charset=utf-8').send(page(title, body));
const scripts = `<p id="webauthn-status" class="error" role="alert"></p><script src="${BROWSER_BUNDLE_PATH}"></script><script src="${SCRIPT_PATH}"></script>`;
const errorLine = (error?: string) => (error ? `<p class="error" role="alert">${escape(error)}</p>` : '');

function webauthnButton(kind: 'register' | 'authenticate', label: string, attrs: { csrf: string; optionsUrl: string; finishUrl: string; nameInput?: string; passkey?: boolean; id: string }): string {
  return (
    `<button type="button" id="${attrs.id}" data-webauthn="${kind}" data-csrf="${escape(attrs.csrf)}" data-options-url="${escape(attrs.optionsUrl)}" data-finish-url="${escape(attrs.finishUrl)}"` +
    `${attrs.nameInput ? ` data-name-input="${attrs.nameInput}"` : ''}${attrs.passkey === undefined ? '' : ` data-passkey="${attrs.passkey}"`}>${escape(label)}</button>`
  );
}

/** A string field of a JSON body, or '' (an object or number is not a string). */
const text = (value: unknown) => (typeof value === 'string' ? value : '');

/** The JSON body of a script's POST (the root parser may hand it over as raw bytes). */
function jsonBody(request: FastifyRequest): Record<string, unknown> {
  const body = request.body;
  if (Buffer.isBuffer(body)) {
    try {
      const parsed = JSON.parse(body.toString('utf8')) as unknown;
      return typeof parsed === 'object' && parsed !== null ? (parsed as Record<string, unknown>) : {};
    } catch {
      return {};
    }
  }
  return typeof body === 'object' && body !== null ? (body as Record<string, unknown>) : {};
}

/** The session's new cookie once it passed a second factor: its token changed (AuthService.stepUp, markSessionMfa). */
function renewedSession(jar: WebDeps['jar'], reply: FastifyReply, session: PortalSession, token: string): FastifyReply {
  jar.set(reply, SESSION_COOKIE, token, Math.max(0, Math.floor((session.expiresAt - Date.now()) / 1000)));
  return reply;
}

/**
 * The WebAuthn relying party: the configured public URL, else the Host the browser used
 * (development). A Host no browser would send (`a b`, `[::1`) is not a URL: the relying party is
 * then `localhost`, whose ceremonies no browser at that Host can complete, not a 500.
 */
export function relyingPartyOf({ reg }: Pick<WebDeps, 'reg'>, request: FastifyRequest): RelyingParty {
  const base = reg.config.publicUrl ?? `${request.protocol}://${request.headers.host ?? 'localhost'}`;
  const url = URL.canParse(base) ? new URL(base) : new URL(`${request.protocol}://localhost`);
  return { rpId: url.hostname.replace(/^\[|\]$/g, ''), origin: url.origin };
}

const TOTP_FORM_FIELDS = (enrolmentId: string) =>
  `<input type="hidden" name="enrolment_id" value="${escape(enrolmentId)}">` +
  '<label for="device_name">Device name</label><input id="device_name" name="name" type="text" required maxlength="64" value="Authenticator app">' +
  '<label for="code">Code from the app</label><input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required pattern="[0-9]{6}">';

async function totpEnrolmentBlock(enrolment: { enrolmentId: string; secret: string; uri: string }, action: string, csrf: string, returnTo: string, error?: string): Promise<string> {
  const qr = await QRCode.toDataURL(enrolment.uri, { margin: 1, width: 200 });
  return (
    '<h2>Authenticator app</h2>' +
    `<p>Scan this code with your authenticator app, or enter the secret by hand.</p><img id="totp-qr" alt="QR code of the secret" src="${qr}" width="200" height="200">` +
    `<p>Secret: <code id="totp-secret">${escape(enrolment.secret)}</code></p>` +
    errorLine(error) +
    `<form method="post" action="${action}"><input type="hidden" name="csrf" value="${escape(csrf)}"><input type="hidden" name="return_to" value="${escape(returnTo)}">` +
    `${TOTP_FORM_FIELDS(enrolment.enrolmentId)}<button type="submit">Register the app</button></form>`
  );
}

export function registerMfaPages(app: FastifyInstance, deps: WebDeps): void {
  const { reg, jar, context } = deps;

  app.get(BROWSER_BUNDLE_PATH, (_request, reply) => reply.type('text/javascript; charset=utf-8').header('cache-control', 'public, max-age=3600').send(browserBundleSource()));
  app.get(SCRIPT_PATH, (_request, reply) => reply.type('text/javascript; charset=utf-8').send(MFA_SCRIPT));

  /** Set the cookies of a finished sign-in and send the browser on. */
  const finish = (reply: FastifyReply, result: SignedIn, returnTo: string, json: boolean) => {
    jar.set(reply, SESSION_COOKIE, result.token, Math.floor((result.session.expiresAt - result.session.createdAt) / 1000));
    jar.clear(reply, MFA_FLOW_COOKIE);
    if (result.rememberToken) jar.set(reply, REMEMBER_COOKIE, result.rememberToken, 365 * 86_400);
    const location = result.session.mustChangePassword ? `/login/change-password?return_to=${encodeURIComponent(returnTo)}` : returnTo;
    return json ? reply.send({ location }) : reply.redirect(location, 303);
  };

  /** Answer a second-factor attempt: a session, or the reason it failed. */
  const answer = (reply: FastifyReply, result: SignInResult | SignedIn, returnTo: string, json: boolean, again: (error: string, status: number) => Promise<unknown>) => {
    if (result.kind === 'ok') return finish(reply, result, returnTo, json);
    if (result.kind === 'throttled') reply.header('retry-after', String(result.retryAfterSeconds));
    const message = result.kind === 'throttled' ? 'Too many failed attempts. Wait a while before you try again.' : result.kind === 'failed' ? (result.message ?? EXPIRED) : EXPIRED;
    const status = result.kind === 'throttled' ? 429 : 401;
    if (json) return reply.status(status).send({ message });
    return again(message, status);
  };

  /** The waiting flow of this browser and its CSRF check, or undefined. */
  const flowOf = async (request: FastifyRequest, csrf?: unknown) => {
    const token = readCookie(request, MFA_FLOW_COOKIE);
    const flow = await reg.auth.findMfaFlow(token);
    if (!flow || (csrf !== undefined && !csrfMatches(token, csrf))) return undefined;
    return { flow, token: token!, csrf: csrfTokenOf(token!) };
  };
  const restart = (reply: FastifyReply, returnTo: string) => reply.redirect(`/login?return_to=${encodeURIComponent(returnTo)}`, 303);
  const jsonDenied = (reply: FastifyReply, status: number, message: string) => reply.status(status).send({ message });

  // ---- the challenge ----

  const challengePage = async (reply: FastifyReply, flow: { user: MfaUser }, csrf: string, returnTo: string, status = 200, error?: string, base = '/login/mfa') => {
    const devices = await reg.mfa.usableDevices(flow.user);
    const back = `?return_to=${encodeURIComponent(returnTo)}`;
    let body = `<p>Signing in as <strong>${escape(flow.user.userName)}</strong>. Confirm it is you with your MFA device.</p>${errorLine(error)}`;
    if (devices.some((d) => d.type === 'TOTP')) {
      body +=
        `<form method="post" action="${base}"><input type="hidden" name="csrf" value="${escape(csrf)}"><input type="hidden" name="return_to" value="${escape(returnTo)}">` +
        '<label for="code">Code from your authenticator app</label><input id="code" name="code" type="text" inputmode="numeric" autocomplete="one-time-code" required>' +
        '<button type="submit">Verify</button></form>';
    }
    if (devices.some((d) => d.type === 'WEBAUTHN')) {
      body += webauthnButton('authenticate', 'Use your security key or passkey', { id: 'webauthn-authenticate', csrf, optionsUrl: `${base}/webauthn/options`, finishUrl: `${base}/webauthn${back}` }) + scripts;
    }
    return html(reply, status, 'Multi-factor authentication', body);
  };

  app.get('/login/mfa', async (request, reply) => {
    const returnTo = safeReturnTo((request.query as Record<string, unknown>).return_to);
    const current = await flowOf(request);
    if (!current) return restart(reply, returnTo);
    if (current.flow.state === 'REGISTER') return reply.redirect(`/login/mfa/register?return_to=${encodeURIComponent(returnTo)}`, 303);
    return challengePage(reply, current.flow, current.csrf, returnTo);
  });

  app.post('/login/mfa', async (request, reply) => {
    const fields = formOf(request);
    const returnTo = safeReturnTo(fields.get('return_to'));
    const current = await flowOf(request, fields.get('csrf'));
    if (!current) return restart(reply, returnTo);
    const result = await reg.auth.completeSecondFactor(await context(request), current.flow, relyingPartyOf(deps, request), { type: 'TOTP', code: (fields.get('code') ?? '').slice(0, 16) });
    return answer(reply, result, returnTo, false, (error, status) => challengePage(reply, current.flow, current.csrf, returnTo, status, error));
  });

  app.post('/login/mfa/webauthn/options', async (request, reply) => {
    const current = await flowOf(request, request.headers['x-csrf-token']);
    if (!current || current.flow.state !== 'CHALLENGE') return jsonDenied(reply, 403, EXPIRED);
    return reply.send(await reg.mfa.beginWebauthnAuthentication(current.flow.user, relyingPartyOf(deps, request)));
  });

  app.post('/login/mfa/webauthn', async (request, reply) => {
    const returnTo = safeReturnTo((request.query as Record<string, unknown>).return_to);
    const current = await flowOf(request, request.headers['x-csrf-token']);
    if (!current) return jsonDenied(reply, 403, EXPIRED);
    const body = jsonBody(request);
    const result = await reg.auth.completeSecondFactor(await context(request), current.flow, relyingPartyOf(deps, request), {
      type: 'WEBAUTHN',
      challengeId: text(body.challengeId),
      response: body.response,
    });
    return answer(reply, result, returnTo, true, () => Promise.resolve());
  });

  // ---- a first device, registered during sign-in ----

  const registerPage = async (reply: FastifyReply, flow: { user: MfaUser }, csrf: string, returnTo: string, status = 200, error?: string) => {
    const settings = await reg.mfa.settings();
    const back = `?return_to=${encodeURIComponent(returnTo)}`;
    let body = `<p>Your administrator requires multi-factor authentication. Register a device to finish signing in as <strong>${escape(flow.user.userName)}</strong>.</p>`;
    if (settings.allowedDeviceTypes.includes('TOTP')) {
      body += await totpEnrolmentBlock(await reg.mfa.beginTotpEnrolment(flow.user), '/login/mfa/register/totp', csrf, returnTo, error);
    } else {
      body += errorLine(error);
    }
    if (settings.allowedDeviceTypes.includes('WEBAUTHN')) {
      body +=
        '<h2>Security key or passkey</h2><label for="key_name">Device name</label><input id="key_name" type="text" maxlength="64" value="Security key">' +
        webauthnButton('register', 'Register a security key', { id: 'webauthn-register', csrf, optionsUrl: '/login/mfa/register/webauthn/options', finishUrl: `/login/mfa/register/webauthn${back}`, nameInput: 'key_name', passkey: false }) +
        scripts;
    }
    return html(reply, status, 'Register an MFA device', body);
  };

  app.get('/login/mfa/register', async (request, reply) => {
    const returnTo = safeReturnTo((request.query as Record<string, unknown>).return_to);
    const current = await flowOf(request);
    if (!current || current.flow.state !== 'REGISTER') return restart(reply, returnTo);
    return registerPage(reply, current.flow, current.csrf, returnTo);
  });

  app.post('/login/mfa/register/totp', async (request, reply) => {
    const fields = formOf(request);
    const returnTo = safeReturnTo(fields.get('return_to'));
    const current = await flowOf(request, fields.get('csrf'));
    if (!current || current.flow.state !== 'REGISTER') return restart(reply, returnTo);
    const ctx = reg.auth.userContext(await context(request), current.flow.user, 'signin.amazonaws.com');
    try {
      await reg.mfa.confirmTotpEnrolment(ctx, current.flow.user, { enrolmentId: fields.get('enrolment_id') ?? '', name: fields.get('name') ?? '', code: fields.get('code') ?? '' }, { firstDevice: true });
    } catch (err) {
      if (isDomainError(err) && err.kind !== 'internal') return registerPage(reply, current.flow, current.csrf, returnTo, 400, err.message);
      throw err;
    }
    const result = await reg.auth.completeWithNewDevice(await context(request), current.token, 'TOTP');
    return answer(reply, result, returnTo, false, (error, status) => Promise.resolve(html(reply, status, 'Sign in', errorLine(error))));
  });

  app.post('/login/mfa/register/webauthn/options', async (request, reply) => {
    const current = await flowOf(request, request.headers['x-csrf-token']);
    if (!current || current.flow.state !== 'REGISTER') return jsonDenied(reply, 403, EXPIRED);
    try {
      return reply.send(await reg.mfa.beginWebauthnRegistration(current.flow.user, relyingPartyOf(deps, request), { passkey: jsonBody(request).passkey === true }));
    } catch (err) {
      if (isDomainError(err) && err.kind !== 'internal') return jsonDenied(reply, 400, err.message);
      throw err;
    }
  });

  app.post('/login/mfa/register/webauthn', async (request, reply) => {
    const returnTo = safeReturnTo((request.query as Record<string, unknown>).return_to);
    const current = await flowOf(request, request.headers['x-csrf-token']);
    if (!current || current.flow.state !== 'REGISTER') return jsonDenied(reply, 403, EXPIRED);
    const body = jsonBody(request);
    const ctx = reg.auth.userContext(await context(request), current.flow.user, 'signin.amazonaws.com');
    try {
      await reg.mfa.finishWebauthnRegistration(ctx, current.flow.user, relyingPartyOf(deps, request), { challengeId: text(body.challengeId), name: text(body.name), response: body.response }, { firstDevice: true });
    } catch (err) {
      if (isDomainError(err) && err.kind !== 'internal') return jsonDenied(reply, 400, err.message);
      throw err;
    }
    return answer(reply, await reg.auth.completeWithNewDevice(await context(request), current.token, 'WEBAUTHN'), returnTo, true, () => Promise.resolve());
  });

  // ---- a passkey alone ----

  app.post('/login/passkey/options', async (request, reply) => {
    if (!csrfMatches(readCookie(request, 'atrium_presession'), request.headers['x-csrf-token'])) return jsonDenied(reply, 403, 'Your sign-in page expired. Start again.');
    if (!(await reg.mfa.settings()).passkeySignIn) return jsonDenied(reply, 403, 'Sign-in with a passkey alone is turned off.');
    if ((await reg.instance.identitySource()) === 'EXTERNAL_IDP') return jsonDenied(reply, 403, PASSKEYS_OFF);
    return reply.send(await reg.mfa.beginWebauthnAuthentication(undefined, relyingPartyOf(deps, request)));
  });

  app.post('/login/passkey', async (request, reply) => {
    const returnTo = safeReturnTo((request.query as Record<string, unknown>).return_to);
    if (!csrfMatches(readCookie(request, 'atrium_presession'), request.headers['x-csrf-token'])) return jsonDenied(reply, 403, 'Your sign-in page expired. Start again.');
    if ((await reg.instance.identitySource()) === 'EXTERNAL_IDP') {
      // Refused like a password under EXTERNAL_IDP: on the record, and nothing looked up.
      await reg.audit.recordRefusal(await context(request), 'CredentialVerification', { userName: HIDDEN, credentialType: 'PASSKEY' }, 'auth.passkey_sign_in_disabled', PASSKEYS_OFF);
      return jsonDenied(reply, 403, PASSKEYS_OFF);
    }
    const body = jsonBody(request);
    const result = await reg.auth.signInWithPasskey(await context(request), relyingPartyOf(deps, request), text(body.challengeId), body.response);
    return answer(reply, result, returnTo, true, () => Promise.resolve());
  });

  // ---- step-up: a signed-in session that never passed a second factor proves one ----


  /** The session of the request, its cookie and its user, or undefined once the browser is sent to sign in. */
  const sessionOf = async (request: FastifyRequest) => {
    const cookie = readCookie(request, SESSION_COOKIE);
    const session = await reg.auth.resolveSession(cookie);
    if (!session || !cookie) return undefined;
    const instance = await reg.instance.get();
    return { session, cookie, csrf: csrfTokenOf(cookie), user: { identityStoreId: instance.identityStoreId, userId: session.userId, userName: session.userName } };
  };
  const stepUpPage = async (reply: FastifyReply, current: NonNullable<Awaited<ReturnType<typeof sessionOf>>>, returnTo: string, status = 200, error?: string) => {
    const needed = await reg.auth.stepUpNeeded(current.session);
    if (needed === 'none') return reply.redirect(returnTo, 303);
    if (needed === 'register') {
      return html(reply, 403, 'Multi-factor authentication', `${errorLine('Your administrator requires multi-factor authentication for this. Register an MFA device first.')}<p><a href="${DEVICES_PATH}">Register an MFA device</a></p>`);
    }
    return challengePage(reply, current, current.csrf, returnTo, status, error, STEP_UP_PATH);
  };

  app.get(STEP_UP_PATH, async (request, reply) => {
    const returnTo = safeReturnTo((request.query as Record<string, unknown>).return_to);
    const current = await sessionOf(request);
    if (!current) return restart(reply, returnTo);
    return stepUpPage(reply, current, returnTo);
  });

  app.post(STEP_UP_PATH, async (request, reply) => {
    const fields = formOf(request);
    const returnTo = safeReturnTo(fields.get('return_to'));
    const current = await sessionOf(request);
    if (!current || !csrfMatches(current.cookie, fields.get('csrf'))) return restart(reply, returnTo);
    const result = await reg.auth.stepUp(await context(request), current.session, relyingPartyOf(deps, request), { type: 'TOTP', code: (fields.get('code') ?? '').slice(0, 16) });
    if (result.kind === 'ok') return renewedSession(jar, reply, current.session, result.token).redirect(returnTo, 303);
    if (result.kind === 'throttled') reply.header('retry-after', String(result.retryAfterSeconds));
    return stepUpPage(reply, current, returnTo, result.kind === 'throttled' ? 429 : 401, result.kind === 'throttled' ? 'Too many failed attempts. Wait a while before you try again.' : result.message);
  });

  app.post(`${STEP_UP_PATH}/webauthn/options`, async (request, reply) => {
    const current = await sessionOf(request);
    if (!current || !csrfMatches(current.cookie, request.headers['x-csrf-token'])) return jsonDenied(reply, 403, 'You are not signed in.');
    return reply.send(await reg.mfa.beginWebauthnAuthentication(current.user, relyingPartyOf(deps, request)));
  });

  app.post(`${STEP_UP_PATH}/webauthn`, async (request, reply) => {
    const returnTo = safeReturnTo((request.query as Record<string, unknown>).return_to);
    const current = await sessionOf(request);
    if (!current || !csrfMatches(current.cookie, request.headers['x-csrf-token'])) return jsonDenied(reply, 403, 'You are not signed in.');
    const body = jsonBody(request);
    const result = await reg.auth.stepUp(await context(request), current.session, relyingPartyOf(deps, request), { type: 'WEBAUTHN', challengeId: text(body.challengeId), response: body.response });
    if (result.kind === 'ok') return renewedSession(jar, reply, current.session, result.token).send({ location: returnTo });
    if (result.kind === 'throttled') reply.header('retry-after', String(result.retryAfterSeconds));
    return reply.status(result.kind === 'throttled' ? 429 : 401).send({ message: result.kind === 'throttled' ? 'Too many failed attempts. Wait a while before you try again.' : result.message });
  });

  registerDevicePages(app, deps);
}

/** The button of the sign-in page that signs in with a passkey alone (when the settings allow it). */
export function passkeySignInButton(csrf: string, returnTo: string): string {
  return (
    '<p>or</p>' +
    webauthnButton('authenticate', 'Sign in with a passkey', { id: 'passkey-sign-in', csrf, optionsUrl: '/login/passkey/options', finishUrl: `/login/passkey?return_to=${encodeURIComponent(returnTo)}` }) +
    scripts
  );
}
export { MFA_CSP };

// ---- the user's own devices ----

function registerDevicePages(app: FastifyInstance, deps: WebDeps): void {
  const { reg, context } = deps;
  const signedInUser = async (request: FastifyRequest, reply: FastifyReply): Promise<{ session: PortalSession; cookie: string; user: MfaUser } | undefined> => {
    const cookie = readCookie(request, SESSION_COOKIE);
    const session = await reg.auth.resolveSession(cookie);
    if (!session || !cookie) {
      await reply.redirect(`/login?return_to=${encodeURIComponent(DEVICES_PATH)}`, 303);
      return undefined;
    }
    const instance = await reg.instance.get();
    return { session, cookie, user: { identityStoreId: instance.identityStoreId, userId: session.userId, userName: session.userName } };
  };
  const STEP_UP_FIRST = `${STEP_UP_PATH}?return_to=${encodeURIComponent(DEVICES_PATH)}`;
  const STEP_UP_MESSAGE = 'Confirm it is you with one of your MFA devices first.';

  const row = (d: MfaDeviceView, csrf: string) =>
    `<li data-device-id="${escape(d.deviceId)}"><strong>${escape(d.name)}</strong> (${d.type === 'TOTP' ? 'authenticator app' : d.passkey ? 'passkey' : 'security key'})` +
    `<form method="post" action="${DEVICES_PATH}/${escape(d.deviceId)}/rename"><input type="hidden" name="csrf" value="${csrf}"><label for="name-${escape(d.deviceId)}">New name</label>` +
    `<input id="name-${escape(d.deviceId)}" name="name" type="text" required maxlength="64" value="${escape(d.name)}"><button type="submit">Rename</button></form>` +
    `<form method="post" action="${DEVICES_PATH}/${escape(d.deviceId)}/delete"><input type="hidden" name="csrf" value="${csrf}"><button type="submit">Remove</button></form></li>`;

  const devicesPage = async (reply: FastifyReply, user: MfaUser, cookie: string, status = 200, error?: string, session?: PortalSession) => {
    const csrf = csrfTokenOf(cookie);
    const settings = await reg.mfa.settings();
    const devices = await reg.mfa.listDevices(user);
    let body = errorLine(error) + (devices.length ? `<ul id="devices">${devices.map((d) => row(d, csrf)).join('')}</ul>` : '<p id="devices">You have no MFA device.</p>');
    if (session && !(await reg.auth.mayChangeDevices(session))) {
      body += `<p id="step-up-first">To add, rename or remove a device, <a href="${escape(STEP_UP_FIRST)}">confirm it is you with one of your MFA devices</a> first.</p>`;
    }
    if (settings.allowedDeviceTypes.includes('TOTP')) body += `<p><a id="add-totp" href="${DEVICES_PATH}/totp">Add an authenticator app</a></p>`;
    if (settings.allowedDeviceTypes.includes('WEBAUTHN')) {
      body +=
        '<label for="key_name">Name of a new security key or passkey</label><input id="key_name" type="text" maxlength="64" value="Security key">' +
        webauthnButton('register', 'Add a security key', { id: 'add-security-key', csrf, optionsUrl: `${DEVICES_PATH}/webauthn/options`, finishUrl: `${DEVICES_PATH}/webauthn`, nameInput: 'key_name', passkey: false }) +
        webauthnButton('register', 'Add a passkey', { id: 'add-passkey', csrf, optionsUrl: `${DEVICES_PATH}/webauthn/options`, finishUrl: `${DEVICES_PATH}/webauthn`, nameInput: 'key_name', passkey: true }) +
        scripts;
    }
    return html(reply, status, 'MFA devices', body + '<p><a href="/start">Back to the portal</a></p>');
  };

  /** Run a change for the signed-in user; a refusal is shown on the device page. */
  const change = async (
    request: FastifyRequest,
    reply: FastifyReply,
    act: (ctx: Awaited<ReturnType<typeof context>>, user: MfaUser, fields: URLSearchParams, session: PortalSession) => Promise<unknown>,
  ) => {
    const auth = await signedInUser(request, reply);
    if (!auth) return reply;
    const fields = formOf(request);
    if (!csrfMatches(auth.cookie, fields.get('csrf'))) return devicesPage(reply, auth.user, auth.cookie, 403, 'This page expired. Open it again.');
    // A session that never passed MFA does not touch the devices that protect the user.
    if (!(await reg.auth.mayChangeDevices(auth.session))) return reply.redirect(STEP_UP_FIRST, 303);
    try {
      await act(reg.auth.userContext(await context(request), auth.session), auth.user, fields, auth.session);
    } catch (err) {
      if (isDomainError(err) && err.kind !== 'internal') return devicesPage(reply, auth.user, auth.cookie, 400, err.message);
      throw err;
    }
    return reply.redirect(DEVICES_PATH, 303);
  };

  app.get(DEVICES_PATH, async (request, reply) => {
    const auth = await signedInUser(request, reply);
    if (!auth) return reply;
    return devicesPage(reply, auth.user, auth.cookie, 200, undefined, auth.session);
  });
  app.post(`${DEVICES_PATH}/:deviceId/rename`, (request, reply) =>
    change(request, reply, (ctx, user, fields) => reg.mfa.renameDevice(ctx, user, (request.params as { deviceId: string }).deviceId, fields.get('name') ?? '')),
  );
  app.post(`${DEVICES_PATH}/:deviceId/delete`, (request, reply) => change(request, reply, (ctx, user) => reg.mfa.deleteDevice(ctx, user, (request.params as { deviceId: string }).deviceId)));

  app.get(`${DEVICES_PATH}/totp`, async (request, reply) => {
    const auth = await signedInUser(request, reply);
    if (!auth) return reply;
    if (!(await reg.auth.mayChangeDevices(auth.session))) return reply.redirect(STEP_UP_FIRST, 303);
    try {
      const block = await totpEnrolmentBlock(await reg.mfa.beginTotpEnrolment(auth.user), `${DEVICES_PATH}/totp`, csrfTokenOf(auth.cookie), DEVICES_PATH);
      return html(reply, 200, 'Add an authenticator app', block);
    } catch (err) {
      if (isDomainError(err) && err.kind !== 'internal') return devicesPage(reply, auth.user, auth.cookie, 400, err.message);
      throw err;
    }
  });
  // A FIRST device registered (with its first code or signature) is a second factor this session passed.
  app.post(`${DEVICES_PATH}/totp`, (request, reply) =>
    change(request, reply, async (ctx, user, fields, session) => {
      const device = await reg.mfa.confirmTotpEnrolment(ctx, user, { enrolmentId: fields.get('enrolment_id') ?? '', name: fields.get('name') ?? '', code: fields.get('code') ?? '' });
      const token = await reg.auth.markSessionMfa(ctx, session, device.deviceId);
      if (token) renewedSession(deps.jar, reply, session, token);
    }),
  );

  const jsonAuth = async (request: FastifyRequest, reply: FastifyReply) => {
    const cookie = readCookie(request, SESSION_COOKIE);
    const session = await reg.auth.resolveSession(cookie);
    if (!session) return void reply.status(401).send({ message: 'You are not signed in.' });
    if (!csrfMatches(cookie, request.headers['x-csrf-token'])) return void reply.status(403).send({ message: 'The CSRF token is missing or wrong.' });
    // Every JSON change (register, rename, remove) needs a session that passed MFA when the user has devices.
    if (!(await reg.auth.mayChangeDevices(session))) return void reply.status(403).send({ message: STEP_UP_MESSAGE, stepUp: STEP_UP_FIRST });
    const instance = await reg.instance.get();
    return { session, user: { identityStoreId: instance.identityStoreId, userId: session.userId, userName: session.userName } };
  };
  // The portal app's JSON view of the same devices: list, rename, remove (registering runs on the page above).
  const jsonView = (d: MfaDeviceView) => ({ ...d, createdAt: Math.floor(d.createdAt / 1000), lastUsedAt: d.lastUsedAt === null ? null : Math.floor(d.lastUsedAt / 1000) });
  const jsonChange = async (request: FastifyRequest, reply: FastifyReply, act: (ctx: Awaited<ReturnType<typeof context>>, user: MfaUser, deviceId: string) => Promise<unknown>) => {
    const auth = await jsonAuth(request, reply);
    if (!auth) return reply;
    try {
      await act(reg.auth.userContext(await context(request), auth.session), auth.user, (request.params as { deviceId: string }).deviceId);
    } catch (err) {
      if (isDomainError(err) && err.kind !== 'internal') return reply.status(err.kind === 'not_found' ? 404 : 400).send({ message: err.message });
      throw err;
    }
    return reply.send({ devices: (await reg.mfa.listDevices(auth.user)).map(jsonView) });
  };
  app.get('/api/portal/mfa/devices', async (request, reply) => {
    const cookie = readCookie(request, SESSION_COOKIE);
    const session = await reg.auth.resolveSession(cookie);
    if (!session) return reply.status(401).send({ message: 'You are not signed in.' });
    const instance = await reg.instance.get();
    return reply.send({ devices: (await reg.mfa.listDevices({ identityStoreId: instance.identityStoreId, userId: session.userId })).map(jsonView) });
  });
  app.patch('/api/portal/mfa/devices/:deviceId', (request, reply) => jsonChange(request, reply, (ctx, user, deviceId) => reg.mfa.renameDevice(ctx, user, deviceId, text(jsonBody(request).name))));
  app.delete('/api/portal/mfa/devices/:deviceId', (request, reply) => jsonChange(request, reply, (ctx, user, deviceId) => reg.mfa.deleteDevice(ctx, user, deviceId)));

  app.post(`${DEVICES_PATH}/webauthn/options`, async (request, reply) => {
    const auth = await jsonAuth(request, reply);
    if (!auth) return reply;
    try {
      return reply.send(await reg.mfa.beginWebauthnRegistration(auth.user, relyingPartyOf(deps, request), { passkey: jsonBody(request).passkey === true }));
    } catch (err) {
      if (isDomainError(err) && err.kind !== 'internal') return reply.status(400).send({ message: err.message });
      throw err;
    }
  });
  app.post(`${DEVICES_PATH}/webauthn`, async (request, reply) => {
    const auth = await jsonAuth(request, reply);
    if (!auth) return reply;
    const body = jsonBody(request);
    try {
      const ctx = reg.auth.userContext(await context(request), auth.session);
      const device = await reg.mfa.finishWebauthnRegistration(ctx, auth.user, relyingPartyOf(deps, request), { challengeId: text(body.challengeId), name: text(body.name), response: body.response });
      const token = await reg.auth.markSessionMfa(ctx, auth.session, device.deviceId);
      if (token) renewedSession(deps.jar, reply, auth.session, token);
      return reply.send({ location: DEVICES_PATH, device });
    } catch (err) {
      if (isDomainError(err) && err.kind !== 'internal') return reply.status(400).send({ message: err.message });
      throw err;
    }
  });
}
