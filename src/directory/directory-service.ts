// Users, groups and memberships of the identity store, with AWS identitystore's rules.
// One domain for every surface: the identitystore API, SCIM and the portal all come through here.

import type { AuditStore } from '../audit/index.js';
import type { InstanceService } from '../instance/index.js';
import type { ServiceDeps } from '../shared/service-deps.js';
import type { DirectoryStore } from './directory-store.js';

export type DirectoryStores = { directory: DirectoryStore; audit: AuditStore };

export class DirectoryService {
  constructor(private readonly deps: ServiceDeps<DirectoryStores> & { instance: InstanceService }) {}

  /** Used by access/ to check an assignment's principal. */
  async principalExists(_identityStoreId: string, _type: 'USER' | 'GROUP', _id: string): Promise<boolean> {
    await Promise.resolve(this.deps);
    return false;
  }
}
