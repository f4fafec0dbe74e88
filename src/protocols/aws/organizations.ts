// The AWS organizations API (awsJson1_1, target AWSOrganizationsV20161128.*): translation only; rules live in the domain.
// Organizations names its own exceptions (AccountNotFoundException …, all HTTP 400); errorOverride maps them.

import { z } from 'zod';
import type { Account, CreateAccountRequestRecord, OrganizationalUnit } from '../../organization/index.js';
import type { Registry } from '../../registry.js';
import type { DomainError } from '../../shared/errors.js';
import type { Page } from '../../shared/pagination.js';
import type { AwsError } from './errors.js';
import { compact, epochSeconds, op, type AwsJsonService } from './operation.js';

const PARENT_ID = /^(r-[0-9a-z]{4,32}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/;
const TAG_TEXT = /^[\p{L}\p{Z}\p{N}_.:/=+\-@]*$/u;

const parentId = z.string().max(100).regex(PARENT_ID);
const accountId = z.string().max(12).regex(/^\d{12}$/);
const ouId = z.string().max(68).regex(/^ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}$/);
const tagKey = z.string().min(1).max(128).regex(TAG_TEXT);
// At most 50 tags fit on a resource, so no request needs to carry more.
const tags = z.array(z.strictObject({ Key: tagKey, Value: z.string().max(256).regex(TAG_TEXT) })).max(50);
const page = { NextToken: z.string().max(100_000).optional(), MaxResults: z.number().int().min(1).max(20).optional() };
/** TaggableResourceId in the model (a root, an OU, an account or a policy id), anchored as a whole. */
const resourceId = z.string().max(130).regex(/^(r-[0-9a-z]{4,32}|\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32}|p-[0-9a-zA-Z_]{8,128}|rp-[0-9a-zA-Z_]{4,128})$/);

const pageRequest = (input: { NextToken?: string; MaxResults?: number }) => ({ nextToken: input.NextToken, maxResults: input.MaxResults });
const withToken = <T>(key: string, p: Page<T>, map: (item: T) => unknown) => compact({ [key]: p.items.map(map), NextToken: p.nextToken });

const account = (a: Account) => ({
  Id: a.accountId,
  Arn: a.arn,
  Email: a.email,
  Name: a.name,
  Status: a.status,
  State: a.status,
  JoinedMethod: a.joinedMethod,
  JoinedTimestamp: epochSeconds(a.joinedAt),
});
const organizationalUnit = (ou: OrganizationalUnit) => ({ Id: ou.ouId, Arn: ou.arn, Name: ou.name });
const createAccountStatus = (r: CreateAccountRequestRecord) =>
  compact({
    Id: r.requestId,
    AccountName: r.accountName,
    State: r.state,
    RequestedTimestamp: epochSeconds(r.requestedAt),
    CompletedTimestamp: r.completedAt === null ? null : epochSeconds(r.completedAt),
    AccountId: r.accountId,
    FailureReason: r.failureReason,
  });

/** Domain error code → Organizations exception name. */
const EXCEPTIONS: Record<string, string> = {
  'organization.not_in_use': 'AWSOrganizationsNotInUseException',
  'organization.already_exists': 'AlreadyInOrganizationException',
  'organization.account_not_found': 'AccountNotFoundException',
  'organization.ou_not_found': 'OrganizationalUnitNotFoundException',
  'organization.parent_not_found': 'ParentNotFoundException',
  'organization.child_not_found': 'ChildNotFoundException',
  'organization.target_not_found': 'TargetNotFoundException',
  'organization.create_account_status_not_found': 'CreateAccountStatusNotFoundException',
  'organization.source_parent_not_found': 'SourceParentNotFoundException',
  'organization.destination_parent_not_found': 'DestinationParentNotFoundException',
  'organization.duplicate_ou': 'DuplicateOrganizationalUnitException',
  'organization.duplicate_account': 'DuplicateAccountException',
  'organization.account_conflict': 'ConcurrentModificationException',
  'organization.concurrent_modification': 'ConcurrentModificationException',
  'organization.constraint_violation': 'ConstraintViolationException',
  'organization.invalid_input': 'InvalidInputException',
};

export function organizationsError(e: DomainError): AwsError | undefined {
  const type = EXCEPTIONS[e.code] ?? (e.kind === 'invalid_argument' ? 'InvalidInputException' : undefined);
  if (!type) return undefined;
  const reason = e.details.reason ?? (e.code === 'pagination.invalid_token' ? 'INVALID_NEXT_TOKEN' : undefined);
  const hasReason = type === 'InvalidInputException' || type === 'ConstraintViolationException';
  return { status: 400, type, message: e.message, fields: hasReason && reason ? { Reason: reason } : {} };
}

