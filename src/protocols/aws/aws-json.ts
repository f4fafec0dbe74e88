// awsJson1_1 framing: POST / with X-Amz-Target, SigV4 on every call, strict input validation,
// and AWS-shaped errors for everything that can go wrong, including bodies that never parse.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodError } from 'zod';
import type { AuditService } from '../../audit/index.js';
import type { CredentialService } from '../../credentials/index.js';
import type { Principal, RequestContext } from '../../shared/context.js';
import { DomainError, RETRY_UNAVAILABLE_SECONDS } from '../../shared/errors.js';
import { checkPolicy, jsonParametersOf, withFieldsHidden } from '../policy-refusal.js';
import type { ConsoleAuthenticator } from '../portal-ui/console-auth.js';
import { toAwsError, type AwsError } from './errors.js';
import type { AwsJsonService } from './operation.js';
import { isQueryRequest } from './aws-query.js';

export const MAX_BODY_BYTES = 1024 * 1024;
/** No AWS input nests deeper than this; deeper JSON is refused before anything walks it. */
export const MAX_JSON_DEPTH = 64;
const JSON_TYPES = ['application/x-amz-json-1.1', 'application/x-amz-json-1.0'];
/** awsQuery (STS) posts forms to the same path; the raw bytes are kept, since SigV4 signs them. */
const FORM_TYPE = 'application/x-www-form-urlencoded';

export function sendAwsError(reply: FastifyReply, e: AwsError, contentType = 'application/x-amz-json-1.1'): FastifyReply {
  if (e.status === 503) reply.header('retry-after', String(RETRY_UNAVAILABLE_SECONDS));
  return reply
    .code(e.status)
    .header('x-amzn-errortype', e.type)
    .header('content-type', contentType)
    .send(JSON.stringify({ __type: e.type, message: e.message, Message: e.message, ...e.fields }));
}

/** AWS phrases constraint failures as "N validation errors detected: …"; so do we. */
export function validationMessage(err: ZodError): string {
  const parts = err.issues.slice(0, 5).map((i) => {
    const where = i.path.length ? `'${i.path.join('.')}'` : 'the request';
    return `Value at ${where} failed to satisfy constraint: ${i.message}`;
  });
  const n = err.issues.length;
  return `${n} validation error${n === 1 ? '' : 's'} detected: ${parts.join('; ')}`;
}

/**
 * How deep parsed JSON nests, and whether any key or string holds a NUL (which no AWS input allows
 * and PostgreSQL cannot store). Walked without recursion, so that no input can overflow the stack.
 */
export function inspectJson(value: unknown, depthLimit: number): { depth: number; hasNul: boolean } {
  let depth = 0;
  let hasNul = false;
  const stack: [unknown, number][] = [[value, 1]];
  while (stack.length > 0 && depth <= depthLimit) {
    const [v, d] = stack.pop()!;
    if (typeof v === 'string') hasNul ||= v.includes('\u0000');
    if (v === null || typeof v !== 'object') continue;
    depth = Math.max(depth, d);
    for (const [key, child] of Object.entries(v)) {
      hasNul ||= key.includes('\u0000');
      stack.push([child, d + 1]);
    }
  }
  return { depth, hasNul };
}

export interface AwsJsonDeps {
  credentials: CredentialService;
  audit: AuditService;
  services: AwsJsonService[];
  /** The awsQuery handler (STS), for form posts without X-Amz-Target. */
  query?: (request: FastifyRequest, reply: FastifyReply) => Promise<FastifyReply>;
  newRequestId: () => string;
  /** Refuses (permission_denied) a verified signer whose policies do not allow `service:Operation`. */
  authorize?: (principal: Principal, action: string) => Promise<void>;
  /** The admin console's session-cookie path, tried before SigV4 (src/protocols/portal-ui/console-auth.ts). */
  console?: ConsoleAuthenticator;
}

