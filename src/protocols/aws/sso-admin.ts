// The AWS sso-admin API (awsJson1_1, target SWBExternalService.*): translation only; rules live in the domain.

import { z } from 'zod';
import type {
  AccessRequestRecord,
  AccountAssignmentRecord,
  AttachedPolicy,
  CustomerManagedPolicyReference,
  PermissionSetRecord,
  PermissionsBoundary,
  RequestKind,
} from '../../access/index.js';
import type { InstanceRecord } from '../../instance/index.js';
import type { Registry } from '../../registry.js';
import type { Page } from '../../shared/pagination.js';
import { compact, epochSeconds, op, type AwsJsonService, type Operation } from './operation.js';

// ---- wire shapes, with the service model's constraints ----

const PARTITION = '(aws|aws-us-gov|aws-cn|aws-iso|aws-iso-b)';
const instanceArn = z.string().min(10).max(1224).regex(new RegExp(`^arn:${PARTITION}:sso:::instance/(sso)?ins-[a-zA-Z0-9-.]{16}$`));
const permissionSetArn = z
  .string()
  .min(10)
  .max(1224)
  .regex(new RegExp(`^arn:${PARTITION}:sso:::permissionSet/(sso)?ins-[a-zA-Z0-9-.]{16}/ps-[a-zA-Z0-9-./]{16}$`));
const accountId = z.string().length(12).regex(/^\d{12}$/);
const principalId = z
  .string()
  .min(1)
  .max(47)
  .regex(/^([0-9a-f]{10}-|)[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/);
const principalType = z.enum(['USER', 'GROUP']);
const requestId = z
  .string()
  .length(36)
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
const nextToken = z.string().max(2048).regex(/^[-a-zA-Z0-9+=/_]*$/).optional();
const maxResults = z.number().int().min(1).max(100).optional();
const TAG_TEXT = /^([\p{L}\p{Z}\p{N}_.:/=+\-@]*)$/u;
const tagKey = z.string().min(1).max(128).regex(TAG_TEXT);
const tag = z.strictObject({ Key: tagKey, Value: z.string().min(0).max(256).regex(TAG_TEXT) });
const name = z.string().min(1).max(32).regex(/^[\w+=,.@-]+$/);
const description = z.string().min(1).max(700).regex(/^[\t\n\r\u0020-\u007E\u00A0-\u00FF]*$/);
const sessionDuration = z
  .string()
  .min(1)
  .max(100)
  .regex(/^(-?)P(?=\d|T\d)(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)([DW]))?(?:T(?:(\d+)H)?(?:(\d+)M)?(?:(\d+(?:\.\d+)?)S)?)?$/);
