// Cookies and CSRF tokens of the browser surface. Cookies are HttpOnly and SameSite=Lax, and
// Secure when the public URL is https; CSRF tokens are bound to the pre-session cookie or to the
// portal session.

import { hash, randomBytes, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'atrium_session';
export const PRESESSION_COOKIE = 'atrium_presession';
/** A sign-in that passed its password and waits for its second factor. */
export const MFA_FLOW_COOKIE = 'atrium_mfa';
/** Context-aware MFA: a signed token saying this browser passed MFA (user, network, time). */
export const REMEMBER_COOKIE = 'atrium_mfa_device';

export function readCookie(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return part.slice(eq + 1).trim();
  }
  return undefined;
}

export interface CookieJar {
  set: (reply: FastifyReply, name: string, value: string, maxAgeSeconds: number) => void;
  clear: (reply: FastifyReply, name: string) => void;
}

export function cookieJar(secure: boolean): CookieJar {
  const attributes = `Path=/; HttpOnly; SameSite=Lax${secure ? '; Secure' : ''}`;
  return {
    set: (reply, name, value, maxAgeSeconds) => void reply.header('set-cookie', `${name}=${value}; Max-Age=${maxAgeSeconds}; ${attributes}`),
    clear: (reply, name) => void reply.header('set-cookie', `${name}=; Max-Age=0; ${attributes}`),
  };
}

export const newCookieValue = () => randomBytes(32).toString('base64url');

/** The CSRF token of a cookie value: derived, so the page can carry it without the cookie. */
export const csrfTokenOf = (cookieValue: string) => hash('sha256', `atrium-csrf:${cookieValue}`, 'base64url');

export function csrfMatches(cookieValue: string | undefined, token: unknown): boolean {
  if (!cookieValue || typeof token !== 'string') return false;
  const expected = Buffer.from(csrfTokenOf(cookieValue));
  const given = Buffer.from(token);
  return given.length === expected.length && timingSafeEqual(given, expected);
}
