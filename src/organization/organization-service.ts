// The organization: its root, organizational units and accounts, with AWS Organizations' rules.
// CreateAccount completes asynchronously through a durable job, as on AWS.

import { audited, HIDDEN, type AuditStore } from '../audit/index.js';
import { systemContext, type RequestContext } from '../shared/context.js';
import { failedPrecondition, notFound } from '../shared/errors.js';
import { newAccountId, newCreateAccountRequestId, newOrganizationalUnitId, newOrganizationId, newRootId } from '../shared/ids.js';
import type { JobStore, JobWorker } from '../shared/jobs.js';
import { decodeToken, pageOf, type Page } from '../shared/pagination.js';
import type { ServiceDeps } from '../shared/service-deps.js';
import type { Tag, TagStore } from '../shared/tags.js';
import {
  arnsOf,
  checkNewTags,
  checkTagCount,
  checkTagKeys,
  invalidInput,
  MAX_OU_DEPTH,
  parentTypeOf,
  type ParentType,
} from './organization-rules.js';
import type {
  AccountRecord,
  CreateAccountOutcome,
  CreateAccountRequestRecord,
  OrganizationalUnitRecord,
  OrganizationRecord,
  OrganizationStore,
} from './organization-store.js';

export type OrganizationStores = { organization: OrganizationStore; audit: AuditStore; jobs: JobStore; tags: TagStore };

export interface OrganizationSummary {
  organizationId: string;
  rootId: string;
  managementAccountId: string;
}

export interface Organization extends OrganizationRecord {
  arn: string;
  managementAccountArn: string;
  managementAccountEmail: string;
}
export type Account = AccountRecord & { arn: string };
export type OrganizationalUnit = OrganizationalUnitRecord & { arn: string };
export interface Root {
  id: string;
  arn: string;
  name: string;
}
export interface TreeNode<T extends string> {
  id: string;
  type: T;
}
export type ChildType = 'ACCOUNT' | 'ORGANIZATIONAL_UNIT';
export interface PageRequest {
  maxResults?: number;
  nextToken?: string;
}

export interface CreateAccountInput {
  email: string;
  accountName: string;
  roleName?: string;
  iamUserAccessToBilling?: 'ALLOW' | 'DENY';
  tags?: Tag[];
}

const EVENT_SOURCE = 'organizations.amazonaws.com';
const CREATE_ACCOUNT_JOB = 'organization.create_account';
const DEFAULT_PAGE_SIZE = 20;
const MANAGEMENT_ACCOUNT_NAME = 'Management';

interface CreateAccountJob {
  requestId: string;
  email: string;
  accountName: string;
  tags: Tag[];
  region: string;
  auditRequestId: string;
}

const accountNotFound = (accountId: string) =>
  notFound('organization.account_not_found', `You specified an account that doesn't exist: ${accountId}.`);
const invalidNextToken = () => invalidInput('INVALID_NEXT_TOKEN', 'The NextToken is not valid.');

/** The id a NextToken resumes after; tokens are keyset positions over ids. */
function afterOf(nextToken: string | undefined): string | undefined {
  const position = decodeToken(nextToken);
  if (position === undefined) return undefined;
  if (typeof position.id !== 'string') throw invalidNextToken();
  return position.id;
}

export class OrganizationService {
  /** The organization never changes once created, so every process may keep it. */
  private cached?: Organization;

  constructor(private readonly deps: ServiceDeps<OrganizationStores>) {}

  /** Create the organization, its root and management account once; later calls return the same. */
  async ensureOrganization(ctx: RequestContext, managementEmail: string): Promise<OrganizationSummary> {
    const existing = await this.deps.read.organization.findOrganization();
    if (existing) return existing;
    const { ids, clock } = this.deps;
    const org: OrganizationRecord = {
      organizationId: newOrganizationId(ids),
      rootId: newRootId(ids),
      managementAccountId: newAccountId(ids),
      featureSet: 'ALL',
      createdAt: clock.now(),
    };
    const arns = arnsOf(org);
    try {
      await audited(
        this.deps,
        { ...ctx, eventSource: EVENT_SOURCE },
        {
          eventName: 'CreateOrganization',
          requestParameters: { featureSet: org.featureSet },
          responseElements: () => ({
            organization: { id: org.organizationId, arn: arns.organization, masterAccountId: org.managementAccountId, rootId: org.rootId },
          }),
        },
        async (s) => {
          // The organization row goes first: its singleton constraint is what a racing process trips on.
          await s.organization.insertOrganization(org);
          await s.organization.insertAccount({
            accountId: org.managementAccountId,
            email: managementEmail,
            name: MANAGEMENT_ACCOUNT_NAME,
            status: 'ACTIVE',
            joinedMethod: 'INVITED',
            joinedAt: org.createdAt,
            parentId: org.rootId,
          });
        },
      );
      return org;
    } catch (err) {
      // Another process (or call) created it first; its organization is the organization.
      const winner = await this.deps.read.organization.findOrganization();
      if (!winner) throw err;
      return winner;
    }
  }

