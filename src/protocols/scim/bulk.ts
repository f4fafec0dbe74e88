// POST /Bulk (RFC 7644 §3.7): many /Users and /Groups operations in one request. Each operation is
// dispatched in-process to the route that serves it alone, so it is validated, audited and atomic alike.
//
// `bulkId:<id>` references (in paths, in any value of the data, and inside PATCH paths) name the
// resource a POST of the same request creates. Operations run in the request's order, except that
// a POST runs before the first operation that references it; operations in a circular reference,
// or referencing a POST that failed or does not exist, fail with 409 and write nothing. POSTs that
// cannot affect one another run several at a time, so that their writes share commits.

import type { FastifyInstance } from 'fastify';
import type { RequestContext } from '../../shared/context.js';
import { SCIM_ERROR_SCHEMA, ScimError, type ScimErrorBody } from './errors.js';
import { sendScim, type ScimRouteDeps } from './http.js';
import { BULK_MAX_OPERATIONS, BULK_MAX_PAYLOAD_BYTES, BULK_REQUEST_SCHEMA, BULK_RESPONSE_SCHEMA } from './schemas.js';

/** One operation as a request to a single-resource route, relative to /scim/v2. */
export interface OperationRequest {
  method: Method;
  url: string;
  headers: Record<string, string>;
  /** The JSON body, parsed: part of the Bulk's body, so it passed the same checks. */
  body?: unknown;
}

export interface OperationReply {
  status: number;
  headers: Record<string, string | string[] | number | undefined>;
  body: string;
}

/** Runs one operation as its own SCIM request, on behalf of whoever sent the Bulk (`ctx`). */
export type DispatchOperation = (ctx: RequestContext, request: OperationRequest) => Promise<OperationReply>;

const METHODS = ['POST', 'PUT', 'PATCH', 'DELETE'] as const;
type Method = (typeof METHODS)[number];

