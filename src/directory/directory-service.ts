// Users, groups and memberships of the identity store, with AWS identitystore's rules.
// One domain for every surface: the identitystore API, SCIM and the portal all come through here.

import { isDeepStrictEqual } from 'node:util';
import { audited, HIDDEN, type AuditStore } from '../audit/index.js';
import type { RevocationService } from '../credentials/index.js';
import type { InstanceService } from '../instance/index.js';
import type { RequestContext } from '../shared/context.js';
import { invalidArgument, notFound } from '../shared/errors.js';
import { newPrincipalId } from '../shared/ids.js';
import { decodeToken, pageOf, type Page } from '../shared/pagination.js';
import type { ServiceDeps } from '../shared/service-deps.js';
import {
  checkExtensionNames,
  checkExternalIds,
  checkGroupProfile,
  checkUserExtensions,
  checkUserProfile,
  isUserStatusOperation,
  splitUserStatus,
  updatedGroupProfile,
  updatedUserProfile,
  type AttributeOperation,
} from './attributes.js';
import {
  concurrentModification,
  groupCycle,
  groupNotFound,
  memberTypeMismatch,
  membershipNotFound,
  principalNotFound,
  unknownMembers,
  userNotFound,
  versionMismatch,
} from './directory-errors.js';
import type {
  DirectoryStore,
  ExternalId,
  GroupMember,
  GroupNestingRecord,
  GroupRecord,
  KeysetQuery,
  MembershipRecord,
  PrincipalType,
  Stamp,
  UserRecord,
  UserStatus,
  UserSummary,
} from './directory-store.js';

export type DirectoryStores = { directory: DirectoryStore; audit: AuditStore };

export interface NewUser {
  /** Unchecked attributes, named as in UserProfile. */
  profile: Record<string, unknown>;
  extensions?: Record<string, unknown>;
  /** Set by SCIM provisioning; the identitystore API has no way to set them. */
  externalIds?: ExternalId[];
  /** ENABLED unless given: SCIM may create a user already inactive. */
  status?: UserStatus;
}

/** A user's whole state as SCIM's PUT and PATCH set it; attributes are checked as on create. */
export interface UserReplacement {
  profile: Record<string, unknown>;
  extensions?: Record<string, unknown>;
  status: UserStatus;
  externalIds: ExternalId[];
}

/**
 * What a member id is said to be, when the caller says (SCIM's `type`); an id without one is looked
 * up among users and groups. Principal ids are unique across both.
 */
export type MemberTypes = ReadonlyMap<string, PrincipalType>;

export interface NewGroup {
  profile: Record<string, unknown>;
  externalIds?: ExternalId[];
  /** Users and groups that are members from the start (SCIM's POST /Groups), in the same transaction. */
  memberIds?: readonly string[];
  memberTypes?: MemberTypes;
}

/** A group's whole state as SCIM's PUT and PATCH set it, and the member changes they make. */
export interface GroupReplacement {
  profile: Record<string, unknown>;
  externalIds: ExternalId[];
  /** Users and groups to make members; one who already is stays as they are. */
  addMembers: readonly string[];
  /** Users and groups to remove; one that is not a member is no change. */
  removeMembers: readonly string[];
  /** What the request says members are; a member of another type refuses the call. */
  memberTypes?: MemberTypes;
}

export interface ListQuery {
  maxResults?: number;
  nextToken?: string;
}

/** An exact-match filter of ListUsers / ListGroups. */
export interface AttributeFilter {
  attributePath: string;
  attributeValue: string;
}

export type AlternateIdentifier = { externalId: ExternalId } | { uniqueAttribute: { attributePath: string; attributeValue: unknown } };

/**
 * Ends a user's portal sessions when the user is disabled. Satisfied by auth/, which depends on the
 * directory: the registry hands it in, so the directory never imports auth.
 */
export interface UserSessions {
  endSessionsOfUser(ctx: RequestContext, identityStoreId: string, userId: string, reason: string): Promise<unknown>;
}

export interface MembershipCheck {
  groupId: string;
  userId: string;
  membershipExists: boolean;
}

const DEFAULT_PAGE_SIZE = 100;
/** Members read per query when a whole group is read: a 10,000-member group in one. */
const MEMBER_PAGE = 10_000;
/** Audit events appended per statement. */
/** A membership a group operation created or deleted, as its audit event lists it. */
type MembershipChange = { membershipId: string; memberId: { userId: string } | { groupId: string } };
const membershipChange = (m: GroupMember): MembershipChange => ({
  membershipId: m.membershipId,
  memberId: m.type === 'USER' ? { userId: m.memberId } : { groupId: m.memberId },
});
/** UpdateUser and the CLI set the status explicitly: DISABLED revokes again even on a disabled user. */
const EXPLICIT_STATUS = { revokeWhenAlreadyDisabled: true };
/**
 * Personal data stays out of the audit log: which attributes were sent is kept, not their values.
 * A user's status is not personal, and who was disabled or enabled is what the log is for.
 */
