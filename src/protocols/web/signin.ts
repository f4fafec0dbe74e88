// The sign-in pages: username, then password (as AWS), a forced change of a one-time password,
// and sign-out. Every POST carries a CSRF token bound to the pre-session cookie or the session.
// With the identity source EXTERNAL_IDP, the sign-in page hands over to the IdP and passwords are refused.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { HIDDEN } from '../../audit/index.js';
import type { SessionRecord } from '../../auth/index.js';
import { isDomainError } from '../../shared/errors.js';
import { csrfMatches, csrfTokenOf, MFA_FLOW_COOKIE, newCookieValue, PRESESSION_COOKIE, readCookie, REMEMBER_COOKIE, SESSION_COOKIE } from './cookies.js';
import { MFA_CSP, passkeySignInButton } from './mfa-pages.js';
import type { WebDeps } from './index.js';
import { escape, form, notice, page } from './pages.js';

const DEFAULT_RETURN_TO = '/start';
const PRESESSION_SECONDS = 60 * 60;
const FAILED = 'The username or password is not correct.';
const MFA_BLOCKED = 'Your administrator requires multi-factor authentication, and you have no MFA device. Ask your administrator to help you register one.';
const PASSWORDS_MANAGED = 'Your password is managed by your identity provider: change it there.';
const PASSWORDS_OFF = 'Sign-in with a password is turned off here: you sign in with your identity provider.';
/** Where SP-initiated SAML sign-in starts (protocols/saml/ imports this module, so the path is not imported back). */
const IDP_SIGN_IN = '/saml/login';
const ORIGIN = 'http://atrium.invalid';

/**
 * A plain path (segments of letters, digits, `-`, `_` and `~`, no dots, query or escapes): the URL
 * parser would hand it back unchanged, so it is taken as it is (the common case, e.g. `/start`).
 */
const PLAIN_PATH = /^(?:\/[\w~-]+)+\/?$/;

/** A same-origin relative path to go to after sign-in; anything else (another origin, `//host`, `\`) is refused. */
export function safeReturnTo(value: unknown): string {
  if (typeof value !== 'string' || !value.startsWith('/') || value.startsWith('//') || /[\\\p{Cc}]/u.test(value) || value.length > 2048) {
    return DEFAULT_RETURN_TO;
  }
  if (PLAIN_PATH.test(value)) return value;
  const url = new URL(value, ORIGIN);
  if (url.origin !== ORIGIN) return DEFAULT_RETURN_TO;
  // Dot segments are resolved after the `//` check above: `/.//evil.example` comes out as
  // `//evil.example`, which a browser reads as another host. Checked again on what is returned.
  const path = url.pathname + url.search + url.hash;
  return path.startsWith('//') || path.startsWith('/\\') ? DEFAULT_RETURN_TO : path;
}

/** The fields of a form post; the root parser hands form bodies over as raw bytes (SigV4 needs them). */
export function formOf(request: FastifyRequest): URLSearchParams {
  return new URLSearchParams(Buffer.isBuffer(request.body) ? request.body.toString('utf8') : '');
}

const html = (reply: FastifyReply, status: number, title: string, body: string) => reply.status(status).type('text/html; charset=utf-8').send(page(title, body));

const changeLocation = (returnTo: string) => `/login/change-password?return_to=${encodeURIComponent(returnTo)}`;
const idpLocation = (returnTo: string) => `${IDP_SIGN_IN}?return_to=${encodeURIComponent(returnTo)}`;
const idpLink = (returnTo: string) => `<p><a href="${escape(idpLocation(returnTo))}">Sign in with your identity provider</a></p>`;

