// OAuth 2.0 / OpenID Connect: oidc-provider 9 mounted at /oidc (discovery, authorization, token,
// userinfo, JWKS, revocation), the AWS sso-oidc adapter over the same grants and tokens, and AWS's
// /authorize entry point, which hands the browser to the provider.
//
// Others reach the service with `oidcServiceOf(reg)`: a WeakMap keyed by the registry, since a
// Fastify decoration would stay inside this encapsulated plugin.

import type { AddressInfo } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { publicUrlOf } from '../../config/config.js';
import type { Registry } from '../../registry.js';
import { ssoOidcRoutes } from '../aws/sso-oidc.js';
import { escape, page } from '../web/pages.js';
import { OIDC_MOUNT, OidcService, wellFormedUserCode } from './oidc-service.js';
export { PORTAL_SCOPE } from './provider.js';
import { anonymousContext } from '../request-context.js';

export {
  AUTHORIZATION_CODE_GRANT,
  credentialSessionOfGrant,
  DEVICE_CODE_GRANT,
  normalizeUserCode,
  wellFormedUserCode,
  OIDC_MOUNT,
  OidcService,
  REFRESH_TOKEN_GRANT,
  type DeviceApprover,
  type PendingDevice,
  type PendingInteraction,
  type ResolvedAccessToken,
} from './oidc-service.js';

const services = new WeakMap<Registry, OidcService>();

/** The OAuth service of a registry whose app has been built. */
export function oidcServiceOf(reg: Registry): OidcService {
  const service = services.get(reg);
  if (!service) throw new Error('registerOidc has not run for this registry');
  return service;
}

/** AWS names the scopes `scopes` and may separate them by commas; the provider wants `scope`, spaces. */
const AUTHORIZE_PARAMS = ['response_type', 'client_id', 'redirect_uri', 'state', 'code_challenge', 'code_challenge_method', 'nonce', 'prompt'];

export function registerOidc(app: FastifyInstance, reg: Registry): Promise<void> {
  // The port is known only once the server listens (tests listen on port 0).
  const port = () => (app.server.address() as AddressInfo | null)?.port ?? reg.config.port;
  const service = new OidcService({
    tx: reg.tx,
    read: reg.read,
    clock: reg.clock,
    ids: reg.ids,
    envelope: reg.envelope,
    audit: reg.audit,
    instance: reg.instance,
    directory: reg.directory,
    region: reg.config.region,
    publicUrl: () => publicUrlOf(reg.config, port()),
    revokeCredentials: (ctx, sessionId, reason) => reg.revocation.revokeFollowing(ctx, [{ kind: 'session', sessionId }], reason),
    logFault: (err, message) => reg.log.error({ err }, message),
    renderError: (status, error, description) =>
      page('Sign-in request refused', `<p class="error" role="alert">${escape(description || error)}</p><p>Error: <code>${escape(error)}</code> (HTTP ${status}). Start again from your application.</p>`),
  });
  services.set(reg, service);
  // Not awaited: awaiting would load the app's routes declared so far before app.ts sets its error handler.
  void app.register((scope, _opts, done) => {
    ssoOidcRoutes(scope, { oidc: service, audit: reg.audit, region: reg.config.region });
    done();
  });
  void app.register((scope, _opts, done) => {
    // The provider reads its own bodies: leave the request stream untouched.
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser('*', (_request, _payload, next) => next(null));
    const mount = async (request: FastifyRequest, reply: FastifyReply) => {
      const ctx = anonymousContext(request, reg.config.region, 'sso.amazonaws.com');
      reply.hijack();
      try {
        await service.dispatch(ctx, request.raw, reply.raw);
      } catch (err) {
        request.log.error({ err }, 'unhandled error in the OIDC provider');
        if (!reply.raw.headersSent) reply.raw.writeHead(500, { 'content-type': 'text/plain' });
        reply.raw.end('An internal error occurred.');
      }
    };
    scope.all(OIDC_MOUNT, mount);
    scope.all(`${OIDC_MOUNT}/*`, mount);
    // The provider's own code-verification page: users confirm device codes on Atrium's /device.
    // Its POST (unused, as the page is ours) would reach the provider without its session cookie and
    // fail there; both go to /device instead, keeping a well-formed code from the query
    // (`verification_uri_complete`, RFC 8628 §3.3.1, lets the user skip typing it).
    scope.route({
      method: ['GET', 'POST'],
      url: `${OIDC_MOUNT}/device`,
      handler: (request, reply) => {
        const code = wellFormedUserCode((request.query as Record<string, unknown>).user_code);
        return reply.redirect(code ? `/device?user_code=${code}` : '/device', 303);
      },
    });
    // AWS's authorization endpoint for the PKCE flow of newer CLIs and SDKs: on to the provider's.
    scope.get('/authorize', async (request, reply) => {
      const query = request.query as Record<string, unknown>;
      const params = new URLSearchParams();
      for (const name of AUTHORIZE_PARAMS) if (typeof query[name] === 'string') params.set(name, query[name]);
      const scopes = typeof query.scopes === 'string' ? query.scopes : typeof query.scope === 'string' ? query.scope : '';
      const scopeList = scopes.split(/[\s,]+/).filter(Boolean);
      if (scopeList.length > 0) params.set('scope', scopeList.join(' '));
      return reply.redirect(`${OIDC_MOUNT}/auth?${params.toString()}`, 302);
    });
    done();
  });
  return Promise.resolve();
}