  /** Register this module's background job handlers (CreateAccount) with the process's worker. */
  registerJobs(worker: JobWorker): void {
    worker.register(
      CREATE_ACCOUNT_JOB,
      (payload) => this.completeCreateAccount(payload as CreateAccountJob),
      (payload) => this.giveUpCreateAccount(payload as CreateAccountJob),
    );
  }

  /** Used by access/ to check an assignment's target: only active accounts of the organization count. */
  async accountExists(accountId: string): Promise<boolean> {
    const account = await this.deps.read.organization.findAccount(accountId);
    return account?.status === 'ACTIVE';
  }

  /**
   * Where an account sits, as aws:PrincipalOrgID and aws:PrincipalOrgPaths give it to its role
   * sessions: the organization's id, and `o-…/r-…/ou-…/…/` down to the account's parent.
   * Undefined for an account that is not (or no longer) in the organization.
   */
  async orgPathOf(accountId: string): Promise<{ organizationId: string; path: string } | undefined> {
    const store = this.deps.read.organization;
    const [org, account] = await Promise.all([store.findOrganization(), store.findAccount(accountId)]);
    if (!org || !account) return undefined;
    const units: string[] = [];
    // AWS nests OUs five deep; the bound only guards against a cycle a bad row could make.
    for (let parent = account.parentId; parent !== org.rootId; ) {
      const unit = units.length < 8 ? await store.findOrganizationalUnit(parent) : undefined;
      if (!unit) return undefined;
      units.unshift(unit.ouId);
      parent = unit.parentId;
    }
    return { organizationId: org.organizationId, path: `${[org.organizationId, org.rootId, ...units].join('/')}/` };
  }

  async describeOrganization(): Promise<Organization> {
    if (this.cached) return this.cached;
    const org = await this.deps.read.organization.findOrganization();
    const management = org && (await this.deps.read.organization.findAccount(org.managementAccountId));
    if (!org || !management) {
      throw notFound('organization.not_in_use', 'Your account is not a member of an organization.');
    }
    const arns = arnsOf(org);
    this.cached = {
      ...org,
      arn: arns.organization,
      managementAccountArn: arns.account(org.managementAccountId),
      managementAccountEmail: management.email,
    };
    return this.cached;
  }

  async listRoots(page: PageRequest): Promise<Root[]> {
    // One root: no page ever follows, so no token we issued can arrive here.
    if (page.nextToken !== undefined) throw invalidNextToken();
    const org = await this.describeOrganization();
    return [{ id: org.rootId, arn: arnsOf(org).root(org.rootId), name: 'Root' }];
  }

  async createOrganizationalUnit(
    ctx: RequestContext,
    input: { parentId: string; name: string; tags?: Tag[] },
  ): Promise<OrganizationalUnit> {
    const org = await this.describeOrganization();
    const tags = input.tags ?? [];
    return audited(
      this.deps,
      ctx,
      {
        eventName: 'CreateOrganizationalUnit',
        requestParameters: input,
        responseElements: (ou: OrganizationalUnit) => ({ organizationalUnit: { id: ou.ouId, arn: ou.arn, name: ou.name } }),
      },
      async (s) => {
        checkNewTags(tags);
        const parent = await this.findParent(s.organization, org, input.parentId);
        if (!parent) throw notFound('organization.parent_not_found', `You specified a parent that doesn't exist: ${input.parentId}.`);
        if (parent.depth >= MAX_OU_DEPTH) {
          throw failedPrecondition('organization.constraint_violation', `OUs can be nested at most ${MAX_OU_DEPTH} levels deep.`, {
            reason: 'OU_DEPTH_LIMIT_EXCEEDED',
          });
        }
        const ou: OrganizationalUnitRecord = {
          ouId: newOrganizationalUnitId(this.deps.ids, org.rootId),
          parentId: input.parentId,
          name: input.name,
          depth: parent.depth + 1,
          createdAt: this.deps.clock.now(),
        };
        await s.organization.insertOrganizationalUnit(ou);
        await s.tags.putTags(ou.ouId, tags);
        return this.withOuArn(org, ou);
      },
    );
  }

