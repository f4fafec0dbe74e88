// /Users (RFC 7644 §3.3–3.6): create, read, replace, patch, delete, list and .search, each one domain call
// on the directory, so a SCIM user is the same record the identitystore API and the portal see.
//
// Listing: `userName eq`, `id eq` and `externalId eq` (alone or in an `and`) use the directory's
// indexed look-ups; any other filter, and any sortBy, is evaluated in memory (filter-match.ts,
// sort.ts) over every user, read a page at a time. Translating them to SQL is still to do.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { UserRecord } from '../../directory/index.js';
import { isDomainError } from '../../shared/errors.js';
import { ScimError } from './errors.js';
import { parseFilter, type Filter } from './filter.js';
import { assertFilterComparable, matches } from './filter-match.js';
import { ifMatchVersions, listResponse, noneMatches, recordingRefusal, refusingAsDomainError, searchQueryOf, sendScim, type ScimRouteDeps } from './http.js';
import { applyPatch, parsePatchRequest } from './patch.js';
import { project, selectorsOf } from './projection.js';
import { DEFAULT_COUNT, MAX_RESULTS, USER_SCHEMA, userCharacteristics } from './schemas.js';
import { sortOrderOf, sortResources } from './sort.js';
import {
  SCIM_EXTERNAL_ID_ISSUER,
  canonicalUser,
  etagOf,
  newUserOf,
  qualifiedUserFilter,
  replacementOf,
  toScimUser,
  userLocation,
  type CanonicalUser,
  type ScimObject,
} from './user-mapping.js';

const ENTERPRISE = ['aws:identitystore:enterprise'];
/** How often PUT or PATCH without If-Match is tried when concurrent changes keep getting there first. */
const MAX_ATTEMPTS = 5;
/** Users read per page when a filter is evaluated in memory. */
const SCAN_PAGE = 500;

interface ListParams {
  filter?: string;
  sortBy?: string;
  sortOrder?: string;
  startIndex: number;
  count: number;
  attributes?: string;
  excludedAttributes?: string;
}

function integerParam(value: unknown, name: string): number | undefined {
  if (value === undefined || value === '') return undefined;
  if (typeof value !== 'string' || !/^-?\d{1,9}$/.test(value.trim())) throw new ScimError(400, 'invalidValue', `"${name}" must be an integer.`);
  return Number(value.trim());
}

function stringParam(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') throw new ScimError(400, 'invalidValue', `"${name}" must be given once.`);
  return value;
}

/** RFC 7644 §3.4.2.4: startIndex below 1 is 1, count below 0 is 0; count is capped at maxResults. */
function listParamsOf(query: Record<string, unknown>): ListParams {
  const startIndex = Math.max(1, integerParam(query.startIndex, 'startIndex') ?? 1);
  const count = Math.min(MAX_RESULTS, Math.max(0, integerParam(query.count, 'count') ?? DEFAULT_COUNT));
  const filter = stringParam(query.filter, 'filter');
  const attributes = stringParam(query.attributes, 'attributes');
  const excludedAttributes = stringParam(query.excludedAttributes, 'excludedAttributes');
  const sortBy = stringParam(query.sortBy, 'sortBy');
  const sortOrder = stringParam(query.sortOrder, 'sortOrder');
  return {
    ...(sortBy === undefined ? {} : { sortBy }),
    ...(sortOrder === undefined ? {} : { sortOrder }),
    startIndex,
    count,
    ...(filter === undefined ? {} : { filter }),
    ...(attributes === undefined ? {} : { attributes }),
    ...(excludedAttributes === undefined ? {} : { excludedAttributes }),
  };
}


/** The string an `attr eq "…"` on a core attribute compares with, for the indexed look-ups. */
function indexedEquality(filter: Filter): { attribute: 'username' | 'id' | 'externalid'; value: string } | undefined {
  const candidates = filter.kind === 'And' ? filter.filters : [filter];
  for (const f of candidates) {
    if (f.kind !== 'Comparison' || f.operator !== 'eq' || typeof f.value !== 'string' || f.path.subAttribute !== undefined) continue;
    if (f.path.schema !== undefined && f.path.schema.toLowerCase() !== USER_SCHEMA.toLowerCase()) continue;
    const attribute = f.path.name.toLowerCase();
    if (attribute === 'username' || attribute === 'id' || attribute === 'externalid') return { attribute, value: f.value };
  }
  return undefined;
}