const hidden = (attributes: object) => Object.fromEntries(Object.keys(attributes).map((k) => [k, HIDDEN]));
/** What a whole-user replacement changed: the attributes by name (their values may be personal), and a new status. */
function changesOf(before: UserRecord, after: UserRecord): { changedAttributes: string[]; userStatus?: string } {
  const differs = (a: unknown, b: unknown) => JSON.stringify(a ?? null) !== JSON.stringify(b ?? null);
  const [was, is] = [new Map(Object.entries(before.profile)), new Map(Object.entries(after.profile))];
  const changedAttributes = [...new Set([...was.keys(), ...is.keys()])].filter((n) => differs(was.get(n), is.get(n))).sort();
  if (differs(before.extensions, after.extensions)) changedAttributes.push('extensions');
  if (!sameExternalIds(before.externalIds, after.externalIds)) changedAttributes.push('externalIds');
  if (before.status !== after.status) changedAttributes.push('userStatus');
  return { changedAttributes, ...(before.status !== after.status ? { userStatus: after.status } : {}) };
}

const hiddenOperations = (operations: readonly AttributeOperation[]) =>
  operations.map((o) => ({ attributePath: o.attributePath, attributeValue: isUserStatusOperation(o) ? o.attributeValue : HIDDEN }));

function keysetOf(q: ListQuery): KeysetQuery {
  const position = decodeToken(q.nextToken);
  if (position && typeof position.a !== 'string') throw invalidArgument('pagination.invalid_token', 'The NextToken is not valid.');
  return { after: position?.a as string | undefined, limit: q.maxResults ?? DEFAULT_PAGE_SIZE };
}

/** Rows fetched with one extra beyond the page, cut to a page whose token is the last key. */
const pageAfter = <T>(rows: T[], k: KeysetQuery, keyOf: (row: T) => string): Page<T> => pageOf(rows, k.limit, (row) => ({ a: keyOf(row) }));

function filterValue(filter: AttributeFilter | undefined, path: string): string | undefined {
  if (!filter) return undefined;
  if (filter.attributePath.toLowerCase() !== path.toLowerCase()) {
    throw invalidArgument('directory.invalid_filter', `Filtering is supported on ${path} only.`);
  }
  return filter.attributeValue;
}

export class DirectoryService {
  constructor(
    private readonly deps: ServiceDeps<DirectoryStores> & {
      instance: InstanceService;
      /** A deleted user, or users who leave a group (or whose group is deleted), lose the credentials already issued. */
      revocation: Pick<RevocationService, 'revokeFollowing' | 'revokeGroupGrants'>;
      /** A disabled user's portal sessions end. */
      sessions: UserSessions;
    },
  ) {}

  private get read(): DirectoryStore {
    return this.deps.read.directory;
  }

  private stamp(ctx: RequestContext): Stamp {
    return { at: this.deps.clock.now(), by: ctx.principal.arn ?? ctx.principal.principalId };
  }

  private async requireStore(identityStoreId: string): Promise<void> {
    await this.deps.instance.requireIdentityStore(identityStoreId);
  }

  /** Resolve a UniqueAttribute by the finder registered for its (case-insensitive) path. */
  private async findByUniqueAttribute(
    attribute: { attributePath: string; attributeValue: unknown },
    finders: Record<string, (value: string) => Promise<string | undefined>>,
  ): Promise<string | undefined> {
    const path = attribute.attributePath.toLowerCase();
    const finder = Object.hasOwn(finders, path) ? finders[path] : undefined;
    if (!finder) {
      throw invalidArgument('directory.invalid_unique_attribute', `AttributePath must be one of: ${Object.keys(finders).join(', ')}.`);
    }
    if (typeof attribute.attributeValue !== 'string') {
      throw invalidArgument('directory.invalid_unique_attribute', 'AttributeValue must be a string.');
    }
    return finder(attribute.attributeValue);
  }

  // ---- users ----

  async createUser(ctx: RequestContext, identityStoreId: string, input: NewUser): Promise<string> {
    return (await this.createUserRecord(ctx, identityStoreId, input)).userId;
  }

