// The AWS `sso` portal API (restJson1, bearer token in x-amz-sso_bearer_token): ListAccounts,
// ListAccountRoles, GetRoleCredentials, Logout. Errors carry X-Amzn-ErrorType and {"message"}.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Registry } from '../../registry.js';
import type { RequestContext } from '../../shared/context.js';
import { isDomainError, RETRY_UNAVAILABLE_SECONDS } from '../../shared/errors.js';
import { credentialSessionOfGrant, oidcServiceOf, PORTAL_SCOPE, type ResolvedAccessToken } from '../oidc/index.js';
import { validationMessage } from './aws-json.js';
import { anonymousContext } from '../request-context.js';

const EVENT_SOURCE = 'sso.amazonaws.com';
const TOKEN_HEADER = 'x-amz-sso_bearer_token';

class PortalError extends Error {
  constructor(
    readonly status: number,
    readonly type: string,
    message: string,
  ) {
    super(message);
  }
}

const unauthorized = () => new PortalError(401, 'UnauthorizedException', 'Session token not found or invalid');

/** Domain refusals as the portal words them; anything else is an internal error, never detailed. */
function portalErrorOf(err: unknown): PortalError {
  if (err instanceof PortalError) return err;
  if (!isDomainError(err)) return new PortalError(500, 'InternalServerException', 'An internal error occurred.');
  switch (err.kind) {
    // AWS answers a role the user does not hold with ForbiddenException "No access" (not in the model).
    case 'permission_denied':
      return new PortalError(403, 'ForbiddenException', err.message);
    case 'unauthenticated':
      return unauthorized();
    case 'invalid_argument':
      return new PortalError(400, 'InvalidRequestException', err.message);
    case 'not_found':
      return new PortalError(404, 'ResourceNotFoundException', err.message);
    case 'throttled':
      return new PortalError(429, 'TooManyRequestsException', err.message);
    case 'unavailable':
      return new PortalError(503, 'ServiceUnavailableException', err.message);
    default:
      return new PortalError(500, 'InternalServerException', 'An internal error occurred.');
  }
}

const sendError = (reply: FastifyReply, e: PortalError) =>
  (e.status === 503 ? reply.header('retry-after', String(RETRY_UNAVAILABLE_SECONDS)) : reply)
    .code(e.status).header('x-amzn-errortype', e.type).header('content-type', 'application/json').send(JSON.stringify({ __type: e.type, message: e.message }));

const accountId = z.string().regex(/^\d{12}$/, 'must be a 12-digit account id');
const page = {
  next_token: z.string().min(1).max(2048).optional(),
  max_result: z
    .string()
    .regex(/^\d{1,3}$/, 'must be an integer from 1 to 100')
    .transform(Number)
    .pipe(z.number().int().min(1).max(100))
    .optional(),
};
const listAccountsQuery = z.strictObject(page);
const listAccountRolesQuery = z.strictObject({ ...page, account_id: accountId });
export const getRoleCredentialsQuery = z.strictObject({ role_name: z.string().min(1).max(32), account_id: accountId });
const noQuery = z.strictObject({});

/** GetRoleCredentials' query when it is plainly valid, as its schema would give it back; else undefined. */
export function plainRoleCredentialsQuery(query: unknown): z.infer<typeof getRoleCredentialsQuery> | undefined {
  if (typeof query !== 'object' || query === null) return undefined;
  const q = query as Record<string, unknown>;
  const keys = Object.keys(q);
  const { role_name: roleName, account_id: account } = q;
  if (keys.length !== 2 || typeof roleName !== 'string' || typeof account !== 'string') return undefined;
  return roleName.length >= 1 && roleName.length <= 32 && /^\d{12}$/.test(account) ? { role_name: roleName, account_id: account } : undefined;
}

const pageOf = (q: { next_token?: string; max_result?: number }) => ({
  ...(q.next_token !== undefined ? { nextToken: q.next_token } : {}),
  ...(q.max_result !== undefined ? { maxResults: q.max_result } : {}),
});

/**
 * Credentials are tied to the portal session the token came from, or to the token's grant when it
 * has none, so that Logout can end them too.
 */
const credentialSessionOf = (t: ResolvedAccessToken) => credentialSessionOfGrant(t.grantId, t.sessionId);

/**
 * POST /logout is both the portal API's Logout and the sign-in pages' sign-out, on one port: a
 * request that carries the bearer token header is the API's.
 */
const bearerConstraint = {
  name: 'ssoBearerToken',
  storage() {
    const handlers = new Map<string, unknown>();
    return { get: (v: string) => handlers.get(v) ?? null, set: (v: string, h: unknown) => void handlers.set(v, h) };
  },
  deriveConstraint: (req: { headers: Record<string, string | string[] | undefined> }) => (req.headers[TOKEN_HEADER] === undefined ? undefined : 'present'),
  mustMatchWhenDerived: false,
};

export function registerSsoPortal(app: FastifyInstance, reg: Registry): void {
  app.addConstraintStrategy(bearerConstraint as unknown as Parameters<FastifyInstance['addConstraintStrategy']>[0]);
  // Encapsulated: its body parser and error handler leave the rest of the app alone.
  void app.register((scope, _opts, done) => {
    portalRoutes(scope, reg);
    done();
  });
}

