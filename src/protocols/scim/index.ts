// SCIM 2.0 at /scim/v2 (RFC 7643, RFC 7644): one encapsulated plugin with its own body parser,
// bearer-token check and error handler, the discovery endpoints, /Users (users.ts), /Groups
// (groups.ts) and /Bulk (bulk.ts).
//
// Every request needs a SCIM bearer token (`atrium scim token create`), checked and audited by the
// provisioning module. Every error is an RFC 7644 §3.12 body; bad input never gives a 500.
//
// A /Bulk operation runs as an in-process request to its single-resource route, on behalf of the
// Bulk's already-authenticated caller. It is recognised by the identity of its raw request object,
// which only this module creates: nothing a client sends (no header, no address) can pass for one.

import type { AddressInfo } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { inject } from 'light-my-request';
import { publicUrlOf } from '../../config/config.js';
import { SCIM_PATH } from '../../provisioning/index.js';
import type { Registry } from '../../registry.js';
import type { RequestContext } from '../../shared/context.js';
import { bulkRoutes, type DispatchOperation } from './bulk.js';
import { ScimError } from './errors.js';
import { isDomainError } from '../../shared/errors.js';
import { groupRoutes } from './groups.js';
import { listResponse, MAX_BODY_BYTES, parseScimJson, SCIM_EVENT_SOURCE, scimErrorOf, sendScim, type ScimRouteDeps } from './http.js';
import { BULK_MAX_PAYLOAD_BYTES, SCHEMAS, resourceTypes, schemaResource, serviceProviderConfig } from './schemas.js';
import { userRoutes } from './users.js';
import { anonymousContext } from '../request-context.js';

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * For the router's own refusals, which no scope's error handler sees (an id past the router's
 * length limit, a bad %-escape): a SCIM error for a SCIM path, or undefined for another.
 */
export function scimRouterRefusal(reply: FastifyReply, url: string, code: string): FastifyReply | undefined {
  if (url !== SCIM_PATH && !url.startsWith(`${SCIM_PATH}/`)) return undefined;
  const error = code === 'FST_ERR_MAX_PARAM_LENGTH' ? new ScimError(404, undefined, 'No such resource: the id is too long.') : new ScimError(400, 'invalidValue', 'The request path is not valid.');
  return sendScim(reply, error.status, error.toBody());
}

export function registerScim(app: FastifyInstance, reg: Registry): void {
  // The port is known only once the server listens (tests listen on port 0).
  // Kept once the server listens: asking the socket on every request costs a few percent of a write.
  let listening: string | undefined;
  const baseUrl = () => {
    if (listening !== undefined) return listening;
    const port = (app.server.address() as AddressInfo | null)?.port;
    const url = publicUrlOf(reg.config, port ?? reg.config.port) + SCIM_PATH;
    if (port !== undefined) listening = url;
    return url;
  };
  // Not awaited, like the other protocols: the plugin loads with the app.
  void app.register(
    (scope, _opts, done) => {
      scimScope(scope, reg, baseUrl);
      done();
    },
    { prefix: SCIM_PATH },
  );
}

