// The admin console's way into the JSON APIs: the portal session cookie plus the session's CSRF
// token in the x-csrf-token header, instead of a SigV4 signature. The APIs call this at the one
// point where they authenticate; a request with an Authorization header never comes here.

import type { FastifyRequest } from 'fastify';
import { consolePrincipal } from '../../instance/index.js';
import type { Registry } from '../../registry.js';
import type { Principal } from '../../shared/context.js';
import { DomainError } from '../../shared/errors.js';
import { checkPolicy, type RefusedChange } from '../policy-refusal.js';
import { csrfMatches, readCookie, SESSION_COOKIE } from '../web/cookies.js';
import { MFA_REQUIRED, STEP_UP_PATH } from '../web/signed-in.js';

/** The operation a request runs: its name (for the refusal) and whether it only reads. */
export interface ConsoleOperation {
  name: string;
  readOnly: boolean;
  /** What the trail records of this change when the administrator's grant refuses it; absent for reads. */
  refused?: (caller: Principal & { region: string }) => RefusedChange | Promise<RefusedChange>;
}

/**
 * The signed-in administrator of a console request, or undefined when the request is not one (it
 * carries an Authorization header, or no session cookie): the caller then verifies SigV4.
 */
export type ConsoleAuthenticator = (request: FastifyRequest, operation: ConsoleOperation) => Promise<(Principal & { region: string }) | undefined>;

const refused = (code: string, message: string) => new DomainError('unauthenticated', code, message);

/** Whether the browser says the request came from another site (Sec-Fetch-Site, or an Origin of another host). */
function crossSite(request: FastifyRequest): boolean {
  const site = request.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin') return true;
  const origin = request.headers.origin;
  if (origin === undefined) return false;
  try {
    return new URL(origin).host !== request.headers.host;
  } catch {
    return true;
  }
}

export function consoleAuthenticator(reg: Registry): ConsoleAuthenticator {
  return async (request, operation) => {
    if (request.headers.authorization !== undefined) return undefined;
    const cookie = readCookie(request, SESSION_COOKIE);
    if (cookie === undefined) return undefined;
    if (crossSite(request)) throw refused('console.cross_site', 'Console requests must come from the console itself.');
    const session = await reg.auth.resolveSession(cookie);
    if (!session) throw refused('console.no_session', 'Your portal session has ended: sign in again.');
    if (!csrfMatches(cookie, request.headers['x-csrf-token'])) throw refused('console.csrf', 'The CSRF token is missing or wrong.');
    const region = (await reg.instance.get()).region;
    const refusedChange = operation.refused;
    // Administration acts for many users: a session that never passed a second factor the MFA
    // settings require proves one first, as it must for role credentials (a change refused here is
    // on the record, by the signed-in user).
    if ((await reg.auth.stepUpNeeded(session)) !== 'none') {
      const denied = new DomainError('permission_denied', 'auth.mfa_required', `${MFA_REQUIRED} Confirm it at ${STEP_UP_PATH}?return_to=%2Fconsole.`);
      if (refusedChange) {
        const change = await refusedChange({ ...consolePrincipal(session, session.sessionId), region });
        await reg.audit.recordRefusal(change.ctx, change.eventName, change.requestParameters, denied.code, denied.message);
      }
      throw denied;
    }
    // A change the grant refuses is on the record (AccessDenied), by the signed-in user. The grant
    // found is the session user id's, and carries the user's name now: a renamed administrator
    // keeps their access, and the trail names them as they are called now.
    const grant = await checkPolicy(
      reg.audit,
      () => reg.consoleAdmins.authorize(session.userId, operation),
      refusedChange && (() => refusedChange({ ...consolePrincipal(session, session.sessionId), region })),
    );
    return { ...consolePrincipal(grant, session.sessionId), region };
  };
}
