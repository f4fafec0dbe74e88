// SQL implementation of the auth module's store port (passwords, portal sessions).

import type { AuthStore } from '../../auth/index.js';
import type { Db, Dialect } from '../database.js';

export class SqlAuthStore implements AuthStore {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}
}
