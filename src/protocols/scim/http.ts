// The wire side shared by every /scim/v2 route: the SCIM media type, error bodies (RFC 7644 §3.12)
// mapped from domain errors, list responses, and the JSON body checks.

import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Registry } from '../../registry.js';
import type { RequestContext } from '../../shared/context.js';
import { DomainError, isDomainError, RETRY_UNAVAILABLE_SECONDS } from '../../shared/errors.js';
import { inspectJson } from '../aws/aws-json.js';
import { ScimError } from './errors.js';
import { LIST_RESPONSE_SCHEMA, SEARCH_REQUEST_SCHEMA } from './schemas.js';

export const SCIM_CONTENT_TYPE = 'application/scim+json; charset=utf-8';
/** The event source of SCIM requests in the audit log. */
export const SCIM_EVENT_SOURCE = 'identitystore-scim.amazonaws.com';
export const MAX_BODY_BYTES = 1024 * 1024;
const MAX_JSON_DEPTH = 32;

/** What every SCIM route gets: who is calling, and where the API is. */
export interface ScimRouteDeps {
  reg: Registry;
  /** The request's context, its principal the bearer token; set by the authentication hook. */
  contextOf(request: FastifyRequest): RequestContext;
  /** The public URL of the API, ending in /scim/v2. */
  baseUrl(): string;
}

export function sendScim(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  if (status === 503) reply.header('retry-after', String(RETRY_UNAVAILABLE_SECONDS));
  return reply.code(status).header('content-type', SCIM_CONTENT_TYPE).send(JSON.stringify(body));
}

/** RFC 7644 §3.4.2: a ListResponse of `resources`, all on one page. */
export const listResponse = (resources: unknown[], totalResults = resources.length, startIndex = 1) => ({
  schemas: [LIST_RESPONSE_SCHEMA],
  totalResults,
  itemsPerPage: resources.length,
  startIndex,
  Resources: resources,
});

/**
 * A domain refusal as SCIM words it (RFC 7644 §3.12); anything unknown is a 500 without details.
 * `bodyLimit` names a route's own limit on its body, for the 413 (/Bulk's maxPayloadSize).
 */
