// access/: permission sets, account assignments, provisioning.
export { AccessService, type AccessStores, type AccountDirectory, type PrincipalDirectory } from './access-service.js';
export type { AccessStore } from './access-store.js';
