// Permission sets and what they hold: session settings, one inline policy, AWS managed and
// customer-managed policies (at most 20 together), a permissions boundary and tags.

import { isDeepStrictEqual } from 'node:util';
import { audited } from '../audit/index.js';
import { describeErrors, findManagedPolicy, validatePolicy } from '../policy/index.js';
import type { RequestContext } from '../shared/context.js';
import { invalidArgument, notFound, quotaExceeded } from '../shared/errors.js';
import { newPermissionSetId } from '../shared/ids.js';
import type { Page } from '../shared/pagination.js';
import type { Tag } from '../shared/tags.js';
import type { AccessDeps, AccessStores } from './access-deps.js';
import type {
  AttachedPolicy,
  CustomerManagedPolicyReference,
  PermissionSetChange,
  PermissionSetRecord,
  PermissionsBoundary,
} from './access-store.js';
import { pageThrough, type PageRequest } from './paging.js';
import { checkSessionDuration } from './session-duration.js';

/** AWS: managed and customer-managed policies together, per permission set. */
const MAX_ATTACHED_POLICIES = 20;
const MAX_INLINE_POLICY_CHARS = 32_768;
const MAX_TAGS = 50;
const DEFAULT_SESSION_DURATION = 'PT1H';

export interface PermissionSetTarget {
  instanceArn: string;
  permissionSetArn: string;
}

export interface CreatePermissionSetInput {
  instanceArn: string;
  name: string;
  description?: string;
  sessionDuration?: string;
  relayState?: string;
  tags?: Tag[];
}

/** Absent leaves a setting as it is; a null description or relay state removes it. */
export type UpdatePermissionSetInput = PermissionSetTarget & { description?: string | null; sessionDuration?: string; relayState?: string | null };

const permissionSetNotFound = (permissionSetArn: string) =>
  notFound('access.permission_set_not_found', `Permission set ${permissionSetArn} does not exist.`, {
    resourceType: 'PERMISSION_SET',
    resourceId: permissionSetArn,
  });

const customerPolicyRef = (p: CustomerManagedPolicyReference) => `${p.path}${p.name}`;

export class PermissionSetService {
  constructor(private readonly deps: AccessDeps) {}

  /**
   * The permission set, read through `s` (a transaction's stores, by default the read stores).
   * An InstanceArn, when given (TagResource may omit it), must name this instance.
   */
  async require(target: { instanceArn?: string; permissionSetArn: string }, s: Pick<AccessStores, 'access'> = this.deps.read): Promise<PermissionSetRecord> {
    if (target.instanceArn !== undefined) await this.deps.instance.requireArn(target.instanceArn);
    const ps = await s.access.findPermissionSet(target.permissionSetArn);
    if (!ps) throw permissionSetNotFound(target.permissionSetArn);
    return ps;
  }

  async create(ctx: RequestContext, input: CreatePermissionSetInput): Promise<PermissionSetRecord> {
    return this.change(
      ctx,
      'CreatePermissionSet',
      input,
      async (s) => {
        const instance = await this.deps.instance.requireArn(input.instanceArn);
        const record: PermissionSetRecord = {
          permissionSetArn: `arn:aws:sso:::permissionSet/${instance.instanceId}/${newPermissionSetId(this.deps.ids)}`,
          name: input.name,
          description: input.description ?? null,
          sessionDuration: checkSessionDuration(input.sessionDuration ?? DEFAULT_SESSION_DURATION),
          relayState: input.relayState ?? null,
          inlinePolicy: null,
          permissionsBoundary: null,
          version: 1,
          createdAt: this.deps.clock.now(),
        };
        await s.access.insertPermissionSet(record);
        if (input.tags?.length) await putTags(s, record.permissionSetArn, input.tags);
        return record;
      },
      (r) => ({ permissionSet: { permissionSetArn: r.permissionSetArn, name: r.name } }),
    );
  }

  describe(target: PermissionSetTarget): Promise<PermissionSetRecord> {
    return this.require(target);
  }

  async count(instanceArn: string): Promise<number> {
    await this.deps.instance.requireArn(instanceArn);
    return this.deps.read.access.countPermissionSets();
  }

  async list(instanceArn: string, page: PageRequest): Promise<Page<string>> {
    await this.deps.instance.requireArn(instanceArn);
    return pageThrough(page, ['string'], (slice) => this.deps.read.access.listPermissionSetArns(slice), (arn) => [arn]);
  }

  async update(ctx: RequestContext, input: UpdatePermissionSetInput): Promise<void> {
    await this.changeSettings(ctx, 'UpdatePermissionSet', input, () => ({
      ...(input.description !== undefined ? { description: input.description } : {}),
      ...(input.sessionDuration !== undefined ? { sessionDuration: checkSessionDuration(input.sessionDuration) } : {}),
      ...(input.relayState !== undefined ? { relayState: input.relayState } : {}),
    }));
  }

  async delete(ctx: RequestContext, input: PermissionSetTarget): Promise<void> {
    await this.change(ctx, 'DeletePermissionSet', input, async (s) => {
      await this.require(input, s);
      await s.access.deletePermissionSet(input.permissionSetArn);
      await s.tags.deleteAllTags(input.permissionSetArn);
    });
  }

