// /Groups (RFC 7644 §3.3–3.6): create, read, replace, patch, delete, list and .search, each one domain
// call on the directory, so a SCIM group's user members are what identitystore's ListGroupMemberships sees.
//
// Unlike AWS, every member is returned, read in large pages, and is left unread when the client
// excludes `members` (Entra ID does). Members are users and groups (nested groups: access follows
// the flattened membership). PUT and PATCH change the group and any number of members in one
// transaction. Listing: `displayName eq`, `externalId eq` and `id eq` use indexed look-ups; any
// other filter, and sortBy, is evaluated in memory over every group, read a page at a time.

import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { GroupMember, GroupRecord } from '../../directory/index.js';
import { isDomainError } from '../../shared/errors.js';
import { ScimError } from './errors.js';
import { parseFilter, type Filter } from './filter.js';
import { assertFilterComparable, matches } from './filter-match.js';
import { canonicalGroup, groupLocation, groupReplacementOf, memberTypesOf, scimExternalIdOf, toScimGroup } from './group-mapping.js';
import { applyGroupChanges, groupChangesOf, membersToRead, type GroupChange } from './group-patch.js';
import { ifMatchVersions, listResponse, noneMatches, recordingRefusal, refusingAsDomainError, searchQueryOf, sendScim, type ScimRouteDeps } from './http.js';
import { parsePatchRequest } from './patch.js';
import { project, selectorsOf } from './projection.js';
import { DEFAULT_COUNT, GROUP_SCHEMA, MAX_RESULTS, groupCharacteristics } from './schemas.js';
import { sortOrderOf, sortResources } from './sort.js';
import { SCIM_EXTERNAL_ID_ISSUER, etagOf, type ScimObject } from './user-mapping.js';

/** Groups read per page when a filter is evaluated in memory. */
const SCAN_PAGE = 500;

const integerText = z
  .string()
  .trim()
  .regex(/^-?\d{1,9}$/)
  .transform(Number);
/** The query of GET /Groups and GET /Groups/{id}; a parameter given twice arrives as a list and is refused. */
const GROUP_QUERY = z.object({
  filter: z.string().optional(),
  sortBy: z.string().optional(),
  sortOrder: z.string().optional(),
  startIndex: integerText.optional(),
  count: integerText.optional(),
  attributes: z.string().optional(),
  excludedAttributes: z.string().optional(),
});
type GroupQuery = z.infer<typeof GROUP_QUERY>;

function groupQueryOf(query: unknown): GroupQuery {
  const parsed = GROUP_QUERY.safeParse(query);
  if (parsed.success) return parsed.data;
  const name = String(parsed.error.issues[0]?.path[0] ?? 'query');
  throw new ScimError(400, 'invalidValue', `"${name}" must be given once${name === 'startIndex' || name === 'count' ? ', as an integer' : ''}.`);
}

const notFoundAsUndefined = (err: unknown): undefined => {
  if (isDomainError(err) && err.kind === 'not_found') return undefined;
  throw err;
};

/** Whether a filter looks at `members`: then the members are read before it is evaluated. */
function mentionsMembers(filter: Filter): boolean {
  switch (filter.kind) {
    case 'And':
    case 'Or':
      return filter.filters.some(mentionsMembers);
    case 'Not':
      return mentionsMembers(filter.filter);
    default:
      return filter.path.name.toLowerCase() === 'members';
  }
}

/** The `attributes`/`excludedAttributes` of a request, and whether the response carries members. */
function projectionOf(query: GroupQuery) {
  const attributes = selectorsOf(query.attributes, GROUP_SCHEMA);
  const excluded = selectorsOf(query.excludedAttributes, GROUP_SCHEMA);
  const isMembers = (s: { extension?: string; name?: string }) => s.extension === undefined && s.name?.toLowerCase() === 'members';
  const withMembers = attributes === undefined ? !excluded?.some((s) => isMembers(s) && !('sub' in s)) : attributes.some(isMembers);
  return { withMembers, apply: (resource: ScimObject) => project(resource, attributes, excluded) };
}

const INDEXED = ['displayname', 'externalid', 'id'] as const;
type IndexedAttribute = (typeof INDEXED)[number];
const isIndexed = (name: string): name is IndexedAttribute => (INDEXED as readonly string[]).includes(name);

