// The access portal's React app (web/, built by Vite into dist/web) and the JSON routes it reads.
// /start and every path under it answer the app's page to a signed-in user; others go to sign-in.
// /console and every path under it answer the admin console's page to a signed-in administrator
// (a user with a console grant); another signed-in user gets a 403 page.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from '../../registry.js';
import { readCookie, SESSION_COOKIE } from '../web/cookies.js';
import { STEP_UP_PATH } from '../web/signed-in.js';
import { registerPortalRoutes, sendJson } from './portal-routes.js';
import { loadBuild, type StaticFile } from './static-app.js';

/** The built app only: scripts, styles and calls to this origin, and Cloudscape's inline style attributes. */
const PAGE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; connect-src 'self'; " +
  "form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

function sendFile(request: FastifyRequest, reply: FastifyReply, file: StaticFile, cacheControl: string): FastifyReply {
  const gzip = file.gzip && /\bgzip\b/.test(request.headers['accept-encoding'] ?? '') ? file.gzip : undefined;
  reply.header('content-type', file.type).header('cache-control', cacheControl).header('x-content-type-options', 'nosniff').header('vary', 'accept-encoding');
  if (gzip) reply.header('content-encoding', 'gzip');
  return reply.send(gzip ?? file.body);
}

export function registerPortalUi(app: FastifyInstance, reg: Registry): Promise<void> {
  // Read once, on first use: a server started before `npm run build` finishes still serves the app.
  let build: Map<string, StaticFile> | undefined;

  const start = async (request: FastifyRequest, reply: FastifyReply, rel: string) => {
    build ??= loadBuild();
    if (!build) return reply.status(503).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send('The access portal is not built: run npm run build.');
    const asset = rel === 'index.html' || rel === 'console.html' ? undefined : build.get(rel);
    if (asset) return sendFile(request, reply, asset, asset.immutable ? 'public, max-age=31536000, immutable' : 'no-cache');
    if (rel.startsWith('assets/')) return reply.status(404).type('text/plain; charset=utf-8').send('Not found.');
    if (!(await reg.auth.resolveSession(readCookie(request, SESSION_COOKIE)))) {
      return reply.header('cache-control', 'no-store').redirect(`/login?return_to=${encodeURIComponent(request.url)}`, 303);
    }
    return sendPage(request, reply, build.get('index.html')!);
  };

  const sendPage = (request: FastifyRequest, reply: FastifyReply, page: StaticFile) => {
    reply.header('content-security-policy', PAGE_CSP).header('x-frame-options', 'DENY').header('referrer-policy', 'no-referrer');
    return sendFile(request, reply, page, 'no-store');
  };

  // The console's page: its scripts are assets of the same build, under /start/assets.
  const consolePage = async (request: FastifyRequest, reply: FastifyReply) => {
    const session = await reg.auth.resolveSession(readCookie(request, SESSION_COOKIE));
    if (!session) return reply.header('cache-control', 'no-store').redirect(`/login?return_to=${encodeURIComponent(request.url)}`, 303);
    // As its API does: a session that never passed a second factor the settings require proves one first.
    if ((await reg.auth.stepUpNeeded(session)) !== 'none') return reply.header('cache-control', 'no-store').redirect(`${STEP_UP_PATH}?return_to=${encodeURIComponent(request.url)}`, 303);
    if (!(await reg.consoleAdmins.grantOf(session.userId))) {
      return reply
        .status(403)
        .header('cache-control', 'no-store')
        .type('text/plain; charset=utf-8')
        .send(`${session.userName} is not an administrator of this instance. An administrator grants console access with: atrium admin grant --user-name ${session.userName} --policy AdministratorAccess`);
    }
    build ??= loadBuild();
    const page = build?.get('console.html');
    if (!page) return reply.status(503).type('text/plain; charset=utf-8').header('cache-control', 'no-store').send('The admin console is not built: run npm run build.');
    return sendPage(request, reply, page);
  };

  // Not awaited, as the other surfaces: the plugin loads with the app's routes, after app.ts's error handler is set.
  void app.register((scope, _opts, done) => {
    scope.setErrorHandler((err: { statusCode?: number }, request, reply) => {
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status === 500) request.log.error({ err }, 'unhandled error in the access portal');
      return sendJson(reply, status, { message: status === 500 ? 'An internal error occurred.' : 'The request could not be read.' });
    });
    scope.get('/start', (request, reply) => start(request, reply, ''));
    scope.get('/start/*', (request, reply) => start(request, reply, (request.params as { '*': string })['*']));
    scope.get('/console', consolePage);
    scope.get('/console/*', consolePage);
    registerPortalRoutes(scope, reg);
    done();
  });
  return Promise.resolve();
}
