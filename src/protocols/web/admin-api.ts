// The administrators' API, SigV4-signed (service `sso`) with an Atrium access key: any user's portal
// sessions, and the SCIM bearer tokens. Errors have the AWS JSON shape.

import type { AddressInfo } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { SessionRecord } from '../../auth/index.js';
import { publicUrlOf } from '../../config/config.js';
import { SCIM_ADMIN_SOURCE, SCIM_PATH, type ScimTokenInfo } from '../../provisioning/index.js';
import type { RequestContext } from '../../shared/context.js';
import { invalidArgument } from '../../shared/errors.js';
import { sendAwsError, validationMessage } from '../aws/aws-json.js';
import { toAwsError } from '../aws/errors.js';
import { epochSeconds } from '../aws/operation.js';
import type { WebDeps } from './index.js';

/** No admin request needs more; the signature covers every byte, so the body is kept raw. */
const MAX_ADMIN_BODY_BYTES = 64 * 1024;

const view = (s: SessionRecord) => ({
  SessionId: s.sessionId,
  UserId: s.userId,
  UserName: s.userName,
  CreatedAt: epochSeconds(s.createdAt),
  ExpiresAt: epochSeconds(s.expiresAt),
  SourceIp: s.sourceIp,
});

const tokenView = (t: ScimTokenInfo) => ({
  TokenId: t.tokenId,
  CreatedAt: epochSeconds(t.createdAt),
  ExpiresAt: epochSeconds(t.expiresAt),
  ...(t.lastUsedAt === null ? {} : { LastUsedAt: epochSeconds(t.lastUsedAt) }),
  Active: t.active,
});

const createTokenInput = z.object({ ExpiresInDays: z.number().optional() }).strict();

/** The body as JSON; an empty body is an empty object. */
function jsonOf(body: Buffer): unknown {
  if (body.length === 0) return {};
  try {
    return JSON.parse(body.toString('utf8'));
  } catch {
    throw invalidArgument('admin.invalid_json', 'The request body is not valid JSON.');
  }
}

export function registerAdminApi(app: FastifyInstance, deps: WebDeps): void {
  // Its own scope: raw bodies for SigV4 and AWS-shaped errors, without changing the pages' parsing.
  void app.register((scope, _opts, done) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_ADMIN_BODY_BYTES }, (_req, body, next) => next(null, body));
    scope.setErrorHandler((err: { statusCode?: number; code?: string }, request, reply) => {
      reply.header('x-amzn-requestid', request.id);
      if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
        return sendAwsError(reply, { status: 413, type: 'RequestEntityTooLargeException', message: `The request body exceeds ${MAX_ADMIN_BODY_BYTES} bytes.` }, 'application/json');
      }
      if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
        return sendAwsError(reply, { status: err.statusCode, type: 'SerializationException', message: 'The request could not be read.' }, 'application/json');
      }
      request.log.error({ err }, 'unhandled error in the admin API');
      return sendAwsError(reply, toAwsError(err), 'application/json');
    });
    adminRoutes(scope, deps);
    done();
  });
}

function adminRoutes(app: FastifyInstance, { reg, context }: WebDeps): void {
  /** Verify the signature, then run `handle` with the signer's context; any refusal is AWS-shaped. */
  const signed = (handle: (request: FastifyRequest, ctx: RequestContext, body: Buffer) => Promise<unknown>) => async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      const [path, query = ''] = request.raw.url!.split('?', 2) as [string, string?];
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const { region, ...principal } = await reg.credentials.authenticate({ method: request.method, path, query, headers: request.headers as Record<string, string | undefined>, body }, ['sso']);
      const result = await handle(request, { ...(await context(request)), region, principal }, body);
      return reply.send(result);
    } catch (err) {
      return sendAwsError(reply.header('x-amzn-requestid', request.id), toAwsError(err), 'application/json');
    }
  };
  const userNameOf = (request: FastifyRequest) => (request.query as { userName?: string }).userName;

  app.get(
    '/api/admin/sessions',
    signed(async (request) => ({ Sessions: (await reg.auth.listSessions(userNameOf(request))).map(view) })),
  );
  app.delete(
    '/api/admin/sessions/:sessionId',
    signed(async (request, ctx) => ({ RevokedSessionIds: await reg.auth.revokeSessions(ctx, { sessionId: (request.params as { sessionId: string }).sessionId }) })),
  );
  app.delete(
    '/api/admin/sessions',
    signed(async (request, ctx) => {
      const userName = userNameOf(request);
      if (!userName) throw invalidArgument('auth.missing_user_name', 'Give the userName whose sessions to revoke.');
      return { RevokedSessionIds: await reg.auth.revokeSessions(ctx, { userName }) };
    }),
  );

  // The port is known only once the server listens (tests listen on port 0).
  const scimEndpoint = () => publicUrlOf(reg.config, (app.server.address() as AddressInfo | null)?.port ?? reg.config.port) + SCIM_PATH;
  app.post(
    '/api/admin/scim/tokens',
    signed(async (_request, signer, body) => {
      const ctx = { ...signer, eventSource: SCIM_ADMIN_SOURCE };
      const json = jsonOf(body);
      const input = createTokenInput.safeParse(json);
      if (!input.success) {
        const message = validationMessage(input.error);
        // A refused change is on the record too, even when it never reached the domain.
        await reg.audit.recordRefusal(ctx, 'CreateBearerToken', json, 'ValidationException', message);
        throw invalidArgument('admin.validation', message);
      }
      const issued = await reg.scimTokens.createToken(ctx, { expiresInDays: input.data.ExpiresInDays });
      return { TokenId: issued.tokenId, Token: issued.token, ExpiresAt: epochSeconds(issued.expiresAt), Endpoint: scimEndpoint() };
    }),
  );
  app.get(
    '/api/admin/scim/tokens',
    signed(async () => ({ Tokens: (await reg.scimTokens.listTokens()).map(tokenView) })),
  );
  app.delete(
    '/api/admin/scim/tokens/:tokenId',
    signed(async (request, signer) => {
      await reg.scimTokens.deleteToken({ ...signer, eventSource: SCIM_ADMIN_SOURCE }, (request.params as { tokenId: string }).tokenId);
      return {};
    }),
  );
}
