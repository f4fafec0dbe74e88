// organization/: the organization, its OUs and accounts.
export { OrganizationService, type OrganizationStores, type OrganizationSummary } from './organization-service.js';
export type { OrganizationStore } from './organization-store.js';
