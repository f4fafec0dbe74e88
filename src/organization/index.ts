// organization/: the organization, its OUs and accounts.
export {
  OrganizationService,
  type Account,
  type ChildType,
  type CreateAccountInput,
  type Organization,
  type OrganizationalUnit,
  type OrganizationStores,
  type OrganizationSummary,
  type PageRequest,
  type Root,
  type TreeNode,
} from './organization-service.js';
export type { ParentType } from './organization-rules.js';
export type {
  AccountRecord,
  CreateAccountOutcome,
  CreateAccountRequestRecord,
  ListRange,
  OrganizationalUnitRecord,
  OrganizationRecord,
  OrganizationStore,
} from './organization-store.js';
