// A world for the portal tests, built through the real admin APIs: an account, users, a group,
// permission sets, assignments (waited on until SUCCEEDED), and device-flow tokens for a user.

import { CreateGroupCommand, CreateGroupMembershipCommand, CreateUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { CreateAccountCommand, DescribeCreateAccountStatusCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import {
  CreateAccountAssignmentCommand,
  CreatePermissionSetCommand,
  DeleteAccountAssignmentCommand,
  DescribeAccountAssignmentCreationStatusCommand,
  DescribeAccountAssignmentDeletionStatusCommand,
  SSOAdminClient,
  type PrincipalType,
} from '@aws-sdk/client-sso-admin';
import { CreateTokenCommand, RegisterClientCommand, SSOOIDCClient, StartDeviceAuthorizationCommand } from '@aws-sdk/client-sso-oidc';
import { DEVICE_CODE_GRANT, oidcServiceOf } from '../../src/protocols/oidc/index.js';
import type { UserRecord } from '../../src/directory/index.js';
import { systemContext } from '../../src/shared/context.js';
import { newPrincipalId } from '../../src/shared/ids.js';
import { sdkOptions, type TestServer } from './server.js';

/** The error a call fails with, as the SDK reports it; 'ok' if it succeeds. */
export async function outcome(p: Promise<unknown>): Promise<string> {
  try {
    await p;
    return 'ok';
  } catch (err) {
    const e = err as { name: string; $metadata?: { httpStatusCode?: number } };
    return `${e.name} ${e.$metadata?.httpStatusCode}`;
  }
}

export const suffix = () => Math.random().toString(36).slice(2, 10);

export async function until<T>(probe: () => Promise<T>, done: (value: T) => boolean): Promise<T> {
  for (let i = 0; i < 400; i++) {
    const value = await probe();
    if (done(value)) return value;
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error('never completed');
}

export interface PortalUser {
  userId: string;
  userName: string;
}

export function portalFixture(server: TestServer) {
  const ids = new IdentitystoreClient(sdkOptions(server));
  const sso = new SSOAdminClient(sdkOptions(server));
  const orgs = new OrganizationsClient(sdkOptions(server));
  const oidc = new SSOOIDCClient({ endpoint: server.url, region: 'us-east-1', maxAttempts: 1 });
  const IdentityStoreId = server.init.identityStoreId;
  const InstanceArn = server.init.instanceArn;

  return {
    oidc,
    async newAccount(): Promise<{ accountId: string; name: string; email: string }> {
      const name = `acct-${suffix()}`;
      const email = `${name}@example.com`;
      const { CreateAccountStatus } = await orgs.send(new CreateAccountCommand({ Email: email, AccountName: name }));
      const done = await until(
        () => orgs.send(new DescribeCreateAccountStatusCommand({ CreateAccountRequestId: CreateAccountStatus!.Id! })),
        (r) => r.CreateAccountStatus!.State !== 'IN_PROGRESS',
      );
      return { accountId: done.CreateAccountStatus!.AccountId!, name, email };
    },
    async newUser(): Promise<PortalUser> {
      const UserName = `user-${suffix()}`;
      const { UserId } = await ids.send(new CreateUserCommand({ IdentityStoreId, UserName, DisplayName: UserName, Name: { GivenName: 'A', FamilyName: 'B' } }));
      return { userId: UserId!, userName: UserName };
    },
    async newGroup(...members: PortalUser[]): Promise<{ groupId: string; membershipIds: string[] }> {
      const { GroupId } = await ids.send(new CreateGroupCommand({ IdentityStoreId, DisplayName: `group-${suffix()}` }));
      const membershipIds: string[] = [];
      for (const m of members) {
        const r = await ids.send(new CreateGroupMembershipCommand({ IdentityStoreId, GroupId, MemberId: { UserId: m.userId } }));
        membershipIds.push(r.MembershipId!);
      }
      return { groupId: GroupId!, membershipIds };
    },
    async newPermissionSet(name = `PS${suffix()}`, SessionDuration = 'PT2H'): Promise<{ name: string; arn: string }> {
      const { PermissionSet } = await sso.send(new CreatePermissionSetCommand({ InstanceArn, Name: name, SessionDuration }));
      return { name, arn: PermissionSet!.PermissionSetArn! };
    },
    /** Create or delete an assignment and wait until it has SUCCEEDED. */
    async assignment(kind: 'create' | 'delete', accountId: string, permissionSetArn: string, PrincipalType: PrincipalType, PrincipalId: string): Promise<void> {
      const input = { InstanceArn, TargetId: accountId, TargetType: 'AWS_ACCOUNT' as const, PermissionSetArn: permissionSetArn, PrincipalType, PrincipalId };
      const status =
        kind === 'create'
          ? await sso.send(new CreateAccountAssignmentCommand(input)).then(async ({ AccountAssignmentCreationStatus: s }) =>
              (
                await until(
                  () => sso.send(new DescribeAccountAssignmentCreationStatusCommand({ InstanceArn, AccountAssignmentCreationRequestId: s!.RequestId! })),
                  (r) => r.AccountAssignmentCreationStatus!.Status !== 'IN_PROGRESS',
                )
              ).AccountAssignmentCreationStatus!.Status,
            )
          : await sso.send(new DeleteAccountAssignmentCommand(input)).then(async ({ AccountAssignmentDeletionStatus: s }) =>
              (
                await until(
                  () => sso.send(new DescribeAccountAssignmentDeletionStatusCommand({ InstanceArn, AccountAssignmentDeletionRequestId: s!.RequestId! })),
                  (r) => r.AccountAssignmentDeletionStatus!.Status !== 'IN_PROGRESS',
                )
              ).AccountAssignmentDeletionStatus!.Status,
            );
      if (status !== 'SUCCEEDED') throw new Error(`${kind} assignment ended ${status}`);
    },
    /** The device flow as the CLI runs it, approved in-process for `user`; `scopes` as the client registers ('none': none at all, as a legacy CLI profile registers). */
    async login(user: PortalUser & { sessionId?: string }, scopes: string[] | 'none' = ['sso:account:access']) {
      const client = await oidc.send(new RegisterClientCommand({ clientName: 'portal-test', clientType: 'public', ...(scopes === 'none' ? {} : { scopes }) }));
      return this.loginAs(user, { clientId: client.clientId!, clientSecret: client.clientSecret! });
    },
    /** The device flow again, with a client registered before. */
    async loginAs(user: PortalUser & { sessionId?: string }, client: { clientId: string; clientSecret: string }) {
      const auth = await oidc.send(new StartDeviceAuthorizationCommand({ clientId: client.clientId, clientSecret: client.clientSecret, startUrl: server.init.startUrl }));
      const ctx = systemContext('sso.amazonaws.com', 'us-east-1', server.reg.newRequestId(), 'device-page');
      await oidcServiceOf(server.reg).approveDevice(ctx, auth.userCode!, user, 'approve');
      const token = await oidc.send(
        new CreateTokenCommand({ clientId: client.clientId, clientSecret: client.clientSecret, grantType: DEVICE_CODE_GRANT, deviceCode: auth.deviceCode }),
      );
      return { clientId: client.clientId, clientSecret: client.clientSecret, accessToken: token.accessToken!, refreshToken: token.refreshToken! };
    },
  };
}

/**
 * `n` users straight into the directory's store in one transaction (setup, not the subject), named
 * `<prefix>-<i>` and displayed as `Member <prefix> <i>`; their ids, sorted.
 */
export async function seedUsers(server: TestServer, n: number, prefix = `m-${suffix()}`): Promise<string[]> {
  const at = Date.now();
  const storeId = server.init.identityStoreId;
  const users: UserRecord[] = Array.from({ length: n }, (_, i) => ({
    identityStoreId: storeId,
    userId: newPrincipalId(server.reg.ids, storeId, at),
    profile: { userName: `${prefix}-${i}`, displayName: `Member ${prefix} ${i}`, name: { givenName: 'M', familyName: String(i) } },
    status: 'ENABLED',
    externalIds: [],
    created: { at, by: 'test' },
    updated: { at, by: 'test' },
    version: 1,
  }));
  await server.reg.tx.transaction(async (s) => {
    for (const u of users) await s.directory.insertUser(u);
  });
  return users.map((u) => u.userId).sort();
}