  /** createUser, answering with the user as stored (with the extensions named), so no read follows. */
  createUserRecord(ctx: RequestContext, identityStoreId: string, input: NewUser, extensionNames: readonly string[] = []): Promise<UserRecord> {
    return audited(
      this.deps,
      ctx,
      {
        eventName: 'CreateUser',
        requestParameters: { identityStoreId, ...hidden(input.profile), ...(input.extensions ? { extensions: HIDDEN } : {}) },
        responseElements: (user: UserRecord) => ({ identityStoreId, userId: user.userId }),
      },
      async (s) => {
        await this.requireStore(identityStoreId);
        checkExtensionNames(extensionNames);
        const stamp = this.stamp(ctx);
        const user: UserRecord = {
          identityStoreId,
          userId: newPrincipalId(this.deps.ids, identityStoreId, this.deps.clock.now()),
          profile: checkUserProfile(input.profile),
          extensions: input.extensions && checkUserExtensions(input.extensions),
          status: input.status ?? 'ENABLED',
          externalIds: checkExternalIds(input.externalIds ?? []),
          created: stamp,
          updated: stamp,
          version: 1,
        };
        await s.directory.insertUser(user);
        return withExtensions(user, extensionNames);
      },
    );
  }

  /** The user, with the extensions named in `extensionNames` (and no others). */
  async describeUser(identityStoreId: string, userId: string, extensionNames: readonly string[] = []): Promise<UserRecord> {
    await this.requireStore(identityStoreId);
    checkExtensionNames(extensionNames);
    const user = await this.read.findUser(identityStoreId, userId);
    if (!user) throw userNotFound(userId);
    return withExtensions(user, extensionNames);
  }

  /** Profile attributes, and the user's status (`userStatus`: ENABLED or DISABLED). */
  async updateUser(ctx: RequestContext, identityStoreId: string, userId: string, operations: readonly AttributeOperation[]): Promise<void> {
    await this.changeUser(ctx, identityStoreId, { userId }, { operations: hiddenOperations(operations) }, EXPLICIT_STATUS, (current) => {
      const { status, profileOperations } = splitUserStatus(operations);
      return { ...current, profile: updatedUserProfile(current.profile, profileOperations), status: status ?? current.status };
    });
  }

  /** Disable or enable the user with this UserName (the CLI): an UpdateUser of `userStatus` alone. */
  setUserStatus(ctx: RequestContext, identityStoreId: string, userName: string, status: UserStatus): Promise<UserRecord> {
    const operations = [{ attributePath: 'userStatus', attributeValue: status }];
    return this.changeUser(ctx, identityStoreId, { userName }, { operations }, EXPLICIT_STATUS, (current) => ({
      ...current,
      status: splitUserStatus(operations).status ?? current.status,
    }));
  }

  /**
   * The whole user at once (SCIM's PUT and PATCH): `replace` computes it from the current record
   * inside the transaction, so a read-modify-write cannot lose a concurrent change. With
   * `expectedVersions` (SCIM's If-Match, any of them), a user at any other version is refused.
   */
  replaceUser(
    ctx: RequestContext,
    identityStoreId: string,
    userId: string,
    replace: (current: UserRecord) => UserReplacement,
    opts: { expectedVersions?: readonly number[] } = {},
  ): Promise<UserRecord> {
    // A whole user that repeats a disabled status (a PUT) revokes nothing again.
    // The values stay hidden; what changed is recorded by name, and a new status by its value.
    return this.changeUser(ctx, identityStoreId, { userId }, { replacement: HIDDEN }, { revokeWhenAlreadyDisabled: false, recordChanges: true }, (current) => {
      if (opts.expectedVersions !== undefined && !opts.expectedVersions.includes(current.version)) throw versionMismatch(userId);
      const next = replace(current);
      return {
        profile: checkUserProfile(next.profile),
        extensions: next.extensions && checkUserExtensions(next.extensions),
        status: next.status,
        externalIds: checkExternalIds(next.externalIds),
      };
    });
  }

  /**
   * Disabling a user, like deleting one, revokes everything issued to them so far in the same
   * transaction, and then ends their portal sessions. Enabling revokes nothing: the marks say "not
   * valid before T", so what is issued after re-enabling works, and what was issued before never will.
   */
  private async changeUser(
    ctx: RequestContext,
    identityStoreId: string,
    who: { userId: string } | { userName: string },
    parameters: Record<string, unknown>,
    opts: { revokeWhenAlreadyDisabled: boolean; recordChanges?: boolean },
    change: (current: UserRecord) => Pick<UserRecord, 'profile' | 'extensions' | 'status' | 'externalIds'>,
  ): Promise<UserRecord> {
    const { user, disabled } = await audited(
      this.deps,
      ctx,
      {
        eventName: 'UpdateUser',
        requestParameters: { identityStoreId, ...who, ...parameters },
        ...(opts.recordChanges ? { responseElements: (r: { user: UserRecord; before: UserRecord }) => changesOf(r.before, r.user) } : {}),
      },
      async (s) => {
        await this.requireStore(identityStoreId);
        const userId = 'userId' in who ? who.userId : await s.directory.findUserIdByUserName(identityStoreId, who.userName);
        const current = userId === undefined ? undefined : await s.directory.findUser(identityStoreId, userId);
        if (!current) throw userNotFound('userId' in who ? who.userId : who.userName);
        const { profile, extensions, status, externalIds } = change(current);
        // A change to what is already so writes nothing: the version and the modify time stay
        // (RFC 7644 §3.5.2.1), so other clients' If-Match still holds.
        const unchanged = isDeepStrictEqual({ profile, extensions, status, externalIds }, { profile: current.profile, extensions: current.extensions, status: current.status, externalIds: current.externalIds });
        const next: UserRecord = unchanged ? current : { ...current, profile, extensions, status, externalIds, updated: this.stamp(ctx), version: current.version + 1 };
        if (!unchanged && !(await s.directory.updateUser(next))) throw concurrentModification();
        if (!sameExternalIds(current.externalIds, externalIds)) await s.directory.replaceExternalIds(identityStoreId, 'USER', next.userId, externalIds);
        const disabled = status === 'DISABLED' && (current.status !== 'DISABLED' || opts.revokeWhenAlreadyDisabled);
        if (disabled) await this.deps.revocation.revokeFollowing(ctx, [{ kind: 'user', userId: next.userId }], 'DisableUser');
        return { user: next, disabled, before: current };
      },
    );
    // After the commit: ending sessions is audited on its own, and a session that outlives a failure
    // here still reaches nothing, since the portal gives a disabled user no accounts or roles.
    if (disabled) await this.deps.sessions.endSessionsOfUser(ctx, identityStoreId, user.userId, 'DisableUser');
    return user;
  }