  // ---- inline policy ----

  async putInlinePolicy(ctx: RequestContext, input: PermissionSetTarget & { inlinePolicy: string }): Promise<void> {
    await this.changeSettings(ctx, 'PutInlinePolicyToPermissionSet', input, async () => ({ inlinePolicy: await checkInlinePolicy(input.inlinePolicy) }));
  }

  /** The inline policy, or '' when there is none (as AWS answers). */
  async getInlinePolicy(target: PermissionSetTarget): Promise<string> {
    return (await this.require(target)).inlinePolicy ?? '';
  }

  async deleteInlinePolicy(ctx: RequestContext, input: PermissionSetTarget): Promise<void> {
    await this.changeSettings(ctx, 'DeleteInlinePolicyFromPermissionSet', input, () => ({ inlinePolicy: null }));
  }

  // ---- managed and customer-managed policies ----

  async attachManagedPolicy(ctx: RequestContext, input: PermissionSetTarget & { managedPolicyArn: string }): Promise<void> {
    await this.attach(ctx, 'AttachManagedPolicyToPermissionSet', input, async () => {
      const policy = await requireManagedPolicy(input.managedPolicyArn);
      return { kind: 'AWS', ref: policy.arn, name: policy.name, path: policy.path };
    });
  }

  async detachManagedPolicy(ctx: RequestContext, input: PermissionSetTarget & { managedPolicyArn: string }): Promise<void> {
    await this.detach(ctx, 'DetachManagedPolicyFromPermissionSet', input, 'AWS', input.managedPolicyArn);
  }

  async listManagedPolicies(target: PermissionSetTarget, page: PageRequest): Promise<Page<AttachedPolicy>> {
    return this.listAttached(target, 'AWS', page);
  }

  async attachCustomerManagedPolicy(
    ctx: RequestContext,
    input: PermissionSetTarget & { customerManagedPolicyReference: CustomerManagedPolicyReference },
  ): Promise<void> {
    const ref = input.customerManagedPolicyReference;
    await this.attach(ctx, 'AttachCustomerManagedPolicyReferenceToPermissionSet', input, () =>
      Promise.resolve({ kind: 'CUSTOMER', ref: customerPolicyRef(ref), name: ref.name, path: ref.path }),
    );
  }

  async detachCustomerManagedPolicy(
    ctx: RequestContext,
    input: PermissionSetTarget & { customerManagedPolicyReference: CustomerManagedPolicyReference },
  ): Promise<void> {
    await this.detach(ctx, 'DetachCustomerManagedPolicyReferenceFromPermissionSet', input, 'CUSTOMER', customerPolicyRef(input.customerManagedPolicyReference));
  }

  async listCustomerManagedPolicies(target: PermissionSetTarget, page: PageRequest): Promise<Page<AttachedPolicy>> {
    return this.listAttached(target, 'CUSTOMER', page);
  }

  // ---- permissions boundary ----

  async putPermissionsBoundary(ctx: RequestContext, input: PermissionSetTarget & { permissionsBoundary: PermissionsBoundary }): Promise<void> {
    await this.changeSettings(ctx, 'PutPermissionsBoundaryToPermissionSet', input, async () => {
      const b = input.permissionsBoundary;
      if ('managedPolicyArn' in b) await requireManagedPolicy(b.managedPolicyArn);
      return { permissionsBoundary: b };
    });
  }

  async getPermissionsBoundary(target: PermissionSetTarget): Promise<PermissionsBoundary> {
    const ps = await this.require(target);
    if (!ps.permissionsBoundary) {
      throw notFound('access.permissions_boundary_not_found', `Permission set ${target.permissionSetArn} has no permissions boundary.`, {
        resourceType: 'PERMISSIONS_BOUNDARY',
        resourceId: target.permissionSetArn,
      });
    }
    return ps.permissionsBoundary;
  }

  async deletePermissionsBoundary(ctx: RequestContext, input: PermissionSetTarget): Promise<void> {
    await this.changeSettings(ctx, 'DeletePermissionsBoundaryFromPermissionSet', input, () => ({ permissionsBoundary: null }));
  }

  // ---- tags ----

  async tagResource(ctx: RequestContext, input: { instanceArn?: string; resourceArn: string; tags: Tag[] }): Promise<void> {
    await this.change(ctx, 'TagResource', input, async (s) => {
      await this.require({ instanceArn: input.instanceArn, permissionSetArn: input.resourceArn }, s);
      await putTags(s, input.resourceArn, input.tags);
    });
  }

  async untagResource(ctx: RequestContext, input: { instanceArn?: string; resourceArn: string; tagKeys: string[] }): Promise<void> {
    await this.change(ctx, 'UntagResource', input, async (s) => {
      await this.require({ instanceArn: input.instanceArn, permissionSetArn: input.resourceArn }, s);
      await s.tags.removeTags(input.resourceArn, input.tagKeys);
    });
  }

