// The directory's domain errors, shared by the service and the store that detects conflicts.
// Messages are safe for clients: they name ids, never attribute values.

import { alreadyExists, failedPrecondition, invalidArgument, notFound } from '../shared/errors.js';
import type { PrincipalType } from './directory-store.js';

export const userNotFound = (userId: string) =>
  notFound('directory.user_not_found', `User ${userId} does not exist.`, { resourceType: 'USER', resourceId: userId });
export const groupNotFound = (groupId: string) =>
  notFound('directory.group_not_found', `Group ${groupId} does not exist.`, { resourceType: 'GROUP', resourceId: groupId });
export const someUserNotFound = () => notFound('directory.user_not_found', 'A user of the request does not exist.', { resourceType: 'USER' });
export const someGroupNotFound = () => notFound('directory.group_not_found', 'A group of the request does not exist.', { resourceType: 'GROUP' });
const listed = (ids: readonly string[]) => `${ids.slice(0, 5).join(', ')}${ids.length > 5 ? ` (and ${ids.length - 5} more)` : ''}`;
/** Members that are neither users nor groups of the identity store: the request is refused before anything is written. */
export const unknownMembers = (ids: readonly string[]) =>
  invalidArgument('directory.unknown_members', `No user or group ${listed(ids)} exists in the identity store.`);
/** A member named as a user that is a group, or as a group that is a user. */
export const memberTypeMismatch = (id: string, declared: PrincipalType) =>
  invalidArgument('directory.member_type_mismatch', `${id} is not a ${declared === 'USER' ? 'user' : 'group'} of the identity store.`);
/** A group made a member of itself, or of a group inside it: access is worked out on a tree-like membership. */
export const groupCycle = (groupId: string, memberGroupIds: readonly string[]) =>
  invalidArgument(
    'directory.group_cycle',
    memberGroupIds.includes(groupId)
      ? `Group ${groupId} cannot be a member of itself.`
      : `Group ${listed(memberGroupIds)} cannot be a member of group ${groupId}: ${groupId} is already inside it, so the membership would make a cycle.`,
  );
export const principalNotFound = (type: PrincipalType, id: string) => (type === 'USER' ? userNotFound(id) : groupNotFound(id));
export const membershipNotFound = (membershipId: string) =>
  notFound('directory.membership_not_found', `Group membership ${membershipId} does not exist.`, {
    resourceType: 'GROUP_MEMBERSHIP',
    resourceId: membershipId,
  });

export const userNameTaken = () => alreadyExists('directory.user_name_taken', 'A user with this UserName already exists in the identity store.');
export const groupNameTaken = () =>
  alreadyExists('directory.group_name_taken', 'A group with this DisplayName already exists in the identity store.');
export const externalIdTaken = () => alreadyExists('directory.external_id_taken', 'The external id is already assigned in the identity store.');
export const membershipExists = () => alreadyExists('directory.membership_exists', 'The user is already a member of the group.');
export const concurrentModification = () =>
  failedPrecondition('directory.concurrent_modification', 'The resource was modified by another request; retry.', {
    reason: 'CONCURRENT_MODIFICATION',
  });

/** A conditional change (SCIM's If-Match) named a version the resource no longer has. */
export const versionMismatch = (resourceId: string) =>
  failedPrecondition('directory.version_mismatch', `Resource ${resourceId} has changed: its version does not match.`, { reason: 'VERSION_MISMATCH' });

export const invalidAttribute = (message: string) => invalidArgument('directory.invalid_attribute', message);