  /** With `expectedVersions` (SCIM's If-Match, any of them), a user at any other version is refused. */
  async deleteUser(ctx: RequestContext, identityStoreId: string, userId: string, opts: { expectedVersions?: readonly number[] } = {}): Promise<void> {
    await audited(this.deps, ctx, { eventName: 'DeleteUser', requestParameters: { identityStoreId, userId } }, async (s) => {
      await this.requireStore(identityStoreId);
      if (opts.expectedVersions !== undefined) {
        const current = await s.directory.findUser(identityStoreId, userId);
        if (!current) throw userNotFound(userId);
        if (!opts.expectedVersions.includes(current.version)) throw versionMismatch(userId);
      }
      if (!(await s.directory.deleteUser(identityStoreId, userId))) throw userNotFound(userId);
      await this.deps.revocation.revokeFollowing(ctx, [{ kind: 'user', userId }], 'DeleteUser');
    });
  }

  async listUsers(
    identityStoreId: string,
    q: ListQuery & { filter?: AttributeFilter; extensionNames?: readonly string[] },
  ): Promise<Page<UserRecord>> {
    await this.requireStore(identityStoreId);
    const extensionNames = q.extensionNames ?? [];
    checkExtensionNames(extensionNames);
    const userName = filterValue(q.filter, 'UserName');
    const k = keysetOf(q);
    const rows = await this.read.listUsers(identityStoreId, { after: k.after, limit: k.limit + 1, userName });
    const page = pageAfter(rows, k, (u) => u.userId);
    return { ...page, items: page.items.map((u) => withExtensions(u, extensionNames)) };
  }

  /** Users by position (SCIM's startIndex, 0-based here) with the total, ordered by user id. */
  async listUsersAt(
    identityStoreId: string,
    q: { offset: number; limit: number; extensionNames?: readonly string[] },
  ): Promise<{ total: number; items: UserRecord[] }> {
    await this.requireStore(identityStoreId);
    const extensionNames = q.extensionNames ?? [];
    checkExtensionNames(extensionNames);
    const [total, rows] = await Promise.all([
      this.read.countUsers(identityStoreId),
      q.limit > 0 ? this.read.listUsersAt(identityStoreId, { offset: q.offset, limit: q.limit }) : Promise.resolve([]),
    ]);
    return { total, items: rows.map((u) => withExtensions(u, extensionNames)) };
  }

  async getUserId(identityStoreId: string, alternate: AlternateIdentifier): Promise<string> {
    await this.requireStore(identityStoreId);
    const userId =
      'externalId' in alternate
        ? await this.read.findIdByExternalId(identityStoreId, 'USER', alternate.externalId)
        : await this.findByUniqueAttribute(alternate.uniqueAttribute, {
            username: (v) => this.read.findUserIdByUserName(identityStoreId, v),
            // Emails are not unique: the oldest user wins, so that the answer is stable.
            'emails.value': async (v) => (await this.read.findUserIdsByEmail(identityStoreId, v, 1))[0],
          });
    if (!userId) throw notFound('directory.user_not_found', 'No user matches the alternate identifier.', { resourceType: 'USER' });
    return userId;
  }

  /** The users whose primary email is `email`: none, one, or (when it is not unique) two of them. */
  async userIdsByEmail(identityStoreId: string, email: string): Promise<string[]> {
    await this.requireStore(identityStoreId);
    return this.read.findUserIdsByEmail(identityStoreId, email, 2);
  }

  // ---- groups ----