/** An `attr eq "…"` on displayName, externalId or id (alone or in an `and`), for the indexed look-ups. */
function indexedEquality(filter: Filter): { attribute: IndexedAttribute; value: string } | undefined {
  const inGroupSchema = (schema: string | undefined) => schema === undefined || schema.toLowerCase() === GROUP_SCHEMA.toLowerCase();
  const hit = (filter.kind === 'And' ? filter.filters : [filter]).find(
    (f) => f.kind === 'Comparison' && f.operator === 'eq' && typeof f.value === 'string' && f.path.subAttribute === undefined && inGroupSchema(f.path.schema) && isIndexed(f.path.name.toLowerCase()),
  );
  return hit?.kind === 'Comparison' ? { attribute: hit.path.name.toLowerCase() as IndexedAttribute, value: hit.value as string } : undefined;
}

export function groupRoutes(app: FastifyInstance, deps: ScimRouteDeps): void {
  const { directory, instance } = deps.reg;
  const storeId = () => instance.get().then((i) => i.identityStoreId);
  const groupIdOf = (request: FastifyRequest) => (request.params as { id: string }).id;
  const membersOf = (identityStoreId: string, group: GroupRecord, wanted: boolean) =>
    wanted ? directory.listAllGroupMembers(identityStoreId, group.groupId) : Promise.resolve(undefined);

  const sendGroup = (reply: FastifyReply, status: number, group: GroupRecord, resource: ScimObject) =>
    sendScim(reply.header('etag', etagOf(group.version)), status, resource);

  /** The group as the request's attributes ask for it, members read only when they are returned. */
  type Projection = ReturnType<typeof projectionOf>;
  const respond = async (reply: FastifyReply, status: number, identityStoreId: string, group: GroupRecord, projection: Projection) => {
    const members = await membersOf(identityStoreId, group, projection.withMembers);
    return sendGroup(reply, status, group, projection.apply(toScimGroup(group, members, deps.baseUrl())));
  };

  // Every handler reads its query before it changes anything: a bad parameter refuses the request.
  const projectionOfRequest = (request: FastifyRequest) => projectionOf(groupQueryOf(request.query));

  app.post('/Groups', async (request, reply) => {
    const [projection, group] = await recordingRefusal(deps, request, 'CreateGroup', 'groupId', () => [projectionOfRequest(request), canonicalGroup(request.body)] as const);
    const identityStoreId = await storeId();
    const groupId = await directory.createGroup(deps.contextOf(request), identityStoreId, {
      profile: { displayName: group.displayName },
      externalIds: group.externalId == null ? [] : [{ issuer: SCIM_EXTERNAL_ID_ISSUER, id: group.externalId }],
      memberIds: group.members.map((m) => m.id),
      memberTypes: memberTypesOf(group.members),
    });
    const created = await directory.describeGroup(identityStoreId, groupId);
    return respond(reply.header('location', groupLocation(deps.baseUrl(), groupId)), 201, identityStoreId, created, projection);
  });

  app.get('/Groups/:id', async (request, reply) => {
    const projection = projectionOfRequest(request);
    const identityStoreId = await storeId();
    const group = await directory.describeGroup(identityStoreId, groupIdOf(request));
    if (noneMatches(request, group.version)) {
      return reply.code(304).header('etag', etagOf(group.version)).send();
    }
    return respond(reply, 200, identityStoreId, group, projection);
  });

  /** PUT and PATCH: the group and its members changed in one transaction, by changes checked beforehand. */
  const changeGroup = async (request: FastifyRequest, reply: FastifyReply, changes: GroupChange[]) => {
    const projection = await recordingRefusal(deps, request, 'UpdateGroup', 'groupId', () => projectionOfRequest(request));
    const identityStoreId = await storeId();
    const { group } = await directory.replaceGroup(
      deps.contextOf(request),
      identityStoreId,
      groupIdOf(request),
      (current, known) =>
        refusingAsDomainError(() => {
          const state = { displayName: current.profile.displayName, externalId: scimExternalIdOf(current), memberIds: new Set(known.keys()), memberTypes: new Map() };
          return groupReplacementOf(current, applyGroupChanges(state, changes, known, deps.baseUrl()), known);
        }),
      { expectedVersions: ifMatchVersions(request), readMembers: membersToRead(changes) },
    );
    return respond(reply, 200, identityStoreId, group, projection);
  };

  app.put('/Groups/:id', async (request, reply) => {
    const group = await recordingRefusal(deps, request, 'UpdateGroup', 'groupId', () => canonicalGroup(request.body));
    // As for users, an omitted externalId is not asserted and is kept (RFC 7644 §3.5.1); one sent as null or "" is cleared.
    const changes: GroupChange[] = [
      { kind: 'displayName', value: group.displayName! },
      ...(group.externalId === undefined ? [] : [{ kind: 'externalId' as const, value: group.externalId ?? undefined }]),
      { kind: 'setMembers', members: group.members },
    ];
    return changeGroup(request, reply, changes);
  });

  app.patch('/Groups/:id', async (request, reply) =>
    changeGroup(request, reply, await recordingRefusal(deps, request, 'UpdateGroup', 'groupId', () => groupChangesOf(parsePatchRequest(request.body)))),
  );

  app.delete('/Groups/:id', async (request, reply) => {
    await directory.deleteGroup(deps.contextOf(request), await storeId(), groupIdOf(request), { expectedVersions: ifMatchVersions(request) });
    return reply.code(204).send();
  });

  app.get('/Groups', async (request, reply) => list(reply, request.query));
  // RFC 7644 §3.4.3: the same query in a body, for filters too long or too private for a URL.
  app.post('/Groups/.search', async (request, reply) => list(reply, searchQueryOf(request.body)));

  async function list(reply: FastifyReply, rawQuery: unknown) {
    const query = groupQueryOf(rawQuery);
    const startIndex = Math.max(1, query.startIndex ?? 1);
    const count = Math.min(MAX_RESULTS, Math.max(0, query.count ?? DEFAULT_COUNT));
    const projection = projectionOf(query);
    const identityStoreId = await storeId();
    const { total, page } = await listGroups(identityStoreId, query, startIndex - 1, count, projection.withMembers);
    return sendScim(reply, 200, listResponse(page.map(projection.apply), total, startIndex));
  }

  /** The page of matching groups as SCIM resources, and how many match in all. */
  async function listGroups(identityStoreId: string, query: GroupQuery, offset: number, count: number, withMembers: boolean) {
    const baseUrl = deps.baseUrl();
    const sort = sortOrderOf(query.sortBy, query.sortOrder, 'Group');
    const filter = query.filter === undefined ? undefined : parseFilter(query.filter);
    if (filter !== undefined) assertFilterComparable(filter, groupCharacteristics);
    // Members are read for the filter only when it looks at them; otherwise for the page alone.
    const membersForFilter = filter !== undefined && mentionsMembers(filter);
    const matching: { group: GroupRecord; resource: ScimObject; members?: GroupMember[] }[] = [];
    const consider = async (groups: GroupRecord[]) => {
      for (const group of groups) {
        const members = await membersOf(identityStoreId, group, membersForFilter);
        const resource = toScimGroup(group, members, baseUrl);
        if (filter === undefined || matches(filter, resource, groupCharacteristics)) matching.push({ group, resource, ...(members === undefined ? {} : { members }) });
      }
    };
    const indexed = filter === undefined ? undefined : indexedEquality(filter);
    if (indexed !== undefined) {
      await consider(await indexedGroups(identityStoreId, indexed));
    } else {
      let nextToken: string | undefined;
      do {
        const page = await directory.listGroups(identityStoreId, { maxResults: SCAN_PAGE, ...(nextToken === undefined ? {} : { nextToken }) });
        await consider(page.items);
        nextToken = page.nextToken;
      } while (nextToken !== undefined);
    }
    const byResource = new Map(matching.map((m) => [m.resource, m]));
    const ordered = sort === undefined ? matching : sortResources([...byResource.keys()], sort).map((r) => byResource.get(r)!);
    // Without members in the response, the projection drops any the filter read.
    const page: ScimObject[] = [];
    for (const m of ordered.slice(offset, offset + count)) {
      page.push(!withMembers || m.members !== undefined ? m.resource : toScimGroup(m.group, await directory.listAllGroupMembers(identityStoreId, m.group.groupId), baseUrl));
    }
    return { total: matching.length, page };
  }

  async function indexedGroups(identityStoreId: string, by: { attribute: IndexedAttribute; value: string }): Promise<GroupRecord[]> {
    const groupId =
      by.attribute === 'id'
        ? by.value
        : await directory
            .getGroupId(
              identityStoreId,
              by.attribute === 'displayname'
                ? { uniqueAttribute: { attributePath: 'displayName', attributeValue: by.value } }
                : { externalId: { issuer: SCIM_EXTERNAL_ID_ISSUER, id: by.value } },
            )
            .catch(notFoundAsUndefined);
    const group = groupId === undefined ? undefined : await directory.describeGroup(identityStoreId, groupId).catch(notFoundAsUndefined);
    return group === undefined ? [] : [group];
  }
}
