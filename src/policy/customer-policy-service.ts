// Customer-managed policies per account, the IAM subset: CreatePolicy, CreatePolicyVersion,
// GetPolicy, GetPolicyVersion, ListPolicies, ListPolicyVersions, SetDefaultPolicyVersion,
// DeletePolicyVersion, DeletePolicy. Every document is validated on write.

import { audited, type AuditDeps, type AuditStore } from '../audit/index.js';
import type { RequestContext } from '../shared/context.js';
import { alreadyExists, DomainError, failedPrecondition, invalidArgument, notFound } from '../shared/errors.js';
import type { CustomerPolicyRecord, CustomerPolicyStore, CustomerPolicyVersionRecord } from './customer-policy-store.js';
import { describeErrors, validatePolicy } from './validate-policy.js';

type Stores = { customerPolicies: CustomerPolicyStore; audit: AuditStore };

export type CustomerPolicyDeps = AuditDeps<Stores> & {
  read: Stores;
  /** Whether a permission set provisioned to the account references the policy: IAM's DeleteConflict then. */
  inUse?: (accountId: string, reference: { path: string; name: string }) => Promise<boolean>;
};

/** IAM's quotas: 6,144 characters per managed policy document (whitespace excluded), 5 versions. */
const MAX_DOCUMENT_CHARS = 6144;
const MAX_VERSIONS = 5;
const NAME = /^[\w+=,.@-]{1,128}$/;
const PATH = /^\/([\x21-\x7e]{0,510}\/)?$/;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';
/** IAM's pattern for a policy version id. */
const VERSION_ID = /^v[1-9][0-9]{0,8}(\.[A-Za-z0-9-]*)?$/;

export const policyArnOf = (accountId: string, path: string, name: string) => `arn:aws:iam::${accountId}:policy${path}${name}`;

const noSuchVersion = (arn: string, versionId: string) =>
  notFound('policy.no_such_entity', `Policy ${arn} version ${versionId} does not exist or is not attachable.`, { resourceType: 'POLICY_VERSION', resourceId: versionId });

/** The policy if the account owns it: another account's is as missing as an unknown one. */
function ownPolicy(policy: CustomerPolicyRecord | undefined, accountId: string, policyArn: string): CustomerPolicyRecord {
  if (!policy || policy.accountId !== accountId) throw noSuchPolicy(policyArn);
  return policy;
}

function checkVersionId(versionId: string): void {
  if (!VERSION_ID.test(versionId)) throw invalidArgument('policy.invalid_version_id', `Value '${versionId}' at 'versionId' failed to satisfy constraint: Member must satisfy regular expression pattern: v[1-9][0-9]*(\\.[A-Za-z0-9-]*)?`);
}

const noSuchPolicy = (arn: string) => notFound('policy.no_such_entity', `Policy ${arn} does not exist or is not attachable.`, { resourceType: 'POLICY', resourceId: arn });

/** IAM counts a document's length without whitespace; a malformed one names its first errors. */
async function checkDocument(document: string): Promise<void> {
  if (document.replace(/\s/g, '').length > MAX_DOCUMENT_CHARS) {
    throw new DomainError('invalid_argument', 'policy.document_too_large', `Cannot exceed quota for PolicySize: ${MAX_DOCUMENT_CHARS}`);
  }
  const errors = describeErrors(await validatePolicy(document));
  if (errors !== undefined) throw new DomainError('invalid_argument', 'policy.malformed_document', `The policy is not valid: ${errors}`);
}

export class CustomerPolicyService {
  constructor(private readonly deps: CustomerPolicyDeps) {}

