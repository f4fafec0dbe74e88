// The AWS STS API subset (awsQuery: form POST /, XML replies): GetCallerIdentity, verified with
// temporary credentials.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from '../../registry.js';

/** Handles form posts to POST / that carry no X-Amz-Target (aws-json.ts routes them here). */
export function stsQueryHandler(_reg: Registry): (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply> {
  return async (_request, reply) => {
    await Promise.resolve();
    return reply
      .code(400)
      .header('content-type', 'text/xml')
      .send('<ErrorResponse><Error><Type>Sender</Type><Code>InvalidAction</Code><Message>Not implemented yet.</Message></Error></ErrorResponse>');
  };
}
