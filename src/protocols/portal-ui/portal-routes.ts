// The JSON routes the access portal app reads: the signed-in user's accounts and roles, the values
// for `aws configure sso`, and role credentials. Cookie-authenticated; a POST needs the CSRF header.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { PORTAL_SOURCE, type PortalSession } from '../../auth/index.js';
import { publicUrlOf } from '../../config/config.js';
import type { Registry } from '../../registry.js';
import type { RequestContext } from '../../shared/context.js';
import { isDomainError, RETRY_UNAVAILABLE_SECONDS } from '../../shared/errors.js';
import type { Page } from '../../shared/pagination.js';
import { validationMessage } from '../aws/aws-json.js';
import { epochSeconds } from '../aws/operation.js';
import { csrfMatches, readCookie, SESSION_COOKIE } from '../web/cookies.js';
import { MFA_REQUIRED, STEP_UP_PATH } from '../web/signed-in.js';
import { anonymousContext } from '../request-context.js';

const credentialsBody = z.strictObject({
  accountId: z.string().regex(/^\d{12}$/, 'must be a 12-digit account id'),
  roleName: z.string().min(1).max(32),
});


/** Statuses of the refusals a credentials request may meet; anything else is an internal error. */
const STATUS_OF: Partial<Record<string, number>> = { permission_denied: 403, invalid_argument: 400, unavailable: 503 };

export const sendJson = (reply: FastifyReply, status: number, body: unknown) => reply.status(status).header('cache-control', 'no-store').send(body);

/** Every page of a paged list; the portal shows a user's accounts whole, to search them in place. */
async function allPages<T>(list: (page: { nextToken?: string; maxResults: number }) => Promise<Page<T>>): Promise<T[]> {
  const items: T[] = [];
  let nextToken: string | undefined;
  do {
    const page = await list({ maxResults: 100, ...(nextToken ? { nextToken } : {}) });
    items.push(...page.items);
    nextToken = page.nextToken;
  } while (nextToken);
  return items;
}

export function registerPortalRoutes(app: FastifyInstance, reg: Registry): void {
  // The port is known only once the server listens (tests listen on port 0).
  const port = () => {
    const address = app.server.address();
    return typeof address === 'object' && address ? address.port : reg.config.port;
  };

  /** The request's usable session, or undefined once a 401/403 is sent. */
  async function signedIn(request: FastifyRequest, reply: FastifyReply, change: boolean): Promise<PortalSession | undefined> {
    const cookie = readCookie(request, SESSION_COOKIE);
    const session = await reg.auth.resolveSession(cookie);
    if (!session) return void sendJson(reply, 401, { message: 'You are not signed in.' });
    if (change && !csrfMatches(cookie, request.headers['x-csrf-token'])) return void sendJson(reply, 403, { message: 'The CSRF token is missing or wrong.' });
    return session;
  }

  const contextOf = async (request: FastifyRequest, session: PortalSession): Promise<RequestContext> =>
    reg.auth.userContext(
      anonymousContext(request, (await reg.instance.get()).region, PORTAL_SOURCE),
      session,
    );

  app.get('/api/portal/accounts', async (request, reply) => {
    const session = await signedIn(request, reply, false);
    if (!session) return reply;
    const portal = reg.access.portal;
    const accounts = await allPages((page) => portal.listAccounts(session.userId, page));
    const withRoles = await Promise.all(
      accounts.map(async (a) => ({ ...a, roles: await allPages((page) => portal.listAccountRoles(session.userId, a.accountId, page)) })),
    );
    return sendJson(reply, 200, { accounts: withRoles });
  });

  app.get('/api/portal/configuration', async (request, reply) => {
    const session = await signedIn(request, reply, false);
    if (!session) return reply;
    return sendJson(reply, 200, { startUrl: `${publicUrlOf(reg.config, port())}/start`, region: (await reg.instance.get()).region });
  });

  app.post('/api/portal/credentials', async (request, reply) => {
    // Before the session is resolved: the credentials count as issued from here (checkedFrom).
    const checkedFrom = reg.clock.now();
    const session = await signedIn(request, reply, true);
    if (!session) return reply;
    const ctx = await contextOf(request, session);
    const body = credentialsBody.safeParse(request.body);
    if (!body.success) {
      const message = validationMessage(body.error);
      await reg.audit.recordRefusal(ctx, 'GetRoleCredentials', {}, 'validation_error', message);
      return sendJson(reply, 400, { message });
    }
    const { accountId, roleName } = body.data;
    // Credentials act for the user like a device approval: a session that never passed a second
    // factor the MFA settings require proves one first.
    if ((await reg.auth.stepUpNeeded(session)) !== 'none') {
      await reg.audit.recordRefusal(ctx, 'GetRoleCredentials', { accountId, roleName }, 'auth.mfa_required', MFA_REQUIRED);
      return sendJson(reply, 403, { message: MFA_REQUIRED, stepUp: `${STEP_UP_PATH}?return_to=%2Fstart` });
    }
    try {
      const role = await reg.access.portal.roleFor(session.userId, accountId, roleName);
      const c = await reg.temporaryCredentials.issueRoleCredentials(ctx, { userId: session.userId, userName: session.userName, sessionId: session.sessionId, accountId, ...role, checkedFrom });
      return sendJson(reply, 200, { accessKeyId: c.accessKeyId, secretAccessKey: c.secretAccessKey, sessionToken: c.sessionToken, expiration: epochSeconds(c.expiration) });
    } catch (err) {
      const status = isDomainError(err) ? STATUS_OF[err.kind] : undefined;
      if (!isDomainError(err) || status === undefined) throw err;
      // issueRoleCredentials audits its own refusals; the role lookup before it is a read.
      if (err.kind === 'permission_denied') await reg.audit.recordRefusal(ctx, 'GetRoleCredentials', { accountId, roleName }, err.code, err.message);
      if (status === 503) reply.header('retry-after', String(RETRY_UNAVAILABLE_SECONDS));
      return sendJson(reply, status, { message: err.message });
    }
  });
}
