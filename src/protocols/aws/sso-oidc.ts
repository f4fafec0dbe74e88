// The AWS sso-oidc API (restJson1): RegisterClient, StartDeviceAuthorization and CreateToken as thin
// camelCase adapters over oidc-provider's grants (src/protocols/oidc); errors carry X-Amzn-ErrorType and {error, error_description}.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { AuditService } from '../../audit/index.js';
import type { RequestContext } from '../../shared/context.js';
import { isDomainError, RETRY_UNAVAILABLE_SECONDS } from '../../shared/errors.js';
import type { OAuthErrorName, OidcService } from '../oidc/oidc-service.js';
import { inspectJson, MAX_JSON_DEPTH, validationMessage } from './aws-json.js';
import { anonymousContext } from '../request-context.js';

/** No sso-oidc request comes near this; a bigger body is refused before it is parsed. */
const MAX_BODY_BYTES = 64 * 1024;
const EVENT_SOURCE = 'sso.amazonaws.com';

const WIRE: Record<OAuthErrorName | 'server_error' | 'temporarily_unavailable', { type: string; status: number }> = {
  invalid_request: { type: 'InvalidRequestException', status: 400 },
  invalid_client: { type: 'InvalidClientException', status: 401 },
  invalid_grant: { type: 'InvalidGrantException', status: 400 },
  unauthorized_client: { type: 'UnauthorizedClientException', status: 400 },
  unsupported_grant_type: { type: 'UnsupportedGrantTypeException', status: 400 },
  invalid_scope: { type: 'InvalidScopeException', status: 400 },
  invalid_client_metadata: { type: 'InvalidClientMetadataException', status: 400 },
  invalid_redirect_uri: { type: 'InvalidRedirectUriException', status: 400 },
  authorization_pending: { type: 'AuthorizationPendingException', status: 400 },
  slow_down: { type: 'SlowDownException', status: 400 },
  access_denied: { type: 'AccessDeniedException', status: 400 },
  expired_token: { type: 'ExpiredTokenException', status: 400 },
  server_error: { type: 'InternalServerException', status: 500 },
  // The database could not take the write now (the provider's own endpoints answer the same 503).
  temporarily_unavailable: { type: 'InternalServerException', status: 503 },
};

type WireError = keyof typeof WIRE;

function sendOidcError(reply: FastifyReply, error: WireError, description: string): FastifyReply {
  const { type, status } = WIRE[error];
  if (status === 503) reply.header('retry-after', String(RETRY_UNAVAILABLE_SECONDS));
  return reply
    .code(status)
    .header('x-amzn-errortype', type)
    .header('content-type', 'application/json')
    .send(JSON.stringify({ error, error_description: description }));
}

function wireErrorOf(err: unknown): { error: WireError; description: string } {
  if (!isDomainError(err)) return { error: 'server_error', description: 'An internal error occurred.' };
  const name = err.code.startsWith('oidc.') ? err.code.slice(5) : '';
  if (Object.hasOwn(WIRE, name)) return { error: name as WireError, description: err.message };
  if (err.kind === 'unauthenticated') return { error: 'invalid_client', description: err.message };
  if (err.kind === 'invalid_argument') return { error: 'invalid_request', description: err.message };
  if (err.kind === 'unavailable') return { error: 'temporarily_unavailable', description: err.message };
  return { error: 'server_error', description: 'An internal error occurred.' };
}

const str = (max: number) => z.string().min(1).max(max);
const list = (max: number) => z.array(str(max)).max(64);

const registerClientInput = z.strictObject({
  clientName: str(1024),
  clientType: str(64),
  scopes: list(256).optional(),
  redirectUris: list(2048).optional(),
  grantTypes: list(256).optional(),
  issuerUrl: str(2048).optional(),
  entitledApplicationArn: str(2048).optional(),
});

const startDeviceAuthorizationInput = z.strictObject({
  clientId: str(256),
  clientSecret: str(4096),
  startUrl: str(2048),
});

const createTokenInput = z.strictObject({
  clientId: str(256),
  clientSecret: str(4096),
  grantType: str(256),
  deviceCode: str(1024).optional(),
  code: str(4096).optional(),
  refreshToken: str(4096).optional(),
  scope: list(256).optional(),
  redirectUri: str(2048).optional(),
  codeVerifier: str(256).optional(),
});