  async describeOrganizationalUnit(ouId: string): Promise<OrganizationalUnit> {
    const org = await this.describeOrganization();
    const ou = await this.deps.read.organization.findOrganizationalUnit(ouId);
    if (!ou) throw notFound('organization.ou_not_found', `You specified an OU that doesn't exist: ${ouId}.`);
    return this.withOuArn(org, ou);
  }

  async listOrganizationalUnitsForParent(parentId: string, page: PageRequest): Promise<Page<OrganizationalUnit>> {
    const org = await this.requireListParent(parentId);
    const units = await this.pageOfUnits(parentId, page);
    return { ...units, items: units.items.map((ou) => this.withOuArn(org, ou)) };
  }

  /** Accepted at once (IN_PROGRESS); a durable job creates the account and records the outcome. */
  async createAccount(ctx: RequestContext, input: CreateAccountInput): Promise<CreateAccountRequestRecord> {
    await this.describeOrganization();
    const request: CreateAccountRequestRecord = {
      requestId: newCreateAccountRequestId(this.deps.ids),
      accountName: input.accountName,
      email: input.email,
      state: 'IN_PROGRESS',
      requestedAt: this.deps.clock.now(),
      completedAt: null,
      accountId: null,
      failureReason: null,
    };
    const job: CreateAccountJob = {
      requestId: request.requestId,
      email: input.email,
      accountName: input.accountName,
      tags: input.tags ?? [],
      region: ctx.region,
      auditRequestId: ctx.requestId,
    };
    const accepted = await audited(
      this.deps,
      ctx,
      {
        eventName: 'CreateAccount',
        // Email and AccountName are sensitive in AWS's model, and CloudTrail hides them too.
        requestParameters: { ...input, email: HIDDEN, accountName: HIDDEN },
        responseElements: (r: CreateAccountRequestRecord) => ({ createAccountStatus: { id: r.requestId, state: r.state } }),
      },
      async (s) => {
        checkNewTags(job.tags);
        await s.organization.insertCreateAccountRequest(request);
        const now = this.deps.clock.now();
        await s.jobs.enqueueJob({ id: this.deps.ids.uuid(), kind: CREATE_ACCOUNT_JOB, payload: job, runAfter: now, now });
        return request;
      },
    );
    this.deps.wakeJobs();
    return accepted;
  }

  async describeCreateAccountStatus(requestId: string): Promise<CreateAccountRequestRecord> {
    const request = await this.deps.read.organization.findCreateAccountRequest(requestId);
    if (!request) {
      throw notFound('organization.create_account_status_not_found', `You specified a CreateAccount request that doesn't exist: ${requestId}.`);
    }
    return request;
  }

  async describeAccount(accountId: string): Promise<Account> {
    const org = await this.describeOrganization();
    const account = await this.deps.read.organization.findAccount(accountId);
    if (!account) throw accountNotFound(accountId);
    return this.withAccountArn(org, account);
  }

  /** How many accounts the organization has, whatever their status (as ListAccounts lists them). */
  async countAccounts(): Promise<number> {
    await this.describeOrganization();
    return this.deps.read.organization.countAccounts();
  }

  /** Every account, or (with parentId) those directly under a root or OU. */
  async listAccounts(page: PageRequest, parentId?: string): Promise<Page<Account>> {
    const org = parentId === undefined ? await this.describeOrganization() : await this.requireListParent(parentId);
    const accounts = await this.pageOfAccounts(page, parentId);
    return { ...accounts, items: accounts.items.map((a) => this.withAccountArn(org, a)) };
  }

