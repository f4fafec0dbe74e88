// The pages that act for a signed-in user (device codes, consent): without a portal session the
// browser is sent to sign in and brought back; with `mfa`, a session that never passed a second factor
// proves one first when the MFA settings ask for it.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from '../../registry.js';
import { readCookie, SESSION_COOKIE } from './cookies.js';

/** Where a signed-in session proves a second factor (mfa-pages.ts). */
export const STEP_UP_PATH = '/login/mfa/step-up';

/** Why a session that never passed a second factor the MFA settings require is refused. */
export const MFA_REQUIRED = 'Your administrator requires multi-factor authentication for this: confirm it is you with your MFA device first.';

export async function signedIn(reg: Registry, request: FastifyRequest, reply: FastifyReply, back: string, opts: { mfa?: boolean } = {}) {
  const cookie = readCookie(request, SESSION_COOKIE);
  const session = await reg.auth.resolveSession(cookie);
  if (!session || !cookie) {
    await reply.redirect(`/login?return_to=${encodeURIComponent(back)}`, 303);
    return undefined;
  }
  // A session that never passed a second factor proves one first, when the MFA settings ask for it.
  if (opts.mfa && (await reg.auth.stepUpNeeded(session)) !== 'none') {
    await reply.redirect(`${STEP_UP_PATH}?return_to=${encodeURIComponent(back)}`, 303);
    return undefined;
  }
  return { session, cookie };
}