const relayState = z.string().min(1).max(240).regex(/^[a-zA-Z0-9&$@#\\/%?=~\-_'"|!:,.;*+[\] (){}]+$/);
const inlinePolicy = z.string().min(1).max(32_768).regex(/^[\t\n\r\u0020-\u00FF]+$/);
const managedPolicyArn = z
  .string()
  .min(20)
  .max(2048)
  .regex(new RegExp(`^arn:${PARTITION}:iam::aws:policy/[\\p{L}\\p{M}\\p{Z}\\p{S}\\p{N}\\p{P}]+$`, 'u'));
const customerManagedPolicyReference = z.strictObject({
  Name: z.string().min(1).max(128).regex(/^[\w+=,.@-]+$/),
  Path: z.string().min(1).max(512).regex(/^((\/[A-Za-z0-9.,+@=_-]+)*)\/$/).optional(),
});
const operationStatusFilter = z.strictObject({ Status: z.enum(['IN_PROGRESS', 'FAILED', 'SUCCEEDED']).optional() }).optional();
const provisioningStatus = z.enum(['LATEST_PERMISSION_SET_PROVISIONED', 'LATEST_PERMISSION_SET_NOT_PROVISIONED']).optional();
const accessControlAttributes = z.strictObject({
  AccessControlAttributes: z
    .array(
      z.strictObject({
        Key: z.string().min(1).max(128).regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@]+$/u),
        Value: z.strictObject({
          Source: z
            .array(z.string().min(0).max(256).regex(/^[\p{L}\p{Z}\p{N}_.:/=+\-@[\]{}$\\"]*$/u))
            .min(1)
            .max(1),
        }),
      }),
    )
    .min(0)
    .max(50),
});

const target = { InstanceArn: instanceArn, PermissionSetArn: permissionSetArn };
const paged = { MaxResults: maxResults, NextToken: nextToken };
const assignment = {
  InstanceArn: instanceArn,
  TargetId: accountId,
  TargetType: z.enum(['AWS_ACCOUNT']),
  PermissionSetArn: permissionSetArn,
  PrincipalType: principalType,
  PrincipalId: principalId,
};

// ---- wire ⇄ domain ----

const describeInstance = (i: InstanceRecord) =>
  compact({
    InstanceArn: i.instanceArn,
    IdentityStoreId: i.identityStoreId,
    OwnerAccountId: i.ownerAccountId,
    Name: i.name,
    CreatedDate: epochSeconds(i.createdAt),
    Status: i.status,
  });

const permissionSetOut = (ps: PermissionSetRecord) =>
  compact({
    Name: ps.name,
    PermissionSetArn: ps.permissionSetArn,
    Description: ps.description,
    CreatedDate: epochSeconds(ps.createdAt),
    SessionDuration: ps.sessionDuration,
    RelayState: ps.relayState,
  });

const assignmentStatusOut = (r: AccessRequestRecord) =>
  compact({
    Status: r.status,
    RequestId: r.requestId,
    FailureReason: r.failureReason,
    TargetId: r.targetId,
    TargetType: 'AWS_ACCOUNT',
    PermissionSetArn: r.permissionSetArn,
    PrincipalType: r.principalType,
    PrincipalId: r.principalId,
    CreatedDate: epochSeconds(r.createdAt),
  });

const provisioningStatusOut = (r: AccessRequestRecord) =>
  compact({
    Status: r.status,
    RequestId: r.requestId,
    AccountId: r.targetId,
    PermissionSetArn: r.permissionSetArn,
    FailureReason: r.failureReason,
    CreatedDate: epochSeconds(r.createdAt),
  });

const statusMetadataOut = (r: AccessRequestRecord) => ({ Status: r.status, RequestId: r.requestId, CreatedDate: epochSeconds(r.createdAt) });

const assignmentOut = (a: AccountAssignmentRecord) => ({
  AccountId: a.accountId,
  PermissionSetArn: a.permissionSetArn,
  PrincipalType: a.principalType,
  PrincipalId: a.principalId,
});

const customerPolicyIn = (r: z.infer<typeof customerManagedPolicyReference>): CustomerManagedPolicyReference => ({ name: r.Name, path: r.Path ?? '/' });
const customerPolicyOut = (r: CustomerManagedPolicyReference) => ({ Name: r.name, Path: r.path });

const boundaryOut = (b: PermissionsBoundary) =>
  'managedPolicyArn' in b ? { ManagedPolicyArn: b.managedPolicyArn } : { CustomerManagedPolicyReference: customerPolicyOut(b.customerManagedPolicy) };

const pageRequest = (i: { MaxResults?: number; NextToken?: string }) => ({ maxResults: i.MaxResults, nextToken: i.NextToken });
const listOut = <T>(member: string, page: Page<T>, map: (item: T) => unknown) => compact({ [member]: page.items.map(map), NextToken: page.nextToken });

export function ssoAdminApi(reg: Registry): AwsJsonService {
  const ps = reg.access.permissionSets;
  const assignments = reg.access.assignments;

  /** Describe…Status and List…Status for one kind of asynchronous request. */
  const requestStatusOps = (kind: RequestKind, idMember: string, statusMember: string, listMember: string, out: (r: AccessRequestRecord) => unknown) => ({
    describe: op(
      z.strictObject({ InstanceArn: instanceArn, [idMember]: requestId }),
      async (i: Record<string, string>) => ({ [statusMember]: out(await assignments.describeRequest(kind, i.InstanceArn!, i[idMember]!)) }),
      { readOnly: true },
    ),
    list: op(
      z.strictObject({ InstanceArn: instanceArn, Filter: operationStatusFilter, ...paged }),
      async (i) => listOut(listMember, await assignments.listRequests(kind, i.InstanceArn, i.Filter?.Status, pageRequest(i)), statusMetadataOut),
      { readOnly: true },
    ),
  });
  const creation = requestStatusOps('CREATE_ASSIGNMENT', 'AccountAssignmentCreationRequestId', 'AccountAssignmentCreationStatus', 'AccountAssignmentsCreationStatus', assignmentStatusOut);
  const deletion = requestStatusOps('DELETE_ASSIGNMENT', 'AccountAssignmentDeletionRequestId', 'AccountAssignmentDeletionStatus', 'AccountAssignmentsDeletionStatus', assignmentStatusOut);
  const provisioning = requestStatusOps('PROVISION', 'ProvisionPermissionSetRequestId', 'PermissionSetProvisioningStatus', 'PermissionSetsProvisioningStatus', provisioningStatusOut);

  const operations: Record<string, Operation> = {
    ListInstances: op(
      z.strictObject({ MaxResults: z.number().int().min(1).max(100).optional(), NextToken: z.string().min(1).max(2048).optional() }),
      async () => {
        const i = await reg.instance.get();
        return { Instances: [describeInstance(i)] };
      },
      { readOnly: true },
    ),
    DescribeInstance: op(
      z.strictObject({ InstanceArn: instanceArn }),
      async (input) => describeInstance(await reg.instance.requireArn(input.InstanceArn)),
      { readOnly: true },
    ),
    UpdateInstance: op(
      z.strictObject({
        InstanceArn: instanceArn,
        Name: z.string().min(0).max(255).regex(/^[\w+=,.@-]+$/).optional(),
        // Atrium's encryption is its key file's (docs/configuration.md), not a per-instance setting.
        EncryptionConfiguration: z
          .unknown()
          .optional()
          .refine((v) => v === undefined, 'EncryptionConfiguration is not supported: Atrium encrypts under the key file it is configured with (keyFile).'),
      }),
      async (input, ctx) => {
        // A Name left out leaves the name as it is.
        await reg.instance.updateName(ctx, input.InstanceArn, input.Name);
        return {};
      },
    ),

    // ---- permission sets ----
    CreatePermissionSet: op(
      z.strictObject({
        InstanceArn: instanceArn,
        Name: name,
        Description: description.optional(),
        SessionDuration: sessionDuration.optional(),
        RelayState: relayState.optional(),
        Tags: z.array(tag).max(50).optional(),
      }),
      async (i, ctx) => {
        const created = await ps.create(ctx, {
          instanceArn: i.InstanceArn,
          name: i.Name,
          description: i.Description,
          sessionDuration: i.SessionDuration,
          relayState: i.RelayState,
          tags: i.Tags,
        });
        return { PermissionSet: permissionSetOut(created) };
      },
    ),
    DescribePermissionSet: op(
      z.strictObject(target),
      async (i) => ({ PermissionSet: permissionSetOut(await ps.describe(targetOf(i))) }),
      { readOnly: true },
    ),
    // Beyond AWS (whose API refuses an empty one, and cannot remove either): an empty Description
    // or RelayState removes it, as clearing the field in the console means.
    UpdatePermissionSet: op(
      z.strictObject({ ...target, Description: description.or(z.literal('')).optional(), SessionDuration: sessionDuration.optional(), RelayState: relayState.or(z.literal('')).optional() }),
      async (i, ctx) => {
        const removedIfEmpty = (v: string | undefined) => (v === '' ? null : v);
        await ps.update(ctx, { ...targetOf(i), description: removedIfEmpty(i.Description), sessionDuration: i.SessionDuration, relayState: removedIfEmpty(i.RelayState) });
        return {};
      },
    ),
    DeletePermissionSet: op(z.strictObject(target), async (i, ctx) => {
      await ps.delete(ctx, targetOf(i));
      return {};
    }),
    ListPermissionSets: op(
      z.strictObject({ InstanceArn: instanceArn, ...paged }),
      async (i) => listOut('PermissionSets', await ps.list(i.InstanceArn, pageRequest(i)), (arn) => arn),
      { readOnly: true },
    ),

    // ---- inline policy ----
    PutInlinePolicyToPermissionSet: op(z.strictObject({ ...target, InlinePolicy: inlinePolicy }), async (i, ctx) => {
      await ps.putInlinePolicy(ctx, { ...targetOf(i), inlinePolicy: i.InlinePolicy });
      return {};
    }),
    GetInlinePolicyForPermissionSet: op(
      z.strictObject(target),
      async (i) => ({ InlinePolicy: await ps.getInlinePolicy(targetOf(i)) }),
      { readOnly: true },
    ),
    DeleteInlinePolicyFromPermissionSet: op(z.strictObject(target), async (i, ctx) => {
      await ps.deleteInlinePolicy(ctx, targetOf(i));
      return {};
    }),

    // ---- managed policies ----
    AttachManagedPolicyToPermissionSet: op(z.strictObject({ ...target, ManagedPolicyArn: managedPolicyArn }), async (i, ctx) => {
      await ps.attachManagedPolicy(ctx, { ...targetOf(i), managedPolicyArn: i.ManagedPolicyArn });
      return {};
    }),
    DetachManagedPolicyFromPermissionSet: op(z.strictObject({ ...target, ManagedPolicyArn: managedPolicyArn }), async (i, ctx) => {
      await ps.detachManagedPolicy(ctx, { ...targetOf(i), managedPolicyArn: i.ManagedPolicyArn });
      return {};
    }),
    ListManagedPoliciesInPermissionSet: op(
      z.strictObject({ ...target, ...paged }),
      async (i) =>
        listOut('AttachedManagedPolicies', await ps.listManagedPolicies(targetOf(i), pageRequest(i)), (p: AttachedPolicy) => ({ Name: p.name, Arn: p.ref })),
      { readOnly: true },
    ),

    // ---- customer-managed policy references ----
    AttachCustomerManagedPolicyReferenceToPermissionSet: op(
      z.strictObject({ ...target, CustomerManagedPolicyReference: customerManagedPolicyReference }),
      async (i, ctx) => {
        await ps.attachCustomerManagedPolicy(ctx, { ...targetOf(i), customerManagedPolicyReference: customerPolicyIn(i.CustomerManagedPolicyReference) });
        return {};
      },
    ),
    DetachCustomerManagedPolicyReferenceFromPermissionSet: op(
      z.strictObject({ ...target, CustomerManagedPolicyReference: customerManagedPolicyReference }),
      async (i, ctx) => {
        await ps.detachCustomerManagedPolicy(ctx, { ...targetOf(i), customerManagedPolicyReference: customerPolicyIn(i.CustomerManagedPolicyReference) });
        return {};
      },
    ),
    ListCustomerManagedPolicyReferencesInPermissionSet: op(
      z.strictObject({ ...target, ...paged }),
      async (i) => listOut('CustomerManagedPolicyReferences', await ps.listCustomerManagedPolicies(targetOf(i), pageRequest(i)), customerPolicyOut),
      { readOnly: true },
    ),

    // ---- permissions boundary ----
    PutPermissionsBoundaryToPermissionSet: op(
      z.strictObject({
        ...target,
        PermissionsBoundary: z
          .strictObject({ CustomerManagedPolicyReference: customerManagedPolicyReference.optional(), ManagedPolicyArn: managedPolicyArn.optional() })
          .refine((b) => (b.CustomerManagedPolicyReference === undefined) !== (b.ManagedPolicyArn === undefined), {
            message: 'Specify exactly one of CustomerManagedPolicyReference and ManagedPolicyArn',
          }),
      }),
      async (i, ctx) => {
        const b = i.PermissionsBoundary;
        const boundary: PermissionsBoundary = b.ManagedPolicyArn
          ? { managedPolicyArn: b.ManagedPolicyArn }
          : { customerManagedPolicy: customerPolicyIn(b.CustomerManagedPolicyReference!) };
        await ps.putPermissionsBoundary(ctx, { ...targetOf(i), permissionsBoundary: boundary });
        return {};
      },
    ),
    GetPermissionsBoundaryForPermissionSet: op(
      z.strictObject(target),
      async (i) => ({ PermissionsBoundary: boundaryOut(await ps.getPermissionsBoundary(targetOf(i))) }),
      { readOnly: true },
    ),
    DeletePermissionsBoundaryFromPermissionSet: op(z.strictObject(target), async (i, ctx) => {
      await ps.deletePermissionsBoundary(ctx, targetOf(i));
      return {};
    }),

    // ---- tags ----
    TagResource: op(
      z.strictObject({ InstanceArn: instanceArn.optional(), ResourceArn: permissionSetArn, Tags: z.array(tag).max(50) }),
      async (i, ctx) => {
        await ps.tagResource(ctx, { instanceArn: i.InstanceArn, resourceArn: i.ResourceArn, tags: i.Tags });
        return {};
      },
    ),
    UntagResource: op(
      z.strictObject({ InstanceArn: instanceArn.optional(), ResourceArn: permissionSetArn, TagKeys: z.array(tagKey).min(1).max(50) }),
      async (i, ctx) => {
        await ps.untagResource(ctx, { instanceArn: i.InstanceArn, resourceArn: i.ResourceArn, tagKeys: i.TagKeys });
        return {};
      },
    ),
    ListTagsForResource: op(
      z.strictObject({ InstanceArn: instanceArn.optional(), ResourceArn: permissionSetArn, NextToken: nextToken }),
      async (i) => ({ Tags: await ps.listTags({ instanceArn: i.InstanceArn, resourceArn: i.ResourceArn }) }),
      { readOnly: true },
    ),

    // ---- account assignments ----
    CreateAccountAssignment: op(z.strictObject(assignment), async (i, ctx) => ({
      AccountAssignmentCreationStatus: assignmentStatusOut(await assignments.createAccountAssignment(ctx, assignmentOf(i))),
    })),
    DeleteAccountAssignment: op(z.strictObject(assignment), async (i, ctx) => ({
      AccountAssignmentDeletionStatus: assignmentStatusOut(await assignments.deleteAccountAssignment(ctx, assignmentOf(i))),
    })),
    DescribeAccountAssignmentCreationStatus: creation.describe,
    ListAccountAssignmentCreationStatus: creation.list,
    DescribeAccountAssignmentDeletionStatus: deletion.describe,
    ListAccountAssignmentDeletionStatus: deletion.list,
    ListAccountAssignments: op(
      z.strictObject({ InstanceArn: instanceArn, AccountId: accountId, PermissionSetArn: permissionSetArn, ...paged }),
      async (i) =>
        listOut(
          'AccountAssignments',
          await assignments.listAccountAssignments({ instanceArn: i.InstanceArn, accountId: i.AccountId, permissionSetArn: i.PermissionSetArn }, pageRequest(i)),
          assignmentOut,
        ),
      { readOnly: true },
    ),
    ListAccountAssignmentsForPrincipal: op(
      z.strictObject({
        InstanceArn: instanceArn,
        PrincipalId: principalId,
        PrincipalType: principalType,
        Filter: z.strictObject({ AccountId: accountId.optional() }).optional(),
        ...paged,
      }),
      async (i) =>
        listOut(
          'AccountAssignments',
          await assignments.listAccountAssignmentsForPrincipal(
            { instanceArn: i.InstanceArn, principalType: i.PrincipalType, principalId: i.PrincipalId, accountId: i.Filter?.AccountId },
            pageRequest(i),
          ),
          assignmentOut,
        ),
      { readOnly: true },
    ),

    // ---- provisioning ----
    ProvisionPermissionSet: op(
      z.strictObject({ ...target, TargetId: accountId.optional(), TargetType: z.enum(['AWS_ACCOUNT', 'ALL_PROVISIONED_ACCOUNTS']) }),
      async (i, ctx) => ({
        PermissionSetProvisioningStatus: provisioningStatusOut(
          await assignments.provisionPermissionSet(ctx, { ...targetOf(i), targetType: i.TargetType, targetId: i.TargetId }),
        ),
      }),
    ),
    DescribePermissionSetProvisioningStatus: provisioning.describe,
    ListPermissionSetProvisioningStatus: provisioning.list,
    ListAccountsForProvisionedPermissionSet: op(
      z.strictObject({ ...target, ProvisioningStatus: provisioningStatus, ...paged }),
      async (i) =>
        listOut(
          'AccountIds',
          await assignments.listAccountsForProvisionedPermissionSet({ ...targetOf(i), provisioningStatus: i.ProvisioningStatus }, pageRequest(i)),
          (id) => id,
        ),
      { readOnly: true },
    ),
    ListPermissionSetsProvisionedToAccount: op(
      z.strictObject({ InstanceArn: instanceArn, AccountId: accountId, ProvisioningStatus: provisioningStatus, ...paged }),
      async (i) =>
        listOut(
          'PermissionSets',
          await assignments.listPermissionSetsProvisionedToAccount(
            { instanceArn: i.InstanceArn, accountId: i.AccountId, provisioningStatus: i.ProvisioningStatus },
            pageRequest(i),
          ),
          (arn) => arn,
        ),
      { readOnly: true },
    ),

    // ---- access control attributes ----
    CreateInstanceAccessControlAttributeConfiguration: op(
      z.strictObject({ InstanceArn: instanceArn, InstanceAccessControlAttributeConfiguration: accessControlAttributes }),
      async (i, ctx) => {
        await reg.access.createAccessControlAttributes(ctx, {
          instanceArn: i.InstanceArn,
          attributes: i.InstanceAccessControlAttributeConfiguration.AccessControlAttributes,
        });
        return {};
      },
    ),
    UpdateInstanceAccessControlAttributeConfiguration: op(
      z.strictObject({ InstanceArn: instanceArn, InstanceAccessControlAttributeConfiguration: accessControlAttributes }),
      async (i, ctx) => {
        await reg.access.updateAccessControlAttributes(ctx, {
          instanceArn: i.InstanceArn,
          attributes: i.InstanceAccessControlAttributeConfiguration.AccessControlAttributes,
        });
        return {};
      },
    ),
    DescribeInstanceAccessControlAttributeConfiguration: op(
      z.strictObject({ InstanceArn: instanceArn }),
      async (i) => {
        const c = await reg.access.describeAccessControlAttributes(i.InstanceArn);
        return { Status: c.status, StatusReason: c.statusReason, InstanceAccessControlAttributeConfiguration: { AccessControlAttributes: c.attributes } };
      },
      { readOnly: true },
    ),
    DeleteInstanceAccessControlAttributeConfiguration: op(z.strictObject({ InstanceArn: instanceArn }), async (i, ctx) => {
      await reg.access.deleteAccessControlAttributes(ctx, { instanceArn: i.InstanceArn });
      return {};
    }),
  };

  return { targetPrefix: 'SWBExternalService', signingNames: ['sso'], eventSource: 'sso.amazonaws.com', operations };
}

const targetOf = (i: { InstanceArn: string; PermissionSetArn: string }) => ({ instanceArn: i.InstanceArn, permissionSetArn: i.PermissionSetArn });

const assignmentOf = (i: { InstanceArn: string; TargetId: string; TargetType: 'AWS_ACCOUNT'; PermissionSetArn: string; PrincipalType: 'USER' | 'GROUP'; PrincipalId: string }) => ({
  instanceArn: i.InstanceArn,
  targetId: i.TargetId,
  targetType: i.TargetType,
  permissionSetArn: i.PermissionSetArn,
  principalType: i.PrincipalType,
  principalId: i.PrincipalId,
});
