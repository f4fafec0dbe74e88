// The AWS sso portal API as the real JS SDK sees it, with tokens from the device flow: accounts and
// roles from direct and group assignments, role credentials that STS accepts, refusal at once when
// an assignment or a membership goes, Logout, bad input, and fromSSO from a CLI-shaped cache.

import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DeleteGroupMembershipCommand, DeleteUserCommand, IdentitystoreClient } from '@aws-sdk/client-identitystore';
import { GetRoleCredentialsCommand, ListAccountRolesCommand, ListAccountsCommand, LogoutCommand, SSOClient } from '@aws-sdk/client-sso';
import { CreateTokenCommand, RegisterClientCommand } from '@aws-sdk/client-sso-oidc';
import { sql, type Kysely } from 'kysely';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { DEVICE_CODE_GRANT, oidcServiceOf } from '../../src/protocols/oidc/index.js';
import * as portalClients from '../../src/store/migrations/0024-oidc-portal-clients.js';
import { run } from '../helpers/peers.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';
import { outcome, portalFixture, suffix } from '../helpers/portal-fixture.js';

type Creds = { accessKeyId?: string; secretAccessKey?: string; sessionToken?: string; expiration?: number };

describe.each(dialects())('sso portal API on %s', (dialect) => {
  let server: TestServer;
  let f: ReturnType<typeof portalFixture>;
  let portal: SSOClient;
  let account: { accountId: string; name: string; email: string };
  let other: { accountId: string; name: string; email: string };

  beforeAll(async () => {
    server = await startServer(dialect);
    f = portalFixture(server);
    portal = new SSOClient({ endpoint: server.url, region: 'us-east-1', maxAttempts: 1 });
    [account, other] = [await f.newAccount(), await f.newAccount()];
  });
  afterAll(async () => {
    await server?.close();
  });

  const sts = (c: Creds) =>
    new STSClient({ ...sdkOptions(server), credentials: { accessKeyId: c.accessKeyId!, secretAccessKey: c.secretAccessKey!, sessionToken: c.sessionToken } });
  const whoAmI = (c: Creds) => sts(c).send(new GetCallerIdentityCommand({}));
  const roleCredentials = (accessToken: string, roleName: string, accountId = account.accountId) =>
    portal.send(new GetRoleCredentialsCommand({ accessToken, accountId, roleName })).then((r) => r.roleCredentials!);
  const auditRows = (eventName: string) => server.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', '=', eventName).orderBy('seq').execute();

  /** A user with one direct role in `account`, one through a group in `account` and `other`. */
  async function world() {
    const user = await f.newUser();
    const group = await f.newGroup(user);
    const direct = await f.newPermissionSet(undefined, 'PT2H');
    const inherited = await f.newPermissionSet(undefined, 'PT1H');
    await f.assignment('create', account.accountId, direct.arn, 'USER', user.userId);
    await f.assignment('create', account.accountId, inherited.arn, 'GROUP', group.groupId);
    await f.assignment('create', other.accountId, inherited.arn, 'GROUP', group.groupId);
    return { user, group, direct, inherited, token: await f.login(user) };
  }

  it('lists the accounts and roles of direct and group assignments, and issues credentials STS accepts', async () => {
    const { user, direct, inherited, token } = await world();
    const accounts = await portal.send(new ListAccountsCommand({ accessToken: token.accessToken }));
    expect(accounts.accountList).toEqual(
      [account, other].sort((a, b) => a.accountId.localeCompare(b.accountId)).map((a) => ({ accountId: a.accountId, accountName: a.name, emailAddress: a.email })),
    );
    expect(accounts.nextToken).toBeUndefined();

    const firstPage = await portal.send(new ListAccountsCommand({ accessToken: token.accessToken, maxResults: 1 }));
    expect(firstPage.accountList).toHaveLength(1);
    const secondPage = await portal.send(new ListAccountsCommand({ accessToken: token.accessToken, maxResults: 1, nextToken: firstPage.nextToken }));
    expect([...firstPage.accountList!, ...secondPage.accountList!]).toEqual(accounts.accountList);
    expect(secondPage.nextToken).toBeUndefined();

    const roles = await portal.send(new ListAccountRolesCommand({ accessToken: token.accessToken, accountId: account.accountId }));
    expect(roles.roleList).toEqual([direct.name, inherited.name].sort().map((roleName) => ({ roleName, accountId: account.accountId })));
    const otherRoles = await portal.send(new ListAccountRolesCommand({ accessToken: token.accessToken, accountId: other.accountId }));
    expect(otherRoles.roleList).toEqual([{ roleName: inherited.name, accountId: other.accountId }]);

    const before = Date.now();
    const creds = await roleCredentials(token.accessToken, direct.name);
    expect(creds.accessKeyId).toMatch(/^ASIA[A-Z2-7]{16}$/);
    // The permission set's session duration, PT2H, in epoch milliseconds.
    expect(creds.expiration! - before).toBeGreaterThan(2 * 3600_000 - 5_000);
    expect(creds.expiration! - before).toBeLessThanOrEqual(2 * 3600_000 + 5_000);
    const me = await whoAmI(creds);
    expect(me.Arn).toMatch(new RegExp(`^arn:aws:sts::${account.accountId}:assumed-role/AWSReservedSSO_${direct.name}_[0-9a-f]{16}/${user.userName}$`));
    expect(me.Account).toBe(account.accountId);

    const viaGroup = await roleCredentials(token.accessToken, inherited.name, other.accountId);
    expect(viaGroup.expiration! - before).toBeLessThanOrEqual(3600_000 + 5_000);
    expect((await whoAmI(viaGroup)).Arn).toMatch(new RegExp(`^arn:aws:sts::${other.accountId}:assumed-role/AWSReservedSSO_${inherited.name}_[0-9a-f]{16}/`));

    // A role held in one account is not held in another; an unknown role is refused the same way.
    expect(await outcome(roleCredentials(token.accessToken, direct.name, other.accountId))).toBe('ForbiddenException 403');
    expect(await outcome(roleCredentials(token.accessToken, 'NoSuchRole'))).toBe('ForbiddenException 403');
    const issued = (await auditRows('GetRoleCredentials')).filter((e) => e.error_code === null && (e.response_elements ?? '').includes(creds.accessKeyId!));
    expect(issued).toHaveLength(1);
    expect(JSON.stringify(issued[0])).not.toContain(creds.secretAccessKey);
    expect((await auditRows('GetRoleCredentials')).some((e) => e.error_code === 'ForbiddenException')).toBe(true);
  });

  it('gives AWS access only to a token issued for it: not one an application got to sign a user in', async () => {
    const { user, direct } = await world();
    // A client that asked for the user's profile only: the user agreed to that much, not to AWS credentials.
    const profileOnly = await f.login(user, ['openid', 'profile']);
    const refused = 'UnauthorizedException 401';
    expect(await outcome(portal.send(new ListAccountsCommand({ accessToken: profileOnly.accessToken })))).toBe(refused);
    expect(await outcome(portal.send(new ListAccountRolesCommand({ accessToken: profileOnly.accessToken, accountId: account.accountId })))).toBe(refused);
    expect(await outcome(roleCredentials(profileOnly.accessToken, direct.name))).toBe(refused);
    const refusals = (await auditRows('GetRoleCredentials')).filter((e) => e.error_code === 'UnauthorizedException' && (e.user_identity ?? '').includes(user.userId));
    expect(refusals).toHaveLength(1);
    // Ending it is allowed, whatever it was for.
    await portal.send(new LogoutCommand({ accessToken: profileOnly.accessToken }));
    // A client registered without scopes (the AWS CLI's legacy profiles) still gets credentials.
    const legacy = await f.login(user, 'none');
    expect((await roleCredentials(legacy.accessToken, direct.name)).accessKeyId).toMatch(/^ASIA/);
    // One registered for `openid` alone gets a token with no scope left: not a portal token either.
    const openidOnly = await f.login(user, ['openid']);
    expect(await outcome(roleCredentials(openidOnly.accessToken, direct.name))).toBe(refused);
  });

  it('gives no AWS access to a scope-less token a sign-in client gets from the provider\'s own device endpoint', async () => {
    const { user, direct } = await world();
    const client = await f.oidc.send(new RegisterClientCommand({ clientName: 'wiki', clientType: 'public', scopes: ['openid', 'profile'] }));
    const started = await fetch(`${server.url}/oidc/device/auth`, { method: 'POST', body: new URLSearchParams({ client_id: client.clientId!, client_secret: client.clientSecret! }) });
    expect(started.status).toBe(200);
    const device = (await started.json()) as { user_code: string; device_code: string };
    await oidcServiceOf(server.reg).approveDevice(systemContext('sso.amazonaws.com', 'us-east-1', server.reg.newRequestId(), 'device-page'), device.user_code, user, 'approve');
    const token = await f.oidc.send(new CreateTokenCommand({ clientId: client.clientId, clientSecret: client.clientSecret, grantType: DEVICE_CODE_GRANT, deviceCode: device.device_code }));
    expect(await outcome(portal.send(new ListAccountsCommand({ accessToken: token.accessToken })))).toBe('UnauthorizedException 401');
    expect(await outcome(roleCredentials(token.accessToken!, direct.name))).toBe('UnauthorizedException 401');
  });

  it('keeps portal access for a scope-less client registered before 0024 marked such clients', async () => {
    const { user, direct } = await world();
    const legacy = await f.login(user, 'none');
    const db = server.reg.database.db as unknown as Kysely<unknown>;
    const scopeOf = async () => (JSON.parse((await sql<{ payload: string }>`select payload from oidc_models where model = 'Client' and id = ${legacy.clientId}`.execute(db)).rows[0]!.payload) as { scope: string }).scope;
    expect((await scopeOf()).split(' ')).toContain('sso:account:access');
    // As such a client was stored before: its tokens carry no scope, and neither does the client.
    await sql`update oidc_models set payload = ${JSON.stringify({ ...JSON.parse((await sql<{ payload: string }>`select payload from oidc_models where model = 'Client' and id = ${legacy.clientId}`.execute(db)).rows[0]!.payload), scope: 'openid offline_access' })} where model = 'Client' and id = ${legacy.clientId}`.execute(db);
    const before = await f.loginAs(user, legacy);
    expect(await outcome(roleCredentials(before.accessToken, direct.name))).toBe('UnauthorizedException 401');
    // A client that asked for `openid` alone was stored alike; its RegisterClient event tells it apart.
    const openidOnly = await f.login(user, ['openid']);
    await portalClients.up(db);
    expect(await scopeOf()).toBe('openid offline_access sso:account:access');
    expect((await roleCredentials(before.accessToken, direct.name)).accessKeyId).toMatch(/^ASIA/);
    const stillSignInOnly = (JSON.parse((await sql<{ payload: string }>`select payload from oidc_models where model = 'Client' and id = ${openidOnly.clientId}`.execute(db)).rows[0]!.payload) as { scope: string }).scope;
    expect(stillSignInOnly).toBe('openid offline_access');
    expect(await outcome(roleCredentials(openidOnly.accessToken, direct.name))).toBe('UnauthorizedException 401');
  });

  it('Logout ends the portal session the CLI sign-in was approved in, as AWS\'s ends the sign-in', async () => {
    const { user, direct } = await world();
    const ctx = systemContext('signin.amazonaws.com', 'us-east-1', server.reg.newRequestId());
    await server.reg.auth.setPassword(ctx, user.userName, { password: 'Logout#Pass-42x', oneTime: false });
    const signedIn = await server.reg.auth.signIn(ctx, user.userName, 'Logout#Pass-42x');
    if (signedIn.kind !== 'ok') throw new Error(`sign-in ${signedIn.kind}`);
    const cli = await f.login({ ...user, sessionId: signedIn.session.sessionId });
    const creds = await roleCredentials(cli.accessToken, direct.name);
    expect(await server.reg.auth.resolveSession(signedIn.token)).toBeDefined();
    await portal.send(new LogoutCommand({ accessToken: cli.accessToken }));
    // The browser is signed out too, and what it or the CLI got in that sign-in stops working.
    expect(await server.reg.auth.resolveSession(signedIn.token)).toBeUndefined();
    expect(await outcome(whoAmI(creds))).toBe('InvalidClientTokenId 403');
    // One event by the caller (Logout); the ended session is the Logout's service event.
    const ended = (await auditRows('RevokeSession')).filter((e) => (e.request_parameters ?? '').includes(signedIn.session.sessionId));
    expect(ended.map((e) => [e.event_type, e.error_code])).toEqual([['AwsServiceEvent', null]]);
  });

  it('a sign-in client\'s Logout ends its own tokens, not the credentials the CLI got in the same portal session', async () => {
    const { user, direct } = await world();
    const session = { ...user, sessionId: `session-${suffix()}` };
    const cli = await f.login(session);
    const app = await f.login(session, ['openid', 'profile']);
    const creds = await roleCredentials(cli.accessToken, direct.name);
    await portal.send(new LogoutCommand({ accessToken: app.accessToken }));
    expect(await outcome(portal.send(new LogoutCommand({ accessToken: app.accessToken })))).toBe('UnauthorizedException 401');
    expect(await outcome(whoAmI(creds))).toBe('ok');
    expect(await outcome(roleCredentials(cli.accessToken, direct.name))).toBe('ok');
    // The CLI's own Logout ends the credentials of that sign-in, as AWS's does.
    await portal.send(new LogoutCommand({ accessToken: cli.accessToken }));
    expect(await outcome(whoAmI(creds))).toBe('InvalidClientTokenId 403');
  });

  it('refuses at once when the assignment is deleted, and the credentials issued before fail at STS', async () => {
    const { user, direct, inherited, token } = await world();
    const creds = await roleCredentials(token.accessToken, direct.name);
    expect(await outcome(whoAmI(creds))).toBe('ok');
    await f.assignment('delete', account.accountId, direct.arn, 'USER', user.userId);
    expect(await outcome(roleCredentials(token.accessToken, direct.name))).toBe('ForbiddenException 403');
    expect(await outcome(whoAmI(creds))).toBe('InvalidClientTokenId 403');
    const roles = await portal.send(new ListAccountRolesCommand({ accessToken: token.accessToken, accountId: account.accountId }));
    expect(roles.roleList).toEqual([{ roleName: inherited.name, accountId: account.accountId }]);
    // The group's role is untouched.
    expect(await outcome(whoAmI(await roleCredentials(token.accessToken, inherited.name)))).toBe('ok');
  });

  it('refuses at once when the user leaves the group that granted the role', async () => {
    const { direct, inherited, group, token } = await world();
    const creds = await roleCredentials(token.accessToken, inherited.name, other.accountId);
    const ids = new IdentitystoreClient(sdkOptions(server));
    await ids.send(new DeleteGroupMembershipCommand({ IdentityStoreId: server.init.identityStoreId, MembershipId: group.membershipIds[0]! }));
    expect(await outcome(roleCredentials(token.accessToken, inherited.name, other.accountId))).toBe('ForbiddenException 403');
    expect(await outcome(whoAmI(creds))).toBe('InvalidClientTokenId 403');
    const accounts = await portal.send(new ListAccountsCommand({ accessToken: token.accessToken }));
    expect(accounts.accountList!.map((a) => a.accountId)).toEqual([account.accountId]);
    expect(await outcome(roleCredentials(token.accessToken, direct.name))).toBe('ok');
  });

  it('refuses at once when the user is deleted', async () => {
    const { user, direct, token } = await world();
    const creds = await roleCredentials(token.accessToken, direct.name);
    await new IdentitystoreClient(sdkOptions(server)).send(new DeleteUserCommand({ IdentityStoreId: server.init.identityStoreId, UserId: user.userId }));
    // The user's tokens are gone with them, whether or not a portal session approved them.
    expect(await outcome(roleCredentials(token.accessToken, direct.name))).toBe('UnauthorizedException 401');
    expect(await outcome(whoAmI(creds))).toBe('InvalidClientTokenId 403');
    expect(await outcome(portal.send(new ListAccountsCommand({ accessToken: token.accessToken })))).toBe('UnauthorizedException 401');
    expect(await outcome(portal.send(new ListAccountRolesCommand({ accessToken: token.accessToken, accountId: account.accountId })))).toBe('UnauthorizedException 401');
  });

  it('logs out: the access token is refused, the refresh token is dead, the credentials stop working', async () => {
    const { direct, token } = await world();
    const creds = await roleCredentials(token.accessToken, direct.name);
    await portal.send(new LogoutCommand({ accessToken: token.accessToken }));
    expect(await outcome(portal.send(new ListAccountsCommand({ accessToken: token.accessToken })))).toBe('UnauthorizedException 401');
    expect(await outcome(roleCredentials(token.accessToken, direct.name))).toBe('UnauthorizedException 401');
    expect(await outcome(portal.send(new LogoutCommand({ accessToken: token.accessToken })))).toBe('UnauthorizedException 401');
    const refresh = f.oidc.send(new CreateTokenCommand({ clientId: token.clientId, clientSecret: token.clientSecret, grantType: 'refresh_token', refreshToken: token.refreshToken }));
    expect(await outcome(refresh)).toBe('InvalidGrantException 400');
    expect(await outcome(whoAmI(creds))).toBe('InvalidClientTokenId 403');
    const logouts = await auditRows('Logout');
    expect(logouts.some((e) => e.error_code === null && e.event_source === 'sso.amazonaws.com')).toBe(true);
    expect(logouts.some((e) => e.error_code === 'UnauthorizedException')).toBe(true);
  });

  it("an application revoking its own token (RFC 7009) or reusing its refresh token leaves the CLI's credentials of the same portal session alone; the CLI's reuse ends them", async () => {
    const { user, direct } = await world();
    const session = { ...user, sessionId: `session-${suffix()}` };
    const cli = await f.login(session);
    const app = await f.login(session, ['openid', 'profile']);
    const creds = await roleCredentials(cli.accessToken, direct.name);
    const revoke = (token: string, by: { clientId: string; clientSecret: string }) =>
      fetch(`${server.url}/oidc/token/revocation`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token, token_type_hint: 'refresh_token', client_id: by.clientId, client_secret: by.clientSecret }).toString(),
      });
    // Not another client's token (RFC 7009 §2.1).
    expect((await revoke(cli.refreshToken, app)).status).toBe(400);
    expect(await outcome(roleCredentials(cli.accessToken, direct.name))).toBe('ok');
    // The application signs the user out of itself the standard way.
    expect((await revoke(app.refreshToken, app)).status).toBe(200);
    expect(await outcome(portal.send(new LogoutCommand({ accessToken: app.accessToken })))).toBe('UnauthorizedException 401');
    expect(await outcome(whoAmI(creds))).toBe('ok');
    // Another application's refresh token used twice: its family ends, the CLI's credentials stay.
    const other = await f.login(session, ['openid', 'profile']);
    const refresh = (t: { clientId: string; clientSecret: string }, refreshToken: string) =>
      f.oidc.send(new CreateTokenCommand({ clientId: t.clientId, clientSecret: t.clientSecret, grantType: 'refresh_token', refreshToken }));
    await refresh(other, other.refreshToken);
    expect(await outcome(refresh(other, other.refreshToken))).toBe('InvalidGrantException 400');
    expect(await outcome(whoAmI(creds))).toBe('ok');
    // The CLI's own refresh token used twice ends what it got.
    await refresh(cli, cli.refreshToken);
    expect(await outcome(refresh(cli, cli.refreshToken))).toBe('InvalidGrantException 400');
    expect(await outcome(whoAmI(creds))).toBe('InvalidClientTokenId 403');
  });

  it('a refresh token used twice ends its family, and the credentials its tokens got', async () => {
    const { direct, token } = await world();
    const creds = await roleCredentials(token.accessToken, direct.name);
    expect((await whoAmI(creds)).Arn).toContain(direct.name);
    const refresh = (refreshToken: string) => f.oidc.send(new CreateTokenCommand({ clientId: token.clientId, clientSecret: token.clientSecret, grantType: 'refresh_token', refreshToken }));
    const rotated = await refresh(token.refreshToken);
    const later = await roleCredentials(rotated.accessToken!, direct.name);
    // The first refresh token again: someone else holds a copy.
    expect(await outcome(refresh(token.refreshToken))).toBe('InvalidGrantException 400');
    expect(await outcome(portal.send(new ListAccountsCommand({ accessToken: rotated.accessToken! })))).toBe('UnauthorizedException 401');
    expect(await outcome(whoAmI(creds))).toBe('InvalidClientTokenId 403');
    expect(await outcome(whoAmI(later))).toBe('InvalidClientTokenId 403');
    expect((await auditRows('RevokeGrant')).some((e) => e.error_code === null)).toBe(true);
  });

  it('credentials count as issued when their right was checked: a revocation that commits during the check covers them', async () => {
    const { user, direct, token } = await world();
    const { grantId } = (await oidcServiceOf(server.reg).resolveAccessToken(token.accessToken))!;
    const role = await server.reg.access.portal.roleFor(user.userId, account.accountId, direct.name);
    const request = { userId: user.userId, userName: user.userName, sessionId: `grant:${grantId}`, accountId: account.accountId, ...role };
    const ctx = systemContext('sso.amazonaws.com', 'us-east-1', server.reg.newRequestId());
    // A GetRoleCredentials checked its token and the assignment, then the session was revoked
    // before it issued: what it issues is revoked too.
    const checkedFrom = Date.now();
    await new Promise((r) => setTimeout(r, 5));
    await server.reg.revocation.revokeFollowing(ctx, [{ kind: 'session', sessionId: `grant:${grantId}` }], 'Logout');
    await new Promise((r) => setTimeout(r, 5));
    const raced = await server.reg.temporaryCredentials.issueRoleCredentials(ctx, { ...request, checkedFrom });
    expect(await outcome(whoAmI(raced))).toBe('InvalidClientTokenId 403');
    // Issued after the revocation with nothing checked before it, the same credentials would work.
    const after = await server.reg.temporaryCredentials.issueRoleCredentials(ctx, request);
    expect((await whoAmI(after)).Arn).toContain(direct.name);
  });

  it('answers a bogus token or bad input with 4xx, never a 500', async () => {
    const { direct, token } = await world();
    for (const accessToken of ['bogus', 'x'.repeat(5000), token.refreshToken]) {
      expect(await outcome(portal.send(new ListAccountsCommand({ accessToken })))).toBe('UnauthorizedException 401');
      expect(await outcome(roleCredentials(accessToken, direct.name))).toBe('UnauthorizedException 401');
    }
    expect(await outcome(roleCredentials(token.accessToken, direct.name, '12345'))).toBe('InvalidRequestException 400');
    expect(await outcome(roleCredentials(token.accessToken, 'x'.repeat(33)))).toBe('InvalidRequestException 400');
    expect(await outcome(portal.send(new ListAccountsCommand({ accessToken: token.accessToken, maxResults: 0 })))).toBe('InvalidRequestException 400');
    expect(await outcome(portal.send(new ListAccountsCommand({ accessToken: token.accessToken, nextToken: 'forged' })))).toBe('InvalidRequestException 400');

    const raw = async (p: string, init: RequestInit = {}) => {
      const r = await fetch(`${server.url}${p}`, init);
      return { status: r.status, type: r.headers.get('x-amzn-errortype'), cache: r.headers.get('cache-control'), body: (await r.json()) as { message?: string } };
    };
    const noToken = await raw('/assignment/accounts');
    expect(noToken).toMatchObject({ status: 401, type: 'UnauthorizedException', body: { __type: 'UnauthorizedException', message: expect.any(String) } });
    const headers = { 'x-amz-sso_bearer_token': token.accessToken };
    // Credentials and lists are the caller's alone: a cache on the way must not keep them.
    expect(await raw(`/federation/credentials?account_id=${account.accountId}&role_name=${direct.name}`, { headers })).toMatchObject({ status: 200, cache: 'no-store' });
    expect(await raw('/assignment/accounts', { headers })).toMatchObject({ status: 200, cache: 'no-store' });
    expect(await raw('/assignment/accounts?max_result=abc', { headers })).toMatchObject({ status: 400, type: 'InvalidRequestException' });
    expect(await raw('/assignment/accounts?unknown=1', { headers })).toMatchObject({ status: 400, type: 'InvalidRequestException' });
    expect(await raw('/assignment/roles', { headers })).toMatchObject({ status: 400, type: 'InvalidRequestException' });
    expect(await raw('/federation/credentials?account_id=123456789012', { headers })).toMatchObject({ status: 400, type: 'InvalidRequestException' });
    expect(await raw('/logout', { method: 'POST', headers: { ...headers, 'content-type': 'application/json' }, body: '{not json' })).toMatchObject({ status: 200 });
  });

  it('works with fromSSO from @aws-sdk/credential-providers, reading a CLI-shaped profile and token cache', async () => {
    const { user, direct, token } = await world();
    const home = mkdtempSync(path.join(tmpdir(), 'atrium-fromsso-'));
    const session = `local-${suffix()}`;
    writeFileSync(
      path.join(home, 'config'),
      [
        `[sso-session ${session}]`,
        `sso_start_url = ${server.init.startUrl}`,
        'sso_region = us-east-1',
        'sso_registration_scopes = sso:account:access',
        '[profile dev]',
        `sso_session = ${session}`,
        `sso_account_id = ${account.accountId}`,
        `sso_role_name = ${direct.name}`,
        'region = us-east-1',
        '',
      ].join('\n'),
    );
    const cache = path.join(home, '.aws', 'sso', 'cache');
    mkdirSync(cache, { recursive: true });
    writeFileSync(
      path.join(cache, `${createHash('sha1').update(session).digest('hex')}.json`),
      JSON.stringify({
        startUrl: server.init.startUrl,
        region: 'us-east-1',
        accessToken: token.accessToken,
        expiresAt: new Date(Date.now() + 3600_000).toISOString(),
        clientId: token.clientId,
        clientSecret: token.clientSecret,
        registrationExpiresAt: new Date(Date.now() + 86400_000).toISOString(),
        refreshToken: token.refreshToken,
      }),
    );
    // A separate process, so that the provider reads this HOME and config as a user's would.
    const script = [
      "import { fromSSO } from '@aws-sdk/credential-providers';",
      "import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';",
      `const endpoint = ${JSON.stringify(server.url)};`,
      "const credentials = fromSSO({ profile: 'dev', clientConfig: { endpoint } });",
      "const me = await new STSClient({ endpoint, region: 'us-east-1', credentials }).send(new GetCallerIdentityCommand({}));",
      'console.log(JSON.stringify({ arn: me.Arn, expiration: (await credentials()).expiration }));',
    ].join('\n');
    const env = { PATH: '/usr/bin:/bin', HOME: home, AWS_CONFIG_FILE: path.join(home, 'config'), AWS_SHARED_CREDENTIALS_FILE: path.join(home, 'credentials') };
    const r = await run(process.execPath, ['--input-type=module', '-e', script], env).finally(() => rmSync(home, { recursive: true, force: true }));
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { arn: string; expiration: string };
    expect(out.arn).toMatch(new RegExp(`^arn:aws:sts::${account.accountId}:assumed-role/AWSReservedSSO_${direct.name}_[0-9a-f]{16}/${user.userName}$`));
    expect(new Date(out.expiration).getTime()).toBeGreaterThan(Date.now() + 3600_000);
  });
});
