// Browser routes (sign-in, password change, sign-out, the portal and admin session APIs), in one
// encapsulated plugin so that its hooks and error handler never touch the AWS routes.

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { PORTAL_SOURCE, SIGNIN_SOURCE } from '../../auth/index.js';
import { publicUrlOf } from '../../config/config.js';
import type { Registry } from '../../registry.js';
import type { RequestContext } from '../../shared/context.js';
import { isDomainError, RETRY_UNAVAILABLE_SECONDS } from '../../shared/errors.js';
import { registerAdminApi } from './admin-api.js';
import { registerConsentPage } from './consent.js';
import { registerDevicePage } from './device.js';
import { registerMfaPages } from './mfa-pages.js';
import { cookieJar, type CookieJar } from './cookies.js';
import { registerPortalApi } from './portal-api.js';
import { registerSignIn } from './signin.js';
import { anonymousContext } from '../request-context.js';

export interface WebDeps {
  reg: Registry;
  jar: CookieJar;
  context: (request: FastifyRequest, eventSource?: string) => Promise<RequestContext>;
}

/**
 * Queues the plugin without awaiting it: awaiting `register` here would load the plugin queue at
 * once and fix the routes declared before it with the error handler of that moment, before
 * app.ts sets the AWS-shaped one.
 */
export function registerWeb(app: FastifyInstance, reg: Registry): Promise<void> {
  const deps: WebDeps = {
    reg,
    jar: cookieJar(publicUrlOf(reg.config).startsWith('https:')),
    context: async (request, eventSource = SIGNIN_SOURCE) => {
      return anonymousContext(request, (await reg.instance.get()).region, eventSource);
    },
  };
  void app.register((web, _opts, done) => {
    web.addHook('onSend', (_request, reply, payload, done) => {
      reply.header('cache-control', 'no-store');
      reply.header('x-frame-options', 'DENY');
      // A page may set its own policy (the consent page's redirect leaves for the client's origin).
      if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'");
      done(null, payload);
    });
    web.setErrorHandler((err: { statusCode?: number }, request, reply) => {
      if (isDomainError(err) && err.kind === 'unavailable') {
        return reply.status(503).header('retry-after', String(RETRY_UNAVAILABLE_SECONDS)).type('text/plain').send('Atrium is busy. Try again in a moment.');
      }
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status === 500) request.log.error({ err }, 'unhandled error');
      return reply.status(status).type('text/plain').send(status === 500 ? 'An internal error occurred.' : 'The request could not be read.');
    });
    registerSignIn(web, deps);
    registerMfaPages(web, deps);
    const portalDeps = { ...deps, context: (request: FastifyRequest) => deps.context(request, PORTAL_SOURCE) };
    registerPortalApi(web, portalDeps);
    registerAdminApi(web, portalDeps);
    registerDevicePage(web, portalDeps);
    registerConsentPage(web, portalDeps);
    done();
  });
  return Promise.resolve();
}