export function awsJsonRoutes(app: FastifyInstance, deps: AwsJsonDeps): void {
  const byPrefix = new Map(deps.services.map((s) => [s.targetPrefix, s]));

  for (const type of [...JSON_TYPES, FORM_TYPE]) {
    app.addContentTypeParser(type, { parseAs: 'buffer', bodyLimit: MAX_BODY_BYTES }, (_req, body, done) => done(null, body));
  }

  // The query protocol (STS) also comes as GET / with its parameters, and maybe its signature, in
  // the URL; any other GET / is not found, as before.
  const query = deps.query;
  if (query) {
    app.get('/', async (request: FastifyRequest, reply: FastifyReply) => {
      if (!isQueryRequest(request)) return reply.callNotFound();
      reply.header('x-amzn-requestid', request.id);
      return query(request, reply);
    });
  }

  app.post('/', async (request: FastifyRequest, reply: FastifyReply) => {
    const requestId = request.id;
    reply.header('x-amzn-requestid', requestId);
    const target = request.headers['x-amz-target'];
    // The query protocol's parameters come as a form, or in the URL.
    if (deps.query && isQueryRequest(request)) {
      return deps.query(request, reply);
    }
    const m = typeof target === 'string' ? /^([A-Za-z0-9_.]{1,128})\.([A-Za-z0-9]{1,128})$/.exec(target) : null;
    const [, prefix, operationName] = m ?? [];
    const service = prefix ? byPrefix.get(prefix) : undefined;
    const operation = service && operationName && Object.hasOwn(service.operations, operationName) ? service.operations[operationName] : undefined;
    if (!service || !operation || !operationName) {
      return sendAwsError(reply, { status: 400, type: 'UnknownOperationException', message: 'The requested operation is not recognized by the service.' });
    }
    const body = Buffer.isBuffer(request.body) ? request.body : Buffer.alloc(0);
    const contentType = (request.headers['content-type'] ?? '').toLowerCase();
    if (!JSON_TYPES.some((t) => contentType.startsWith(t))) {
      return sendAwsError(reply, { status: 400, type: 'SerializationException', message: `Content-Type must be ${JSON_TYPES[0]}.` });
    }
    try {
      const [path, query = ''] = request.raw.url!.split('?', 2) as [string, string?];
      const contextOf = ({ region, ...who }: Principal & { region: string }): RequestContext => ({
        requestId,
        sourceIp: request.ip,
        userAgent: request.headers['user-agent'] ?? '',
        region,
        eventSource: service.eventSource,
        principal: who,
      });
      // A refused change is on the record with what it was given, a person's data hidden as in the change's own event.
      const recorded = (json: unknown) => (service.personalFields ? withFieldsHidden(json, service.personalFields) : json);
      // A change the caller may not make is on the record as AccessDenied.
      const refused = operation.readOnly ? undefined : (caller: Principal & { region: string }) => ({ ctx: contextOf(caller), eventName: operationName, requestParameters: recorded(jsonParametersOf(body)) });
      const viaConsole = await deps.console?.(request, { name: operationName, readOnly: operation.readOnly, ...(refused ? { refused } : {}) });
      const principal =
        viaConsole ??
        (await deps.credentials.authenticate({ method: request.method, path, query, headers: request.headers as Record<string, string | undefined>, body }, service.signingNames));
      const ctx = contextOf(principal);
      // A console administrator's grant was checked by the console path (consoleAllows); a key's
      // policies are checked here.
      const authorize = deps.authorize;
      if (!viaConsole && authorize) await checkPolicy(deps.audit, () => authorize(principal, `${service.signingNames[0]}:${operationName}`), refused && (() => refused(principal)));
      let parsedJson: unknown;
      try {
        parsedJson = body.length === 0 ? {} : JSON.parse(body.toString('utf8'));
      } catch {
        return sendAwsError(reply, { status: 400, type: 'SerializationException', message: 'The request body is not valid JSON.' });
      }
      if (parsedJson === null || typeof parsedJson !== 'object' || Array.isArray(parsedJson)) {
        return sendAwsError(reply, { status: 400, type: 'SerializationException', message: 'The request body must be a JSON object.' });
      }
      const shape = inspectJson(parsedJson, MAX_JSON_DEPTH);
      if (shape.depth > MAX_JSON_DEPTH) {
        return sendAwsError(reply, { status: 400, type: 'SerializationException', message: `The request body nests deeper than ${MAX_JSON_DEPTH} levels.` });
      }
      const input = shape.hasNul ? undefined : operation.input.safeParse(parsedJson);
      if (!input?.success) {
        const message = input ? validationMessage(input.error) : 'Strings must not contain the NUL character.';
        const refusal = { status: 400, type: service.validationErrorType ?? 'ValidationException', message };
        // A refused change is on the record too, even when it never reached the domain.
        if (!operation.readOnly) await deps.audit.recordRefusal(ctx, operationName, recorded(parsedJson), refusal.type, refusal.message);
        return sendAwsError(reply, refusal);
      }
      const result = await operation.handle(input.data, ctx);
      return reply.header('content-type', 'application/x-amz-json-1.1').send(JSON.stringify(result ?? {}));
    } catch (err) {
      if (!(err instanceof DomainError)) request.log.error({ err, target }, 'unexpected error in AWS operation');
      return sendAwsError(reply, toAwsError(err, service.errorOverride));
    }
  });
}
