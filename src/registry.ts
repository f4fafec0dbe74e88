// The composition root: the only place that picks concrete implementations and wires them together.

import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import { AccessService } from './access/index.js';
import { AuditService, AuditTrail, DEFAULT_TRAIL_OPTIONS } from './audit/index.js';
import { AuditStreams } from './audit/sinks/index.js';
import { AuthService, MfaService } from './auth/index.js';
import { keyFileOf, sqliteFileOf, type Config } from './config/config.js';
import { CredentialService, RevocationService, TemporaryCredentialService, rolePrincipalIdOf } from './credentials/index.js';
import { Envelope, LocalKeyProvider, type KeyProvider } from './crypto/index.js';
import { DirectoryService, type UserSessions } from './directory/index.js';
import { FederationService } from './federation/index.js';
import { ConsoleAdminService, InstanceService } from './instance/index.js';
import { OrganizationService } from './organization/index.js';
import { CustomerPolicyService, PolicyService, sessionTagsFor } from './policy/index.js';
import { ScimTokenService, scimTokenStands } from './provisioning/index.js';
import { systemClock, type Clock } from './shared/clock.js';
import { cryptoIds, type IdGenerator } from './shared/ids.js';
import { Housekeeping } from './shared/housekeeping.js';
import { JobWorker } from './shared/jobs.js';
import { createLogger, type Logger } from './shared/logger.js';
import { openDatabase, type OpenedDatabase, type WriteHome } from './store/database.js';
import { migrateToLatest } from './store/migrations/index.js';
import { SqlAuditSinkStore } from './store/sql/audit-sink-store.js';
import { SqlTransactor, contextualDb, storesFor, type Stores } from './store/stores.js';
import { busyReporter } from './store/busy-report.js';
import { startSealerThread, type SealerThread } from './sealer-thread.js';

/** How often each serving process sweeps; the sweep is idempotent, so several processes may. */
const HOUSEKEEPING_INTERVAL_MS = 10 * 60_000;

export interface Registry {
  config: Config;
  log: Logger;
  clock: Clock;
  ids: IdGenerator;
  database: OpenedDatabase;
  read: Stores;
  /** The unit of work, for services built inside protocol plugins. */
  tx: SqlTransactor;
  envelope: Envelope;
  jobs: JobWorker;
  audit: AuditService;
  /** The hash chain over the audit log: sealer, verify, export, LookupEvents, retention. */
  auditTrail: AuditTrail;
  /** The configured audit sinks and alert rules, each following the sealed chain. */
  auditStreams: AuditStreams;
  instance: InstanceService;
  /** Who may use the admin console, and with which policy. */
  consoleAdmins: ConsoleAdminService;
  credentials: CredentialService;
  revocation: RevocationService;
  temporaryCredentials: TemporaryCredentialService;
  auth: AuthService;
  /** MFA devices (TOTP, WebAuthn) and their proofs. */
  mfa: MfaService;
  directory: DirectoryService;
  organization: OrganizationService;
  access: AccessService;
  /** The IAM policy engine: effective policies, simulation, authorization. */
  policy: PolicyService;
  /** Customer-managed policies per account (the IAM subset). */
  customerPolicies: CustomerPolicyService;
  scimTokens: ScimTokenService;
  federation: FederationService;
  /** The background sweep of rows nobody can use any more (stale throttle rows, expired sessions, finished jobs). */
  housekeeping: Housekeeping;
  newRequestId: () => string;
  /**
   * Start the background work (job worker, housekeeping, revocation sync, audit sealer, sinks):
   * what `startJobs` does at creation, for a caller that must initialise the instance first. Once.
   */
  startBackground(): void;
  close(): Promise<void>;
}

export interface RegistryOptions {
  clock?: Clock;
  ids?: IdGenerator;
  log?: Logger;
  keyProvider?: KeyProvider;
  /** Start the background job worker and the audit sealer (serve does; one-shot CLI commands do not). */
  startJobs?: boolean;
  /** With startJobs or startBackground(): seal the audit log on a worker thread of its own (serve does, unless configured off). */
  sealerThread?: boolean;
  /** The SQLite file this registry's transactions lock first: the audit sealer thread's is the audit file (database.ts). */
  writeHome?: WriteHome;
}