function scimScope(scope: FastifyInstance, reg: Registry, baseUrl: () => string): void {
  const contexts = new WeakMap<FastifyRequest, RequestContext>();
  /** Each authenticated request's use of its token, being recorded while the request is served. */
  const uses = new WeakMap<FastifyRequest, Promise<void>>();
  const contextOf = (request: FastifyRequest) => {
    const ctx = contexts.get(request);
    if (!ctx) throw new Error('no SCIM context: the authentication hook did not run');
    return ctx;
  };
  const deps: ScimRouteDeps = { reg, baseUrl, contextOf };

  // The raw requests of /Bulk operations in flight, each with the context of the Bulk that made it
  // and its body, already parsed and checked as part of the Bulk's: it is not serialised again.
  const operations = new WeakMap<object, { ctx: RequestContext; body: unknown }>();
  const dispatch: DispatchOperation = async (ctx, op) => {
    const res = await inject(
      (req, res) => {
        operations.set(req, { ctx, body: op.body });
        scope.routing(req, res);
      },
      { method: op.method, url: SCIM_PATH + op.url, headers: op.headers, ...(op.body === undefined ? {} : { payload: '{}' }) },
    );
    return { status: res.statusCode, headers: res.headers, body: res.payload };
  };

  scope.removeAllContentTypeParsers();
  scope.addContentTypeParser(['application/scim+json', 'application/json'], { parseAs: 'string', bodyLimit: MAX_BODY_BYTES }, (request, body, done) => {
    const operation = operations.get(request.raw);
    if (operation !== undefined) return done(null, operation.body);
    try {
      done(null, parseScimJson(body as string));
    } catch (err) {
      done(err as Error, undefined);
    }
  });

  scope.setErrorHandler((err, request, reply) => {
    const bulk = request.routeOptions.url === `${SCIM_PATH}/Bulk`;
    const scim = scimErrorOf(err, bulk ? { bytes: BULK_MAX_PAYLOAD_BYTES, name: 'maxPayloadSize' } : undefined);
    if (scim.status >= 500) request.log.error({ err }, 'unhandled error in the SCIM API');
    if (scim.status === 401) reply.header('www-authenticate', 'Bearer realm="atrium-scim"');
    // IdP clients read the header, not the detail's prose.
    if (scim.status === 429 && isDomainError(err) && err.details.retryAfterSeconds !== undefined) reply.header('retry-after', String(err.details.retryAfterSeconds));
    return sendScim(reply, scim.status, scim.toBody());
  });
  scope.setNotFoundHandler((request, reply) => {
    const path = request.url.split('?')[0]!;
    // RFC 7644 §3.11: a token here stands for an IdP, not a user, so there is no "me": 501.
    if (path === `${SCIM_PATH}/Me` || path.startsWith(`${SCIM_PATH}/Me/`)) {
      return sendScim(reply, 501, new ScimError(501, undefined, 'The /Me endpoint is not supported: a SCIM token acts for an identity provider, not for a user.').toBody());
    }
    return sendScim(reply, 404, new ScimError(404, undefined, `No SCIM endpoint ${request.method} ${path}.`).toBody());
  });

  // Before the body is read: an unauthenticated request gets no further than its headers.
  scope.addHook('onRequest', async (request) => {
    const operation = operations.get(request.raw);
    if (operation !== undefined) {
      contexts.set(request, operation.ctx);
      return;
    }
    const ctx: RequestContext = anonymousContext(request, reg.config.region, SCIM_EVENT_SOURCE);
    const bearer = BEARER.exec(request.headers.authorization ?? '')?.[1];
    if (bearer === undefined) throw new ScimError(401, undefined, 'A SCIM bearer token is required: "Authorization: Bearer <token>".');
    // The request is served while its token's use is being recorded; onSend waits for the record.
    const { token, recorded } = await reg.scimTokens.beginUse(ctx, bearer);
    uses.set(request, recorded);
    contexts.set(request, { ...ctx, principal: token.principal });
  });
  // No answer leaves before the token's use is on the record.
  scope.addHook('onSend', async (request, _reply, payload) => {
    const recorded = uses.get(request);
    if (recorded === undefined) return payload;
    try {
      await recorded;
    } catch (err) {
      // The token was deleted while the request ran: what the request did is audited under the
      // token by its own event; the refusal to touch the token is audited by beginUse.
      request.log.warn({ err }, 'the SCIM bearer token changed while its request ran');
    }
    return payload;
  });

  // RFC 7644 §4: the discovery endpoints take no filter; "SHOULD" answer 403 to one.
  const refuseFilter = (request: FastifyRequest) => {
    if ((request.query as Record<string, unknown>).filter !== undefined) throw new ScimError(403, undefined, 'The discovery endpoints take no filter (RFC 7644 §4).');
  };
  scope.get('/ServiceProviderConfig', async (request, reply) => {
    refuseFilter(request);
    return sendScim(reply, 200, serviceProviderConfig(deps.baseUrl()));
  });
  scope.get('/Schemas', async (request, reply) => {
    refuseFilter(request);
    return sendScim(reply, 200, listResponse(SCHEMAS.map((s) => schemaResource(s, deps.baseUrl()))));
  });
  scope.get('/Schemas/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const schema = SCHEMAS.find((s) => s.id.toLowerCase() === id.toLowerCase());
    if (!schema) throw new ScimError(404, undefined, `No schema ${id}.`);
    return sendScim(reply, 200, schemaResource(schema, deps.baseUrl()));
  });
  scope.get('/ResourceTypes', async (request, reply) => {
    refuseFilter(request);
    return sendScim(reply, 200, listResponse(resourceTypes(deps.baseUrl())));
  });
  scope.get('/ResourceTypes/:name', async (request, reply) => {
    const { name } = request.params as { name: string };
    const type = resourceTypes(deps.baseUrl()).find((t) => t.name.toLowerCase() === name.toLowerCase());
    if (!type) throw new ScimError(404, undefined, `No resource type ${name}.`);
    return sendScim(reply, 200, type);
  });
  userRoutes(scope, deps);
  groupRoutes(scope, deps);
  bulkRoutes(scope, deps, dispatch);
}
