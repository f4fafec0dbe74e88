// The port the directory module needs from the store, and the records it stores.
// Every read and write of user attributes goes through here: the one place to seal them later.

/** An identifier issued by an external identity provider (set by SCIM provisioning). */
export interface ExternalId {
  issuer: string;
  id: string;
}

export interface NameAttributes {
  formatted?: string;
  familyName?: string;
  givenName?: string;
  middleName?: string;
  honorificPrefix?: string;
  honorificSuffix?: string;
}

export interface MultiValue {
  value?: string;
  type?: string;
  primary?: boolean;
}

export interface Address {
  streetAddress?: string;
  locality?: string;
  region?: string;
  postalCode?: string;
  country?: string;
  formatted?: string;
  type?: string;
  primary?: boolean;
}

export interface Photo extends MultiValue {
  display?: string;
}

/** A user's attributes, named by the paths UpdateUser uses (AWS's camelCase, SCIM's names). */
export interface UserProfile {
  userName: string;
  name?: NameAttributes;
  displayName?: string;
  nickName?: string;
  profileUrl?: string;
  emails?: MultiValue[];
  addresses?: Address[];
  phoneNumbers?: MultiValue[];
  userType?: string;
  title?: string;
  preferredLanguage?: string;
  locale?: string;
  timezone?: string;
  photos?: Photo[];
  website?: string;
  birthdate?: string;
  roles?: MultiValue[];
}

/** Extension name → its document; `aws:identitystore:enterprise` is the only one. */
export type UserExtensions = Record<string, Record<string, unknown>>;

export type UserStatus = 'ENABLED' | 'DISABLED';

/** Who changed a resource and when. */
export interface Stamp {
  at: number;
  by: string;
}

export interface UserRecord {
  identityStoreId: string;
  userId: string;
  profile: UserProfile;
  extensions?: UserExtensions;
  status: UserStatus;
  externalIds: ExternalId[];
  created: Stamp;
  updated: Stamp;
  version: number;
}

/** What sign-in and access checks need of a user: one indexed read, no profile, no external ids. */
export interface UserSummary {
  identityStoreId: string;
  userId: string;
  userName: string;
  status: UserStatus;
}

export interface GroupProfile {
  displayName: string;
  description?: string;
}

export interface GroupRecord {
  identityStoreId: string;
  groupId: string;
  profile: GroupProfile;
  externalIds: ExternalId[];
  created: Stamp;
  updated: Stamp;
  version: number;
}

export interface MembershipRecord {
  identityStoreId: string;
  membershipId: string;
  groupId: string;
  userId: string;
  created: Stamp;
}

export type PrincipalType = 'USER' | 'GROUP';

/** A group that is a member of another group (a nested group). identitystore never shows it. */
export interface GroupNestingRecord {
  identityStoreId: string;
  membershipId: string;
  /** The group that contains. */
  groupId: string;
  /** The group contained. */
  memberGroupId: string;
  created: Stamp;
}

/**
 * A direct member of a group as SCIM lists it: a user or a group, the membership, and the member's
 * display name.
 */
export interface GroupMember {
  type: PrincipalType;
  memberId: string;
  membershipId: string;
  displayName?: string;
}

/** Keyset position: rows after `after` (exclusive), at most `limit`. */
export interface KeysetQuery {
  after?: string;
  limit: number;
}

export interface DirectoryStore {
  /** Throws the directory's already_exists error when the UserName or an external id is taken. */
  insertUser(user: UserRecord): Promise<void>;
  findUser(identityStoreId: string, userId: string): Promise<UserRecord | undefined>;
  /** Writes profile, extensions and the updated stamp if the stored version is still `version - 1`. */
  updateUser(user: UserRecord): Promise<boolean>;
  /** Deletes the user, its memberships and its external ids. */
  deleteUser(identityStoreId: string, userId: string): Promise<boolean>;
  /** Ordered by user id; `userName` matches case-insensitively. */
  listUsers(identityStoreId: string, q: KeysetQuery & { userName?: string }): Promise<UserRecord[]>;
  /** Ordered by user id, skipping `offset` users: SCIM pages by position (startIndex). */
  listUsersAt(identityStoreId: string, q: { offset: number; limit: number }): Promise<UserRecord[]>;
  countUsers(identityStoreId: string): Promise<number>;
  countGroups(identityStoreId: string): Promise<number>;
  /** Replaces the resource's external ids; throws the directory's already_exists error when one is taken. */
  replaceExternalIds(identityStoreId: string, type: PrincipalType, resourceId: string, externalIds: ExternalId[]): Promise<void>;
  findUserIdByUserName(identityStoreId: string, userName: string): Promise<string | undefined>;
  findUserSummary(identityStoreId: string, by: { userId: string } | { userName: string }): Promise<UserSummary | undefined>;
  /** Users whose primary email is `email` (emails are not unique), oldest first, at most `limit`. */
  findUserIdsByEmail(identityStoreId: string, email: string, limit: number): Promise<string[]>;

