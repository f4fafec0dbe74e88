// Account assignments and permission-set provisioning. As on AWS, creating or deleting an
// assignment and provisioning are asynchronous: the call is checked and recorded with a durable
// job in one transaction, and the job makes the change and reports SUCCEEDED or FAILED.

import { audited, buildEvent } from '../audit/index.js';
import { systemContext, type RequestContext } from '../shared/context.js';
import { invalidArgument, notFound } from '../shared/errors.js';
import { hex } from '../shared/ids.js';
import type { JobWorker } from '../shared/jobs.js';
import type { Page } from '../shared/pagination.js';
import type { AccessDeps, AccessStores } from './access-deps.js';
import type {
  AccessRequestRecord,
  AccountAssignmentRecord,
  PermissionSetRecord,
  PrincipalType,
  ProvisioningStatus,
  RequestKind,
  RequestStatus,
} from './access-store.js';
import { pageThrough, type PageRequest } from './paging.js';
import type { PermissionSetService } from './permission-set-service.js';

export interface AccountAssignmentInput {
  instanceArn: string;
  targetId: string;
  targetType: 'AWS_ACCOUNT';
  permissionSetArn: string;
  principalType: PrincipalType;
  principalId: string;
}

export interface ProvisionInput {
  instanceArn: string;
  permissionSetArn: string;
  targetType: 'AWS_ACCOUNT' | 'ALL_PROVISIONED_ACCOUNTS';
  targetId?: string;
}

/** The operation each kind of request answers; its outcome is audited as `<operation>Result`. */
const OPERATION_OF: Record<RequestKind, string> = {
  CREATE_ASSIGNMENT: 'CreateAccountAssignment',
  DELETE_ASSIGNMENT: 'DeleteAccountAssignment',
  PROVISION: 'ProvisionPermissionSet',
};

const JOB_OF: Record<RequestKind, string> = {
  CREATE_ASSIGNMENT: 'access.create_account_assignment',
  DELETE_ASSIGNMENT: 'access.delete_account_assignment',
  PROVISION: 'access.provision_permission_set',
};

/** Provisioned accounts read per page when checking that each has the policies a permission set references. */
const ACCOUNT_PAGE = 500;

type Fulfil = (s: AccessStores, request: AccessRequestRecord, ps: PermissionSetRecord, now: number) => Promise<void>;
type JobPayload = { requestId: string };

export class AssignmentService {
  constructor(
    private readonly deps: AccessDeps,
    private readonly permissionSets: PermissionSetService,
  ) {}

  /** What each kind of request does once checked, under its permission set's lock. */
  private readonly fulfilments: Record<RequestKind, Fulfil> = {
    CREATE_ASSIGNMENT: async (s, r, ps, now) => {
      await s.access.insertAssignment(assignmentOf(r), now);
      await s.access.ensureProvisioned(r.targetId as string, ps.permissionSetArn, this.roleName(ps), ps.version, now);
    },
    DELETE_ASSIGNMENT: async (s, r, ps) => {
      const assignment = assignmentOf(r);
      // The account's role goes with the permission set's last assignment there, as on AWS.
      if (await s.access.deleteAssignment(assignment)) await s.access.deprovision(assignment.accountId, ps.permissionSetArn);
      const { identityStoreId } = await this.deps.instance.get();
      await this.deps.revoker.revokeAssignment(await this.jobContext(), { identityStoreId, ...assignment }, 'DeleteAccountAssignment');
    },
    PROVISION: async (s, r, ps, now) => {
      if (r.targetId === null) await s.access.reprovisionAll(ps.permissionSetArn, ps.version, now);
      else await s.access.provision(r.targetId, ps.permissionSetArn, this.roleName(ps), ps.version, now);
    },
  };

  registerJobs(worker: JobWorker): void {
    for (const kind of Object.keys(this.fulfilments) as RequestKind[]) {
      worker.register(
        JOB_OF[kind],
        (payload) => this.fulfil(kind, (payload as JobPayload).requestId),
        // The cause stays in the job's record; the client sees only that the request failed.
        (payload) => this.finish(kind, (payload as JobPayload).requestId, 'FAILED', 'The request could not be completed. Try again.'),
      );
    }
  }

