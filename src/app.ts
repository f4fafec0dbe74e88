// buildApp(registry): the Fastify instance with every surface, without listen(). Tests use
// inject() or listen on port 0.

import Fastify, { LogController, type FastifyBaseLogger, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { awsJsonRoutes, sendAwsError } from './protocols/aws/aws-json.js';
import { cloudTrailApi } from './protocols/aws/cloudtrail.js';
import { identityStoreApi } from './protocols/aws/identitystore.js';
import { organizationsApi } from './protocols/aws/organizations.js';
import { ssoAdminApi } from './protocols/aws/sso-admin.js';
import { registerSsoPortal } from './protocols/aws/sso-portal.js';
import { stsQueryHandler } from './protocols/aws/sts.js';
import { registerOidc } from './protocols/oidc/index.js';
import { consoleAuthenticator } from './protocols/portal-ui/console-auth.js';
import { registerPortalUi } from './protocols/portal-ui/index.js';
import { registerSaml } from './protocols/saml/index.js';
import { registerScim, scimRouterRefusal } from './protocols/scim/index.js';
import { registerWeb } from './protocols/web/index.js';
import { escape, isPageLoad, page, STATIC_PAGE_CSP } from './protocols/web/pages.js';
import { registerPolicyApi } from './protocols/web/policy-api.js';
import { iamQueryHandler } from './protocols/aws/iam.js';
import { isQueryRequest, queryNamespaceOf, sendQueryError, signingServiceOf } from './protocols/aws/aws-query.js';
import type { Registry } from './registry.js';
import { ping } from './store/sql/core-stores.js';
import { useLazyRequestLoggers } from './protocols/lazy-request-log.js';

/**
 * A browser loading a page that is not there (a mistyped or truncated link) gets a page, not an
 * AWS error body it would offer to download. Undefined for every other client.
 */
function sendPageError(request: FastifyRequest, reply: FastifyReply, status: number, title: string, message: string): FastifyReply | undefined {
  if (!isPageLoad(request.method, request.headers.accept)) return undefined;
  const body = `<p class="error" role="alert">${escape(message)}</p><p><a href="/start">Go to the access portal</a></p>`;
  return reply.status(status).header('content-security-policy', STATIC_PAGE_CSP).header('x-frame-options', 'DENY').type('text/html; charset=utf-8').send(page(title, body));
}

/** Form posts to POST /: IAM when signed for `iam`, STS otherwise. */
function awsQueryHandler(reg: Registry) {
  const iam = iamQueryHandler(reg);
  const sts = stsQueryHandler(reg);
  return (request: FastifyRequest, reply: FastifyReply) => (signingServiceOf(request) === 'iam' ? iam(request, reply) : sts(request, reply));
}

export async function buildApp(reg: Registry): Promise<FastifyInstance> {
  const app = Fastify({
    loggerInstance: reg.log as unknown as FastifyBaseLogger,
    // Per-request lines cost throughput and say little; errors are still logged.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => reg.newRequestId(),
    bodyLimit: 1024 * 1024,
    trustProxy: false,
    // The router's own refusals (a bad %-escape, a path parameter over its length limit) in the
    // protocol's shape: SCIM's for SCIM paths, AWS's elsewhere.
    frameworkErrors: (err, request, reply) => {
      if (scimRouterRefusal(reply, request.raw.url ?? '', err.code)) return;
      if (sendPageError(request, reply, 400, 'Bad address', 'This address could not be read: it holds a malformed %-escape or too long a name.')) return;
      void sendAwsError(reply.header('x-amzn-requestid', request.id), { status: 400, type: 'SerializationException', message: 'The request path could not be read.' });
    },
  });
  // Every route's request logger is made on the first line it logs: most requests log none.
  useLazyRequestLoggers(app);

  // Errors raised before a route runs (too large, unparseable, unsupported media type) still get
  // an AWS-shaped body; nothing here reveals internals.
  app.setErrorHandler((err: { statusCode?: number; code?: string }, request, reply) => {
    reply.header('x-amzn-requestid', request.id);
    if (isQueryRequest(request)) {
      // STS's and IAM's clients read XML: a body too large, or one that could not be read, in their shape.
      const e =
        err.code === 'FST_ERR_CTP_BODY_TOO_LARGE'
          ? { status: 413, code: 'RequestEntityTooLarge', message: 'The request body exceeds 1 MiB.' }
          : err.statusCode && err.statusCode >= 400 && err.statusCode < 500
            ? { status: err.statusCode, code: 'MalformedQueryString', message: 'The request could not be read.' }
            : undefined;
      if (e) return sendQueryError(reply, queryNamespaceOf(request), e, request.id);
    }
    if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
      return sendAwsError(reply, { status: 413, type: 'RequestEntityTooLargeException', message: 'The request body exceeds 1 MiB.' });
    }
    if (err.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return sendAwsError(reply, { status: 415, type: 'UnsupportedMediaTypeException', message: 'The Content-Type is not supported.' });
    }
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      return sendAwsError(reply, { status: err.statusCode, type: 'SerializationException', message: 'The request could not be read.' });
    }
    request.log.error({ err }, 'unhandled error');
    return sendAwsError(reply, { status: 500, type: 'InternalServerException', message: 'An internal error occurred.' });
  });

  app.setNotFoundHandler(
    (request, reply) =>
      sendPageError(request, reply, 404, 'Page not found', 'There is no page at this address.') ??
      sendAwsError(reply.header('x-amzn-requestid', request.id), { status: 404, type: 'UnknownOperationException', message: 'No such route.' }),
  );

  app.get('/healthz', async (_req, reply) => {
    await ping(reg.database.db);
    return reply.send({ status: 'ok' });
  });

  awsJsonRoutes(app, {
    credentials: reg.credentials,
    audit: reg.audit,
    newRequestId: reg.newRequestId,
    authorize: (principal, action) => reg.policy.requireAllowed(principal, action),
    services: [identityStoreApi(reg), ssoAdminApi(reg), organizationsApi(reg), cloudTrailApi(reg)],
    query: awsQueryHandler(reg),
    console: consoleAuthenticator(reg),
  });
  await registerOidc(app, reg);
  registerSsoPortal(app, reg);
  registerScim(app, reg);
  registerSaml(app, reg);
  await registerWeb(app, reg);
  registerPolicyApi(app, reg);
  await registerPortalUi(app, reg);

  return app;
}