  async createGroup(ctx: RequestContext, identityStoreId: string, input: NewGroup): Promise<string> {
    return audited(
      this.deps,
      ctx,
      {
        eventName: 'CreateGroup',
        requestParameters: { identityStoreId, ...hidden(input.profile) },
        // SCIM may create a group with its members: they are on this one event, not one event each.
        responseElements: ({ groupId, added }: { groupId: string; added: MembershipChange[] }) => ({
          identityStoreId,
          groupId,
          ...(added.length > 0 ? { membersAdded: added } : {}),
        }),
      },
      async (s) => {
        await this.requireStore(identityStoreId);
        const stamp = this.stamp(ctx);
        const group: GroupRecord = {
          identityStoreId,
          groupId: newPrincipalId(this.deps.ids, identityStoreId, this.deps.clock.now()),
          profile: checkGroupProfile(input.profile),
          externalIds: checkExternalIds(input.externalIds ?? []),
          created: stamp,
          updated: stamp,
          version: 1,
        };
        await s.directory.insertGroup(group);
        const added = await this.addMembers(s, ctx, group, input.memberIds ?? [], input.memberTypes);
        return { groupId: group.groupId, added };
      },
    ).then((r) => r.groupId);
  }

  async describeGroup(identityStoreId: string, groupId: string): Promise<GroupRecord> {
    await this.requireStore(identityStoreId);
    const group = await this.read.findGroup(identityStoreId, groupId);
    if (!group) throw groupNotFound(groupId);
    return group;
  }

  async updateGroup(ctx: RequestContext, identityStoreId: string, groupId: string, operations: readonly AttributeOperation[]): Promise<void> {
    await audited(this.deps, ctx, { eventName: 'UpdateGroup', requestParameters: { identityStoreId, groupId, operations: hiddenOperations(operations) } }, async (s) => {
      await this.requireStore(identityStoreId);
      const group = await s.directory.findGroup(identityStoreId, groupId);
      if (!group) throw groupNotFound(groupId);
      const next = { ...group, profile: updatedGroupProfile(group.profile, operations), updated: this.stamp(ctx), version: group.version + 1 };
      if (!(await s.directory.updateGroup(next))) throw concurrentModification();
    });
  }

  /** With `expectedVersions` (SCIM's If-Match, any of them), a group at any other version is refused. */
  async deleteGroup(ctx: RequestContext, identityStoreId: string, groupId: string, opts: { expectedVersions?: readonly number[] } = {}): Promise<void> {
    await audited(this.deps, ctx, { eventName: 'DeleteGroup', requestParameters: { identityStoreId, groupId } }, async (s) => {
      await this.requireStore(identityStoreId);
      if (opts.expectedVersions !== undefined) {
        const current = await s.directory.lockGroup(identityStoreId, groupId);
        if (!current) throw groupNotFound(groupId);
        if (!opts.expectedVersions.includes(current.version)) throw versionMismatch(groupId);
      }
      // Every user below it leaves it, and loses what it and the groups above it granted, unless they
      // hold the same role another way. Its memberships in other groups and of other groups go with it.
      await this.deps.revocation.revokeGroupGrants(ctx, { identityStoreId, groupId, everyone: true }, 'DeleteGroup', async () => {
        if (!(await s.directory.deleteGroup(identityStoreId, groupId))) throw groupNotFound(groupId);
      });
    });
  }