export function scimErrorOf(err: unknown, bodyLimit?: { bytes: number; name: string }): ScimError {
  if (err instanceof ScimError) return err;
  if (err instanceof ScimRefusal) return err.scim;
  if (isDomainError(err)) return domainScimError(err);
  const e = err as { code?: unknown; statusCode?: unknown };
  if (e.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    return new ScimError(413, undefined, bodyLimit ? `The request body exceeds the ${bodyLimit.name} (${bodyLimit.bytes} bytes).` : 'The request body exceeds 1 MiB.');
  }
  if (e.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') return new ScimError(415, undefined, 'The Content-Type must be application/scim+json or application/json.');
  if (typeof e.statusCode === 'number' && e.statusCode >= 400 && e.statusCode < 500) return new ScimError(400, 'invalidSyntax', 'The request could not be read.');
  return new ScimError(500, undefined, 'An internal error occurred.');
}

function domainScimError(err: DomainError): ScimError {
  switch (err.kind) {
    case 'invalid_argument':
      return new ScimError(400, 'invalidValue', err.message);
    case 'not_found':
      return new ScimError(404, undefined, err.message);
    case 'already_exists':
      return new ScimError(409, 'uniqueness', err.message);
    // If-Match on an older version, or a concurrent change that got there first.
    case 'failed_precondition':
      return new ScimError(412, undefined, err.message);
    case 'unauthenticated':
      return new ScimError(401, undefined, err.message);
    case 'permission_denied':
      return new ScimError(403, undefined, err.message);
    case 'quota_exceeded':
      return new ScimError(400, 'tooMany', err.message);
    case 'throttled':
      return new ScimError(429, undefined, err.message);
    case 'unavailable':
      return new ScimError(503, undefined, err.message);
    default:
      return new ScimError(500, undefined, 'An internal error occurred.');
  }
}

/** JSON as received, with the abuse checks of the AWS JSON protocols: depth, and no NUL. */
export function parseScimJson(text: string): unknown {
  // A DELETE may come with a Content-Type and no body; a POST without one is refused by its route.
  if (text.trim() === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new ScimError(400, 'invalidSyntax', 'The request body is not valid JSON.');
  }
  const shape = inspectJson(value, MAX_JSON_DEPTH);
  if (shape.depth > MAX_JSON_DEPTH) throw new ScimError(400, 'invalidSyntax', `The request body nests deeper than ${MAX_JSON_DEPTH} levels.`);
  if (shape.hasNul) throw new ScimError(400, 'invalidValue', 'Strings must not contain the NUL character.');
  return value;
}

/**
 * A SCIM refusal raised inside a directory transaction (PATCH and PUT compute the user there): a
 * DomainError, so that the audit log records its code, that still carries its SCIM status and type.
 */
export class ScimRefusal extends DomainError {
  constructor(readonly scim: ScimError) {
    super('invalid_argument', `scim.${scim.scimType ?? scim.status}`, scim.detail);
  }
}

/** Runs `compute`, turning a ScimError into a ScimRefusal. */
export function refusingAsDomainError<T>(compute: () => T): T {
  try {
    return compute();
  } catch (err) {
    throw err instanceof ScimError ? new ScimRefusal(err) : err;
  }
}

/**
 * A change refused before it reaches the directory (a body or a query that does not parse) leaves
 * the change's failure event too, with the code the directory would have given it. The event
 * names the identity store, and the resource the path names (as `idName`); the body is not
 * recorded: it is what failed to parse, and may hold a person's data.
 */
export async function recordingRefusal<T>(deps: ScimRouteDeps, request: FastifyRequest, eventName: string, idName: 'userId' | 'groupId', parse: () => T): Promise<T> {
  try {
    return parse();
  } catch (err) {
    if (!(err instanceof ScimError)) throw err;
    const id = (request.params as { id?: string }).id;
    const parameters = { identityStoreId: (await deps.reg.instance.get()).identityStoreId, ...(id === undefined ? {} : { [idName]: id }) };
    await deps.reg.audit.recordRefusal(deps.contextOf(request), eventName, parameters, `scim.${err.scimType ?? err.status}`, err.detail);
    throw err;
  }
}

const SEARCH_PARAMETERS = ['attributes', 'excludedAttributes', 'filter', 'sortBy', 'sortOrder', 'startIndex', 'count'];

/** A SearchRequest body (RFC 7644 §3.4.3) as the query parameters of a GET list; throws ScimError 400. */
export function searchQueryOf(body: unknown): Record<string, string> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) throw new ScimError(400, 'invalidSyntax', 'The request body must be a JSON object.');
  const request = body as Record<string, unknown>;
  const schemas = request.schemas;
  if (!Array.isArray(schemas) || !schemas.some((x) => typeof x === 'string' && x.toLowerCase() === SEARCH_REQUEST_SCHEMA.toLowerCase())) {
    throw new ScimError(400, 'invalidSyntax', `"schemas" must be ["${SEARCH_REQUEST_SCHEMA}"].`);
  }
  const query: Record<string, string> = {};
  for (const [key, value] of Object.entries(request)) {
    if (key === 'schemas' || value === undefined || value === null) continue;
    if (!SEARCH_PARAMETERS.includes(key)) throw new ScimError(400, 'invalidSyntax', `"${key}" is not a SearchRequest parameter.`);
    if (key === 'attributes' || key === 'excludedAttributes') {
      if (!Array.isArray(value) || !value.every((v) => typeof v === 'string')) throw new ScimError(400, 'invalidValue', `"${key}" must be a list of attribute names.`);
      query[key] = value.join(',');
    } else if (key === 'startIndex' || key === 'count') {
      if (typeof value !== 'number' || !Number.isInteger(value)) throw new ScimError(400, 'invalidValue', `"${key}" must be an integer.`);
      query[key] = String(value);
    } else {
      if (typeof value !== 'string') throw new ScimError(400, 'invalidValue', `"${key}" must be a string.`);
      query[key] = value;
    }
  }
  return query;
}

const ENTITY_TAG = /^(?:W\/)?"(\d{1,15})"$/;
/** The versions an entity-tag list names (RFC 7232 §3.1–3.2); a tag this server never issued names none. */
const versionsOf = (header: string) => header.split(',').flatMap((tag) => ENTITY_TAG.exec(tag.trim())?.[1] ?? []).map(Number);

/** If-Match as the versions it accepts: undefined for none or `*` (any); an empty list matches none. */
export function ifMatchVersions(request: FastifyRequest): readonly number[] | undefined {
  const header = request.headers['if-match'];
  if (header === undefined || header.trim() === '*') return undefined;
  return versionsOf(header);
}

/** Whether If-None-Match names `version` (or is `*`): a GET then answers 304. */
export function noneMatches(request: FastifyRequest, version: number): boolean {
  const header = request.headers['if-none-match'];
  return header !== undefined && (header.trim() === '*' || versionsOf(header).includes(version));
}
