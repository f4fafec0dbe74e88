// The administrators' session API, SigV4-signed (service `sso`) with an Atrium access key: list
// any user's portal sessions and end them. Errors have the AWS JSON shape.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { SessionRecord } from '../../auth/index.js';
import type { RequestContext } from '../../shared/context.js';
import { invalidArgument } from '../../shared/errors.js';
import { sendAwsError } from '../aws/aws-json.js';
import { toAwsError } from '../aws/errors.js';
import { epochSeconds } from '../aws/operation.js';
import type { WebDeps } from './index.js';

const view = (s: SessionRecord) => ({
  SessionId: s.sessionId,
  UserId: s.userId,
  UserName: s.userName,
  CreatedAt: epochSeconds(s.createdAt),
  ExpiresAt: epochSeconds(s.expiresAt),
  SourceIp: s.sourceIp,
});

export function registerAdminApi(app: FastifyInstance, { reg, context }: WebDeps): void {
  /** Verify the signature, then run `handle` with the signer's context; any refusal is AWS-shaped. */
  const signed = (handle: (request: FastifyRequest, ctx: RequestContext) => Promise<unknown>) => async (request: FastifyRequest, reply: FastifyReply) => {
    try {
      const [path, query = ''] = request.raw.url!.split('?', 2) as [string, string?];
      const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
      const { region, ...principal } = await reg.credentials.authenticate({ method: request.method, path, query, headers: request.headers as Record<string, string | undefined>, body }, ['sso']);
      const result = await handle(request, { ...(await context(request)), region, principal });
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
}