  /**
   * The whole group at once (SCIM's PUT and PATCH), members included, in one transaction that holds
   * the group's row: `replace` computes the group and its member changes from the current group and
   * the memberships named by `readMembers` (every one, or those of these users), so concurrent
   * changes to one group apply one after the other. Any number of members per call, users or groups;
   * a member that does not exist, or a group that would make a cycle, refuses the whole call. The
   * call is one UpdateGroup event, which lists every membership it created and deleted (an IdP's
   * PATCH of 1,000 members is one operation, not 1,000), and every user who leaves (a removed user,
   * or every user below a removed group) loses at once the roles they no longer hold, in one bulk
   * revocation.
   */
  replaceGroup(
    ctx: RequestContext,
    identityStoreId: string,
    groupId: string,
    replace: (current: GroupRecord, members: ReadonlyMap<string, GroupMember>) => GroupReplacement,
    opts: { expectedVersions?: readonly number[]; readMembers: 'all' | readonly string[] },
  ): Promise<{ group: GroupRecord; added: number; removed: number }> {
    return audited(
      this.deps,
      ctx,
      {
        eventName: 'UpdateGroup',
        requestParameters: { identityStoreId, groupId, replacement: HIDDEN },
        responseElements: (r: { added: MembershipChange[]; removed: MembershipChange[] }) => ({
          identityStoreId,
          groupId,
          membersAdded: r.added,
          membersRemoved: r.removed,
        }),
      },
      async (s) => {
        await this.requireStore(identityStoreId);
        const current = await s.directory.lockGroup(identityStoreId, groupId);
        if (!current) throw groupNotFound(groupId);
        if (opts.expectedVersions !== undefined && !opts.expectedVersions.includes(current.version)) throw versionMismatch(groupId);
        const known =
          opts.readMembers === 'all'
            ? await this.readAllMembers(s.directory, identityStoreId, groupId)
            : await s.directory.findMembersOfGroup(identityStoreId, groupId, opts.readMembers);
        const members = new Map(known.map((m) => [m.memberId, m]));
        const next = replace(current, members);
        if (opts.readMembers !== 'all') {
          // A member change outside what was read could not be told apart from no change.
          const read = new Set(opts.readMembers);
          if (![...next.addMembers, ...next.removeMembers].every((id) => read.has(id))) throw new Error('replaceGroup: a member change outside readMembers');
        }
        const profile = checkGroupProfile(next.profile);
        const externalIds = checkExternalIds(next.externalIds);
        for (const [id, type] of next.memberTypes ?? []) {
          const member = members.get(id);
          if (member !== undefined && member.type !== type) throw memberTypeMismatch(id, type);
        }
        const removed = [...new Set(next.removeMembers)].flatMap((id) => members.get(id) ?? []);
        const toAdd = next.addMembers.filter((id) => !members.has(id));
        // Members already there added, absent ones removed, the same names: nothing is written, and
        // the version and the modify time stay (RFC 7644 §3.5.2.1), so other clients' If-Match holds.
        if (removed.length === 0 && toAdd.length === 0 && isDeepStrictEqual(profile, current.profile) && sameExternalIds(current.externalIds, externalIds)) {
          return { group: current, added: [], removed: [] };
        }
        const group: GroupRecord = { ...current, profile, externalIds, updated: this.stamp(ctx), version: current.version + 1 };
        if (!(await s.directory.updateGroup(group))) throw concurrentModification();
        if (!sameExternalIds(current.externalIds, group.externalIds)) await s.directory.replaceExternalIds(identityStoreId, 'GROUP', groupId, group.externalIds);
        let added: MembershipChange[] = [];
        // Additions run inside the removal, so that what a leaver keeps is read after both: a user
        // moved from one member group to another in one request keeps the roles both grant.
        await this.removeMembers(s, ctx, group, removed, async () => {
          added = await this.addMembers(s, ctx, group, toAdd, next.memberTypes);
        });
        return { group, added, removed: removed.map(membershipChange) };
      },
    ).then((r) => ({ group: r.group, added: r.added.length, removed: r.removed.length }));
  }

  /** Every member of the group with their display names, read in large pages (SCIM's GET /Groups). */
  async listAllGroupMembers(identityStoreId: string, groupId: string): Promise<GroupMember[]> {
    await this.requireStore(identityStoreId);
    return this.readAllMembers(this.read, identityStoreId, groupId);
  }

  /** Users first, then groups, each read in large pages. */
  private async readAllMembers(store: DirectoryStore, identityStoreId: string, groupId: string): Promise<GroupMember[]> {
    const members: GroupMember[] = [];
    for (const list of [store.listMembersOfGroup.bind(store), store.listGroupMembersOfGroup.bind(store)]) {
      for (let after: string | undefined; ; ) {
        const page = await list(identityStoreId, groupId, { after, limit: MEMBER_PAGE });
        members.push(...page);
        if (page.length < MEMBER_PAGE) break;
        after = page.at(-1)!.memberId;
      }
    }
    return members;
  }

  /**
   * New memberships of `group` for these users and groups (none a member yet); returns them, for the
   * caller's one audit event. Ids are told apart by looking them up; one that is neither, or not what `types` says,
   * refuses the call. A group is added under the identity store's nesting lock, after checking that
   * it does not contain `group` already (a cycle), so that concurrent additions cannot close one.
   */
  private async addMembers(s: DirectoryStores, ctx: RequestContext, group: GroupRecord, memberIds: readonly string[], types?: MemberTypes): Promise<MembershipChange[]> {
    const { identityStoreId, groupId } = group;
    const wanted = [...new Set(memberIds)];
    if (wanted.length === 0) return [];
    const users = new Set(await s.directory.findExistingUserIds(identityStoreId, wanted));
    const notUsers = wanted.filter((id) => !users.has(id));
    const groups = new Set(notUsers.length === 0 ? [] : await s.directory.findExistingGroupIds(identityStoreId, notUsers));
    const missing = notUsers.filter((id) => !groups.has(id));
    if (missing.length > 0) throw unknownMembers(missing);
    for (const [id, type] of types ?? []) {
      if ((type === 'USER' && groups.has(id)) || (type === 'GROUP' && users.has(id))) throw memberTypeMismatch(id, type);
    }
    const created = this.stamp(ctx);
    const newId = () => newPrincipalId(this.deps.ids, identityStoreId, this.deps.clock.now());
    const memberships = [...users].map((userId): MembershipRecord => ({ identityStoreId, membershipId: newId(), groupId, userId, created }));
    const nestings = [...groups].map((memberGroupId): GroupNestingRecord => ({ identityStoreId, membershipId: newId(), groupId, memberGroupId, created }));
    if (nestings.length > 0) {
      await s.directory.lockGroupNesting(identityStoreId);
      const cycle = await s.directory.selfOrAncestorsAmong(identityStoreId, groupId, [...groups]);
      if (cycle.length > 0) throw groupCycle(groupId, cycle.sort());
    }
    await s.directory.insertMemberships(memberships);
    await s.directory.insertGroupNestings(nestings);
    return [
      ...memberships.map((m) => ({ membershipId: m.membershipId, memberId: { userId: m.userId } })),
      ...nestings.map((n) => ({ membershipId: n.membershipId, memberId: { groupId: n.memberGroupId } })),
    ];
  }