  async moveAccount(ctx: RequestContext, input: { accountId: string; sourceParentId: string; destinationParentId: string }): Promise<void> {
    const org = await this.describeOrganization();
    await audited(this.deps, ctx, { eventName: 'MoveAccount', requestParameters: input }, async (s) => {
      const account = await s.organization.findAccount(input.accountId);
      if (!account) throw accountNotFound(input.accountId);
      if (!(await this.findParent(s.organization, org, input.sourceParentId))) {
        throw notFound('organization.source_parent_not_found', `You specified a source parent that doesn't exist: ${input.sourceParentId}.`);
      }
      if (!(await this.findParent(s.organization, org, input.destinationParentId))) {
        throw notFound(
          'organization.destination_parent_not_found',
          `You specified a destination parent that doesn't exist: ${input.destinationParentId}.`,
        );
      }
      if (account.parentId !== input.sourceParentId) {
        throw notFound('organization.source_parent_not_found', `Account ${input.accountId} is not in ${input.sourceParentId}.`);
      }
      if (input.sourceParentId === input.destinationParentId) {
        throw failedPrecondition('organization.duplicate_account', `Account ${input.accountId} is already in ${input.destinationParentId}.`);
      }
      // Conditional on the parent read above: a concurrent move of the same account loses cleanly.
      if (!(await s.organization.moveAccount(input.accountId, input.sourceParentId, input.destinationParentId))) {
        throw failedPrecondition('organization.concurrent_modification', 'The account was moved by another request; try again.');
      }
    });
  }

  async listParents(childId: string, page: PageRequest): Promise<TreeNode<ParentType>[]> {
    // Every child has exactly one parent: no page ever follows.
    if (page.nextToken !== undefined) throw invalidNextToken();
    const store = this.deps.read.organization;
    const child = /^\d{12}$/.test(childId) ? await store.findAccount(childId) : await store.findOrganizationalUnit(childId);
    if (!child) throw notFound('organization.child_not_found', `You specified a child that doesn't exist: ${childId}.`);
    return [{ id: child.parentId, type: parentTypeOf(child.parentId) }];
  }

  async listChildren(parentId: string, childType: ChildType, page: PageRequest): Promise<Page<TreeNode<ChildType>>> {
    await this.requireListParent(parentId);
    if (childType === 'ACCOUNT') {
      const accounts = await this.pageOfAccounts(page, parentId);
      return { ...accounts, items: accounts.items.map((a) => ({ id: a.accountId, type: childType })) };
    }
    const units = await this.pageOfUnits(parentId, page);
    return { ...units, items: units.items.map((ou) => ({ id: ou.ouId, type: childType })) };
  }

  async tagResource(ctx: RequestContext, resourceId: string, tags: Tag[]): Promise<void> {
    const org = await this.describeOrganization();
    await audited(this.deps, ctx, { eventName: 'TagResource', requestParameters: { resourceId, tags } }, async (s) => {
      checkTagKeys(tags.map((t) => t.Key));
      await this.requireTarget(s.organization, org, resourceId);
      await s.tags.putTags(resourceId, tags);
      // Counted after the write so that replacing existing keys does not count twice; a refusal rolls back.
      checkTagCount((await s.tags.listTags(resourceId)).length);
    });
  }

  async untagResource(ctx: RequestContext, resourceId: string, tagKeys: string[]): Promise<void> {
    const org = await this.describeOrganization();
    await audited(this.deps, ctx, { eventName: 'UntagResource', requestParameters: { resourceId, tagKeys } }, async (s) => {
      checkTagKeys(tagKeys);
      await this.requireTarget(s.organization, org, resourceId);
      await s.tags.removeTags(resourceId, tagKeys);
    });
  }

  async listTagsForResource(resourceId: string, page: PageRequest): Promise<Tag[]> {
    // At most 50 tags: they always fit one page.
    if (page.nextToken !== undefined) throw invalidNextToken();
    const org = await this.describeOrganization();
    await this.requireTarget(this.deps.read.organization, org, resourceId);
    return this.deps.read.tags.listTags(resourceId);
  }

