// The pages that act for a signed-in user (device codes, consent): without a portal session the
// browser is sent to sign in and brought back.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from '../../registry.js';
import { readCookie, SESSION_COOKIE } from './cookies.js';

export async function signedIn(reg: Registry, request: FastifyRequest, reply: FastifyReply, back: string) {
  const cookie = readCookie(request, SESSION_COOKIE);
  const session = await reg.auth.resolveSession(cookie);
  if (!session || !cookie) {
    await reply.redirect(`/login?return_to=${encodeURIComponent(back)}`, 303);
    return undefined;
  }
  return { session, cookie };
}