  /** Throws the directory's already_exists error when the display name or an external id is taken. */
  insertGroup(group: GroupRecord): Promise<void>;
  findGroup(identityStoreId: string, groupId: string): Promise<GroupRecord | undefined>;
  /** findGroup that also holds the group's row until the transaction ends (PostgreSQL; SQLite has one writer). */
  lockGroup(identityStoreId: string, groupId: string): Promise<GroupRecord | undefined>;
  updateGroup(group: GroupRecord): Promise<boolean>;
  deleteGroup(identityStoreId: string, groupId: string): Promise<boolean>;
  /** Ordered by group id; `displayName` matches case-insensitively. */
  listGroups(identityStoreId: string, q: KeysetQuery & { displayName?: string }): Promise<GroupRecord[]>;
  findGroupIdByDisplayName(identityStoreId: string, displayName: string): Promise<string | undefined>;

  findIdByExternalId(identityStoreId: string, type: PrincipalType, externalId: ExternalId): Promise<string | undefined>;
  principalExists(identityStoreId: string, type: PrincipalType, id: string): Promise<boolean>;

  /** Throws not_found for a missing group or user and already_exists for a duplicate. */
  insertMembership(membership: MembershipRecord): Promise<void>;
  findMembership(identityStoreId: string, membershipId: string): Promise<MembershipRecord | undefined>;
  findMembershipId(identityStoreId: string, groupId: string, userId: string): Promise<string | undefined>;
  deleteMembership(identityStoreId: string, membershipId: string): Promise<boolean>;
  /** A group's memberships ordered by user id. */
  listMembershipsOfGroup(identityStoreId: string, groupId: string, q: KeysetQuery): Promise<MembershipRecord[]>;
  /** A user's memberships ordered by group id. */
  listMembershipsOfUser(identityStoreId: string, userId: string, q: KeysetQuery): Promise<MembershipRecord[]>;
  /** Which of `groupIds` the user is a direct member of (identitystore's IsMemberInGroups). */
  groupsContaining(identityStoreId: string, userId: string, groupIds: string[]): Promise<string[]>;
  /** The flattened groups of a user: those they are a member of and every group those are in, in one query. */
  groupIdsOfUser(identityStoreId: string, userId: string): Promise<string[]>;
  /** groupIdsOfUser for many users at once: user id → their flattened groups (none: absent). */
  groupIdsOfUsers(identityStoreId: string, userIds: readonly string[]): Promise<Map<string, string[]>>;

  /** A group's user members ordered by user id, with their display names: one query per page. */
  listMembersOfGroup(identityStoreId: string, groupId: string, q: KeysetQuery): Promise<GroupMember[]>;
  /** A group's group members ordered by group id, with their display names: one query per page. */
  listGroupMembersOfGroup(identityStoreId: string, groupId: string, q: KeysetQuery): Promise<GroupMember[]>;
  /** Which of `memberIds` (users or groups) are direct members of the group. */
  findMembersOfGroup(identityStoreId: string, groupId: string, memberIds: readonly string[]): Promise<GroupMember[]>;
  /** Which of `userIds` are users of the identity store. */
  findExistingUserIds(identityStoreId: string, userIds: readonly string[]): Promise<string[]>;
  /** Which of `groupIds` are groups of the identity store. */
  findExistingGroupIds(identityStoreId: string, groupIds: readonly string[]): Promise<string[]>;
  /** Many memberships of one group at once; errors as insertMembership's. */
  insertMemberships(memberships: readonly MembershipRecord[]): Promise<void>;
  /** Deletes these memberships; returns how many there were. */
  deleteMemberships(identityStoreId: string, membershipIds: readonly string[]): Promise<number>;

  /**
   * Held until the transaction ends by whoever adds groups to groups in the identity store, so that
   * two concurrent additions cannot close a cycle each check alone (PostgreSQL; SQLite has one writer).
   */
  lockGroupNesting(identityStoreId: string): Promise<void>;
  /** Which of `candidateIds` are the group itself or a group it is in, directly or not: adding one as a member would close a cycle. */
  selfOrAncestorsAmong(identityStoreId: string, groupId: string, candidateIds: readonly string[]): Promise<string[]>;
  /** Every group the group is in, directly or not (not the group itself). */
  ancestorGroupIds(identityStoreId: string, groupId: string): Promise<string[]>;
  /** Every user below these groups: their members and the members of every group inside them. */
  userIdsBelow(identityStoreId: string, groupIds: readonly string[]): Promise<string[]>;
  /** Many groups made members of one group at once; throws the directory's already_exists error for a duplicate. */
  insertGroupNestings(nestings: readonly GroupNestingRecord[]): Promise<void>;
  /** Deletes these group memberships of groups; returns how many there were. */
  deleteGroupNestings(identityStoreId: string, membershipIds: readonly string[]): Promise<number>;
}
