// SQL implementation of the credentials module's revocation port.

import type { RevocationStore } from '../../credentials/index.js';
import type { Db, Dialect } from '../database.js';

export class SqlRevocationStore implements RevocationStore {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}
}
