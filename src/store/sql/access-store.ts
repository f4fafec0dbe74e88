// SQL implementation of the access module's store port.

import type { AccessStore } from '../../access/index.js';
import type { Db, Dialect } from '../database.js';

export class SqlAccessStore implements AccessStore {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}
}