export function organizationsApi(reg: Registry): AwsJsonService {
  const org = reg.organization;
  return {
    targetPrefix: 'AWSOrganizationsV20161128',
    signingNames: ['organizations'],
    eventSource: 'organizations.amazonaws.com',
    personalFields: new Set(['email', 'accountname']),
    validationErrorType: 'InvalidInputException',
    errorOverride: organizationsError,
    operations: {
      DescribeOrganization: op(
        z.strictObject({}),
        async () => {
          const o = await org.describeOrganization();
          return {
            Organization: {
              Id: o.organizationId,
              Arn: o.arn,
              FeatureSet: o.featureSet,
              MasterAccountArn: o.managementAccountArn,
              MasterAccountId: o.managementAccountId,
              MasterAccountEmail: o.managementAccountEmail,
              AvailablePolicyTypes: [],
            },
          };
        },
        { readOnly: true },
      ),
      ListRoots: op(
        z.strictObject(page),
        async (input) => {
          const roots = await org.listRoots(pageRequest(input));
          return { Roots: roots.map((r) => ({ Id: r.id, Arn: r.arn, Name: r.name, PolicyTypes: [] })) };
        },
        { readOnly: true },
      ),
      CreateOrganizationalUnit: op(
        z.strictObject({ ParentId: parentId, Name: z.string().min(1).max(128), Tags: tags.optional() }),
        async (input, ctx) => ({
          OrganizationalUnit: organizationalUnit(
            await org.createOrganizationalUnit(ctx, { parentId: input.ParentId, name: input.Name, tags: input.Tags }),
          ),
        }),
      ),
      DescribeOrganizationalUnit: op(
        z.strictObject({ OrganizationalUnitId: ouId }),
        async (input) => ({ OrganizationalUnit: organizationalUnit(await org.describeOrganizationalUnit(input.OrganizationalUnitId)) }),
        { readOnly: true },
      ),
      ListOrganizationalUnitsForParent: op(
        z.strictObject({ ParentId: parentId, ...page }),
        async (input) =>
          withToken('OrganizationalUnits', await org.listOrganizationalUnitsForParent(input.ParentId, pageRequest(input)), organizationalUnit),
        { readOnly: true },
      ),
      CreateAccount: op(
        z.strictObject({
          Email: z.string().min(6).max(64).regex(/^[^\s@]+@[^\s@]+\.[^\s@]+$/),
          AccountName: z.string().min(1).max(50).regex(/^[\u0020-\u007E]+$/),
          RoleName: z.string().max(64).regex(/^[\w+=,.@-]{1,64}$/).optional(),
          IamUserAccessToBilling: z.enum(['ALLOW', 'DENY']).optional(),
          Tags: tags.optional(),
        }),
        async (input, ctx) => ({
          CreateAccountStatus: createAccountStatus(
            await org.createAccount(ctx, {
              email: input.Email,
              accountName: input.AccountName,
              roleName: input.RoleName,
              iamUserAccessToBilling: input.IamUserAccessToBilling,
              tags: input.Tags,
            }),
          ),
        }),
      ),
      DescribeCreateAccountStatus: op(
        z.strictObject({ CreateAccountRequestId: z.string().max(36).regex(/^car-[a-z0-9]{8,32}$/) }),
        async (input) => ({ CreateAccountStatus: createAccountStatus(await org.describeCreateAccountStatus(input.CreateAccountRequestId)) }),
        { readOnly: true },
      ),
      DescribeAccount: op(
        z.strictObject({ AccountId: accountId }),
        async (input) => ({ Account: account(await org.describeAccount(input.AccountId)) }),
        { readOnly: true },
      ),
      ListAccounts: op(
        z.strictObject(page),
        async (input) => withToken('Accounts', await org.listAccounts(pageRequest(input)), account),
        { readOnly: true },
      ),
      ListAccountsForParent: op(
        z.strictObject({ ParentId: parentId, ...page }),
        async (input) => withToken('Accounts', await org.listAccounts(pageRequest(input), input.ParentId), account),
        { readOnly: true },
      ),
      MoveAccount: op(
        z.strictObject({ AccountId: accountId, SourceParentId: parentId, DestinationParentId: parentId }),
        async (input, ctx) => {
          await org.moveAccount(ctx, {
            accountId: input.AccountId,
            sourceParentId: input.SourceParentId,
            destinationParentId: input.DestinationParentId,
          });
          return {};
        },
      ),
      ListParents: op(
        z.strictObject({ ChildId: z.string().max(100).regex(/^(\d{12}|ou-[0-9a-z]{4,32}-[a-z0-9]{8,32})$/), ...page }),
        async (input) => ({ Parents: (await org.listParents(input.ChildId, pageRequest(input))).map((p) => ({ Id: p.id, Type: p.type })) }),
        { readOnly: true },
      ),
      ListChildren: op(
        z.strictObject({ ParentId: parentId, ChildType: z.enum(['ACCOUNT', 'ORGANIZATIONAL_UNIT']), ...page }),
        async (input) =>
          withToken('Children', await org.listChildren(input.ParentId, input.ChildType, pageRequest(input)), (c) => ({ Id: c.id, Type: c.type })),
        { readOnly: true },
      ),
      TagResource: op(z.strictObject({ ResourceId: resourceId, Tags: tags }), async (input, ctx) => {
        await org.tagResource(ctx, input.ResourceId, input.Tags);
        return {};
      }),
      UntagResource: op(z.strictObject({ ResourceId: resourceId, TagKeys: z.array(tagKey).max(50) }), async (input, ctx) => {
        await org.untagResource(ctx, input.ResourceId, input.TagKeys);
        return {};
      }),
      ListTagsForResource: op(
        z.strictObject({ ResourceId: resourceId, NextToken: page.NextToken }),
        async (input) => ({ Tags: await org.listTagsForResource(input.ResourceId, { nextToken: input.NextToken }) }),
        { readOnly: true },
      ),
    },
  };
}
