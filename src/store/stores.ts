// Every store port, implemented over one Kysely executor; and the transactor that binds them all
// to one transaction. The registry hands these to the domain services.

import type { Kysely } from 'kysely';
import type { Transactor } from '../shared/transactor.js';
import type { Database, Db, Dialect } from './database.js';
import {
  SqlAuditStore,
  SqlCredentialStore,
  SqlDataKeyStore,
  SqlInstanceStore,
  SqlJobStore,
  SqlTagStore,
} from './sql/core-stores.js';
import { SqlDirectoryStore } from './sql/directory-store.js';
import { SqlOrganizationStore } from './sql/organization-store.js';
import { SqlAccessStore } from './sql/access-store.js';

export interface Stores {
  instance: SqlInstanceStore;
  dataKeys: SqlDataKeyStore;
  credentials: SqlCredentialStore;
  audit: SqlAuditStore;
  jobs: SqlJobStore;
  tags: SqlTagStore;
  directory: SqlDirectoryStore;
  organization: SqlOrganizationStore;
  access: SqlAccessStore;
}

export function storesFor(db: Kysely<Database>, dialect: Dialect): Stores {
  return {
    instance: new SqlInstanceStore(db),
    dataKeys: new SqlDataKeyStore(db),
    credentials: new SqlCredentialStore(db),
    audit: new SqlAuditStore(db),
    jobs: new SqlJobStore(db, dialect),
    tags: new SqlTagStore(db, dialect),
    directory: new SqlDirectoryStore(db, dialect),
    organization: new SqlOrganizationStore(db, dialect),
    access: new SqlAccessStore(db, dialect),
  };
}

export class SqlTransactor implements Transactor<Stores> {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}
  transaction<T>(fn: (stores: Stores) => Promise<T>): Promise<T> {
    return this.db.transaction().execute((trx) => fn(storesFor(trx, this.dialect)));
  }
}