  /**
   * These memberships of `group` end (the caller's audit event lists them). Every user who leaves (a removed user, and every
   * user below a removed group) loses at once what they no longer hold: one bulk revocation, after
   * `andThen` (the request's additions) has run too.
   */
  private async removeMembers(
    s: DirectoryStores,
    ctx: RequestContext,
    group: GroupRecord,
    members: readonly GroupMember[],
    andThen: () => Promise<void>,
  ): Promise<void> {
    if (members.length === 0) return andThen();
    const { identityStoreId, groupId } = group;
    const users = members.filter((m) => m.type === 'USER');
    const groups = members.filter((m) => m.type === 'GROUP');
    const departure = { identityStoreId, groupId, userIds: users.map((m) => m.memberId), memberGroupIds: groups.map((m) => m.memberId) };
    await this.deps.revocation.revokeGroupGrants(ctx, departure, 'DeleteGroupMembership', async () => {
      const deleted =
        (await s.directory.deleteMemberships(identityStoreId, users.map((m) => m.membershipId))) +
        (await s.directory.deleteGroupNestings(identityStoreId, groups.map((m) => m.membershipId)));
      if (deleted !== members.length) throw concurrentModification();
      await andThen();
    });
  }

  /** How many groups the store holds, counted by the database (the console's dashboard). */
  async countGroups(identityStoreId: string): Promise<number> {
    await this.requireStore(identityStoreId);
    return this.read.countGroups(identityStoreId);
  }

  async listGroups(identityStoreId: string, q: ListQuery & { filter?: AttributeFilter }): Promise<Page<GroupRecord>> {
    await this.requireStore(identityStoreId);
    const displayName = filterValue(q.filter, 'DisplayName');
    const k = keysetOf(q);
    const rows = await this.read.listGroups(identityStoreId, { after: k.after, limit: k.limit + 1, displayName });
    return pageAfter(rows, k, (g) => g.groupId);
  }

  async getGroupId(identityStoreId: string, alternate: AlternateIdentifier): Promise<string> {
    await this.requireStore(identityStoreId);
    const groupId =
      'externalId' in alternate
        ? await this.read.findIdByExternalId(identityStoreId, 'GROUP', alternate.externalId)
        : await this.findByUniqueAttribute(alternate.uniqueAttribute, {
            displayname: (v) => this.read.findGroupIdByDisplayName(identityStoreId, v),
          });
    if (!groupId) throw notFound('directory.group_not_found', 'No group matches the alternate identifier.', { resourceType: 'GROUP' });
    return groupId;
  }

  // ---- memberships ----

  async createGroupMembership(ctx: RequestContext, identityStoreId: string, groupId: string, userId: string): Promise<string> {
    return audited(
      this.deps,
      ctx,
      {
        eventName: 'CreateGroupMembership',
        requestParameters: { identityStoreId, groupId, memberId: { userId } },
        responseElements: (membershipId) => ({ identityStoreId, membershipId }),
      },
      async (s) => {
        await this.requireStore(identityStoreId);
        const membershipId = newPrincipalId(this.deps.ids, identityStoreId, this.deps.clock.now());
        await s.directory.insertMembership({ identityStoreId, membershipId, groupId, userId, created: this.stamp(ctx) });
        return membershipId;
      },
    );
  }

  async describeGroupMembership(identityStoreId: string, membershipId: string): Promise<MembershipRecord> {
    await this.requireStore(identityStoreId);
    const membership = await this.read.findMembership(identityStoreId, membershipId);
    if (!membership) throw membershipNotFound(membershipId);
    return membership;
  }

