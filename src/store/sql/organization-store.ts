// SQL implementation of the organization module's store port.

import type { OrganizationStore } from '../../organization/index.js';
import type { Db, Dialect } from '../database.js';

export class SqlOrganizationStore implements OrganizationStore {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}
}
