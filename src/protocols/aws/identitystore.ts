// The AWS identitystore API (awsJson1_1, target AWSIdentityStore.*): translation only; rules live in the domain.
// Domain attributes are named as UpdateUser paths (camelCase); the wire uses the same names in PascalCase.

import { z } from 'zod';
import {
  EXTERNAL_ID_PATTERN,
  GROUP_NAME_PATTERN,
  ISSUER_PATTERN,
  MAX_MULTI_VALUES,
  MAX_PHOTOS,
  TEXT_PATTERN,
  USER_NAME_PATTERN,
  type AlternateIdentifier,
  type ExternalId,
  type GroupRecord,
  type MembershipRecord,
  type UserRecord,
} from '../../directory/index.js';
import type { Registry } from '../../registry.js';
import { compact, epochSeconds, op, type AwsJsonService } from './operation.js';

const identityStoreId = z
  .string()
  .min(1)
  .max(36)
  .regex(/^(?:d-[0-9a-f]{10}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/);
const resourceId = z
  .string()
  .min(1)
  .max(47)
  .regex(/^(?:[0-9a-f]{10}-)?[A-Fa-f0-9]{8}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{4}-[A-Fa-f0-9]{12}$/);
const text = z.string().min(1).max(1024).regex(TEXT_PATTERN);
const attributePath = z.string().min(1).max(255).regex(/^\p{L}+(?:\.\p{L}+){0,2}$/u);
const externalId = z.strictObject({
  Issuer: z.string().min(1).max(100).regex(ISSUER_PATTERN),
  Id: z.string().min(1).max(256).regex(EXTERNAL_ID_PATTERN),
});
const memberId = z.strictObject({ UserId: resourceId });
const document = z.unknown().refine((v) => v !== undefined && v !== null, 'AttributeValue is required');
const alternateIdentifier = z
  .strictObject({
    ExternalId: externalId.optional(),
    UniqueAttribute: z.strictObject({ AttributePath: attributePath, AttributeValue: document }).optional(),
  })
  .refine((a) => (a.ExternalId === undefined) !== (a.UniqueAttribute === undefined), 'exactly one of ExternalId and UniqueAttribute is required');
const operations = z.array(z.strictObject({ AttributePath: attributePath, AttributeValue: z.unknown().optional() })).min(1).max(100);
const pagination = {
  MaxResults: z.number().int().min(1).max(100).optional(),
  NextToken: z
    .string()
    .min(1)
    .max(65535)
    .regex(/^[-a-zA-Z0-9+=/:]*$/)
    .optional(),
};
const filters = z.array(z.strictObject({ AttributePath: attributePath, AttributeValue: text })).max(1).optional();
const extensionNames = z.array(z.string().min(1).max(100)).min(1).max(10).optional();

const list = <T extends z.ZodType>(item: T, max = MAX_MULTI_VALUES) => z.array(item).min(1).max(max).optional();
const multiValue = z.strictObject({ Value: text.optional(), Type: text.optional(), Primary: z.boolean().optional() });
const userAttributes = {
  UserName: z.string().min(1).max(128).regex(USER_NAME_PATTERN).optional(),
  Name: z
    .strictObject({
      Formatted: text.optional(),
      FamilyName: text.optional(),
      GivenName: text.optional(),
      MiddleName: text.optional(),
      HonorificPrefix: text.optional(),
      HonorificSuffix: text.optional(),
    })
    .optional(),
  DisplayName: text.optional(),
  NickName: text.optional(),
  ProfileUrl: text.optional(),
  Emails: list(multiValue),
  Addresses: list(
    z.strictObject({
      StreetAddress: text.optional(),
      Locality: text.optional(),
      Region: text.optional(),
      PostalCode: text.optional(),
      Country: text.optional(),
      Formatted: text.optional(),
      Type: text.optional(),
      Primary: z.boolean().optional(),
    }),
  ),
  PhoneNumbers: list(multiValue),
  UserType: text.optional(),
  Title: text.optional(),
  PreferredLanguage: text.optional(),
  Locale: text.optional(),
  Timezone: text.optional(),
  Photos: list(z.strictObject({ Value: text, Type: text.optional(), Display: text.optional(), Primary: z.boolean().optional() }), MAX_PHOTOS),
  Website: text.optional(),
  Birthdate: text.optional(),
  Roles: list(multiValue),
};

/** Rename object keys deeply with `rename`; values of other kinds pass through. */
function renameKeys(value: unknown, rename: (key: string) => string): unknown {
  if (Array.isArray(value)) return value.map((v) => renameKeys(v, rename));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [rename(k), renameKeys(v, rename)]));
  }
  return value;
}
const toDomain = (value: unknown) => renameKeys(value, (k) => k.charAt(0).toLowerCase() + k.slice(1));
const toWire = (value: object) => renameKeys(value, (k) => k.charAt(0).toUpperCase() + k.slice(1)) as Record<string, unknown>;

