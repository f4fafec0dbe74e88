// The SAML 2.0 service provider's routes: our metadata, SP-initiated sign-in (an AuthnRequest by
// HTTP-Redirect, bound to the browser by a cookie) and the assertion consumer service (HTTP-POST,
// solicited or IdP-initiated). Refusals are HTML pages, never 500s.

import type { AddressInfo } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { SIGNIN_SOURCE } from '../../auth/index.js';
import { publicUrlOf } from '../../config/config.js';
import { REQUEST_TTL_MS, samlRefused, type SpIdentity } from '../../federation/index.js';
import type { Registry } from '../../registry.js';
import type { RequestContext } from '../../shared/context.js';
import { isDomainError } from '../../shared/errors.js';
import { cookieJar, newCookieValue, readCookie, SESSION_COOKIE } from '../web/cookies.js';
import { escape, page, STATIC_PAGE_CSP } from '../web/pages.js';
import { formOf, safeReturnTo } from '../web/signin.js';
import { readResponse } from './response.js';
import { idpEntity, spEntity } from './samlify.js';
import { anonymousContext } from '../request-context.js';

export const SAML_METADATA_PATH = '/saml/metadata';
export const SAML_ACS_PATH = '/saml/acs';
export const SAML_LOGIN_PATH = '/saml/login';
/** A base64 SAMLResponse larger than this is refused before it is decoded. */
const MAX_RESPONSE_CHARS = 512 * 1024;
/**
 * The cookie that binds an AuthnRequest to the browser that started it (login CSRF): random, one per
 * browser (so that two tabs can sign in at once), only its hash is stored with each request.
 */
export const SAML_BINDING_COOKIE = 'atrium_saml_binding';
const BINDING_VALUE = /^[A-Za-z0-9_-]{43}$/;

/**
 * The IdP posts to our ACS from its own site: a SameSite=Lax cookie would not come along. Over https
 * the cookie is SameSite=None (browsers require Secure for it), and `__Host-` so that a sibling
 * subdomain cannot plant its own value (cookie tossing); over plain http, only an IdP on the same
 * site (a development setup) gets it back, as Lax.
 */
const bindingCookieName = (secure: boolean) => (secure ? `__Host-${SAML_BINDING_COOKIE}` : SAML_BINDING_COOKIE);
function setBindingCookie(reply: FastifyReply, value: string, secure: boolean): void {
  const attributes = secure ? 'Path=/; HttpOnly; SameSite=None; Secure' : 'Path=/saml; HttpOnly; SameSite=Lax';
  void reply.header('set-cookie', `${bindingCookieName(secure)}=${value}; Max-Age=${Math.floor(REQUEST_TTL_MS / 1000)}; ${attributes}`);
}

/** Our SP's entity id and ACS URL, from the public URL. */
export const spIdentityOf = (publicUrl: string): SpIdentity => ({ entityId: publicUrl + SAML_METADATA_PATH, acsUrl: publicUrl + SAML_ACS_PATH });

const errorPage = (reply: FastifyReply, status: number, message: string) =>
  reply
    .status(status)
    .type('text/html; charset=utf-8')
    .send(page('Sign-in refused', `<p class="error" role="alert">${escape(message)}</p><p><a href="/login">Back to sign-in</a></p>`));

export function registerSaml(app: FastifyInstance, reg: Registry): void {
  // The port is known only once the server listens (tests listen on port 0).
  const sp = () => spIdentityOf(publicUrlOf(reg.config, (app.server.address() as AddressInfo | null)?.port ?? reg.config.port));
  const secure = publicUrlOf(reg.config).startsWith('https:');
  const jar = cookieJar(secure);
  const context = async (request: FastifyRequest): Promise<RequestContext> => anonymousContext(request, (await reg.instance.get()).region, SIGNIN_SOURCE);

  void app.register((scope, _opts, done) => {
    scope.addHook('onSend', (_request, reply, payload, next) => {
      reply.header('cache-control', 'no-store');
      reply.header('x-frame-options', 'DENY');
      if (!reply.hasHeader('content-security-policy')) reply.header('content-security-policy', STATIC_PAGE_CSP);
      next(null, payload);
    });
    scope.setErrorHandler((err: { statusCode?: number }, request, reply) => {
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status === 500) request.log.error({ err }, 'unhandled error');
      return errorPage(reply, status, status === 500 ? 'An internal error occurred. Try again later.' : 'The request could not be read.');
    });

    scope.get(SAML_METADATA_PATH, async (_request, reply) => {
      const identity = sp();
      const key = await reg.federation.spKey(identity.entityId);
      return reply.type('application/samlmetadata+xml').send(spEntity(identity, key).getMetadata());
    });

    scope.get(SAML_LOGIN_PATH, async (request, reply) => {
      const idp = await reg.federation.getIdp();
      if (!idp) return errorPage(reply, 404, 'No identity provider is configured for this Atrium.');
      const identity = sp();
      const returnTo = safeReturnTo((request.query as Record<string, unknown>).return_to);
      const idpEntityOf = idpEntity(idp.metadataXml);
      const { id, context: location } = spEntity(identity, await reg.federation.spKey(identity.entityId), idpEntityOf).createLoginRequest(idpEntityOf, 'redirect');
      const existing = readCookie(request, bindingCookieName(secure));
      const binding = existing && BINDING_VALUE.test(existing) ? existing : newCookieValue();
      await reg.federation.rememberRequest(id, returnTo, binding);
      setBindingCookie(reply, binding, secure);
      return reply.redirect(location, 303);
    });

    /** The facts of a posted Response; a refusal is audited, then thrown. */
    const factsOf = async (ctx: RequestContext, identity: SpIdentity, metadataXml: string, samlResponse: string) => {
      try {
        if (!samlResponse || samlResponse.length > MAX_RESPONSE_CHARS || !/^[A-Za-z0-9+/=\s]+$/.test(samlResponse)) {
          throw samlRefused('malformed', 'The form carries no valid SAMLResponse.');
        }
        const idp = idpEntity(metadataXml);
        return await readResponse(spEntity(identity, await reg.federation.spKey(identity.entityId), idp), idp, samlResponse);
      } catch (err) {
        if (isDomainError(err)) await reg.federation.recordRefusal(ctx, err);
        throw err;
      }
    };

    scope.post(SAML_ACS_PATH, async (request, reply) => {
      const ctx = await context(request);
      const idp = await reg.federation.getIdp();
      if (!idp) return errorPage(reply, 404, 'No identity provider is configured for this Atrium.');
      const identity = sp();
      try {
        const form = formOf(request);
        const facts = await factsOf(ctx, identity, idp.metadataXml, form.get('SAMLResponse') ?? '');
        // RelayState is the IdP's to set: only a same-origin path is followed, and only when no request of ours says where to go.
        const result = await reg.federation.signIn(ctx, identity, facts, {
          binding: readCookie(request, bindingCookieName(secure)),
          unsolicitedReturnTo: safeReturnTo(form.get('RelayState') ?? undefined),
        });
        jar.set(reply, SESSION_COOKIE, result.token, Math.floor((result.session.expiresAt - result.session.createdAt) / 1000));
        return await reply.redirect(result.returnTo, 303);
      } catch (err) {
        if (isDomainError(err) && err.kind === 'unauthenticated') return errorPage(reply, 403, err.message);
        throw err;
      }
    });
    done();
  });
}