  async deleteGroupMembership(ctx: RequestContext, identityStoreId: string, membershipId: string): Promise<void> {
    await audited(this.deps, ctx, { eventName: 'DeleteGroupMembership', requestParameters: { identityStoreId, membershipId } }, async (s) => {
      await this.requireStore(identityStoreId);
      const membership = await s.directory.findMembership(identityStoreId, membershipId);
      if (!membership) throw membershipNotFound(membershipId);
      const departure = { identityStoreId, groupId: membership.groupId, userIds: [membership.userId] };
      await this.deps.revocation.revokeGroupGrants(ctx, departure, 'DeleteGroupMembership', async () => {
        if (!(await s.directory.deleteMembership(identityStoreId, membershipId))) throw membershipNotFound(membershipId);
      });
    });
  }

  async listGroupMemberships(identityStoreId: string, groupId: string, q: ListQuery): Promise<Page<MembershipRecord>> {
    await this.requireStore(identityStoreId);
    const k = keysetOf(q);
    const rows = await this.read.listMembershipsOfGroup(identityStoreId, groupId, { after: k.after, limit: k.limit + 1 });
    await this.requireNonEmptyOrExisting(rows, k, identityStoreId, 'GROUP', groupId);
    return pageAfter(rows, k, (m) => m.userId);
  }

  async listGroupMembershipsForMember(identityStoreId: string, userId: string, q: ListQuery): Promise<Page<MembershipRecord>> {
    await this.requireStore(identityStoreId);
    const k = keysetOf(q);
    const rows = await this.read.listMembershipsOfUser(identityStoreId, userId, { after: k.after, limit: k.limit + 1 });
    await this.requireNonEmptyOrExisting(rows, k, identityStoreId, 'USER', userId);
    return pageAfter(rows, k, (m) => m.groupId);
  }

  /** An empty first page is the only case that needs a look at whether the principal exists. */
  private async requireNonEmptyOrExisting(rows: unknown[], k: KeysetQuery, identityStoreId: string, type: PrincipalType, id: string) {
    if (rows.length === 0 && k.after === undefined && !(await this.read.principalExists(identityStoreId, type, id))) {
      throw principalNotFound(type, id);
    }
  }

  async getGroupMembershipId(identityStoreId: string, groupId: string, userId: string): Promise<string> {
    await this.requireStore(identityStoreId);
    const membershipId = await this.read.findMembershipId(identityStoreId, groupId, userId);
    if (!membershipId) {
      throw notFound('directory.membership_not_found', `User ${userId} is not a member of group ${groupId}.`, { resourceType: 'GROUP_MEMBERSHIP' });
    }
    return membershipId;
  }

  /** Direct membership only, as AWS answers (its groups hold no groups). */
  async isMemberInGroups(identityStoreId: string, userId: string, groupIds: readonly string[]): Promise<MembershipCheck[]> {
    await this.requireStore(identityStoreId);
    const found = new Set(await this.read.groupsContaining(identityStoreId, userId, [...new Set(groupIds)]));
    if (found.size === 0 && !(await this.read.principalExists(identityStoreId, 'USER', userId))) throw userNotFound(userId);
    return groupIds.map((groupId) => ({ groupId, userId, membershipExists: found.has(groupId) }));
  }

  // ---- for other modules ----

  /** Whether the user exists and is enabled: access/ gives anyone else no accounts and no roles. */
  async isUserEnabled(identityStoreId: string, userId: string): Promise<boolean> {
    return (await this.read.findUserSummary(identityStoreId, { userId }))?.status === 'ENABLED';
  }

  /** A user's id, name and status, in one read; undefined when there is none. */
  findUserById(identityStoreId: string, userId: string): Promise<UserSummary | undefined> {
    return this.read.findUserSummary(identityStoreId, { userId });
  }

  /** The user a sign-in names, in one read; undefined when there is none. */
  findUserByName(identityStoreId: string, userName: string): Promise<UserSummary | undefined> {
    return this.read.findUserSummary(identityStoreId, { userName });
  }

  /** Used by access/ to check an assignment's principal. */
  principalExists(identityStoreId: string, type: PrincipalType, id: string): Promise<boolean> {
    return this.read.principalExists(identityStoreId, type, id);
  }

  /** The groups a user belongs to, flattened: theirs and every group those are in (access/ resolves assignments made to groups). */
  listGroupIdsForUser(identityStoreId: string, userId: string): Promise<string[]> {
    return this.read.groupIdsOfUser(identityStoreId, userId);
  }
}

const sameExternalIds = (a: readonly ExternalId[], b: readonly ExternalId[]) =>
  a.length === b.length && a.every((e) => b.some((f) => f.issuer === e.issuer && f.id === e.id));

function withExtensions(user: UserRecord, names: readonly string[]): UserRecord {
  const picked = names.filter((n) => user.extensions?.[n] !== undefined).map((n) => [n, user.extensions?.[n]]);
  return { ...user, extensions: picked.length > 0 ? (Object.fromEntries(picked) as UserRecord['extensions']) : undefined };
}
