// The consent page of the authorization code flow (newer AWS CLIs, any OIDC client): oidc-provider
// sends the browser here; the signed-in user sees which client asks and allows or denies it; the
// browser then goes back to the provider, which redirects to the client with a code. A session that
// never passed a second factor the MFA settings require proves one first (step-up), as on /device.

import type { FastifyInstance, FastifyReply } from 'fastify';
import { isDomainError } from '../../shared/errors.js';
import { oidcServiceOf } from '../oidc/index.js';
import { csrfMatches, csrfTokenOf } from './cookies.js';
import type { WebDeps } from './index.js';
import { escape, page } from './pages.js';
import { signedIn } from './signed-in.js';
import { formOf } from './signin.js';

const html = (reply: FastifyReply, status: number, title: string, body: string) => reply.status(status).type('text/html; charset=utf-8').send(page(title, body));
const expired = (reply: FastifyReply) =>
  html(reply, 400, 'Sign-in request expired', '<p class="error" role="alert">This sign-in request has expired or was already answered. Start again from your application.</p>');
/** oidc-provider's interaction ids: 21 URL-safe characters. Anything else is not looked up. */
const UID = /^[A-Za-z0-9_-]{10,64}$/;

export function registerConsentPage(app: FastifyInstance, { reg, context }: WebDeps): void {
  app.get<{ Params: { uid: string } }>('/consent/:uid', async (request, reply) => {
    const { uid } = request.params;
    if (!UID.test(uid)) return expired(reply);
    const auth = await signedIn(reg, request, reply, `/consent/${uid}`, { mfa: true });
    if (!auth) return reply;
    const pending = await oidcServiceOf(reg).describeInteraction(request.raw, reply.raw);
    if (!pending || pending.uid !== uid) return expired(reply);
    // The form's answer ends at the client's redirect URI, through the provider: the browser must let the form go there.
    const target = URL.canParse(pending.redirectUri) ? new URL(pending.redirectUri).origin : '';
    reply.header('content-security-policy', `default-src 'none'; style-src 'unsafe-inline'; form-action 'self' ${/^https?:\/\/[A-Za-z0-9.[\]:-]+$/.test(target) ? target : ''}; frame-ancestors 'none'`);
    const scopes = pending.scopes.length > 0 ? `<p>It asks for: ${pending.scopes.map((s) => `<code>${escape(s)}</code>`).join(', ')}</p>` : '';
    // A client names itself: where the answer goes is what tells a look-alike apart.
    const destination = URL.canParse(pending.redirectUri) ? `<p>Your answer goes to <code>${escape(new URL(pending.redirectUri).host)}</code>.</p>` : '';
    return html(
      reply,
      200,
      'Allow access?',
      `<p><strong>${escape(pending.clientName)}</strong> asks to access your Atrium accounts as <strong>${escape(auth.session.userName)}</strong>.</p>${scopes}${destination}` +
        `<form method="post" action="/consent/${escape(uid)}"><input type="hidden" name="csrf" value="${csrfTokenOf(auth.cookie)}">` +
        '<button type="submit" name="decision" value="approve">Allow</button>' +
        '<button type="submit" name="decision" value="deny" style="background:#fff;color:#0972d3;border:1px solid #0972d3">Deny</button></form>',
    );
  });

  app.post<{ Params: { uid: string } }>('/consent/:uid', async (request, reply) => {
    const { uid } = request.params;
    if (!UID.test(uid)) return expired(reply);
    const fields = formOf(request);
    const auth = await signedIn(reg, request, reply, `/consent/${uid}`, { mfa: true });
    if (!auth) return reply;
    if (!csrfMatches(auth.cookie, fields.get('csrf'))) return html(reply, 403, 'Allow access?', '<p class="error" role="alert">This page expired. Start again from your application.</p>');
    const decision = fields.get('decision');
    if (decision !== 'approve' && decision !== 'deny') return expired(reply);
    const { session } = auth;
    const ctx = { ...(await context(request)), principal: { type: 'IdentityCenterUser', principalId: session.userId, userName: session.userName } };
    let returnTo: string;
    try {
      returnTo = await oidcServiceOf(reg).finishInteraction(ctx, request.raw, reply.raw, { userId: session.userId, userName: session.userName, sessionId: session.sessionId, sessionExpiresAt: session.expiresAt }, decision);
    } catch (err) {
      if (isDomainError(err) && err.kind === 'not_found') return expired(reply);
      throw err;
    }
    return reply.redirect(returnTo, 303);
  });
}