/** What of a request may go into an audit event, even when it failed validation: never a secret or code. */
const AUDITED_FIELDS: Record<string, string[]> = {
  RegisterClient: ['clientName', 'clientType', 'scopes', 'grantTypes'],
  StartDeviceAuthorization: ['clientId', 'startUrl'],
  CreateToken: ['clientId', 'grantType', 'scope'],
};

function auditable(operation: string, body: unknown): Record<string, unknown> {
  if (body === null || typeof body !== 'object') return {};
  const fields = AUDITED_FIELDS[operation] ?? [];
  return Object.fromEntries(Object.entries(body).filter(([k]) => fields.includes(k)));
}

function parseBody(body: unknown): { ok: true; value: unknown } | { ok: false; message: string } {
  if (body === undefined) return { ok: true, value: {} };
  if (!Buffer.isBuffer(body)) return { ok: false, message: 'The request body could not be read.' };
  let value: unknown;
  try {
    value = JSON.parse(body.toString('utf8'));
  } catch {
    return { ok: false, message: 'The request body is not valid JSON.' };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) return { ok: false, message: 'The request body must be a JSON object.' };
  const shape = inspectJson(value, MAX_JSON_DEPTH);
  if (shape.depth > MAX_JSON_DEPTH) return { ok: false, message: `The request body nests deeper than ${MAX_JSON_DEPTH} levels.` };
  if (shape.hasNul) return { ok: false, message: 'Strings must not contain the NUL character.' };
  return { ok: true, value };
}

export function ssoOidcRoutes(app: FastifyInstance, deps: { oidc: OidcService; audit: AuditService; region: string }): void {
  // This scope is encapsulated: its parser and error handler leave the rest of the app alone.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => done(null, body));
  app.setErrorHandler((err: { statusCode?: number; code?: string }, request, reply) => {
    reply.header('x-amzn-requestid', request.id);
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      const tooLarge = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE';
      return sendOidcError(reply, 'invalid_request', tooLarge ? `The request body exceeds ${MAX_BODY_BYTES} bytes.` : 'The request could not be read.');
    }
    request.log.error({ err }, 'unhandled error in sso-oidc');
    return sendOidcError(reply, 'server_error', 'An internal error occurred.');
  });

  const route = <S extends z.ZodType, R>(path: string, operation: string, schema: S, handle: (input: z.infer<S>, ctx: RequestContext) => Promise<R>) =>
    app.post(path, async (request: FastifyRequest, reply: FastifyReply) => {
      reply.header('x-amzn-requestid', request.id);
      // The caller is a client, not yet a user: like CloudTrail, the identity is unknown.
      const ctx = anonymousContext(request, deps.region, EVENT_SOURCE);
      const body = parseBody(request.body);
      const input = body.ok ? schema.safeParse(body.value) : undefined;
      if (!input?.success) {
        const message = body.ok ? validationMessage(input!.error) : body.message;
        await deps.audit.recordRefusal(ctx, operation, auditable(operation, body.ok ? body.value : undefined), 'InvalidRequestException', message);
        return sendOidcError(reply, 'invalid_request', message);
      }
      try {
        const result = await handle(input.data, ctx);
        return reply.header('content-type', 'application/json').send(JSON.stringify(result));
      } catch (err) {
        if (!isDomainError(err)) request.log.error({ err, operation }, 'unexpected error in sso-oidc');
        const { error, description } = wireErrorOf(err);
        return sendOidcError(reply, error, description);
      }
    });

  route('/client/register', 'RegisterClient', registerClientInput, async (input, ctx) => {
    const r = await deps.oidc.registerClient(ctx, input);
    return { clientId: r.clientId, clientSecret: r.clientSecret, clientIdIssuedAt: r.clientIdIssuedAt, clientSecretExpiresAt: r.clientSecretExpiresAt };
  });

  route('/device_authorization', 'StartDeviceAuthorization', startDeviceAuthorizationInput, (input, ctx) => deps.oidc.startDeviceAuthorization(ctx, input));

  route('/token', 'CreateToken', createTokenInput, async (input, ctx) => {
    const r = await deps.oidc.createToken(ctx, input);
    return { accessToken: r.accessToken, tokenType: r.tokenType, expiresIn: r.expiresIn, refreshToken: r.refreshToken, idToken: r.idToken };
  });
}