const toOperations = (ops: z.infer<typeof operations>) => ops.map((o) => ({ attributePath: o.AttributePath, attributeValue: toDomain(o.AttributeValue) }));
const toAlternate = (a: z.infer<typeof alternateIdentifier>): AlternateIdentifier =>
  a.ExternalId
    ? { externalId: { issuer: a.ExternalId.Issuer, id: a.ExternalId.Id } }
    : { uniqueAttribute: { attributePath: a.UniqueAttribute!.AttributePath, attributeValue: a.UniqueAttribute!.AttributeValue } };
const toFilter = (f: z.infer<typeof filters>) => f?.[0] && { attributePath: f[0].AttributePath, attributeValue: f[0].AttributeValue };

const externalIdsOut = (ids: ExternalId[]) => (ids.length > 0 ? ids.map((e) => ({ Issuer: e.issuer, Id: e.id })) : undefined);
const stamps = (r: { created: { at: number; by: string }; updated: { at: number; by: string } }) => ({
  CreatedAt: epochSeconds(r.created.at),
  CreatedBy: r.created.by,
  UpdatedAt: epochSeconds(r.updated.at),
  UpdatedBy: r.updated.by,
});

const userOut = (u: UserRecord) =>
  compact({
    IdentityStoreId: u.identityStoreId,
    UserId: u.userId,
    ExternalIds: externalIdsOut(u.externalIds),
    ...toWire(u.profile),
    UserStatus: u.status,
    ...stamps(u),
    Extensions: u.extensions,
  });
const groupOut = (g: GroupRecord) =>
  compact({
    IdentityStoreId: g.identityStoreId,
    GroupId: g.groupId,
    ExternalIds: externalIdsOut(g.externalIds),
    ...toWire(g.profile),
    ...stamps(g),
  });
const membershipOut = (m: MembershipRecord) => ({
  IdentityStoreId: m.identityStoreId,
  MembershipId: m.membershipId,
  GroupId: m.groupId,
  MemberId: { UserId: m.userId },
  ...stamps({ created: m.created, updated: m.created }),
});

