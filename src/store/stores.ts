// Every store port, implemented over one Kysely executor; and the transactor that binds them all
// to one transaction. The registry hands these to the domain services.

import type { Kysely } from 'kysely';
import { IdleOffStorage } from '../shared/idle-off-storage.js';
import type { Transactor } from '../shared/transactor.js';
import { unavailable } from '../shared/errors.js';
import { controlRunnerOf, deferredSyncOf, isBusy, statementRunnerOf, writeGateOf, type Database, type Db, type Dialect } from './database.js';
import type { BusyReport } from './busy-report.js';
import { GroupCommitter } from './group-commit.js';
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
import { SqlAuthStore } from './sql/auth-store.js';
import { SqlOidcStore } from './sql/oidc-store.js';
import { SqlRevocationStore } from './sql/revocation-store.js';
import { SqlScimTokenStore } from './sql/scim-token-store.js';
import { SqlSamlStore } from './sql/saml-store.js';
import { SqlAuditChainStore } from './sql/audit-chain-store.js';
import { SqlMfaStore } from './sql/mfa-store.js';
import { SqlCustomerPolicyStore } from './sql/policy-store.js';
import { SqlConsoleAdminStore } from './sql/console-admin-store.js';
import { SqlHousekeepingStore } from './sql/housekeeping-store.js';

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
  revocation: SqlRevocationStore;
  auth: SqlAuthStore;
  oidc: SqlOidcStore;
  scimTokens: SqlScimTokenStore;
  saml: SqlSamlStore;
  auditChain: SqlAuditChainStore;
  mfa: SqlMfaStore;
  customerPolicies: SqlCustomerPolicyStore;
  consoleAdmins: SqlConsoleAdminStore;
  housekeeping: SqlHousekeepingStore;
}

export function storesFor(db: Kysely<Database>, dialect: Dialect): Stores {
  return {
    instance: new SqlInstanceStore(db, dialect),
    dataKeys: new SqlDataKeyStore(db),
    credentials: new SqlCredentialStore(db),
    audit: new SqlAuditStore(db),
    jobs: new SqlJobStore(db, dialect),
    tags: new SqlTagStore(db, dialect),
    directory: new SqlDirectoryStore(db, dialect),
    organization: new SqlOrganizationStore(db, dialect),
    access: new SqlAccessStore(db, dialect),
    revocation: new SqlRevocationStore(db, dialect),
    auth: new SqlAuthStore(db, dialect),
    oidc: new SqlOidcStore(db, dialect),
    scimTokens: new SqlScimTokenStore(db, dialect),
    saml: new SqlSamlStore(db),
    auditChain: new SqlAuditChainStore(db),
    mfa: new SqlMfaStore(db),
    customerPolicies: new SqlCustomerPolicyStore(db),
    consoleAdmins: new SqlConsoleAdminStore(db),
    housekeeping: new SqlHousekeepingStore(db),
  };
}

/**
 * The transaction the current async call chain runs in, if any, and what waits for its commit.
 * Enabled only while a unit of work runs (IdleOffStorage), so that requests that only read, like
 * GetRoleCredentials' look-ups, do not pay Node's promise hooks whenever nothing is being written.
 */
const currentTransaction = new IdleOffStorage<{ trx: Kysely<Database>; afterCommit: (() => void)[] }>();

/**
 * A Db that runs on the current transaction when there is one. Read stores are built on it, so a
 * read made inside a transaction sees its writes, and, on SQLite's single connection, cannot
 * deadlock waiting for the connection that the transaction holds.
 */
export function contextualDb(db: Db): Db {
  return new Proxy(db, {
    get(target, prop) {
      const active = currentTransaction.getStore()?.trx ?? target;
      const value: unknown = Reflect.get(active, prop, active);
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(active) : value;
    },
  });
}

export class SqlTransactor implements Transactor<Stores> {
  private readonly group?: GroupCommitter<Database>;
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
    /** Told of every write refused because the database was busy (busy-report.ts). */
    private readonly onBusy: BusyReport = () => undefined,
  ) {
    if (dialect === 'sqlite') this.group = new GroupCommitter(db, controlRunnerOf(db), deferredSyncOf(db), statementRunnerOf(db), writeGateOf(db));
  }
  async transaction<T>(fn: (stores: Stores) => Promise<T>): Promise<T> {
    // A transaction started inside another joins it: one unit of work, one commit.
    const outer = currentTransaction.getStore();
    if (outer) return this.joined(fn, outer.trx);
    const afterCommit: (() => void)[] = [];
    const unit = (trx: Kysely<Database>) => currentTransaction.run({ trx, afterCommit }, () => fn(storesFor(trx, this.dialect)));
    const committed = () => {
      for (const f of afterCommit) f();
    };
    let result: T;
    try {
      // Group commit runs the hooks right after its COMMIT, before the WAL sync: a reader can see
      // the writes from then on, so what the hooks keep in memory must not lag behind.
      result = await (this.group ? this.group.run(unit, committed) : this.db.transaction().execute(unit));
    } catch (err) {
      // Rolled back whole. A busy database is the caller's to retry (a 503 with Retry-After), not a fault.
      throw this.busyAsUnavailable(err);
    }
    if (!this.group) committed();
    return result;
  }

  /**
   * A part of the outer unit of work. A busy refusal met here (a deadlock victim, a lock timeout) is
   * already the retryable error, so that code between the two transactions (oidc-provider, whose
   * adapter joins the token request's transaction) sees it as such and not as a fault of its own.
   */
  private async joined<T>(fn: (stores: Stores) => Promise<T>, trx: Kysely<Database>): Promise<T> {
    try {
      return await fn(storesFor(trx, this.dialect));
    } catch (err) {
      throw this.busyAsUnavailable(err);
    }
  }

  private busyAsUnavailable(err: unknown): unknown {
    if (!isBusy(err)) return err;
    this.onBusy(String((err as { code: unknown }).code));
    return unavailable('store.busy', 'The service is busy. Retry the request.');
  }

  afterCommit(fn: () => void): void {
    const current = currentTransaction.getStore();
    if (current) current.afterCommit.push(fn);
    else fn();
  }
}