const REFERENCE_PREFIX = 'bulkId:';
/** A bulkId: no whitespace, quotes, brackets or URL delimiters, so a reference ends where it should. */
const BULK_ID = /^[^\s"'[\]/?#\\\p{Cc}]{1,256}$/u;
/** References inside a PATCH path, e.g. `members[value eq "bulkId:qwerty"]`. */
const EMBEDDED_REFERENCE = /bulkId:([^\s"'[\]/?#\\\p{Cc}]{1,256})/gu;
/** An ETag as the client got it, e.g. `W/"3"`: printable ASCII only, as an HTTP header must be. */
const VERSION = /^[\x21-\x7e][\x20-\x7e]{0,127}$/;
const RESOURCE_PATH = /^\/(Users|Groups)(?:\/([^/?#\s\\]+))?$/;

interface Operation {
  index: number;
  /** As the client sent it, echoed in the response when it is a string. */
  method: string | undefined;
  bulkId: string | undefined;
  version: string | undefined;
  path: string | undefined;
  data: unknown;
  /** The bulkIds the path and data reference. */
  references: Set<string>;
  /** Why the operation is refused before it runs. */
  refusal?: ScimError;
}

interface OperationResult {
  method?: string;
  bulkId?: string;
  version?: string;
  location?: string;
  status: string;
  response?: ScimErrorBody;
}

interface BulkRequest {
  failOnErrors: number | undefined;
  operations: Operation[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** SCIM attribute names are case-insensitive: the object's entries under lower-case keys. */
function lowerKeys(value: Record<string, unknown>): Map<string, unknown> {
  return new Map(Object.entries(value).map(([k, v]) => [k.toLowerCase(), v]));
}

/** The BulkRequest, or a ScimError for the request as a whole (400, or 413 beyond maxOperations). */
export function parseBulkRequest(body: unknown): BulkRequest {
  if (!isObject(body)) throw new ScimError(400, 'invalidSyntax', 'The request body must be a JSON object.');
  const fields = lowerKeys(body);
  const schemas = fields.get('schemas');
  if (!Array.isArray(schemas) || !schemas.some((s) => typeof s === 'string' && s.toLowerCase() === BULK_REQUEST_SCHEMA.toLowerCase())) {
    throw new ScimError(400, 'invalidSyntax', `"schemas" must be ["${BULK_REQUEST_SCHEMA}"].`);
  }
  for (const key of fields.keys()) {
    if (!['schemas', 'operations', 'failonerrors'].includes(key)) throw new ScimError(400, 'invalidSyntax', `"${key}" is not a BulkRequest attribute.`);
  }
  const rawOperations = fields.get('operations');
  if (!Array.isArray(rawOperations) || rawOperations.length === 0) throw new ScimError(400, 'invalidSyntax', '"Operations" must be a non-empty list.');
  if (rawOperations.length > BULK_MAX_OPERATIONS) {
    throw new ScimError(413, undefined, `The number of operations (${rawOperations.length}) exceeds the maxOperations (${BULK_MAX_OPERATIONS}).`);
  }
  const failOnErrors = fields.get('failonerrors');
  if (failOnErrors !== undefined && failOnErrors !== null && !(typeof failOnErrors === 'number' && Number.isInteger(failOnErrors) && failOnErrors >= 1)) {
    throw new ScimError(400, 'invalidValue', '"failOnErrors" must be an integer of at least 1.');
  }
  const operations = rawOperations.map(operationOf);
  const seen = new Set<string>();
  for (const op of operations) {
    if (op.bulkId === undefined || op.refusal !== undefined) continue;
    if (seen.has(op.bulkId)) throw new ScimError(400, 'invalidValue', `The bulkId "${op.bulkId}" is given to more than one operation.`);
    seen.add(op.bulkId);
  }
  return { failOnErrors: typeof failOnErrors === 'number' ? failOnErrors : undefined, operations };
}

/** One operation as given; what is wrong with it is kept as its refusal, so it fails alone. */
function operationOf(raw: unknown, index: number): Operation {
  const op: Operation = { index, method: undefined, bulkId: undefined, version: undefined, path: undefined, data: undefined, references: new Set() };
  const refuse = (scimType: 'invalidSyntax' | 'invalidValue' | 'invalidPath', detail: string) => ({ ...op, refusal: new ScimError(400, scimType, detail) });
  if (!isObject(raw)) return refuse('invalidSyntax', `Operation ${index + 1} must be a JSON object.`);
  const fields = lowerKeys(raw);
  const method = fields.get('method');
  const bulkId = fields.get('bulkid');
  const version = fields.get('version');
  const path = fields.get('path');
  if (typeof method === 'string') op.method = method;
  if (typeof bulkId === 'string' && BULK_ID.test(bulkId)) op.bulkId = bulkId;
  // Known even when the operation is refused, so that its refusal is recorded under its change.
  if (typeof path === 'string' && path !== '') op.path = path;
  op.data = fields.get('data');
  for (const key of fields.keys()) {
    if (!['method', 'bulkid', 'version', 'path', 'data'].includes(key)) return refuse('invalidSyntax', `"${key}" is not an attribute of a bulk operation.`);
  }
  if (typeof method !== 'string' || !(METHODS as readonly string[]).includes(method.toUpperCase())) {
    return refuse('invalidSyntax', `"method" must be one of ${METHODS.join(', ')}.`);
  }
  const verb = method.toUpperCase() as Method;
  if (bulkId !== undefined && bulkId !== null && op.bulkId === undefined) {
    return refuse('invalidValue', '"bulkId" must be a string of 1 to 256 characters without whitespace, quotes, brackets, "/", "?", "#" or "\\".');
  }
  if (verb === 'POST' && op.bulkId === undefined) return refuse('invalidSyntax', '"bulkId" is required for a POST (RFC 7644 §3.7).');
  if (version !== undefined && version !== null) {
    if (typeof version !== 'string' || !VERSION.test(version)) return refuse('invalidValue', '"version" must be an ETag such as W/"3".');
    op.version = version;
  }
  if (typeof path !== 'string' || path === '') return refuse('invalidPath', '"path" must be a resource path such as "/Users" or "/Groups/{id}".');
  if (verb === 'DELETE' ? op.data !== undefined && op.data !== null : !isObject(op.data)) {
    return refuse('invalidSyntax', verb === 'DELETE' ? 'A DELETE takes no "data".' : `A ${verb} needs "data", a JSON object.`);
  }
  collectReferences(path, true, op.references);
  collectReferences(op.data, false, op.references);
  return op;
}

/** The bulkIds a value references: whole string values, and any occurrence inside a path. */
function collectReferences(value: unknown, isPath: boolean, into: Set<string>): void {
  if (typeof value === 'string') {
    if (isPath) {
      for (const m of value.matchAll(EMBEDDED_REFERENCE)) into.add(m[1]!);
    } else if (value.startsWith(REFERENCE_PREFIX)) {
      into.add(value.slice(REFERENCE_PREFIX.length));
    }
  } else if (Array.isArray(value)) {
    for (const v of value) collectReferences(v, false, into);
  } else if (isObject(value)) {
    for (const [k, v] of Object.entries(value)) collectReferences(v, k.toLowerCase() === 'path', into);
  }
}

/** The value with every reference replaced by the id its POST created (all of them are known). */
function resolveReferences(value: unknown, isPath: boolean, ids: Map<string, string>): unknown {
  if (typeof value === 'string') {
    if (isPath) return value.replace(EMBEDDED_REFERENCE, (whole, id: string) => ids.get(id) ?? whole);
    return value.startsWith(REFERENCE_PREFIX) ? (ids.get(value.slice(REFERENCE_PREFIX.length)) ?? value) : value;
  }
  if (Array.isArray(value)) return value.map((v) => resolveReferences(v, false, ids));
  if (isObject(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, resolveReferences(v, k.toLowerCase() === 'path', ids)]));
  return value;
}

/**
 * The order to run the operations in: the request's, except that a POST runs before the first
 * operation that references it. Also the operations that are part of a circular reference.
 */
export function planOperations(operations: Operation[]): { order: number[]; circular: Set<number>; postOf: Map<string, number> } {
  const postOf = new Map<string, number>();
  for (const op of operations) if (op.refusal === undefined && op.method?.toUpperCase() === 'POST' && op.bulkId !== undefined) postOf.set(op.bulkId, op.index);
  const state = new Array<'new' | 'visiting' | 'done'>(operations.length).fill('new');
  const order: number[] = [];
  const circular = new Set<number>();
  const stack: number[] = [];
  // Depth is bounded by maxOperations, so recursion is safe.
  const visit = (i: number) => {
    state[i] = 'visiting';
    stack.push(i);
    for (const ref of operations[i]!.references) {
      const j = postOf.get(ref);
      if (j === undefined) continue;
      if (state[j] === 'visiting') {
        for (const k of stack.slice(stack.indexOf(j))) circular.add(k);
      } else if (state[j] === 'new') {
        visit(j);
      }
    }
    stack.pop();
    state[i] = 'done';
    order.push(i);
  };
  for (const op of operations) if (state[op.index] === 'new') visit(op.index);
  return { order, circular, postOf };
}

/** How many operations of one /Bulk may run at once (see concurrencyKeysOf). */
const CONCURRENT_OPERATIONS = 32;

/**
 * What an operation may not run beside: another operation with one of these keys. Only a POST
 * that is well formed runs beside others, keyed by the values that must be unique, so that of two
 * POSTs with the same userName the first in order is the one that succeeds. Undefined: it runs alone.
 */
function concurrencyKeysOf(op: Operation): string[] | undefined {
  if (op.refusal !== undefined) return [];
  if (op.method?.toUpperCase() !== 'POST' || (op.path !== '/Users' && op.path !== '/Groups') || !isObject(op.data)) return undefined;
  const fields = lowerKeys(op.data);
  const unique = op.path === '/Users' ? ['username', 'externalid'] : ['displayname', 'externalid'];
  return unique.flatMap((name) => {
    const value = fields.get(name);
    return typeof value === 'string' ? [`${op.path}:${name}:${value.toLowerCase()}`] : [];
  });
}

/** A failed operation's result: RFC 7644 §3.7.3 gives its location unless it was a POST. */
const failure = (op: Operation, body: ScimErrorBody, location?: string): OperationResult => ({
  ...(op.method === undefined ? {} : { method: op.method }),
  ...(op.bulkId === undefined ? {} : { bulkId: op.bulkId }),
  ...(location === undefined ? {} : { location }),
  status: body.status,
  response: body,
});
const errorResult = (op: Operation, err: ScimError, location?: string) => failure(op, err.toBody(), location);

const headerOf = (reply: OperationReply, name: string) => {
  const value = reply.headers[name];
  return typeof value === 'string' ? value : undefined;
};

/** The error body the route answered with, or one made from its status should it not parse. */
function errorBodyOf(reply: OperationReply): ScimErrorBody {
  try {
    const body = JSON.parse(reply.body) as unknown;
    if (isObject(body) && Array.isArray(body.schemas) && body.schemas[0] === SCIM_ERROR_SCHEMA && body.status === String(reply.status)) return body as unknown as ScimErrorBody;
  } catch {
    // fall through
  }
  return new ScimError(reply.status, undefined, reply.status >= 500 ? 'An internal error occurred.' : 'The operation was refused.').toBody();
}

export function bulkRoutes(app: FastifyInstance, deps: ScimRouteDeps, dispatch: DispatchOperation): void {
  app.post('/Bulk', { bodyLimit: BULK_MAX_PAYLOAD_BYTES }, async (request, reply) => {
    const { failOnErrors, operations } = parseBulkRequest(request.body);
    const ctx = deps.contextOf(request);
    const baseUrl = deps.baseUrl();
    const { order, circular, postOf } = planOperations(operations);
    const createdIds = new Map<string, string>();
    const results = new Array<OperationResult | undefined>(operations.length);
    let errors = 0;

    const identityStoreId = (await deps.reg.instance.get()).identityStoreId;
    /**
     * An operation refused here, before any route has it, is on the record as the route would
     * record it: under the change it asked for (CreateUser, UpdateGroup …), or BulkOperation when
     * it named none that exists.
     */
    const refuse = async (op: Operation, err: ScimError, location?: string): Promise<OperationResult> => {
      const target = /^\/(Users|Groups)(?:\/([^/?#]+))?/.exec(op.path ?? '');
      const verb = { POST: 'Create', PUT: 'Update', PATCH: 'Update', DELETE: 'Delete' }[op.method?.toUpperCase() ?? ''];
      const eventName = target && verb ? `${verb}${target[1] === 'Users' ? 'User' : 'Group'}` : 'BulkOperation';
      const id = target?.[2] === undefined ? {} : { [target[1] === 'Users' ? 'userId' : 'groupId']: target[2].slice(0, 256) };
      const parameters = { identityStoreId, ...id, ...(op.bulkId === undefined ? {} : { bulkId: op.bulkId }), operation: op.index + 1 };
      await deps.reg.audit.recordRefusal(ctx, eventName, parameters, `scim.${err.scimType ?? err.status}`, err.detail);
      return errorResult(op, err, location);
    };

    const run = async (op: Operation): Promise<OperationResult> => {
      if (op.refusal !== undefined) return refuse(op, op.refusal);
      if (circular.has(op.index)) {
        return refuse(op, new ScimError(409, undefined, `Operation ${op.index + 1} is part of a circular bulkId reference, which is not resolved.`));
      }
      for (const ref of op.references) {
        if (createdIds.has(ref)) continue;
        const defined = operations.some((o) => o.bulkId === ref && o.method?.toUpperCase() === 'POST');
        const detail = defined
          ? `"bulkId:${ref}" cannot be resolved: the POST with that bulkId did not succeed.`
          : `"bulkId:${ref}" cannot be resolved: no POST in this request has that bulkId.`;
        return refuse(op, new ScimError(409, undefined, detail));
      }
      const method = op.method!.toUpperCase() as Method;
      const resolved = op.references.size > 0;
      const path = resolved ? (resolveReferences(op.path, true, createdIds) as string) : op.path!;
      const target = RESOURCE_PATH.exec(path);
      // `.` and `..` are no ids: the in-process request would resolve them to another path.
      if (!target || (method === 'POST') !== (target[2] === undefined) || target[2] === '.' || target[2] === '..' || /\p{Cc}/u.test(path) || path.length > 512) {
        const wanted = method === 'POST' ? '"/Users" or "/Groups"' : '"/Users/{id}" or "/Groups/{id}"';
        return refuse(op, new ScimError(400, 'invalidPath', `The path of a ${method} must be ${wanted}.`));
      }
      const [, resource, id] = target;
      const resourcePath = `/${resource}${id === undefined ? '' : `/${encodeURIComponent(id)}`}`;
      const location = method === 'POST' ? undefined : baseUrl + resourcePath;
      // The response carries no resource, so a group's members are not read for it.
      const query = resource === 'Groups' && method !== 'DELETE' ? '?excludedAttributes=members' : '';
      const headers: Record<string, string> = { 'content-type': 'application/scim+json' };
      if (op.version !== undefined && method !== 'POST') headers['if-match'] = op.version;
      // The route gets the operation's own data: nothing else reads it after this.
      const data = op.data === undefined || op.data === null ? undefined : resolved ? resolveReferences(op.data, false, createdIds) : op.data;
      const answer = await dispatch(ctx, { method, url: resourcePath + query, headers, ...(data === undefined ? {} : { body: data }) });
      if (answer.status >= 400) {
        return failure(op, errorBodyOf(answer), location);
      }
      const etag = headerOf(answer, 'etag');
      let created: string | undefined;
      if (method === 'POST') {
        created = headerOf(answer, 'location');
        const newId = created?.slice(created.lastIndexOf('/') + 1);
        if (newId) createdIds.set(op.bulkId!, newId);
      }
      return {
        method: op.method!,
        ...(op.bulkId === undefined ? {} : { bulkId: op.bulkId }),
        ...(etag === undefined ? {} : { version: etag }),
        location: created ?? location!,
        status: String(answer.status),
      };
    };

    // Operations that cannot affect one another run together, so that they share commits (SQLite's
    // group commit); everything else runs alone, in order. With failOnErrors, all run in order.
    const window = failOnErrors === undefined ? CONCURRENT_OPERATIONS : 1;
    const inFlight = new Map<number, { keys: string[] | undefined }>();
    // Resolved, and replaced, whenever an operation finishes.
    let finished!: () => void;
    let anyFinished = new Promise<void>((resolve) => (finished = resolve));
    const running: Promise<void>[] = [];
    const blocked = (op: Operation, keys: string[] | undefined) => {
      if (inFlight.size === 0) return false;
      if (keys === undefined || inFlight.size >= window) return true;
      for (const other of inFlight.values()) if (other.keys === undefined || other.keys.some((k) => keys.includes(k))) return true;
      for (const ref of op.references) if (inFlight.has(postOf.get(ref) ?? -1)) return true;
      return false;
    };
    const start = (op: Operation, keys: string[] | undefined) => {
      const done = run(op)
        .catch((err: unknown) => {
          request.log.error({ err }, 'a /Bulk operation failed unexpectedly');
          return errorResult(op, new ScimError(500, undefined, 'An internal error occurred.'));
        })
        .then((result) => {
          if (Number(result.status) >= 400) errors++;
          results[op.index] = result;
          inFlight.delete(op.index);
          finished();
          anyFinished = new Promise<void>((resolve) => (finished = resolve));
        });
      inFlight.set(op.index, { keys });
      running.push(done);
    };
    // RFC 7644 §3.7.3: once failOnErrors errors have happened, the rest is not attempted.
    const stopped = () => failOnErrors !== undefined && errors >= failOnErrors;
    let revoked = false;
    for (const index of order) {
      const op = operations[index]!;
      const keys = window > 1 ? concurrencyKeysOf(op) : undefined;
      while (blocked(op, keys)) await anyFinished;
      if (stopped()) break;
      // The token is asked after again before each operation: one deleted while the request runs
      // (a leak found) stops it there, as it stops every new request.
      if (!(await deps.reg.scimTokens.stillActive(ctx.principal))) {
        revoked = true;
        break;
      }
      start(op, keys);
    }
    await Promise.all(running);
    if (revoked) {
      const left = operations.filter((op) => results[op.index] === undefined);
      const err = new ScimError(401, undefined, 'The SCIM bearer token was deleted or expired while this /Bulk request ran: this operation was not attempted.');
      for (const op of left) results[op.index] = errorResult(op, err);
      await deps.reg.audit.recordRefusal(ctx, 'BulkOperation', { identityStoreId, notAttempted: left.length }, 'scim.token_revoked', err.detail);
    }
    return sendScim(reply, 200, { schemas: [BULK_RESPONSE_SCHEMA], Operations: results.filter((r) => r !== undefined) });
  });
}