  async createAccountAssignment(ctx: RequestContext, input: AccountAssignmentInput): Promise<AccessRequestRecord> {
    return this.request(ctx, 'CreateAccountAssignment', 'CREATE_ASSIGNMENT', input, async () => {
      const [instance] = await Promise.all([this.deps.instance.requireArn(input.instanceArn), this.permissionSets.require(input)]);
      const [principalKnown, accountKnown] = await Promise.all([
        this.deps.principals.principalExists(instance.identityStoreId, input.principalType, input.principalId),
        this.deps.accounts.accountExists(input.targetId),
      ]);
      if (!principalKnown) {
        throw notFound('access.principal_not_found', `${input.principalType === 'USER' ? 'User' : 'Group'} ${input.principalId} does not exist.`, {
          resourceType: input.principalType,
          resourceId: input.principalId,
        });
      }
      if (!accountKnown) throw unknownAccount(input.targetId);
      return { targetId: input.targetId, principalType: input.principalType, principalId: input.principalId };
    });
  }

  /** Principals and accounts may be gone by now; their assignments can still be removed. */
  async deleteAccountAssignment(ctx: RequestContext, input: AccountAssignmentInput): Promise<AccessRequestRecord> {
    return this.request(ctx, 'DeleteAccountAssignment', 'DELETE_ASSIGNMENT', input, async () => {
      await this.permissionSets.require(input);
      return { targetId: input.targetId, principalType: input.principalType, principalId: input.principalId };
    });
  }

  async provisionPermissionSet(ctx: RequestContext, input: ProvisionInput): Promise<AccessRequestRecord> {
    return this.request(ctx, 'ProvisionPermissionSet', 'PROVISION', input, async () => {
      await this.permissionSets.require(input);
      if (input.targetType === 'ALL_PROVISIONED_ACCOUNTS') {
        if (input.targetId !== undefined) throw invalidArgument('access.unexpected_target', 'TargetId must be omitted when TargetType is ALL_PROVISIONED_ACCOUNTS.');
        return { targetId: null, principalType: null, principalId: null };
      }
      if (input.targetId === undefined) throw invalidArgument('access.missing_target', 'TargetId is required when TargetType is AWS_ACCOUNT.');
      if (!(await this.deps.accounts.accountExists(input.targetId))) throw unknownAccount(input.targetId);
      return { targetId: input.targetId, principalType: null, principalId: null };
    });
  }

  async describeRequest(kind: RequestKind, instanceArn: string, requestId: string): Promise<AccessRequestRecord> {
    await this.deps.instance.requireArn(instanceArn);
    const found = await this.deps.read.access.findRequest(kind, requestId);
    if (!found) throw notFound('access.request_not_found', `Request ${requestId} does not exist.`, { resourceType: 'REQUEST', resourceId: requestId });
    return found;
  }

  async listRequests(kind: RequestKind, instanceArn: string, status: RequestStatus | undefined, page: PageRequest): Promise<Page<AccessRequestRecord>> {
    await this.deps.instance.requireArn(instanceArn);
    return pageThrough(
      page,
      ['number', 'string'],
      (slice) => this.deps.read.access.listRequests(kind, status, slice),
      (r) => [r.createdAt, r.requestId],
    );
  }

  async listAccountAssignments(
    input: { instanceArn: string; accountId: string; permissionSetArn: string },
    page: PageRequest,
  ): Promise<Page<AccountAssignmentRecord>> {
    await this.permissionSets.require(input);
    return pageThrough(
      page,
      ['string', 'string'],
      (slice) => this.deps.read.access.listAssignments(input.accountId, input.permissionSetArn, slice),
      (a) => [a.principalType, a.principalId],
    );
  }

