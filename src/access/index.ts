// access/: permission sets, account assignments, provisioning, and what a user reaches through the portal.
export type { AccessDeps, AccessStores, AccountDirectory, PrincipalDirectory } from './access-deps.js';
export { AccessService, type AccessControlAttributeConfiguration } from './access-service.js';
export type {
  AccessControlAttribute,
  AccessRequestRecord,
  AccessStore,
  AccountAssignmentRecord,
  AttachedPolicy,
  CustomerManagedPolicyReference,
  PermissionSetChange,
  PermissionSetRecord,
  PermissionsBoundary,
  PortalRoleRecord,
  PrincipalSet,
  PrincipalType,
  ProvisioningStatus,
  RequestKind,
  RequestStatus,
  Slice,
} from './access-store.js';
export type { AccountAssignmentInput, ProvisionInput } from './assignment-service.js';
export { PortalAccess, type PortalAccount, type PortalRole } from './portal-access.js';
export type { CreatePermissionSetInput, PermissionSetTarget, UpdatePermissionSetInput } from './permission-set-service.js';
