// Sign-in: passwords (argon2id, policy, history) and portal sessions.

import type { AuditStore } from '../audit/index.js';
import type { RevocationService } from '../credentials/index.js';
import type { DirectoryService } from '../directory/index.js';
import type { InstanceService } from '../instance/index.js';
import type { ServiceDeps } from '../shared/service-deps.js';
import type { AuthStore } from './auth-store.js';

export type AuthStores = { auth: AuthStore; audit: AuditStore };

export class AuthService {
  constructor(
    private readonly deps: ServiceDeps<AuthStores> & { instance: InstanceService; directory: DirectoryService; revocation: RevocationService },
  ) {}
}