  async listTags(input: { instanceArn?: string; resourceArn: string }): Promise<Tag[]> {
    await this.require({ instanceArn: input.instanceArn, permissionSetArn: input.resourceArn });
    return this.deps.read.tags.listTags(input.resourceArn);
  }

  // ---- helpers ----

  private change<T>(
    ctx: RequestContext,
    eventName: string,
    input: unknown,
    change: (s: AccessStores) => Promise<T>,
    responseElements?: (r: T) => unknown,
  ): Promise<T> {
    return audited(this.deps, ctx, { eventName, requestParameters: input, responseElements }, change);
  }

  /** Change the permission set's own columns (and so its version). */
  private async changeSettings(
    ctx: RequestContext,
    eventName: string,
    input: PermissionSetTarget,
    change: () => PermissionSetChange | Promise<PermissionSetChange>,
  ): Promise<void> {
    await this.change(ctx, eventName, input, async (s) => {
      await this.deps.instance.requireArn(input.instanceArn);
      const wanted = await change();
      const current = await s.access.findPermissionSet(input.permissionSetArn);
      if (!current) throw permissionSetNotFound(input.permissionSetArn);
      // What is already so changes nothing: no new version, so no account is marked as needing the
      // permission set provisioned again (deleting a boundary there is none, an empty update).
      if (Object.entries(wanted).every(([k, v]) => isDeepStrictEqual(current[k as keyof PermissionSetChange] ?? null, v ?? null))) return;
      if (!(await s.access.updatePermissionSet(input.permissionSetArn, wanted))) throw permissionSetNotFound(input.permissionSetArn);
    });
  }

  private async attach(ctx: RequestContext, eventName: string, input: PermissionSetTarget, policyOf: () => Promise<AttachedPolicy>): Promise<void> {
    await this.change(ctx, eventName, input, async (s) => {
      const policy = await policyOf();
      await this.require(input, s);
      if (!(await s.access.attachPolicy(input.permissionSetArn, policy, this.deps.clock.now(), MAX_ATTACHED_POLICIES))) {
        throw quotaExceeded(
          'access.too_many_policies',
          `A permission set can have at most ${MAX_ATTACHED_POLICIES} managed and customer-managed policies together.`,
        );
      }
    });
  }

  private async detach(ctx: RequestContext, eventName: string, input: PermissionSetTarget, kind: AttachedPolicy['kind'], ref: string): Promise<void> {
    await this.change(ctx, eventName, input, async (s) => {
      await this.require(input, s);
      if (!(await s.access.detachPolicy(input.permissionSetArn, kind, ref))) {
        throw notFound('access.policy_not_attached', `The policy ${ref} is not attached to the permission set.`, {
          resourceType: kind === 'AWS' ? 'MANAGED_POLICY' : 'CUSTOMER_MANAGED_POLICY',
          resourceId: ref,
        });
      }
    });
  }

  private async listAttached(target: PermissionSetTarget, kind: AttachedPolicy['kind'], page: PageRequest): Promise<Page<AttachedPolicy>> {
    await this.require(target);
    return pageThrough(
      page,
      ['string'],
      (slice) => this.deps.read.access.listPolicies(target.permissionSetArn, kind, slice),
      (p) => [p.ref],
    );
  }
}

async function requireManagedPolicy(arn: string) {
  const policy = await findManagedPolicy(arn);
  if (!policy) throw invalidArgument('access.unknown_managed_policy', `Policy ${arn} does not exist or is not attachable.`);
  // IAM keeps service-linked-role policies for service-linked roles.
  if (policy.path === '/aws-service-role/') {
    throw invalidArgument('access.service_role_policy', `Policy ${arn} is a service role policy and cannot be attached to a permission set.`);
  }
  return policy;
}

/** Validated like Access Analyzer's ValidatePolicy: an ERROR finding refuses the write; warnings do not. */
async function checkInlinePolicy(text: string): Promise<string> {
  if (text.length > MAX_INLINE_POLICY_CHARS) {
    throw invalidArgument('access.inline_policy_too_long', `The inline policy has ${text.length} characters; at most ${MAX_INLINE_POLICY_CHARS} are allowed.`);
  }
  const errors = describeErrors(await validatePolicy(text));
  if (errors !== undefined) throw invalidArgument('access.invalid_inline_policy', `The inline policy is not a valid IAM policy: ${errors}`);
  return text;
}

async function putTags(s: AccessStores, resourceArn: string, tags: Tag[]): Promise<void> {
  const keys = new Set(tags.map((t) => t.Key));
  if (keys.size !== tags.length) throw invalidArgument('access.duplicate_tag_keys', 'A tag key appears more than once in the request.');
  if ([...keys].some((k) => k.toLowerCase().startsWith('aws:'))) {
    throw invalidArgument('access.reserved_tag_key', 'Tag keys starting with aws: are reserved for AWS use.');
  }
  await s.tags.putTags(resourceArn, tags);
  if ((await s.tags.listTags(resourceArn)).length > MAX_TAGS) {
    throw quotaExceeded('access.too_many_tags', `A resource can have at most ${MAX_TAGS} tags.`);
  }
}