export function identityStoreApi(reg: Registry): AwsJsonService {
  const d = reg.directory;
  return {
    targetPrefix: 'AWSIdentityStore',
    signingNames: ['identitystore'],
    eventSource: 'identitystore.amazonaws.com',
    // Every profile attribute (all of the user schema's, so that a new one cannot be missed, and a
    // group's Description), and AttributeValue wherever a name or address is matched or set.
    personalFields: new Set([...Object.keys(userAttributes), 'Description', 'AttributeValue', 'Extensions'].map((k) => k.toLowerCase())),
    operations: {
      // ---- users ----
      CreateUser: op(
        z.strictObject({ IdentityStoreId: identityStoreId, ...userAttributes, Extensions: z.record(z.string(), z.unknown()).optional() }),
        async ({ IdentityStoreId, Extensions, ...attributes }, ctx) => {
          const userId = await d.createUser(ctx, IdentityStoreId, { profile: toDomain(attributes) as Record<string, unknown>, extensions: Extensions });
          return { IdentityStoreId, UserId: userId };
        },
      ),
      DescribeUser: op(
        z.strictObject({ IdentityStoreId: identityStoreId, UserId: resourceId, Extensions: extensionNames }),
        async (i) => userOut(await d.describeUser(i.IdentityStoreId, i.UserId, i.Extensions)),
        { readOnly: true },
      ),
      UpdateUser: op(z.strictObject({ IdentityStoreId: identityStoreId, UserId: resourceId, Operations: operations }), async (i, ctx) => {
        await d.updateUser(ctx, i.IdentityStoreId, i.UserId, toOperations(i.Operations));
        return {};
      }),
      DeleteUser: op(z.strictObject({ IdentityStoreId: identityStoreId, UserId: resourceId }), async (i, ctx) => {
        await d.deleteUser(ctx, i.IdentityStoreId, i.UserId);
        return {};
      }),
      ListUsers: op(
        z.strictObject({ IdentityStoreId: identityStoreId, Extensions: extensionNames, ...pagination, Filters: filters }),
        async (i) => {
          const page = await d.listUsers(i.IdentityStoreId, {
            maxResults: i.MaxResults,
            nextToken: i.NextToken,
            filter: toFilter(i.Filters),
            extensionNames: i.Extensions,
          });
          return compact({ Users: page.items.map(userOut), NextToken: page.nextToken });
        },
        { readOnly: true },
      ),
      GetUserId: op(
        z.strictObject({ IdentityStoreId: identityStoreId, AlternateIdentifier: alternateIdentifier }),
        async (i) => ({ IdentityStoreId: i.IdentityStoreId, UserId: await d.getUserId(i.IdentityStoreId, toAlternate(i.AlternateIdentifier)) }),
        { readOnly: true },
      ),

      // ---- groups ----
      CreateGroup: op(
        z.strictObject({ IdentityStoreId: identityStoreId, DisplayName: z.string().min(1).max(1024).regex(GROUP_NAME_PATTERN).optional(), Description: text.optional() }),
        async ({ IdentityStoreId, ...attributes }, ctx) => {
          const groupId = await d.createGroup(ctx, IdentityStoreId, { profile: toDomain(attributes) as Record<string, unknown> });
          return { IdentityStoreId, GroupId: groupId };
        },
      ),
      DescribeGroup: op(
        z.strictObject({ IdentityStoreId: identityStoreId, GroupId: resourceId }),
        async (i) => groupOut(await d.describeGroup(i.IdentityStoreId, i.GroupId)),
        { readOnly: true },
      ),
      UpdateGroup: op(z.strictObject({ IdentityStoreId: identityStoreId, GroupId: resourceId, Operations: operations }), async (i, ctx) => {
        await d.updateGroup(ctx, i.IdentityStoreId, i.GroupId, toOperations(i.Operations));
        return {};
      }),
      DeleteGroup: op(z.strictObject({ IdentityStoreId: identityStoreId, GroupId: resourceId }), async (i, ctx) => {
        await d.deleteGroup(ctx, i.IdentityStoreId, i.GroupId);
        return {};
      }),
      ListGroups: op(
        z.strictObject({ IdentityStoreId: identityStoreId, ...pagination, Filters: filters }),
        async (i) => {
          const page = await d.listGroups(i.IdentityStoreId, { maxResults: i.MaxResults, nextToken: i.NextToken, filter: toFilter(i.Filters) });
          return compact({ Groups: page.items.map(groupOut), NextToken: page.nextToken });
        },
        { readOnly: true },
      ),
      GetGroupId: op(
        z.strictObject({ IdentityStoreId: identityStoreId, AlternateIdentifier: alternateIdentifier }),
        async (i) => ({ IdentityStoreId: i.IdentityStoreId, GroupId: await d.getGroupId(i.IdentityStoreId, toAlternate(i.AlternateIdentifier)) }),
        { readOnly: true },
      ),

      // ---- memberships ----
      CreateGroupMembership: op(
        z.strictObject({ IdentityStoreId: identityStoreId, GroupId: resourceId, MemberId: memberId }),
        async (i, ctx) => ({
          IdentityStoreId: i.IdentityStoreId,
          MembershipId: await d.createGroupMembership(ctx, i.IdentityStoreId, i.GroupId, i.MemberId.UserId),
        }),
      ),
      DescribeGroupMembership: op(
        z.strictObject({ IdentityStoreId: identityStoreId, MembershipId: resourceId }),
        async (i) => membershipOut(await d.describeGroupMembership(i.IdentityStoreId, i.MembershipId)),
        { readOnly: true },
      ),
      DeleteGroupMembership: op(z.strictObject({ IdentityStoreId: identityStoreId, MembershipId: resourceId }), async (i, ctx) => {
        await d.deleteGroupMembership(ctx, i.IdentityStoreId, i.MembershipId);
        return {};
      }),
      ListGroupMemberships: op(
        z.strictObject({ IdentityStoreId: identityStoreId, GroupId: resourceId, ...pagination }),
        async (i) => {
          const page = await d.listGroupMemberships(i.IdentityStoreId, i.GroupId, { maxResults: i.MaxResults, nextToken: i.NextToken });
          return compact({ GroupMemberships: page.items.map(membershipOut), NextToken: page.nextToken });
        },
        { readOnly: true },
      ),
      ListGroupMembershipsForMember: op(
        z.strictObject({ IdentityStoreId: identityStoreId, MemberId: memberId, ...pagination }),
        async (i) => {
          const page = await d.listGroupMembershipsForMember(i.IdentityStoreId, i.MemberId.UserId, { maxResults: i.MaxResults, nextToken: i.NextToken });
          return compact({ GroupMemberships: page.items.map(membershipOut), NextToken: page.nextToken });
        },
        { readOnly: true },
      ),
      GetGroupMembershipId: op(
        z.strictObject({ IdentityStoreId: identityStoreId, GroupId: resourceId, MemberId: memberId }),
        async (i) => ({
          IdentityStoreId: i.IdentityStoreId,
          MembershipId: await d.getGroupMembershipId(i.IdentityStoreId, i.GroupId, i.MemberId.UserId),
        }),
        { readOnly: true },
      ),
      IsMemberInGroups: op(
        z.strictObject({ IdentityStoreId: identityStoreId, MemberId: memberId, GroupIds: z.array(resourceId).min(1).max(100) }),
        async (i) => ({
          Results: (await d.isMemberInGroups(i.IdentityStoreId, i.MemberId.UserId, i.GroupIds)).map((r) => ({
            GroupId: r.groupId,
            MemberId: { UserId: r.userId },
            MembershipExists: r.membershipExists,
          })),
        }),
        { readOnly: true },
      ),
    },
  };
}