  /** The job: create the account unless its email is taken, and record the outcome. */
  private async completeCreateAccount(job: CreateAccountJob): Promise<void> {
    const pending = await this.deps.read.organization.findCreateAccountRequest(job.requestId);
    if (pending?.state !== 'IN_PROGRESS') return; // completed by an earlier run of this job
    const org = await this.describeOrganization();
    const ctx = systemContext(EVENT_SOURCE, job.region, job.auditRequestId, 'atrium-jobs');
    await audited(
      this.deps,
      ctx,
      {
        eventName: 'CreateAccountResult',
        requestParameters: { createAccountRequestId: job.requestId },
        responseElements: (outcome: CreateAccountOutcome) => ({ createAccountStatus: { id: job.requestId, ...outcome } }),
      },
      async (s) => {
        const now = this.deps.clock.now();
        let outcome: CreateAccountOutcome = { state: 'FAILED', completedAt: now, failureReason: 'EMAIL_ALREADY_EXISTS' };
        // A race on the email or the generated id fails the insert below; the job is retried and lands here.
        if (!(await s.organization.findAccountByEmail(job.email))) {
          const accountId = newAccountId(this.deps.ids);
          await s.organization.insertAccount({
            accountId,
            email: job.email,
            name: job.accountName,
            status: 'ACTIVE',
            joinedMethod: 'CREATED',
            joinedAt: now,
            parentId: org.rootId,
          });
          await s.tags.putTags(accountId, job.tags);
          outcome = { state: 'SUCCEEDED', completedAt: now, accountId };
        }
        if (!(await s.organization.completeCreateAccountRequest(job.requestId, outcome))) {
          throw failedPrecondition('organization.concurrent_modification', `CreateAccount request ${job.requestId} was already completed.`);
        }
        return outcome;
      },
    );
  }

  /** The job failed its last attempt: the request says FAILED rather than IN_PROGRESS forever. */
  private async giveUpCreateAccount(job: CreateAccountJob): Promise<void> {
    const ctx = systemContext(EVENT_SOURCE, job.region, job.auditRequestId, 'atrium-jobs');
    const outcome: CreateAccountOutcome = { state: 'FAILED', completedAt: this.deps.clock.now(), failureReason: 'INTERNAL_FAILURE' };
    await audited(
      this.deps,
      ctx,
      { eventName: 'CreateAccountResult', requestParameters: { createAccountRequestId: job.requestId }, responseElements: () => ({ createAccountStatus: { id: job.requestId, ...outcome } }) },
      (s) => s.organization.completeCreateAccountRequest(job.requestId, outcome),
    );
  }

  /** The root or an OU, with its depth (0 for the root); undefined if there is none. */
  private async findParent(
    store: OrganizationStore,
    org: Organization,
    parentId: string,
  ): Promise<{ depth: number } | undefined> {
    if (parentId === org.rootId) return { depth: 0 };
    if (!parentId.startsWith('ou-')) return undefined;
    return store.findOrganizationalUnit(parentId);
  }

  private async requireListParent(parentId: string): Promise<Organization> {
    const org = await this.describeOrganization();
    if (!(await this.findParent(this.deps.read.organization, org, parentId))) {
      throw notFound('organization.parent_not_found', `You specified a parent that doesn't exist: ${parentId}.`);
    }
    return org;
  }

  /** Tags go on the root, OUs and accounts. */
  private async requireTarget(store: OrganizationStore, org: Organization, resourceId: string): Promise<void> {
    const found = /^\d{12}$/.test(resourceId) ? await store.findAccount(resourceId) : await this.findParent(store, org, resourceId);
    if (!found) throw notFound('organization.target_not_found', `You specified a target that doesn't exist: ${resourceId}.`);
  }

  private async pageOfAccounts(page: PageRequest, parentId?: string): Promise<Page<AccountRecord>> {
    const limit = page.maxResults ?? DEFAULT_PAGE_SIZE;
    const rows = await this.deps.read.organization.listAccounts({ parentId, after: afterOf(page.nextToken), limit: limit + 1 });
    return pageOf(rows, limit, (a) => ({ id: a.accountId }));
  }

  private async pageOfUnits(parentId: string, page: PageRequest): Promise<Page<OrganizationalUnitRecord>> {
    const limit = page.maxResults ?? DEFAULT_PAGE_SIZE;
    const rows = await this.deps.read.organization.listOrganizationalUnits({ parentId, after: afterOf(page.nextToken), limit: limit + 1 });
    return pageOf(rows, limit, (ou) => ({ id: ou.ouId }));
  }

  private withAccountArn(org: Organization, account: AccountRecord): Account {
    return { ...account, arn: arnsOf(org).account(account.accountId) };
  }

  private withOuArn(org: Organization, ou: OrganizationalUnitRecord): OrganizationalUnit {
    return { ...ou, arn: arnsOf(org).organizationalUnit(ou.ouId) };
  }
}
