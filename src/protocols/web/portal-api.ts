// The portal's JSON API for the signed-in user's own sessions: cookie-authenticated, and every
// change carries the session's CSRF token in the x-csrf-token header.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { PortalSession, SessionRecord } from '../../auth/index.js';
import { epochSeconds } from '../aws/operation.js';
import { isDomainError } from '../../shared/errors.js';
import { csrfMatches, csrfTokenOf, readCookie, SESSION_COOKIE } from './cookies.js';
import type { WebDeps } from './index.js';

const deny = (reply: FastifyReply, status: number, message: string) => reply.status(status).send({ message });

export function registerPortalApi(app: FastifyInstance, { reg, jar, context }: WebDeps): void {
  /** The usable session of the request and its cookie, or undefined once a 401/403 is sent. */
  async function authenticate(request: FastifyRequest, reply: FastifyReply, change: boolean): Promise<{ session: PortalSession; cookie: string } | undefined> {
    const cookie = readCookie(request, SESSION_COOKIE);
    const session = await reg.auth.resolveSession(cookie);
    if (!session) return void deny(reply, 401, 'You are not signed in.');
    if (change && !csrfMatches(cookie, request.headers['x-csrf-token'])) return void deny(reply, 403, 'The CSRF token is missing or wrong.');
    return { session, cookie: cookie! };
  }

  const view = (s: SessionRecord, current: PortalSession) => ({
    sessionId: s.sessionId,
    createdAt: epochSeconds(s.createdAt),
    expiresAt: epochSeconds(s.expiresAt),
    sourceIp: s.sourceIp,
    userAgent: s.userAgent,
    current: s.sessionId === current.sessionId,
  });

  app.get('/api/portal/session', async (request, reply) => {
    const auth = await authenticate(request, reply, false);
    if (!auth) return reply;
    const { session, cookie } = auth;
    return reply.send({ sessionId: session.sessionId, userId: session.userId, userName: session.userName, expiresAt: epochSeconds(session.expiresAt), csrfToken: csrfTokenOf(cookie) });
  });

  app.get('/api/portal/sessions', async (request, reply) => {
    const auth = await authenticate(request, reply, false);
    if (!auth) return reply;
    const sessions = await reg.auth.listOwnSessions(auth.session);
    return reply.send({ sessions: sessions.map((s) => view(s, auth.session)) });
  });

  app.delete('/api/portal/sessions/:sessionId', async (request, reply) => {
    const auth = await authenticate(request, reply, true);
    if (!auth) return reply;
    const { sessionId } = request.params as { sessionId: string };
    try {
      await reg.auth.endOwnSession(await context(request), auth.session, sessionId);
    } catch (err) {
      if (isDomainError(err) && err.kind === 'not_found') return deny(reply, 404, err.message);
      throw err;
    }
    if (sessionId === auth.session.sessionId) jar.clear(reply, SESSION_COOKIE);
    return reply.status(204).send();
  });
}
