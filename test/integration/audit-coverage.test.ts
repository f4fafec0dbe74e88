// Audit coverage: every mutating operation of every API leaves exactly one audit event, with the
// caller's identity and the operation's parameters. The list of operations is read from the code
// itself (the AWS services' operation tables where readOnly is false, and the SCIM and admin routes
// the built app serves with POST, PUT, PATCH or DELETE), so a new operation without a case here fails.
// Each but SCIM's, sent by a key whose policies refuse it, leaves one AccessDenied event instead.

import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityStoreApi } from '../../src/protocols/aws/identitystore.js';
import type { AwsJsonService } from '../../src/protocols/aws/operation.js';
import { organizationsApi } from '../../src/protocols/aws/organizations.js';
import { ssoAdminApi } from '../../src/protocols/aws/sso-admin.js';
import { cloudTrailApi } from '../../src/protocols/aws/cloudtrail.js';
import { POLICY_KEY_PURPOSE } from '../../src/policy/index.js';
import { systemContext } from '../../src/shared/context.js';
import { Browser } from '../helpers/browser.js';
import { dialects, startServer, type TestServer } from '../helpers/server.js';
import { expectNoSecretInAnyEvent, idpMetadata, mutatingRoutes, routeTree, signedFetch } from './audit-coverage-helpers.js';

const USER_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:User';
const GROUP_SCHEMA = 'urn:ietf:params:scim:schemas:core:2.0:Group';
const PATCH_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:PatchOp';
const BULK_SCHEMA = 'urn:ietf:params:scim:api:messages:2.0:BulkRequest';
const STRONG = 'Vq7#mXw2!pLz';

type Json = Record<string, unknown>;

/** What a case expects of its one event. */
interface Expected {
  eventName: string;
  /**
   * Values that must appear in the event's requestParameters: the resource it acted on, the names of
   * what it changed. Personal data (user and group names, e-mail) is recorded as HIDDEN_DUE_TO_SECURITY_REASONS.
   */
  mentions: string[];
  /** Values that must appear in its responseElements: the id of what it created. */
  results?: string[];
}

/** Admin routes that are POSTs only because they take a document; they change nothing. */
const READ_ONLY_POSTS = ['POST /api/admin/policy/simulate', 'POST /api/admin/policy/validate'];

interface Case {
  run(): Promise<Expected>;
  /**
   * The expected-failure list: operations known not to leave exactly one event yet, with why and the
   * events they leave today. The case asserts exactly those, so it fails (and must leave this list)
   * the day the operation leaves one event, or any other set.
   */
  notYetOneEvent?: { reason: string; currently: string[] };
}