  async createPolicy(ctx: RequestContext, accountId: string, input: { policyName: string; path?: string; policyDocument: string; description?: string }): Promise<CustomerPolicyRecord> {
    const path = input.path ?? '/';
    if (!NAME.test(input.policyName)) throw invalidArgument('policy.invalid_name', 'PolicyName must be 1-128 of letters, digits and +=,.@_-.');
    if (!PATH.test(path)) throw invalidArgument('policy.invalid_path', 'Path must begin and end with / and hold printable ASCII.');
    if (input.description !== undefined && input.description.length > 1000) throw invalidArgument('policy.invalid_description', 'Description has at most 1000 characters.');
    await checkDocument(input.policyDocument);
    const now = this.deps.clock.now();
    const policyArn = policyArnOf(accountId, path, input.policyName);
    const record: CustomerPolicyRecord = {
      policyArn,
      accountId,
      policyName: input.policyName,
      path,
      policyId: `ANPA${[...this.deps.ids.bytes(17)].map((b) => BASE32[b % 32]).join('')}`,
      description: input.description ?? null,
      defaultVersionId: 'v1',
      nextVersion: 2,
      createdAt: now,
      updatedAt: now,
    };
    return audited(this.deps, ctx, { eventName: 'CreatePolicy', requestParameters: { ...input, policyDocument: undefined }, responseElements: () => ({ policy: { arn: policyArn } }) }, async (s) => {
      if (!(await s.customerPolicies.insertPolicy(record, { policyArn, versionId: 'v1', document: input.policyDocument, createdAt: now }))) {
        throw alreadyExists('policy.entity_already_exists', `A policy called ${input.policyName} already exists. Duplicate names are not allowed.`);
      }
      return record;
    });
  }

  async createPolicyVersion(ctx: RequestContext, accountId: string, input: { policyArn: string; policyDocument: string; setAsDefault: boolean }): Promise<CustomerPolicyVersionRecord & { isDefault: boolean }> {
    await checkDocument(input.policyDocument);
    return audited(this.deps, ctx, { eventName: 'CreatePolicyVersion', requestParameters: { policyArn: input.policyArn, setAsDefault: input.setAsDefault } }, async (s) => {
      const policy = await this.require(s, accountId, input.policyArn);
      if ((await s.customerPolicies.listVersions(input.policyArn)).length >= MAX_VERSIONS) {
        throw new DomainError('quota_exceeded', 'policy.limit_exceeded', `A managed policy can have up to ${MAX_VERSIONS} versions. Before you create a new version, you must delete an existing version.`);
      }
      const now = this.deps.clock.now();
      const version = { policyArn: input.policyArn, versionId: `v${policy.nextVersion}`, document: input.policyDocument, createdAt: now };
      if (!(await s.customerPolicies.insertVersion(version, policy.nextVersion, input.setAsDefault, now))) {
        throw failedPrecondition('policy.concurrent_modification', 'The policy changed while the version was being created; try again.', { reason: 'CONCURRENT_MODIFICATION' });
      }
      return { ...version, isDefault: input.setAsDefault };
    });
  }

  async getPolicy(accountId: string, policyArn: string): Promise<CustomerPolicyRecord> {
    return this.require(this.deps.read, accountId, policyArn);
  }

  async getPolicyVersion(accountId: string, policyArn: string, versionId: string): Promise<CustomerPolicyVersionRecord & { isDefault: boolean }> {
    const policy = await this.require(this.deps.read, accountId, policyArn);
    const version = await this.deps.read.customerPolicies.findVersion(policyArn, versionId);
    if (!version) throw noSuchVersion(policyArn, versionId);
    return { ...version, isDefault: version.versionId === policy.defaultVersionId };
  }

  /** Every version of a policy (at most five), oldest first, without their documents. */
  async listPolicyVersions(accountId: string, policyArn: string): Promise<{ versionId: string; createdAt: number; isDefault: boolean }[]> {
    const policy = await this.require(this.deps.read, accountId, policyArn);
    const versions = await this.deps.read.customerPolicies.listVersions(policyArn);
    return versions.map((v) => ({ versionId: v.versionId, createdAt: v.createdAt, isDefault: v.versionId === policy.defaultVersionId }));
  }