  /** A user's assignments include those made to their groups, reported as the group's, as AWS does. */
  async listAccountAssignmentsForPrincipal(
    input: { instanceArn: string; principalType: PrincipalType; principalId: string; accountId?: string },
    page: PageRequest,
  ): Promise<Page<AccountAssignmentRecord>> {
    const instance = await this.deps.instance.requireArn(input.instanceArn);
    const groupIds =
      input.principalType === 'USER' ? await this.deps.principals.listGroupIdsForUser(instance.identityStoreId, input.principalId) : [];
    const principals = [
      { type: input.principalType, ids: [input.principalId] },
      { type: 'GROUP' as const, ids: groupIds },
    ];
    return pageThrough(
      page,
      ['string', 'string', 'string', 'string'],
      (slice) => this.deps.read.access.listAssignmentsOfPrincipals(principals, input.accountId, slice),
      (a) => [a.accountId, a.permissionSetArn, a.principalType, a.principalId],
    );
  }

  async listAccountsForProvisionedPermissionSet(
    input: { instanceArn: string; permissionSetArn: string; provisioningStatus?: ProvisioningStatus },
    page: PageRequest,
  ): Promise<Page<string>> {
    await this.permissionSets.require(input);
    return pageThrough(
      page,
      ['string'],
      (slice) => this.deps.read.access.listProvisionedAccounts(input.permissionSetArn, input.provisioningStatus, slice),
      (accountId) => [accountId],
    );
  }

  async listPermissionSetsProvisionedToAccount(
    input: { instanceArn: string; accountId: string; provisioningStatus?: ProvisioningStatus },
    page: PageRequest,
  ): Promise<Page<string>> {
    await this.deps.instance.requireArn(input.instanceArn);
    return pageThrough(
      page,
      ['string'],
      (slice) => this.deps.read.access.listProvisionedPermissionSets(input.accountId, input.provisioningStatus, slice),
      (arn) => [arn],
    );
  }

  /** Check, then record the request and queue its job in one audited transaction; wake the worker after commit. */
  private async request(
    ctx: RequestContext,
    eventName: string,
    kind: RequestKind,
    input: { permissionSetArn: string },
    check: () => Promise<Pick<AccessRequestRecord, 'targetId' | 'principalType' | 'principalId'>>,
  ): Promise<AccessRequestRecord> {
    const result = await audited(
      this.deps,
      ctx,
      { eventName, requestParameters: input, responseElements: (r: AccessRequestRecord) => ({ requestId: r.requestId, status: r.status }) },
      async (s) => {
        const target = await check();
        const now = this.deps.clock.now();
        const record: AccessRequestRecord = {
          requestId: this.deps.ids.uuid(),
          kind,
          status: 'IN_PROGRESS',
          failureReason: null,
          permissionSetArn: input.permissionSetArn,
          ...target,
          createdAt: now,
        };
        await s.access.insertRequest(record);
        await s.jobs.enqueueJob({ id: this.deps.ids.uuid(), kind: JOB_OF[kind], payload: { requestId: record.requestId } satisfies JobPayload, runAfter: now, now });
        return record;
      },
    );
    this.deps.wakeJobs();
    return result;
  }

  /** Idempotent: a job that runs again after a crash finds its request finished and stops. */
  private async fulfil(kind: RequestKind, requestId: string): Promise<void> {
    const ctx = await this.jobContext();
    await this.deps.tx.transaction(async (s) => {
      const queued = await s.access.findRequest(kind, requestId);
      if (queued?.status !== 'IN_PROGRESS') return;
      const ps = await s.access.lockPermissionSet(queued.permissionSetArn);
      // Read again under the lock: another job may have settled this request while we waited.
      const request = await s.access.findRequest(kind, requestId);
      if (request?.status !== 'IN_PROGRESS') return;
      const now = this.deps.clock.now();
      if (!ps) {
        await this.record(s, ctx, kind, requestId, 'FAILED', `Permission set ${request.permissionSetArn} no longer exists.`);
        return;
      }
      // Jobs may run out of order (another process, a retry); requests for one assignment take
      // effect in the order they were made, so a deletion never overtakes the creation before it.
      // The permission set's lock, held from here, keeps the list true until commit.
      if (kind !== 'PROVISION') {
        for (const earlier of await s.access.listEarlierPendingAssignmentRequests(request)) await this.settle(s, ctx, earlier, ps, now);
      }
      await this.settle(s, ctx, request, ps, now);
    });
  }

