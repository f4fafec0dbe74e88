// directory/: users, groups and memberships.
export { DirectoryService, type DirectoryStores } from './directory-service.js';
export type { DirectoryStore } from './directory-store.js';