export function registerSignIn(app: FastifyInstance, { reg, jar, context }: WebDeps): void {
  const forbidden = (reply: FastifyReply) => html(reply, 403, 'Sign in', notice('Your sign-in page expired. Start again.'));
  const externalIdp = async () => (await reg.instance.identitySource()) === 'EXTERNAL_IDP';
  /** Under EXTERNAL_IDP every password step gets this one answer, whoever the user is: nothing is looked up. */
  const passwordsOff = (reply: FastifyReply, returnTo: string) =>
    html(reply, 403, 'Sign in', `<p class="error" role="alert">${escape(PASSWORDS_OFF)}</p>${idpLink(returnTo)}`);

  /** The pre-session cookie's value, made (and set) if the browser has none yet. */
  const presession = (request: FastifyRequest, reply: FastifyReply) => {
    const existing = readCookie(request, PRESESSION_COOKIE);
    if (existing && existing.length <= 100) return existing;
    const value = newCookieValue();
    jar.set(reply, PRESESSION_COOKIE, value, PRESESSION_SECONDS);
    return value;
  };

  /** A POST's fields if its CSRF token matches `cookieValue`, else undefined (the caller answers 403). */
  const checkedForm = (request: FastifyRequest, cookieValue: string | undefined) => {
    const fields = formOf(request);
    return csrfMatches(cookieValue, fields.get('csrf')) ? fields : undefined;
  };

  const usernameForm = (csrf: string, returnTo: string) =>
    form('/login', csrf, returnTo, [{ name: 'username', label: 'Username', type: 'text', autocomplete: 'username' }], 'Next');
  const passwordForm = (csrf: string, returnTo: string, userName: string, error?: string) =>
    `<p>Signing in as <strong>${userName.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)}</strong></p>` +
    form(
      '/login/password',
      csrf,
      returnTo,
      [
        { name: 'username', type: 'hidden', value: userName },
        { name: 'password', label: 'Password', type: 'password', autocomplete: 'current-password' },
      ],
      'Sign in',
      error,
    );

  app.get('/login', async (request, reply) => {
    const returnTo = safeReturnTo((request.query as Record<string, unknown>).return_to);
    if (await reg.auth.resolveSession(readCookie(request, SESSION_COOKIE))) return reply.redirect(returnTo, 303);
    const idp = await reg.federation.getIdp();
    if (await externalIdp()) {
      // The IdP is the only way in: straight there, with the way back (the device page's code included).
      if (idp) return reply.redirect(idpLocation(returnTo), 303);
      return html(reply, 503, 'Sign in', '<p class="error" role="alert">Sign-in goes through an external identity provider, but none is configured. Ask your administrator.</p>');
    }
    // Under INTERNAL an imported IdP is a second way in, so that it can be tried before switching.
    const csrf = csrfTokenOf(presession(request, reply));
    const passkey = (await reg.mfa.settings()).passkeySignIn;
    if (passkey) reply.header('content-security-policy', MFA_CSP);
    return html(reply, 200, 'Sign in', usernameForm(csrf, returnTo) + (passkey ? passkeySignInButton(csrf, returnTo) : '') + (idp ? idpLink(returnTo) : ''));
  });

  app.post('/login', async (request, reply) => {
    const cookie = readCookie(request, PRESESSION_COOKIE);
    const fields = checkedForm(request, cookie);
    if (!fields) return forbidden(reply);
    const returnTo = safeReturnTo(fields.get('return_to'));
    if (await externalIdp()) return passwordsOff(reply, returnTo);
    const userName = (fields.get('username') ?? '').trim();
    if (!userName || userName.length > 128) return html(reply, 400, 'Sign in', usernameForm(csrfTokenOf(cookie!), returnTo));
    await reg.auth.challenge(await context(request));
    return html(reply, 200, 'Sign in', passwordForm(csrfTokenOf(cookie!), returnTo, userName));
  });

  app.post('/login/password', async (request, reply) => {
    const cookie = readCookie(request, PRESESSION_COOKIE);
    const fields = checkedForm(request, cookie);
    if (!fields) return forbidden(reply);
    const returnTo = safeReturnTo(fields.get('return_to'));
    if (await externalIdp()) {
      // On the record like any refused sign-in, without the name typed: the answer must not depend on it.
      await reg.audit.recordRefusal(await context(request), 'CredentialVerification', { userName: HIDDEN }, 'auth.password_sign_in_disabled', PASSWORDS_OFF);
      return passwordsOff(reply, returnTo);
    }
    const userName = (fields.get('username') ?? '').trim().slice(0, 128);
    const result = await reg.auth.signIn(await context(request), userName, (fields.get('password') ?? '').slice(0, 1024), { rememberToken: readCookie(request, REMEMBER_COOKIE) });
    if (result.kind === 'throttled') {
      reply.header('retry-after', String(result.retryAfterSeconds));
      return html(reply, 429, 'Sign in', passwordForm(csrfTokenOf(cookie!), returnTo, userName, 'Too many failed attempts. Wait a while before you try again.'));
    }
    if (result.kind === 'failed') return html(reply, 401, 'Sign in', passwordForm(csrfTokenOf(cookie!), returnTo, userName, FAILED));
    if (result.kind === 'mfa_blocked') return html(reply, 403, 'Sign in', notice(MFA_BLOCKED));
    if (result.kind === 'mfa') {
      jar.set(reply, MFA_FLOW_COOKIE, result.flowToken, Math.floor((result.expiresAt - Date.now()) / 1000));
      return reply.redirect(`/login/mfa${result.state === 'REGISTER' ? '/register' : ''}?return_to=${encodeURIComponent(returnTo)}`, 303);
    }
    jar.set(reply, SESSION_COOKIE, result.token, Math.floor((result.session.expiresAt - result.session.createdAt) / 1000));
    return reply.redirect(result.session.mustChangePassword ? changeLocation(returnTo) : returnTo, 303);
  });

  const changeForm = (session: SessionRecord, cookie: string, returnTo: string, error?: string) =>
    form(
      '/login/change-password',
      csrfTokenOf(cookie),
      returnTo,
      [
        ...(session.mustChangePassword ? [] : [{ name: 'current_password', label: 'Current password', type: 'password' as const, autocomplete: 'current-password' }]),
        { name: 'new_password', label: 'New password', type: 'password', autocomplete: 'new-password' },
        { name: 'confirm_password', label: 'Confirm new password', type: 'password', autocomplete: 'new-password' },
      ],
      'Set password',
      error ?? (session.mustChangePassword ? 'Your password was set by an administrator: choose a new one to continue.' : undefined),
    );

  app.get('/login/change-password', async (request, reply) => {
    const returnTo = safeReturnTo((request.query as Record<string, unknown>).return_to);
    const cookie = readCookie(request, SESSION_COOKIE);
    const session = await reg.auth.findSession(cookie);
    if (!session) return reply.redirect(`/login?return_to=${encodeURIComponent(changeLocation(returnTo))}`, 303);
    if (await externalIdp()) return html(reply, 403, 'Change password', `<p class="error" role="alert">${escape(PASSWORDS_MANAGED)}</p>`);
    return html(reply, 200, 'Change password', changeForm(session, cookie!, returnTo));
  });

  app.post('/login/change-password', async (request, reply) => {
    const cookie = readCookie(request, SESSION_COOKIE);
    const fields = checkedForm(request, cookie);
    const session = fields && (await reg.auth.findSession(cookie));
    if (!fields || !session) return forbidden(reply);
    if (await externalIdp()) return html(reply, 403, 'Change password', `<p class="error" role="alert">${escape(PASSWORDS_MANAGED)}</p>`);
    const returnTo = safeReturnTo(fields.get('return_to'));
    const newPassword = fields.get('new_password') ?? '';
    if (newPassword !== fields.get('confirm_password')) return html(reply, 400, 'Change password', changeForm(session, cookie!, returnTo, 'The passwords do not match.'));
    try {
      await reg.auth.changePassword(await context(request), session, { currentPassword: fields.get('current_password') ?? undefined, newPassword });
    } catch (err) {
      if (isDomainError(err) && err.kind === 'invalid_argument') return html(reply, 400, 'Change password', changeForm(session, cookie!, returnTo, err.message));
      if (isDomainError(err) && err.kind === 'throttled') {
        reply.header('retry-after', String(err.details?.retryAfterSeconds ?? 1));
        return html(reply, 429, 'Change password', changeForm(session, cookie!, returnTo, err.message));
      }
      throw err;
    }
    return reply.redirect(returnTo, 303);
  });

  app.post('/logout', async (request, reply) => {
    const cookie = readCookie(request, SESSION_COOKIE);
    const fields = checkedForm(request, cookie);
    const session = fields && (await reg.auth.findSession(cookie));
    if (!fields || !session) return forbidden(reply);
    await reg.auth.signOut(await context(request), session);
    jar.clear(reply, SESSION_COOKIE);
    return reply.redirect('/login', 303);
  });
}
