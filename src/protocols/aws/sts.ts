// The AWS STS API subset (awsQuery: a form POST / or a GET / with the parameters in the query,
// XML replies): GetCallerIdentity, verified with temporary credentials or an access key, signed in
// the Authorization header or, for a GET, in the URL itself (a presigned URL, as
// `generate_presigned_url('get_caller_identity')` makes and as services that take a presigned
// GetCallerIdentity as proof of identity send on).

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { CallerPrincipal } from '../../credentials/index.js';
import type { Registry } from '../../registry.js';
import { isDomainError } from '../../shared/errors.js';
import { sendQueryError, STS_XMLNS, xmlText, type QueryError } from './aws-query.js';

const XMLNS = STS_XMLNS;
const VERSION = '2011-06-15';

type StsError = QueryError;

/** STS's names for authentication failures, with the statuses AWS sends. */
const AUTH_ERRORS: Record<string, { code: string; status: number }> = {
  'auth.missing': { code: 'MissingAuthenticationToken', status: 403 },
  'auth.unknown_key': { code: 'InvalidClientTokenId', status: 403 },
  'auth.invalid_token': { code: 'InvalidClientTokenId', status: 403 },
  'auth.token_expired': { code: 'ExpiredToken', status: 400 },
  'auth.signature_mismatch': { code: 'SignatureDoesNotMatch', status: 403 },
  'auth.expired': { code: 'SignatureDoesNotMatch', status: 403 },
  'auth.bad_scope': { code: 'SignatureDoesNotMatch', status: 403 },
  'auth.incomplete': { code: 'IncompleteSignature', status: 400 },
};

const escapeXml = xmlText;

function toStsError(err: unknown): StsError {
  if (isDomainError(err) && err.kind === 'unauthenticated') {
    const a = AUTH_ERRORS[err.code] ?? { code: 'InvalidClientTokenId', status: 403 };
    return { ...a, message: err.message };
  }
  if (isDomainError(err) && err.kind === 'unavailable') return { status: 503, code: 'ServiceUnavailable', message: err.message };
  return { status: 500, code: 'InternalFailure', message: 'An internal error occurred.' };
}

const sendError = (reply: FastifyReply, e: StsError, requestId: string) => sendQueryError(reply, XMLNS, e, requestId);

function callerIdentity(p: CallerPrincipal, requestId: string): string {
  return (
    `<GetCallerIdentityResponse xmlns="${XMLNS}"><GetCallerIdentityResult>` +
    `<Arn>${escapeXml(p.arn)}</Arn><UserId>${escapeXml(p.principalId)}</UserId><Account>${escapeXml(p.accountId)}</Account>` +
    `</GetCallerIdentityResult><ResponseMetadata><RequestId>${escapeXml(requestId)}</RequestId></ResponseMetadata></GetCallerIdentityResponse>`
  );
}

/**
 * Handles form posts to POST / that carry no X-Amz-Target, and GET / with an Action in the query
 * (aws-json.ts routes both here). A GET's whole meaning is in its URL, so only a GET may be presigned.
 */
export function stsQueryHandler(reg: Registry): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return async (request, reply) => {
    const requestId = request.id;
    const isGet = request.method === 'GET' || request.method === 'HEAD';
    const body = !isGet && Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    try {
      // Everything after the first "?" is the query, a later "?" included: none of it may go unsigned.
      const url = request.raw.url!;
      const mark = url.indexOf('?');
      const [path, query] = mark < 0 ? [url, ''] : [url.slice(0, mark), url.slice(mark + 1)];
      const caller = await reg.temporaryCredentials.authenticate(
        { method: request.method, path, query, headers: request.headers as Record<string, string | undefined>, body },
        ['sts'],
        { presigned: isGet },
      );
      // A query request's parameters are in its URL, a POST's in its form too (AWS takes either).
      const form = new URLSearchParams(isGet ? query : `${query}&${body.toString('utf8')}`);
      const action = form.get('Action');
      if (action !== 'GetCallerIdentity' || form.get('Version') !== VERSION) {
        const message = `Could not find operation ${action ?? '(none)'} for version ${form.get('Version') ?? '(none)'}`;
        return sendError(reply, { status: 400, code: 'InvalidAction', message }, requestId);
      }
      return reply.header('content-type', 'text/xml').send(callerIdentity(caller, requestId));
    } catch (err) {
      if (!isDomainError(err)) request.log.error({ err }, 'unexpected error in STS');
      return sendError(reply, toStsError(err), requestId);
    }
  };
}
