// The device verification page of `aws sso login`: the signed-in user sees the code and the name
// of the client that asks, and approves or denies it. Codes expire after 10 minutes; one answer each.

import type { FastifyInstance, FastifyReply } from 'fastify';
import { isDomainError } from '../../shared/errors.js';
import { oidcServiceOf, wellFormedUserCode } from '../oidc/index.js';
import { csrfMatches, csrfTokenOf } from './cookies.js';
import type { WebDeps } from './index.js';
import { escape, page } from './pages.js';
import { signedIn } from './signed-in.js';
import { formOf } from './signin.js';

const html = (reply: FastifyReply, status: number, title: string, body: string) => reply.status(status).type('text/html; charset=utf-8').send(page(title, body));


const enterCodeForm = (error?: string) =>
  (error ? `<p class="error" role="alert">${escape(error)}</p>` : '') +
  '<form method="get" action="/device"><label for="user_code">Code shown by your command line</label>' +
  '<input id="user_code" name="user_code" type="text" required autocomplete="off" placeholder="ABCD-EFGH"><button type="submit">Next</button></form>';

export function registerDevicePage(app: FastifyInstance, { reg, context }: WebDeps): void {
  app.get('/device', async (request, reply) => {
    const code = wellFormedUserCode((request.query as Record<string, unknown>).user_code);
    const auth = await signedIn(reg, request, reply, code ? `/device?user_code=${code}` : '/device', { mfa: true });
    if (!auth) return reply;
    if (!code) return html(reply, 200, 'Authorize a device', enterCodeForm());
    const pending = await oidcServiceOf(reg).describeDevice(code);
    if (!pending) return html(reply, 400, 'Authorize a device', enterCodeForm('This code is not valid or has expired.'));
    const csrf = csrfTokenOf(auth.cookie);
    return html(
      reply,
      200,
      'Authorize request',
      `<p><strong>${escape(pending.clientName)}</strong> asks to access your Atrium accounts as <strong>${escape(auth.session.userName)}</strong>.</p>` +
        `<p>Check that your command line shows this code: <strong id="user-code">${escape(pending.userCode)}</strong></p>` +
        `<form method="post" action="/device"><input type="hidden" name="csrf" value="${csrf}"><input type="hidden" name="user_code" value="${escape(pending.userCode)}">` +
        '<button type="submit" name="decision" value="approve">Allow</button>' +
        '<button type="submit" name="decision" value="deny" style="background:#fff;color:#0972d3;border:1px solid #0972d3">Deny</button></form>',
    );
  });

  app.post('/device', async (request, reply) => {
    const fields = formOf(request);
    const code = wellFormedUserCode(fields.get('user_code'));
    const auth = await signedIn(reg, request, reply, code ? `/device?user_code=${code}` : '/device', { mfa: true });
    if (!auth) return reply;
    if (!csrfMatches(auth.cookie, fields.get('csrf'))) return html(reply, 403, 'Authorize request', '<p class="error" role="alert">This page expired. Open the link again.</p>');
    const decision = fields.get('decision');
    if (!code || (decision !== 'approve' && decision !== 'deny')) return html(reply, 400, 'Authorize a device', enterCodeForm('Enter the code your command line shows.'));
    const { session } = auth;
    const ctx = { ...(await context(request)), principal: { type: 'IdentityCenterUser', principalId: session.userId, userName: session.userName } };
    try {
      await oidcServiceOf(reg).approveDevice(ctx, code, { userId: session.userId, userName: session.userName, sessionId: session.sessionId, sessionExpiresAt: session.expiresAt }, decision);
    } catch (err) {
      if (isDomainError(err) && (err.kind === 'not_found' || err.kind === 'failed_precondition')) {
        return html(reply, 400, 'Authorize a device', enterCodeForm(err.message));
      }
      throw err;
    }
    return html(
      reply,
      200,
      decision === 'approve' ? 'Request approved' : 'Request denied',
      decision === 'approve'
        ? '<p role="status">Request approved. You can close this window and return to your command line.</p>'
        : '<p role="status">Request denied. The command line will not get access.</p>',
    );
  });
}