  /** Carry out a checked request under its permission set's lock, and record the outcome. */
  private async settle(s: AccessStores, ctx: RequestContext, request: AccessRequestRecord, ps: PermissionSetRecord, now: number): Promise<void> {
    const { kind, requestId } = request;
    const unresolved = kind === 'DELETE_ASSIGNMENT' ? undefined : await this.unresolvedPolicy(s, request, ps.permissionSetArn, ps.permissionsBoundary);
    if (unresolved) {
      await this.record(s, ctx, kind, requestId, 'FAILED', `Received a 404 status error: Not supported policy ${unresolved}.`);
      return;
    }
    await this.fulfilments[kind](s, request, ps, now);
    await this.record(s, ctx, kind, requestId, 'SUCCEEDED', null);
  }

  /**
   * The ARN of the first customer-managed policy (or boundary) a target account lacks, if any: the
   * one account, or every account the permission set is provisioned to (however many: they are
   * read a page at a time, so the thousand-and-first is checked as the first is).
   */
  private async unresolvedPolicy(s: AccessStores, request: AccessRequestRecord, permissionSetArn: string, boundary: PermissionSetRecord['permissionsBoundary']): Promise<string | undefined> {
    const directory = this.deps.customerPolicies;
    if (!directory) return undefined;
    const refs = (await s.access.listPolicies(permissionSetArn, 'CUSTOMER', { limit: 100 })).map((p) => ({ path: p.path, name: p.name }));
    if (boundary && 'customerManagedPolicy' in boundary) refs.push(boundary.customerManagedPolicy);
    if (refs.length === 0) return undefined;
    const lacking = async (accountId: string) => {
      for (const ref of refs) if (!(await directory.policyExists(accountId, ref))) return `arn:aws:iam::${accountId}:policy${ref.path}${ref.name}`;
      return undefined;
    };
    if (request.targetId !== null) return lacking(request.targetId);
    for (let after: [string] | undefined; ; ) {
      const accounts = await s.access.listProvisionedAccounts(permissionSetArn, undefined, { ...(after ? { after } : {}), limit: ACCOUNT_PAGE });
      for (const accountId of accounts) {
        const missing = await lacking(accountId);
        if (missing) return missing;
      }
      if (accounts.length < ACCOUNT_PAGE) return undefined;
      after = [accounts.at(-1) as string];
    }
  }

  private async finish(kind: RequestKind, requestId: string, status: 'FAILED', reason: string): Promise<void> {
    const ctx = await this.jobContext();
    await this.deps.tx.transaction((s) => this.record(s, ctx, kind, requestId, status, reason));
  }

  /** Finish a request and put its outcome on the record, in the caller's transaction. */
  private async record(s: AccessStores, ctx: RequestContext, kind: RequestKind, requestId: string, status: 'SUCCEEDED' | 'FAILED', reason: string | null): Promise<void> {
    await s.access.finishRequest(requestId, status, reason, this.deps.clock.now());
    const outcome = status === 'FAILED' ? { errorCode: 'request_failed', errorMessage: reason ?? '' } : { responseElements: { requestId, status } };
    await s.audit.appendEvent({ ...buildEvent(ctx, this.deps, `${OPERATION_OF[kind]}Result`, { requestId }, outcome), eventType: 'AwsServiceEvent' });
  }

  private async jobContext(): Promise<RequestContext> {
    const instance = await this.deps.instance.get();
    return systemContext('sso.amazonaws.com', instance.region, this.deps.ids.uuid(), 'atrium-jobs');
  }

  private roleName(ps: PermissionSetRecord): string {
    return `AWSReservedSSO_${ps.name}_${hex(this.deps.ids, 16)}`;
  }
}

const assignmentOf = (r: AccessRequestRecord): AccountAssignmentRecord => ({
  accountId: r.targetId as string,
  permissionSetArn: r.permissionSetArn,
  principalType: r.principalType as PrincipalType,
  principalId: r.principalId as string,
});

const unknownAccount = (accountId: string) =>
  invalidArgument('access.account_not_found', `Account ${accountId} is not an active account of this organization.`);