function portalRoutes(app: FastifyInstance, reg: Registry): void {
  // No portal operation has a body; whatever a client sends is ignored rather than parsed.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_req, _body, done) => done(null, undefined));
  app.setErrorHandler((err: { statusCode?: number }, request, reply) => {
    reply.header('x-amzn-requestid', request.id);
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) return sendError(reply, new PortalError(400, 'InvalidRequestException', 'The request could not be read.'));
    request.log.error({ err }, 'unhandled error in the sso portal API');
    return sendError(reply, portalErrorOf(err));
  });
  const oidc = oidcServiceOf(reg);

  /**
   * One operation: validate the query, resolve the bearer token, run. Refusals of the operations
   * that issue or end something are audited; the list operations are reads.
   */
  const route = <S extends z.ZodType, R>(
    method: 'GET' | 'POST',
    path: string,
    operation: string,
    schema: S,
    handle: (input: z.infer<S>, token: ResolvedAccessToken, ctx: RequestContext, checkedFrom: number) => Promise<R>,
    audited = false,
    /** Vouches for a plainly valid query (only ever one the schema accepts), sparing the schema's walk. */
    plainly?: (query: unknown) => z.infer<S> | undefined,
  ) =>
    app.route({
      method,
      url: path,
      ...(path === '/logout' ? { constraints: { [bearerConstraint.name]: 'present' } } : {}),
      handler: async (request: FastifyRequest, reply: FastifyReply) => {
        // Before the token is resolved: what the request is given counts from here (checkedFrom).
        const checkedFrom = reg.clock.now();
        // Role credentials and account lists are the caller's alone: no cache on the way keeps them.
        reply.header('x-amzn-requestid', request.id).header('cache-control', 'no-store');
        const ctx: RequestContext = anonymousContext(request, reg.config.region, EVENT_SOURCE);
        const vouched = plainly?.(request.query);
        const query: z.ZodSafeParseResult<z.infer<S>> = vouched ? { success: true, data: vouched } : schema.safeParse(request.query);
        try {
          if (!query.success) throw new PortalError(400, 'InvalidRequestException', validationMessage(query.error));
          const header = request.headers[TOKEN_HEADER];
          const token = typeof header === 'string' && header.length > 0 && header.length <= 4096 ? await oidc.resolveAccessToken(header) : undefined;
          // A user disabled or deleted since the token was issued holds it no more (a delete leaves
          // no session to end, and the token's grant may never have had one).
          if (!token || (await reg.revocation.userRevokedSince(token.userId, token.issuedAt))) throw unauthorized();
          ctx.principal = { type: 'IdentityCenterUser', principalId: token.userId, userName: token.userName };
          // Any token may end itself (Logout); only a portal token reaches accounts and credentials.
          if (path !== '/logout' && !token.portalAccess) {
            throw new PortalError(401, 'UnauthorizedException', `The access token was not issued for the AWS access portal (scope ${PORTAL_SCOPE}).`);
          }
          const result = await handle(query.data, token, ctx, checkedFrom);
          return reply.header('content-type', 'application/json').send(JSON.stringify(result ?? {}));
        } catch (err) {
          const e = portalErrorOf(err);
          if (e.status >= 500) request.log.error({ err, operation }, 'unexpected error in the sso portal API');
          else if (audited) await reg.audit.recordRefusal(ctx, operation, query.success ? query.data : {}, e.type, e.message);
          return sendError(reply, e);
        }
      },
    });

  route('GET', '/assignment/accounts', 'ListAccounts', listAccountsQuery, async (q, token) => {
    const r = await reg.access.portal.listAccounts(token.userId, pageOf(q));
    return { accountList: r.items, nextToken: r.nextToken };
  });

  route('GET', '/assignment/roles', 'ListAccountRoles', listAccountRolesQuery, async (q, token) => {
    const r = await reg.access.portal.listAccountRoles(token.userId, q.account_id, pageOf(q));
    return { roleList: r.items.map((roleName) => ({ roleName, accountId: q.account_id })), nextToken: r.nextToken };
  });

  route(
    'GET',
    '/federation/credentials',
    'GetRoleCredentials',
    getRoleCredentialsQuery,
    async (q, token, ctx, checkedFrom) => {
      const role = await reg.access.portal.roleFor(token.userId, q.account_id, q.role_name);
      const roleCredentials = await reg.temporaryCredentials.issueRoleCredentials(ctx, {
        userId: token.userId,
        userName: token.userName,
        sessionId: credentialSessionOf(token),
        accountId: q.account_id,
        ...role,
        checkedFrom,
      });
      return { roleCredentials };
    },
    true,
    plainRoleCredentialsQuery,
  );

  route(
    'POST',
    '/logout',
    'Logout',
    noQuery,
    async (_q, token, ctx) => {
      // A portal token's tokens and the credentials issued in its sign-in end together, or neither
      // does (AWS's Logout ends the sign-in). Any other token (an application's sign-in) ends only
      // its own grant: it could never get credentials, so it must not end those the user's CLI got.
      await oidc.revokeGrant(
        ctx,
        token.grantId,
        'Logout',
        token.portalAccess ? () => reg.revocation.revokeFollowing(ctx, [{ kind: 'session', sessionId: credentialSessionOf(token) }], 'Logout') : undefined,
      );
      // The portal session it was approved in ends too, as AWS's Logout ends the sign-in session
      // (else the browser stayed signed in while the credentials it had copied stopped working).
      if (token.portalAccess && token.sessionId) await reg.auth.endSessionOfLogout(ctx, token.sessionId);
      return {};
    },
    true,
  );
}
