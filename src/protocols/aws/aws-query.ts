// What STS and IAM share as AWS query-protocol services: their XML error shape, and which of the
// two a request is for, so that a refusal made before either handler runs (a body too large) still
// answers in the shape its client reads.

import type { FastifyReply, FastifyRequest } from 'fastify';
import { RETRY_UNAVAILABLE_SECONDS } from '../../shared/errors.js';

export const STS_XMLNS = 'https://sts.amazonaws.com/doc/2011-06-15/';
export const IAM_XMLNS = 'https://iam.amazonaws.com/doc/2010-05-08/';

export interface QueryError {
  status: number;
  code: string;
  message: string;
}

/** Text as XML content or attribute value. */
export const xmlText = (s: string) => s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);

/** The service a request's SigV4 scope names (`iam`, `sts` …), from its Authorization header or presigned URL. */
export const signingServiceOf = (request: FastifyRequest) =>
  /Credential=[^/,\s]+\/\d{8}\/[^/,\s]+\/([a-z0-9-]{1,64})\/aws4_request/.exec(String(request.headers.authorization ?? ''))?.[1] ??
  /[?&]X-Amz-Credential=[^/&]+(?:\/|%2F)\d{8}(?:\/|%2F)[^/&%]+(?:\/|%2F)([a-z0-9-]{1,64})(?:\/|%2F)aws4_request/i.exec(request.raw.url ?? '')?.[1];

/** IAM's namespace when the request is signed for `iam`, STS's otherwise. */
export const queryNamespaceOf = (request: FastifyRequest) => (signingServiceOf(request) === 'iam' ? IAM_XMLNS : STS_XMLNS);

/** A request in the query protocol: to `/`, without X-Amz-Target, as a form or with its Action in the URL. */
export function isQueryRequest(request: FastifyRequest): boolean {
  const [path, query = ''] = (request.raw.url ?? '').split('?', 2) as [string, string?];
  if (path !== '/' || request.headers['x-amz-target'] !== undefined) return false;
  return (request.headers['content-type'] ?? '').toLowerCase().startsWith('application/x-www-form-urlencoded') || /(?:^|&)Action=/.test(query);
}

/** The query protocol's error body, under the service's namespace. */
export function sendQueryError(reply: FastifyReply, xmlns: string, e: QueryError, requestId: string): FastifyReply {
  if (e.status === 503) reply.header('retry-after', String(RETRY_UNAVAILABLE_SECONDS));
  return reply
    .code(e.status)
    .header('content-type', 'text/xml')
    .send(
      `<ErrorResponse xmlns="${xmlns}"><Error><Type>${e.status >= 500 ? 'Receiver' : 'Sender'}</Type><Code>${xmlText(e.code)}</Code><Message>${xmlText(e.message)}</Message></Error>` +
        `<RequestId>${xmlText(requestId)}</RequestId></ErrorResponse>`,
    );
}
