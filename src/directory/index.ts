// directory/: users, groups and memberships.
export {
  DirectoryService,
  type AlternateIdentifier,
  type AttributeFilter,
  type DirectoryStores,
  type GroupReplacement,
  type ListQuery,
  type MembershipCheck,
  type MemberTypes,
  type NewGroup,
  type NewUser,
  type UserReplacement,
  type UserSessions,
} from './directory-service.js';
export {
  EXTENSION_NAMES,
  EXTERNAL_ID_PATTERN,
  GROUP_NAME_PATTERN,
  ISSUER_PATTERN,
  MAX_MULTI_VALUES,
  MAX_PHOTOS,
  TEXT_PATTERN,
  USER_NAME_PATTERN,
  primaryEmail,
  uniqueKeyOf,
  type AttributeOperation,
} from './attributes.js';
export * as directoryErrors from './directory-errors.js';
export type * from './directory-store.js';
