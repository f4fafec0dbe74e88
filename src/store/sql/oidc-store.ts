// SQL implementation of the OAuth/OIDC store port (clients, grants, codes, tokens).

import type { OidcStore } from '../../protocols/oidc/oidc-store.js';
import type { Db, Dialect } from '../database.js';

export class SqlOidcStore implements OidcStore {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}
}