async function orNothing<T>(p: Promise<T>): Promise<T | undefined> {
  try {
    return await p;
  } catch (err) {
    if (isDomainError(err) && err.kind === 'not_found') return undefined;
    throw err;
  }
}

export function userRoutes(app: FastifyInstance, deps: ScimRouteDeps): void {
  const { reg } = deps;
  const directory = reg.directory;
  const storeId = async () => (await reg.instance.get()).identityStoreId;
  const userIdOf = (request: FastifyRequest) => (request.params as { id: string }).id;

  const sendUser = (reply: FastifyReply, status: number, user: UserRecord, resource = toScimUser(user, deps.baseUrl())) =>
    sendScim(reply.header('etag', etagOf(user.version)), status, resource);

  /**
   * A write's answer is the resource as `attributes`/`excludedAttributes` select it (RFC 7644
   * §3.5.2, §3.9); checked before the write, so a bad selector writes nothing.
   */
  const projectionOf = (request: FastifyRequest) => {
    const query = request.query as Record<string, unknown>;
    const attributes = selectorsOf(stringParam(query.attributes, 'attributes'));
    const excluded = selectorsOf(stringParam(query.excludedAttributes, 'excludedAttributes'));
    return (user: UserRecord) => project(toScimUser(user, deps.baseUrl()), attributes, excluded);
  };

  app.post('/Users', async (request, reply) => {
    const [{ user, active }, view] = await recordingRefusal(deps, request, 'CreateUser', 'userId', () => [newUserOf(canonicalUser(request.body)), projectionOf(request)] as const);
    const identityStoreId = await storeId();
    const created = await directory.createUserRecord(deps.contextOf(request), identityStoreId, { ...user, status: active ? 'ENABLED' : 'DISABLED' }, ENTERPRISE);
    return sendUser(reply.header('location', userLocation(deps.baseUrl(), created.userId)), 201, created, view(created));
  });

  app.get('/Users/:id', async (request, reply) => {
    const params = listParamsOf(request.query as Record<string, unknown>);
    const user = await directory.describeUser(await storeId(), userIdOf(request), ENTERPRISE);
    if (noneMatches(request, user.version)) return reply.code(304).header('etag', etagOf(user.version)).send();
    const resource = project(toScimUser(user, deps.baseUrl()), selectorsOf(params.attributes), selectorsOf(params.excludedAttributes));
    return sendUser(reply, 200, user, resource);
  });

  /**
   * PUT and PATCH: one transaction replaces the user with what `next` makes of the current one.
   * Without If-Match, a concurrent change that got there first (PostgreSQL) is not the client's
   * concern: `next` is pure, so it runs again on the newer record.
   */
  const replaceUser = async (request: FastifyRequest, next: (current: UserRecord) => CanonicalUser, keepUnasserted: boolean) => {
    const expectedVersions = ifMatchVersions(request);
    const [ctx, identityStoreId, userId] = [deps.contextOf(request), await storeId(), userIdOf(request)];
    for (let attempt = 1; ; attempt++) {
      try {
        return await directory.replaceUser(ctx, identityStoreId, userId, (current) => refusingAsDomainError(() => replacementOf(current, next(current), keepUnasserted)), {
          expectedVersions,
        });
      } catch (err) {
        const raced = isDomainError(err) && err.code === 'directory.concurrent_modification' && expectedVersions === undefined;
        if (!raced || attempt >= MAX_ATTEMPTS) throw err;
      }
    }
  };

  app.put('/Users/:id', async (request, reply) => {
    const [replacement, view] = await recordingRefusal(deps, request, 'UpdateUser', 'userId', () => [canonicalUser(request.body), projectionOf(request)] as const);
    const user = await replaceUser(request, () => replacement, true);
    return sendUser(reply, 200, user, view(user));
  });

  app.patch('/Users/:id', async (request, reply) => {
    const [operations, view] = await recordingRefusal(deps, request, 'UpdateUser', 'userId', () => [parsePatchRequest(request.body), projectionOf(request)] as const);
    const patched = (current: UserRecord) => canonicalUser(applyPatch(toScimUser(current, deps.baseUrl()), operations));
    const user = await replaceUser(request, patched, false);
    return sendUser(reply, 200, user, view(user));
  });

  app.delete('/Users/:id', async (request, reply) => {
    await directory.deleteUser(deps.contextOf(request), await storeId(), userIdOf(request), { expectedVersions: ifMatchVersions(request) });
    return reply.code(204).send();
  });

  const list = async (reply: FastifyReply, query: Record<string, unknown>) => {
    const params = listParamsOf(query);
    const attributes = selectorsOf(params.attributes);
    const excluded = selectorsOf(params.excludedAttributes);
    const { total, users } = await listUsers(await storeId(), params);
    const resources = users.map((u) => project(u, attributes, excluded));
    return sendScim(reply, 200, listResponse(resources, total, params.startIndex));
  };
  app.get('/Users', async (request, reply) => list(reply, request.query as Record<string, unknown>));
  // RFC 7644 §3.4.3: the same query in a body, for filters too long or too private for a URL.
  app.post('/Users/.search', async (request, reply) => list(reply, searchQueryOf(request.body)));

  /** The page of matching users as SCIM resources, and how many match in all. */
  async function listUsers(identityStoreId: string, params: ListParams): Promise<{ total: number; users: ScimObject[] }> {
    const baseUrl = deps.baseUrl();
    const offset = params.startIndex - 1;
    const sort = sortOrderOf(params.sortBy, params.sortOrder);
    if (params.filter === undefined && sort === undefined) {
      const page = await directory.listUsersAt(identityStoreId, { offset, limit: params.count, extensionNames: ENTERPRISE });
      return { total: page.total, users: page.items.map((u) => toScimUser(u, baseUrl)) };
    }
    const filter = params.filter === undefined ? undefined : qualifiedUserFilter(parseFilter(params.filter));
    if (filter !== undefined) assertFilterComparable(filter, userCharacteristics);
    const matching = (u: UserRecord) => {
      const resource = toScimUser(u, baseUrl);
      return filter === undefined || matches(filter, resource, userCharacteristics) ? [resource] : [];
    };
    const indexed = filter === undefined ? undefined : indexedEquality(filter);
    // Sorting needs every match at hand; otherwise only the requested page is kept.
    const keepAll = sort !== undefined || indexed !== undefined;
    let total = 0;
    let users: ScimObject[] = [];
    const collect = (resources: ScimObject[]) => {
      for (const resource of resources) {
        if (keepAll || (total >= offset && users.length < params.count)) users.push(resource);
        total++;
      }
    };
    if (indexed !== undefined) {
      collect((await indexedUsers(identityStoreId, indexed)).flatMap(matching));
    } else {
      let nextToken: string | undefined;
      do {
        const page = await directory.listUsers(identityStoreId, { maxResults: SCAN_PAGE, extensionNames: ENTERPRISE, ...(nextToken === undefined ? {} : { nextToken }) });
        collect(page.items.flatMap(matching));
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
    }
    if (keepAll) users = (sort === undefined ? users : sortResources(users, sort)).slice(offset, offset + params.count);
    return { total, users };
  }

  async function indexedUsers(identityStoreId: string, by: { attribute: 'username' | 'id' | 'externalid'; value: string }): Promise<UserRecord[]> {
    let userId: string | undefined = by.value;
    if (by.attribute === 'username') {
      userId = await orNothing(directory.getUserId(identityStoreId, { uniqueAttribute: { attributePath: 'userName', attributeValue: by.value } }));
    } else if (by.attribute === 'externalid') {
      userId = await orNothing(directory.getUserId(identityStoreId, { externalId: { issuer: SCIM_EXTERNAL_ID_ISSUER, id: by.value } }));
    }
    const user = userId === undefined ? undefined : await orNothing(directory.describeUser(identityStoreId, userId, ENTERPRISE));
    return user === undefined ? [] : [user];
  }
}
