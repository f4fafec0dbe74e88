// Who is calling and from where, as every protocol adapter first knows it: nobody authenticated yet.

import type { FastifyRequest } from 'fastify';
import type { RequestContext } from '../shared/context.js';

/** A request's context before authentication: like CloudTrail, the identity is unknown. */
export function anonymousContext(request: FastifyRequest, region: string, eventSource: string): RequestContext {
  return {
    requestId: request.id,
    sourceIp: request.ip,
    userAgent: request.headers['user-agent'] ?? '',
    region,
    eventSource,
    principal: { type: 'Unknown', principalId: 'anonymous' },
  };
}
