// SQL implementation of the directory module's store port.

import type { DirectoryStore } from '../../directory/index.js';
import type { Db, Dialect } from '../database.js';

export class SqlDirectoryStore implements DirectoryStore {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}
}