describe.each(dialects())('audit coverage on %s', (dialect) => {
  let server: TestServer;
  let services: AwsJsonService[];
  let scimToken: string;
  const state: Record<string, string> = {};
  /** Every secret the test handled: none may reach an event. */
  const secrets = new Set<string>();
  /** A key holding ReadOnlyAccess: every change here is refused to it. */
  let readOnly: { accessKeyId: string; secretAccessKey: string };
  /** A value sent in a field named like a secret, by the refused calls. */
  const planted = `planted-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;

  async function signed(service: string, method: string, path: string, headers: Record<string, string>, body?: string, query: Record<string, string> = {}): Promise<Json> {
    const text = await signedFetch(server, service, method, path, headers, body, query);
    return (text ? JSON.parse(text) : {}) as Json;
  }
  const serviceOf = (prefix: string) => services.find((s) => s.targetPrefix === prefix)!;
  /** An awsJson call, signed by the AWS SDK's own SigV4 signer, exactly as the SDK clients send it. */
  const aws = (prefix: string, operation: string, input: Json) =>
    signed(serviceOf(prefix).signingNames[0]!, 'POST', '/', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${prefix}.${operation}` }, JSON.stringify(input));
  const admin = (method: string, path: string, body?: Json, query?: Record<string, string>) =>
    signed('sso', method, path, body ? { 'content-type': 'application/json' } : {}, body && JSON.stringify(body), query);
  async function scim(method: string, path: string, body?: Json): Promise<Json> {
    const res = await fetch(`${server.url}/scim/v2${path}`, {
      method,
      headers: { authorization: `Bearer ${scimToken}`, ...(body ? { 'content-type': 'application/scim+json' } : {}) },
      body: body && JSON.stringify(body),
    });
    const text = await res.text();
    if (res.status >= 300) throw new Error(`SCIM ${method} ${path}: ${res.status} ${text}`);
    return (text ? JSON.parse(text) : {}) as Json;
  }

  const IS = 'AWSIdentityStore';
  const SSO = 'SWBExternalService';
  const ORG = 'AWSOrganizationsV20161128';
  const ids = () => ({ IdentityStoreId: server.init.identityStoreId });
  const ps = () => ({ InstanceArn: server.init.instanceArn, PermissionSetArn: state.permissionSetArn! });
  const assignment = () => ({ ...ps(), TargetId: server.init.managementAccountId, TargetType: 'AWS_ACCOUNT', PrincipalType: 'USER', PrincipalId: state.userId! });
  const attributes = { AccessControlAttributes: [{ Key: 'team', Value: { Source: ['${path:enterprise.department}'] } }] };

  /** Every mutating operation, in an order where each finds what it needs (deletions last). */
  const cases: Record<string, Case> = {
    // ---- identitystore ----
    [`${IS}.CreateUser`]: {
      async run() {
        state.userId = (await aws(IS, 'CreateUser', { ...ids(), UserName: 'cov-user', DisplayName: 'Cov', Name: { GivenName: 'C', FamilyName: 'U' } })).UserId as string;
        return { eventName: 'CreateUser', mentions: [server.init.identityStoreId, 'userName'], results: [state.userId] };
      },
    },
    [`${IS}.UpdateUser`]: {
      run: async () => {
        await aws(IS, 'UpdateUser', { ...ids(), UserId: state.userId, Operations: [{ AttributePath: 'displayName', AttributeValue: 'Cov Two' }] });
        return { eventName: 'UpdateUser', mentions: [state.userId!, 'displayName'] };
      },
    },
    [`${IS}.CreateGroup`]: {
      async run() {
        state.groupId = (await aws(IS, 'CreateGroup', { ...ids(), DisplayName: 'cov-group' })).GroupId as string;
        return { eventName: 'CreateGroup', mentions: [server.init.identityStoreId, 'displayName'], results: [state.groupId] };
      },
    },
    [`${IS}.UpdateGroup`]: {
      async run() {
        await aws(IS, 'UpdateGroup', { ...ids(), GroupId: state.groupId, Operations: [{ AttributePath: 'description', AttributeValue: 'covered' }] });
        return { eventName: 'UpdateGroup', mentions: [state.groupId!, 'description'] };
      },
    },
    [`${IS}.CreateGroupMembership`]: {
      async run() {
        state.membershipId = (await aws(IS, 'CreateGroupMembership', { ...ids(), GroupId: state.groupId, MemberId: { UserId: state.userId } })).MembershipId as string;
        return { eventName: 'CreateGroupMembership', mentions: [state.groupId!, state.userId!] };
      },
    },
    [`${IS}.DeleteGroupMembership`]: {
      async run() {
        await aws(IS, 'DeleteGroupMembership', { ...ids(), MembershipId: state.membershipId });
        return { eventName: 'DeleteGroupMembership', mentions: [state.membershipId!] };
      },
    },

    // ---- organizations ----
    [`${ORG}.CreateOrganizationalUnit`]: {
      async run() {
        const roots = (await aws(ORG, 'ListRoots', {})).Roots as { Id: string }[];
        state.rootId = roots[0]!.Id;
        state.ouId = ((await aws(ORG, 'CreateOrganizationalUnit', { ParentId: state.rootId, Name: 'cov-ou' })).OrganizationalUnit as { Id: string }).Id;
        return { eventName: 'CreateOrganizationalUnit', mentions: ['cov-ou', state.rootId] };
      },
    },
    [`${ORG}.CreateAccount`]: {
      async run() {
        await aws(ORG, 'CreateAccount', { Email: 'cov@example.com', AccountName: 'cov-account' });
        return { eventName: 'CreateAccount', mentions: ['accountName', 'email'] };
      },
    },
    [`${ORG}.MoveAccount`]: {
      async run() {
        const AccountId = server.init.managementAccountId;
        await aws(ORG, 'MoveAccount', { AccountId, SourceParentId: state.rootId, DestinationParentId: state.ouId });
        return { eventName: 'MoveAccount', mentions: [AccountId, state.ouId!] };
      },
    },
    [`${ORG}.TagResource`]: {
      async run() {
        await aws(ORG, 'TagResource', { ResourceId: state.ouId, Tags: [{ Key: 'cov', Value: 'yes' }] });
        return { eventName: 'TagResource', mentions: [state.ouId!, 'cov'] };
      },
    },
    [`${ORG}.UntagResource`]: {
      async run() {
        await aws(ORG, 'UntagResource', { ResourceId: state.ouId, TagKeys: ['cov'] });
        return { eventName: 'UntagResource', mentions: [state.ouId!, 'cov'] };
      },
    },

    // ---- sso-admin ----
    [`${SSO}.UpdateInstance`]: {
      async run() {
        await aws(SSO, 'UpdateInstance', { InstanceArn: server.init.instanceArn, Name: 'cov-instance' });
        return { eventName: 'UpdateInstance', mentions: ['cov-instance'] };
      },
    },
    [`${SSO}.CreatePermissionSet`]: {
      async run() {
        const out = await aws(SSO, 'CreatePermissionSet', { InstanceArn: server.init.instanceArn, Name: 'CovSet' });
        state.permissionSetArn = (out.PermissionSet as { PermissionSetArn: string }).PermissionSetArn;
        return { eventName: 'CreatePermissionSet', mentions: ['CovSet'] };
      },
    },
    [`${SSO}.UpdatePermissionSet`]: {
      async run() {
        await aws(SSO, 'UpdatePermissionSet', { ...ps(), Description: 'cov description' });
        return { eventName: 'UpdatePermissionSet', mentions: [state.permissionSetArn!, 'cov description'] };
      },
    },
    [`${SSO}.PutInlinePolicyToPermissionSet`]: {
      async run() {
        const policy = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:ListAllMyBuckets', Resource: '*' }] });
        await aws(SSO, 'PutInlinePolicyToPermissionSet', { ...ps(), InlinePolicy: policy });
        return { eventName: 'PutInlinePolicyToPermissionSet', mentions: [state.permissionSetArn!] };
      },
    },
    [`${SSO}.DeleteInlinePolicyFromPermissionSet`]: {
      async run() {
        await aws(SSO, 'DeleteInlinePolicyFromPermissionSet', ps());
        return { eventName: 'DeleteInlinePolicyFromPermissionSet', mentions: [state.permissionSetArn!] };
      },
    },
    [`${SSO}.AttachManagedPolicyToPermissionSet`]: {
      async run() {
        await aws(SSO, 'AttachManagedPolicyToPermissionSet', { ...ps(), ManagedPolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' });
        return { eventName: 'AttachManagedPolicyToPermissionSet', mentions: [state.permissionSetArn!, 'arn:aws:iam::aws:policy/ReadOnlyAccess'] };
      },
    },
    [`${SSO}.DetachManagedPolicyFromPermissionSet`]: {
      async run() {
        await aws(SSO, 'DetachManagedPolicyFromPermissionSet', { ...ps(), ManagedPolicyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' });
        return { eventName: 'DetachManagedPolicyFromPermissionSet', mentions: [state.permissionSetArn!, 'arn:aws:iam::aws:policy/ReadOnlyAccess'] };
      },
    },
    [`${SSO}.AttachCustomerManagedPolicyReferenceToPermissionSet`]: {
      async run() {
        await aws(SSO, 'AttachCustomerManagedPolicyReferenceToPermissionSet', { ...ps(), CustomerManagedPolicyReference: { Name: 'CovPolicy' } });
        return { eventName: 'AttachCustomerManagedPolicyReferenceToPermissionSet', mentions: [state.permissionSetArn!, 'CovPolicy'] };
      },
    },
    [`${SSO}.DetachCustomerManagedPolicyReferenceFromPermissionSet`]: {
      async run() {
        await aws(SSO, 'DetachCustomerManagedPolicyReferenceFromPermissionSet', { ...ps(), CustomerManagedPolicyReference: { Name: 'CovPolicy' } });
        return { eventName: 'DetachCustomerManagedPolicyReferenceFromPermissionSet', mentions: [state.permissionSetArn!, 'CovPolicy'] };
      },
    },
    [`${SSO}.PutPermissionsBoundaryToPermissionSet`]: {
      async run() {
        await aws(SSO, 'PutPermissionsBoundaryToPermissionSet', { ...ps(), PermissionsBoundary: { ManagedPolicyArn: 'arn:aws:iam::aws:policy/PowerUserAccess' } });
        return { eventName: 'PutPermissionsBoundaryToPermissionSet', mentions: [state.permissionSetArn!, 'arn:aws:iam::aws:policy/PowerUserAccess'] };
      },
    },
    [`${SSO}.DeletePermissionsBoundaryFromPermissionSet`]: {
      async run() {
        await aws(SSO, 'DeletePermissionsBoundaryFromPermissionSet', ps());
        return { eventName: 'DeletePermissionsBoundaryFromPermissionSet', mentions: [state.permissionSetArn!] };
      },
    },
    [`${SSO}.TagResource`]: {
      async run() {
        await aws(SSO, 'TagResource', { InstanceArn: server.init.instanceArn, ResourceArn: state.permissionSetArn, Tags: [{ Key: 'cov', Value: 'yes' }] });
        return { eventName: 'TagResource', mentions: [state.permissionSetArn!, 'cov'] };
      },
    },
    [`${SSO}.UntagResource`]: {
      async run() {
        await aws(SSO, 'UntagResource', { InstanceArn: server.init.instanceArn, ResourceArn: state.permissionSetArn, TagKeys: ['cov'] });
        return { eventName: 'UntagResource', mentions: [state.permissionSetArn!, 'cov'] };
      },
    },
    [`${SSO}.CreateAccountAssignment`]: {
      async run() {
        await aws(SSO, 'CreateAccountAssignment', assignment());
        return { eventName: 'CreateAccountAssignment', mentions: [state.permissionSetArn!, state.userId!, server.init.managementAccountId] };
      },
    },
    [`${SSO}.ProvisionPermissionSet`]: {
      async run() {
        await aws(SSO, 'ProvisionPermissionSet', { ...ps(), TargetType: 'ALL_PROVISIONED_ACCOUNTS' });
        return { eventName: 'ProvisionPermissionSet', mentions: [state.permissionSetArn!] };
      },
    },
    [`${SSO}.DeleteAccountAssignment`]: {
      async run() {
        await aws(SSO, 'DeleteAccountAssignment', assignment());
        return { eventName: 'DeleteAccountAssignment', mentions: [state.permissionSetArn!, state.userId!] };
      },
    },
    [`${SSO}.CreateInstanceAccessControlAttributeConfiguration`]: {
      async run() {
        await aws(SSO, 'CreateInstanceAccessControlAttributeConfiguration', { InstanceArn: server.init.instanceArn, InstanceAccessControlAttributeConfiguration: attributes });
        return { eventName: 'CreateInstanceAccessControlAttributeConfiguration', mentions: [server.init.instanceArn, 'team'] };
      },
    },
    [`${SSO}.UpdateInstanceAccessControlAttributeConfiguration`]: {
      async run() {
        const updated = { AccessControlAttributes: [{ Key: 'costcenter', Value: { Source: ['${path:enterprise.costCenter}'] } }] };
        await aws(SSO, 'UpdateInstanceAccessControlAttributeConfiguration', { InstanceArn: server.init.instanceArn, InstanceAccessControlAttributeConfiguration: updated });
        return { eventName: 'UpdateInstanceAccessControlAttributeConfiguration', mentions: [server.init.instanceArn, 'costcenter'] };
      },
    },
    [`${SSO}.DeleteInstanceAccessControlAttributeConfiguration`]: {
      async run() {
        await aws(SSO, 'DeleteInstanceAccessControlAttributeConfiguration', { InstanceArn: server.init.instanceArn });
        return { eventName: 'DeleteInstanceAccessControlAttributeConfiguration', mentions: [server.init.instanceArn] };
      },
    },
    [`${SSO}.DeletePermissionSet`]: {
      async run() {
        await aws(SSO, 'DeletePermissionSet', ps());
        return { eventName: 'DeletePermissionSet', mentions: [state.permissionSetArn!] };
      },
    },

    // ---- SCIM ----
    'POST /scim/v2/Users': {
      async run() {
        state.scimUserId = (await scim('POST', '/Users', { schemas: [USER_SCHEMA], userName: 'scim-cov', displayName: 'Scim Cov', name: { givenName: 'S', familyName: 'C' } })).id as string;
        return { eventName: 'CreateUser', mentions: [server.init.identityStoreId, 'userName'], results: [state.scimUserId] };
      },
    },
    'PUT /scim/v2/Users/:id': {
      async run() {
        await scim('PUT', `/Users/${state.scimUserId}`, { schemas: [USER_SCHEMA], userName: 'scim-cov', displayName: 'Scim Put', name: { givenName: 'S', familyName: 'C' } });
        return { eventName: 'UpdateUser', mentions: [state.scimUserId!, 'replacement'] };
      },
    },
    'PATCH /scim/v2/Users/:id': {
      async run() {
        // A deprovisioning PATCH (Okta's): the disable is the caller's one event; what it caused is a service event.
        await scim('PATCH', `/Users/${state.scimUserId}`, {
          schemas: [PATCH_SCHEMA],
          Operations: [
            { op: 'replace', path: 'displayName', value: 'Scim Patch' },
            { op: 'replace', path: 'active', value: false },
          ],
        });
        return { eventName: 'UpdateUser', mentions: [state.scimUserId!, 'replacement'] };
      },
    },
    'POST /scim/v2/Groups': {
      async run() {
        state.scimGroupId = (await scim('POST', '/Groups', { schemas: [GROUP_SCHEMA], displayName: 'scim-cov-group' })).id as string;
        return { eventName: 'CreateGroup', mentions: [server.init.identityStoreId, 'displayName'], results: [state.scimGroupId] };
      },
    },
    'PUT /scim/v2/Groups/:id': {
      async run() {
        await scim('PUT', `/Groups/${state.scimGroupId}`, { schemas: [GROUP_SCHEMA], displayName: 'scim-cov-group-2' });
        return { eventName: 'UpdateGroup', mentions: [state.scimGroupId!, 'replacement'] };
      },
    },
    'PATCH /scim/v2/Groups/:id': {
      async run() {
        const members = [state.scimUserId, state.userId].map((value) => ({ value }));
        await scim('PATCH', `/Groups/${state.scimGroupId}`, { schemas: [PATCH_SCHEMA], Operations: [{ op: 'add', path: 'members', value: members }] });
        return { eventName: 'UpdateGroup', mentions: [state.scimGroupId!] };
      },
    },
    'POST /scim/v2/Bulk': {
      async run() {
        const out = await scim('POST', '/Bulk', { schemas: [BULK_SCHEMA], Operations: [{ method: 'POST', path: '/Users', bulkId: 'b1', data: { schemas: [USER_SCHEMA], userName: 'scim-bulk-cov', name: { givenName: 'B', familyName: 'C' } } }] });
        const [location] = (out.Operations as { location: string }[]).map((o) => o.location.split('/').pop()!);
        return { eventName: 'CreateUser', mentions: [server.init.identityStoreId, 'userName'], results: [location!] };
      },
    },
    'DELETE /scim/v2/Groups/:id': {
      async run() {
        await scim('DELETE', `/Groups/${state.scimGroupId}`);
        return { eventName: 'DeleteGroup', mentions: [state.scimGroupId!] };
      },
    },
    'DELETE /scim/v2/Users/:id': {
      async run() {
        await scim('DELETE', `/Users/${state.scimUserId}`);
        return { eventName: 'DeleteUser', mentions: [state.scimUserId!] };
      },
    },

    // ---- the admin API ----
    'POST /api/admin/scim/tokens': {
      async run() {
        const issued = await admin('POST', '/api/admin/scim/tokens', { ExpiresInDays: 7 });
        state.tokenId = issued.TokenId as string;
        secrets.add(issued.Token as string);
        return { eventName: 'CreateBearerToken', mentions: ['7'] };
      },
    },
    'DELETE /api/admin/scim/tokens/:tokenId': {
      async run() {
        await admin('DELETE', `/api/admin/scim/tokens/${state.tokenId}`);
        return { eventName: 'DeleteBearerToken', mentions: [state.tokenId!] };
      },
    },
    'PUT /api/admin/saml/idp': {
      async run() {
        await admin('PUT', '/api/admin/saml/idp', { MetadataXml: await idpMetadata() });
        return { eventName: 'UpdateSamlIdentityProvider', mentions: ['https://idp.cov.test/metadata'] };
      },
    },
    'PUT /api/admin/identity-source': {
      async run() {
        await admin('PUT', '/api/admin/identity-source', { IdentitySource: 'INTERNAL' });
        return { eventName: 'UpdateIdentitySource', mentions: ['INTERNAL'] };
      },
    },
    'PUT /api/admin/settings': {
      async run() {
        await admin('PUT', '/api/admin/settings', { SessionDurationMinutes: 600 });
        return { eventName: 'UpdateInstanceSettings', mentions: ['sessionDurationMinutes', '600'] };
      },
    },
    'POST /api/admin/users/:userName/password': {
      async run() {
        const { Password } = await admin('POST', '/api/admin/users/cov-user/password');
        secrets.add(Password as string);
        return { eventName: 'ResetPassword', mentions: ['cov-user'] };
      },
    },
    'POST /api/admin/one-time-passwords': {
      async run() {
        const { Password } = await admin('POST', '/api/admin/one-time-passwords', undefined, { userName: 'cov-user' });
        secrets.add(Password as string);
        return { eventName: 'ResetPassword', mentions: ['cov-user'] };
      },
    },
    'PUT /api/admin/mfa/settings': {
      async run() {
        await admin('PUT', '/api/admin/mfa/settings', { Mode: 'DISABLED' });
        return { eventName: 'UpdateInstanceSettings', mentions: ['mfa', 'DISABLED'] };
      },
    },
    'PUT /api/admin/sign-in-protection': {
      async run() {
        await admin('PUT', '/api/admin/sign-in-protection', { LockoutMinutes: 15 });
        return { eventName: 'UpdateInstanceSettings', mentions: ['signInProtection', 'lockoutMinutes'] };
      },
    },
    'DELETE /api/admin/users/:userName/mfa-devices/:deviceId': {
      async run() {
        const deviceId = await enrolTotp();
        await admin('DELETE', `/api/admin/users/cov-user/mfa-devices/${deviceId}`);
        return { eventName: 'DeleteMfaDevice', mentions: ['cov-user', deviceId] };
      },
    },
    'DELETE /api/admin/users/:userName/mfa-devices': {
      async run() {
        const deviceId = await enrolTotp();
        await admin('DELETE', '/api/admin/users/cov-user/mfa-devices');
        return { eventName: 'ResetUserMfa', mentions: ['cov-user'], results: [deviceId] };
      },
    },
    'DELETE /api/admin/mfa-devices/:deviceId': {
      async run() {
        const deviceId = await enrolTotp();
        await admin('DELETE', `/api/admin/mfa-devices/${deviceId}`, undefined, { userName: 'cov-user' });
        return { eventName: 'DeleteMfaDevice', mentions: ['cov-user', deviceId] };
      },
    },
    'DELETE /api/admin/mfa-devices': {
      async run() {
        const deviceId = await enrolTotp();
        await admin('DELETE', '/api/admin/mfa-devices', undefined, { userName: 'cov-user' });
        return { eventName: 'ResetUserMfa', mentions: ['cov-user'], results: [deviceId] };
      },
    },
    'DELETE /api/admin/sessions/:sessionId': {
      async run() {
        await signIn();
        const [session] = (await admin('GET', '/api/admin/sessions', undefined, { userName: 'cov-user' })).Sessions as { SessionId: string }[];
        await admin('DELETE', `/api/admin/sessions/${session!.SessionId}`);
        return { eventName: 'RevokeSession', mentions: [session!.SessionId] };
      },
    },
    'DELETE /api/admin/sessions': {
      async run() {
        await signIn();
        await admin('DELETE', '/api/admin/sessions', undefined, { userName: 'cov-user' });
        return { eventName: 'RevokeSession', mentions: ['cov-user'] };
      },
    },

    // ---- deletions last ----
    [`${IS}.DeleteGroup`]: {
      async run() {
        await aws(IS, 'DeleteGroup', { ...ids(), GroupId: state.groupId });
        return { eventName: 'DeleteGroup', mentions: [state.groupId!] };
      },
    },
    [`${IS}.DeleteUser`]: {
      async run() {
        await aws(IS, 'DeleteUser', { ...ids(), UserId: state.userId });
        return { eventName: 'DeleteUser', mentions: [state.userId!] };
      },
    },
  };

  /** A portal session for cov-user (its setup events fall before the case's window). */
  /** A TOTP device for cov-user, enrolled in process (the user's own act, not the admin's). */
  async function enrolTotp(): Promise<string> {
    const mfa = server.reg.mfa;
    const user = await mfa.userByName('cov-user');
    const { enrolmentId, secret } = await mfa.beginTotpEnrolment(user);
    secrets.add(secret);
    const code = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate();
    const device = await mfa.confirmTotpEnrolment(systemContext('signin.amazonaws.com', 'us-east-1', `enrol-${Math.random()}`), user, { enrolmentId, name: `key-${Math.random().toString(36).slice(2, 8)}`, code });
    return device.deviceId;
  }

  async function signIn(): Promise<void> {
    await server.reg.auth.setPassword(systemContext('sso.amazonaws.com', 'us-east-1', 'cov'), 'cov-user', { password: STRONG, oneTime: false }).catch(() => undefined);
    expect((await new Browser(server.url).signIn('cov-user', STRONG)).status).toBe(303);
  }

  /**
   * The same operation, sent by a ReadOnlyAccess key: the policy engine refuses it before reading the
   * input, and the refusal is one event under the name and source the change records, AccessDenied,
   * by that key, with what it was given (a field named like a secret hidden).
   */
  async function expectRefusedAlike(name: string, change: { event_name: string; event_source: string }): Promise<void> {
    const db = server.reg.database.db;
    const before = Number((await db.selectFrom('audit_events').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirstOrThrow()).m ?? 0);
    const probe = { Probe: 'refused-probe', ClientSecret: planted };
    const [, prefix, operation] = /^(\w+)\.(\w+)$/.exec(name) ?? [];
    const [method, route] = name.split(' ') as [string, string];
    const call = prefix
      ? signedFetch(server, serviceOf(prefix).signingNames[0]!, 'POST', '/', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': `${prefix}.${operation}` }, JSON.stringify(probe), {}, readOnly)
      : signedFetch(server, 'sso', method, route.replace(/:(\w+)/g, 'refused-$1'), method === 'DELETE' ? {} : { 'content-type': 'application/json' }, method === 'DELETE' ? undefined : JSON.stringify(probe), { probe: 'refused-probe' }, readOnly);
    await expect(call).rejects.toThrow(/: 403 .*AccessDenied.*is not authorized to perform/s);
    // What Atrium's jobs go on finishing from the case's own change (CreateAccountResult …) is not the refused caller's.
    const all = await db.selectFrom('audit_events').selectAll().where('seq', '>', before).orderBy('seq').execute();
    const rows = all.filter((r) => (JSON.parse(r.user_identity) as { accessKeyId?: string }).accessKeyId === readOnly.accessKeyId);
    expect(rows.map((r) => [r.event_name, r.event_source, r.error_code])).toEqual([[change.event_name, change.event_source, 'AccessDenied']]);
    expect(JSON.parse(rows[0]!.user_identity)).toMatchObject({ type: 'IAMUser', accessKeyId: readOnly.accessKeyId, userName: 'cov-reader' });
    expect(rows[0]!.error_message).toMatch(/is not authorized to perform/);
    expect(rows[0]!.request_parameters).toContain('refused-probe');
  }

  beforeAll(async () => {
    server = await startServer(dialect);
    const owner = { principalType: 'IAMUser', principalId: 'AIDACOVREADER0000001', principalArn: 'arn:aws:iam::000000000000:user/cov-reader', accountId: server.init.managementAccountId, userName: 'cov-reader' };
    readOnly = await server.reg.credentials.createAccessKey(systemContext('iam.amazonaws.com', 'us-east-1', 'cov'), owner, `${POLICY_KEY_PURPOSE}ReadOnlyAccess`);
    secrets.add(readOnly.secretAccessKey).add(planted);
    services = [identityStoreApi(server.reg), ssoAdminApi(server.reg), organizationsApi(server.reg), cloudTrailApi(server.reg)];
    scimToken = (await server.reg.scimTokens.createToken(systemContext('sso-directory.amazonaws.com', 'us-east-1', 'cov'))).token;
    secrets.add(scimToken).add(server.credentials.secretAccessKey).add(STRONG);
  });
  afterAll(() => server?.close());

  it('has a case for every mutating operation the code declares, and none for one it does not', async () => {
    const tree = await routeTree(server);
    const declared = [
      ...services.flatMap((s) => Object.entries(s.operations).filter(([, o]) => !o.readOnly).map(([name]) => `${s.targetPrefix}.${name}`)),
      ...mutatingRoutes(tree, '/scim/v2/').filter((r) => !r.endsWith('/.search')),
      ...mutatingRoutes(tree, '/api/admin/').filter((r) => !READ_ONLY_POSTS.includes(r)),
    ];
    // The SCIM searches are POSTs that change nothing (RFC 7644 §3.4.3).
    expect(mutatingRoutes(tree, '/scim/v2/').filter((r) => r.endsWith('/.search')).sort()).toEqual(['POST /scim/v2/Groups/.search', 'POST /scim/v2/Users/.search']);
    // So are the policy checks: they answer a question about a posted document and store nothing.
    expect(mutatingRoutes(tree, '/api/admin/').filter((r) => READ_ONLY_POSTS.includes(r)).sort()).toEqual([...READ_ONLY_POSTS].sort());
    expect(Object.keys(cases).sort()).toEqual(declared.sort());
  });

  const caseNames = Object.keys(cases);
  describe.each(caseNames)('%s', (name) => {
    const c = cases[name]!;
    const scimCall = name.includes('/scim/v2/');
    const title = c.notYetOneEvent
      ? `KNOWN GAP, not one event yet: ${c.notYetOneEvent.reason}`
      : `leaves exactly one event with the caller and the parameters${scimCall ? '' : "; refused by the caller's policies, one AccessDenied event under the same name"}`;
    it(title, async () => {
      const db = server.reg.database.db;
      const before = Number((await db.selectFrom('audit_events').select((eb) => eb.fn.max('seq').as('m')).executeTakeFirstOrThrow()).m ?? 0);
      const expected = await c.run();
      const rows = await db.selectFrom('audit_events').selectAll().where('seq', '>', before).orderBy('seq').execute();
      // The caller's own calls. Not counted: the SCIM token's use (an authentication, recorded for
      // every SCIM request), and service events (AwsServiceEvent: what Atrium did as a consequence,
      // such as revoking credentials after a change, or a job finishing an assignment).
      const callerEvents = rows.filter((r) => {
        const who = JSON.parse(r.user_identity) as { type: string; accessKeyId?: string };
        if (r.event_type !== 'AwsApiCall' || r.event_name === 'AuthenticateBearerToken' || r.event_name === 'CredentialChallenge') return false;
        return scimCall ? who.type === 'ScimBearerToken' : who.accessKeyId === server.credentials.accessKeyId;
      });
      expect(callerEvents.map((r) => r.event_name)).toEqual(c.notYetOneEvent?.currently ?? [expected.eventName]);
      const event = callerEvents.find((r) => r.event_name === expected.eventName);
      expect(event!.error_code).toBeNull();
      for (const value of expected.mentions) expect(event!.request_parameters ?? '').toContain(value);
      for (const value of expected.results ?? []) expect(event!.response_elements ?? '').toContain(value);
      // Who: for SCIM the token, for everything else the signing key's IAM user.
      expect(JSON.parse(event!.user_identity)).toMatchObject(scimCall ? { type: 'ScimBearerToken' } : { type: 'IAMUser', accessKeyId: server.credentials.accessKeyId, userName: 'atrium-admin' });
      // SCIM is authorized by its bearer token, not by policies.
      if (!scimCall) await expectRefusedAlike(name, event!);
    });
  });

  it('put no secret (passwords, tokens, secret keys, TOTP seeds) into any event', async () => {
    expect(await expectNoSecretInAnyEvent(server, secrets)).toBeGreaterThanOrEqual(6);
  });
});