export async function createRegistry(config: Config, opts: RegistryOptions = {}): Promise<Registry> {
  const clock = opts.clock ?? systemClock;
  const ids = opts.ids ?? cryptoIds;
  const log = opts.log ?? createLogger(config.logLevel);
  const database = openDatabase({ databaseUrl: config.databaseUrl, sqliteFile: sqliteFileOf(config), ...(opts.writeHome ? { writeHome: opts.writeHome } : {}) });
  try {
    await migrateToLatest(database.db as never, database.dialect);
  } catch (err) {
    await database.close();
    throw err;
  }
  const read = storesFor(contextualDb(database.db), database.dialect);
  const tx = new SqlTransactor(database.db, database.dialect, busyReporter(log));
  let envelope: Envelope;
  let sealedBefore: boolean;
  try {
    // A new key file is made only for a database that has sealed nothing yet: a missing key for a
    // database that has is an error to fix, not a reason to start over with another key.
    sealedBefore = (await read.dataKeys.newestDataKey()) !== undefined;
    const keyFile = keyFileOf(config);
    if (!opts.keyProvider && sealedBefore && !existsSync(keyFile)) {
      throw new Error(`the key file ${keyFile} is missing, but this database holds secrets sealed under it: restore it, or point ATRIUM_KEY_FILE at it`);
    }
    const keyProvider = opts.keyProvider ?? LocalKeyProvider.fromFile(keyFile, !sealedBefore);
    envelope = new Envelope(keyProvider, read.dataKeys, () => clock.now());
    await envelope.check();
  } catch (err) {
    await database.close();
    throw err;
  }
  const jobs = new JobWorker({ jobs: read.jobs, clock, ids, log }, { pollMs: config.jobPollMs });
  // `read` is bound to the current transaction, so the SCIM token's standing is asked inside each change's.
  const base = { tx, read, clock, ids, wakeJobs: () => jobs.wake(), callerStands: scimTokenStands(read.scimTokens, () => clock.now()) };

  const audit = new AuditService(base);
  const auditTrail = new AuditTrail(
    { tx, read, clock, ids, envelope, log },
    {
      ...DEFAULT_TRAIL_OPTIONS,
      sealIntervalMs: config.auditSealMs,
      digestEvery: config.auditDigestEvery,
      digestIntervalMs: config.auditDigestSeconds * 1000,
      retentionDays: config.auditRetentionDays,
    },
  );
  // The sinks' store is bound to the current transaction through contextualDb, like the read stores.
  const sinkStore = new SqlAuditSinkStore(contextualDb(database.db));
  const sinkStores = { auditSinks: sinkStore, alerts: sinkStore };
  const auditStreams = new AuditStreams(
    { tx: { transaction: (fn) => tx.transaction(() => fn(sinkStores)), afterCommit: (fn) => tx.afterCommit(fn) }, read: sinkStores, clock, ids, log },
    { sinks: config.auditSinks, alerts: config.auditAlerts },
    { pollMs: config.auditSinkPollMs, leaseMs: 30_000, retryBaseMs: config.auditSinkRetryMs, retryMaxMs: config.auditSinkRetryMaxMs },
  );
  const instance = new InstanceService(base);
  const credentials = new CredentialService({ ...base, envelope, instanceRegion: async () => (await instance.find())?.region });
  const revocation = new RevocationService(base);
  // ABAC: the access control attributes, resolved against the user's attributes at issue time.
  const sessionTagsOf = async (userId: string) => {
    const attributes = await read.access.findAccessControlAttributes();
    if (!attributes?.length) return undefined;
    const { identityStoreId } = await instance.get();
    const user = await directory.describeUser(identityStoreId, userId, ['aws:identitystore:enterprise']);
    return sessionTagsFor(attributes, { profile: user.profile as unknown as Record<string, unknown>, ...(user.extensions ? { extensions: user.extensions } : {}) });
  };
  const temporaryCredentials = new TemporaryCredentialService({
    ...base,
    envelope,
    credentials,
    revocation,
    sessionTagsOf,
  });
  // auth/ needs the directory, so the directory reaches auth's sessions through a forward reference.
  const sessions: UserSessions = { endSessionsOfUser: (...a) => auth.endSessionsOfUser(...a) };
  const directory = new DirectoryService({ ...base, instance, revocation, sessions });
  const organization = new OrganizationService(base);
  // The assignment-deletion job revokes the role's credentials.
  const customerPolicies = new CustomerPolicyService({ ...base, inUse: (accountId, reference) => read.access.customerPolicyInUse(accountId, reference) });
  const access = new AccessService({
    ...base,
    instance,
    principals: directory,
    accounts: organization,
    revoker: revocation,
    customerPolicies: { policyExists: async (accountId, ref) => (await customerPolicies.resolve(accountId, ref)) !== undefined },
  });
  const policy = new PolicyService({
    customerPolicies,
    clock,
    accessKeys: { purposeOf: async (accessKeyId) => (await read.credentials.findAccessKey(accessKeyId))?.purpose },
    permissionSets: read.access,
    principals: {
      identityStoreId: async () => (await instance.get()).identityStoreId,
      findUserByName: (storeId, userName) => directory.findUserByName(storeId, userName),
      listGroupIdsForUser: (storeId, userId) => directory.listGroupIdsForUser(storeId, userId),
      groupName: async (storeId, groupId) => (await directory.describeGroup(storeId, groupId).catch(() => undefined))?.profile.displayName,
    },
    // As issuing credentials fills them: the role's principal id, and the ABAC tags.
    sessionOf: async (user, accountId, permissionSetName) => {
      const role = await read.access.findRoleOfUser((await instance.get()).identityStoreId, user.userId, accountId, permissionSetName);
      const tags = await sessionTagsOf(user.userId);
      return { ...(role ? { principalId: rolePrincipalIdOf(accountId, role.roleName, user.userName), roleName: role.roleName } : {}), ...(tags ? { tags } : {}) };
    },
    instanceRegion: async () => (await instance.find())?.region,
    orgPathOf: (accountId) => organization.orgPathOf(accountId),
  });
  const grants = { endGrantsOfSessions: (ids: readonly string[]) => tx.transaction(async (s) => void (await s.oidc.revokeBySessions(ids))) };
  const mfa = new MfaService({ ...base, envelope, instance, directory });
  const auth = new AuthService({ ...base, instance, directory, revocation, grants, mfa });
  const scimTokens = new ScimTokenService(base);
  const federation = new FederationService({ ...base, envelope, instance, directory, auth });
  const consoleAdmins = new ConsoleAdminService({ ...base, instance, users: directory });
  organization.registerJobs(jobs);
  access.registerJobs(jobs);
  try {
    // Outside any transaction, so that no rolled-back one can take back a key in use. A database
    // that has sealed nothing yet gets its key at the first issue instead (its key file may be new).
    if (sealedBefore) await temporaryCredentials.loadKeys();
  } catch (err) {
    await database.close();
    throw err;
  }
  const housekeeping = new Housekeeping(
    { tx, clock, failureWindowMs: async () => (await instance.get()).settings.signInProtection.failureWindowMinutes * 60_000, log },
    { intervalMs: HOUSEKEEPING_INTERVAL_MS },
  );
  let sealerThread: SealerThread | undefined;
  let started = false;
  const startBackground = () => {
    if (started) return;
    started = true;
    jobs.start();
    housekeeping.start();
    revocation.start();
    // A key provider handed in (tests, an HSM session) cannot cross to another thread.
    if (opts.sealerThread && !opts.keyProvider) sealerThread = startSealerThread(config, log);
    else auditTrail.start();
    auditStreams.start();
  };
  if (opts.startJobs) startBackground();

  return {
    config,
    log,
    clock,
    ids,
    database,
    read,
    tx,
    envelope,
    jobs,
    audit,
    auditTrail,
    auditStreams,
    instance,
    consoleAdmins,
    credentials,
    revocation,
    temporaryCredentials,
    auth,
    mfa,
    directory,
    organization,
    access,
    policy,
    customerPolicies,
    scimTokens,
    federation,
    housekeeping,
    newRequestId: () => randomUUID(),
    startBackground,
    async close() {
      revocation.stop();
      await sealerThread?.stop();
      await auditStreams.stop();
      await auditTrail.stop();
      await housekeeping.stop();
      await jobs.stop();
      await database.close();
    },
  };
}