  /** The version that applies from now on, wherever the policy is referenced. */
  async setDefaultPolicyVersion(ctx: RequestContext, accountId: string, input: { policyArn: string; versionId: string }): Promise<void> {
    checkVersionId(input.versionId);
    await audited(this.deps, ctx, { eventName: 'SetDefaultPolicyVersion', requestParameters: input }, async (s) => {
      await this.lock(s, accountId, input.policyArn);
      if (!(await s.customerPolicies.findVersion(input.policyArn, input.versionId))) throw noSuchVersion(input.policyArn, input.versionId);
      await s.customerPolicies.setDefaultVersion(input.policyArn, input.versionId);
    });
  }

  /** Deletes a version that is not the default (IAM: make another the default first). */
  async deletePolicyVersion(ctx: RequestContext, accountId: string, input: { policyArn: string; versionId: string }): Promise<void> {
    checkVersionId(input.versionId);
    await audited(this.deps, ctx, { eventName: 'DeletePolicyVersion', requestParameters: input }, async (s) => {
      const policy = await this.lock(s, accountId, input.policyArn);
      if (!(await s.customerPolicies.findVersion(input.policyArn, input.versionId))) throw noSuchVersion(input.policyArn, input.versionId);
      if (policy.defaultVersionId === input.versionId) throw failedPrecondition('policy.delete_conflict', 'Cannot delete the default version of a policy.');
      await s.customerPolicies.deleteVersion(input.policyArn, input.versionId);
    });
  }

  listPolicies(accountId: string, pathPrefix: string, afterName: string | undefined, limit: number): Promise<CustomerPolicyRecord[]> {
    return this.deps.read.customerPolicies.listPolicies(accountId, pathPrefix, afterName, limit);
  }

  async deletePolicy(ctx: RequestContext, accountId: string, policyArn: string): Promise<void> {
    await audited(this.deps, ctx, { eventName: 'DeletePolicy', requestParameters: { policyArn } }, async (s) => {
      const policy = await this.require(s, accountId, policyArn);
      // IAM refuses to delete a policy attached to a role: a permission set provisioned here that
      // references it (attached, or as its boundary) is that role. Deleting it would drop its Denies.
      if (await this.deps.inUse?.(accountId, { path: policy.path, name: policy.policyName })) {
        throw failedPrecondition('policy.delete_conflict', 'Cannot delete a policy attached to entities: a permission set provisioned to this account references it. Detach it from the permission set first.');
      }
      // IAM: the non-default versions go first.
      if ((await s.customerPolicies.listVersions(policyArn)).length > 1) {
        throw failedPrecondition('policy.delete_conflict', 'This policy has more than one version. Before you delete a policy, you must delete the policy\'s versions. The default version is deleted with the policy.');
      }
      await s.customerPolicies.deletePolicy(policyArn);
    });
  }

  /**
   * The default version's document of the policy `path + name` in the account, for evaluation;
   * undefined when the reference does not resolve there.
   */
  async resolve(accountId: string, reference: { path: string; name: string }): Promise<{ policyArn: string; policyId: string; versionId: string; document: string } | undefined> {
    const policy = await this.deps.read.customerPolicies.findPolicyByName(accountId, reference.name);
    if (!policy || policy.path !== reference.path) return undefined;
    const version = await this.deps.read.customerPolicies.findVersion(policy.policyArn, policy.defaultVersionId);
    return version && { policyArn: policy.policyArn, policyId: policy.policyId, versionId: version.versionId, document: version.document };
  }

  /** A policy of this account, its row held until the transaction ends: version changes of one policy run one at a time. */
  private async lock(s: Pick<Stores, 'customerPolicies'>, accountId: string, policyArn: string): Promise<CustomerPolicyRecord> {
    return ownPolicy(await s.customerPolicies.lockPolicy(policyArn, this.deps.clock.now()), accountId, policyArn);
  }

  /** A policy of this account (another account's ARN is as missing as an unknown one). */
  private async require(s: Pick<Stores, 'customerPolicies'>, accountId: string, policyArn: string): Promise<CustomerPolicyRecord> {
    return ownPolicy(await s.customerPolicies.findPolicy(policyArn), accountId, policyArn);
  }
}
