// access/: permission sets, account assignments, provisioning.
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
  PrincipalType,
  ProvisioningStatus,
  RequestKind,
  RequestStatus,
  Slice,
} from './access-store.js';
export type { AccountAssignmentInput, ProvisionInput } from './assignment-service.js';
export type { CreatePermissionSetInput, PermissionSetTarget, UpdatePermissionSetInput } from './permission-set-service.js';
