// Tables owned by the directory domain module: users, groups, memberships (users, and groups in
// groups) and external ids. Personal data lives in text columns; *_key columns are hashed lookup keys.

export interface DirectoryUsersTable {
  identity_store_id: string;
  user_id: string;
  user_name: string;
  /** Hash of the case-folded UserName: the unique index that makes names case-insensitive. */
  user_name_key: string;
  /** Hash of the case-folded primary email, for GetUserId by emails.value. */
  email_key: string | null;
  /** JSON: every attribute but UserName. */
  profile: string;
  /** JSON: extension name → document, or null. */
  extensions: string | null;
  status: string;
  /** Bumped by every update; guards read-modify-write against lost updates. */
  version: number;
  created_at: number;
  created_by: string;
  updated_at: number;
  updated_by: string;
}

export interface DirectoryGroupsTable {
  identity_store_id: string;
  group_id: string;
  display_name: string;
  /** Hash of the case-folded display name (unique). */
  display_name_key: string;
  description: string | null;
  version: number;
  created_at: number;
  created_by: string;
  updated_at: number;
  updated_by: string;
}

export interface DirectoryMembershipsTable {
  identity_store_id: string;
  membership_id: string;
  group_id: string;
  user_id: string;
  created_at: number;
  created_by: string;
}

/** A group that is a member of another group: one edge of the nesting, never a cycle. */
export interface DirectoryGroupMembersTable {
  identity_store_id: string;
  membership_id: string;
  /** The group that contains. */
  group_id: string;
  /** The group contained. */
  member_group_id: string;
  created_at: number;
  created_by: string;
}

export interface DirectoryExternalIdsTable {
  identity_store_id: string;
  /** USER or GROUP */
  resource_type: string;
  issuer: string;
  external_id: string;
  resource_id: string;
}

export interface DirectoryTables {
  directory_users: DirectoryUsersTable;
  directory_groups: DirectoryGroupsTable;
  directory_memberships: DirectoryMembershipsTable;
  directory_group_members: DirectoryGroupMembersTable;
  directory_external_ids: DirectoryExternalIdsTable;
}
