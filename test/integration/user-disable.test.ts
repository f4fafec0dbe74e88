// Disabling and re-enabling a user, through identitystore UpdateUser (the real SDK) and the
// `atrium user disable|enable` commands, on both databases: what the user then meets at sign-in,
// in the portal, at the sso API and at STS, and what the audit log records.

import { DescribeUserCommand, IdentitystoreClient, ListUsersCommand, UpdateUserCommand, type AttributeOperation } from '@aws-sdk/client-identitystore';
import { GetRoleCredentialsCommand, ListAccountsCommand, SSOClient } from '@aws-sdk/client-sso';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { Browser } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';
import { portalFixture, type PortalUser } from '../helpers/portal-fixture.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

const PASSWORD = 'Vq7#mXw2!pLz';
const FAILED = 'The username or password is not correct.';

type Creds = { accessKeyId?: string; secretAccessKey?: string; sessionToken?: string };

/** How the SDK reports what a user meets: revoked credentials, a bad request. */
const REVOKED = { name: 'InvalidClientTokenId', $metadata: { httpStatusCode: 403 } };
const INVALID = { name: 'ValidationException', $metadata: { httpStatusCode: 400 } };

/** A sign-in page without what differs between two visits (the CSRF token). */
const pageOf = (r: { status: number; text: string }) => ({ status: r.status, text: r.text.replace(/name="csrf" value="[^"]+"/g, '') });

describe.each(dialects())('disabling users on %s', (dialect) => {
  let server: TestServer;
  let f: ReturnType<typeof portalFixture>;
  let ids: IdentitystoreClient;
  let portal: SSOClient;
  let account: { accountId: string };
  let role: { name: string; arn: string };
  let identityStoreId: string;

  beforeAll(async () => {
    server = await startServer(dialect);
    f = portalFixture(server);
    ids = new IdentitystoreClient(sdkOptions(server));
    portal = new SSOClient({ endpoint: server.url, region: 'us-east-1', maxAttempts: 1 });
    identityStoreId = server.init.identityStoreId;
    account = await f.newAccount();
    role = await f.newPermissionSet();
  });
  afterAll(() => server?.close());

  const setStatus = (userId: string, AttributeValue: unknown, AttributePath = 'UserStatus') =>
    ids.send(new UpdateUserCommand({ IdentityStoreId: identityStoreId, UserId: userId, Operations: [{ AttributePath, AttributeValue } as AttributeOperation] }));
  const describeUser = (userId: string) => ids.send(new DescribeUserCommand({ IdentityStoreId: identityStoreId, UserId: userId }));
  const whoAmI = (c: Creds) =>
    new STSClient({ ...sdkOptions(server), credentials: { accessKeyId: c.accessKeyId!, secretAccessKey: c.secretAccessKey!, sessionToken: c.sessionToken } }).send(
      new GetCallerIdentityCommand({}),
    );
  const ssoCredentials = (accessToken: string) =>
    portal.send(new GetRoleCredentialsCommand({ accessToken, accountId: account.accountId, roleName: role.name })).then((r) => r.roleCredentials!);
  const auditRows = (eventName: string) => server.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', '=', eventName).orderBy('seq').execute();

  /** A user with a password and the role in `account`. */
  async function member(): Promise<PortalUser> {
    const user = await f.newUser();
    await server.reg.auth.setPassword(systemContext('sso.amazonaws.com', 'us-east-1', 'test'), user.userName, { password: PASSWORD, oneTime: false });
    await f.assignment('create', account.accountId, role.arn, 'USER', user.userId);
    return user;
  }

  /** Signed in through the pages: the browser, or the refused password page. */
  async function signIn(user: PortalUser, password = PASSWORD) {
    const b = new Browser(server.url);
    const r = await b.signIn(user.userName, password);
    return { b, status: r.status, text: r.text };
  }

  const sessionWorks = async (b: Browser) => (await b.request('/api/portal/session')).status === 200;

  /** Role credentials from the access portal app, with the browser's session. */
  const portalCredentials = (b: Browser) => b.portalCredentials(account.accountId, role.name);

  it('sets UserStatus with UpdateUser (any case of the path), shows it in DescribeUser and ListUsers, and refuses any other value', async () => {
    const user = await f.newUser();
    expect((await describeUser(user.userId)).UserStatus).toBe('ENABLED');

    await setStatus(user.userId, 'DISABLED');
    expect((await describeUser(user.userId)).UserStatus).toBe('DISABLED');
    const listed = await ids.send(new ListUsersCommand({ IdentityStoreId: identityStoreId, Filters: [{ AttributePath: 'UserName', AttributeValue: user.userName }] }));
    expect(listed.Users!.map((u) => [u.UserName, u.UserStatus])).toEqual([[user.userName, 'DISABLED']]);

    await setStatus(user.userId, 'ENABLED', 'userstatus');
    expect((await describeUser(user.userId)).UserStatus).toBe('ENABLED');

    for (const bad of ['SUSPENDED', 'disabled', '', 1, null]) {
      await expect(setStatus(user.userId, bad), `value ${JSON.stringify(bad)}`).rejects.toMatchObject({ ...INVALID, message: expect.stringContaining('ENABLED, DISABLED') });
    }
    expect((await describeUser(user.userId)).UserStatus).toBe('ENABLED');
    // One bad operation refuses the whole request: the good one beside it is not applied either.
    const mixed = ids.send(
      new UpdateUserCommand({
        IdentityStoreId: identityStoreId,
        UserId: user.userId,
        Operations: [
          { AttributePath: 'displayName', AttributeValue: 'Renamed' },
          { AttributePath: 'UserStatus', AttributeValue: 'OFF' },
        ],
      }),
    );
    await expect(mixed).rejects.toMatchObject(INVALID);
    const after = await describeUser(user.userId);
    expect([after.DisplayName, after.UserStatus]).toEqual([user.userName, 'ENABLED']);

    // The status is recorded in the log (it is not personal data); other attribute values are not.
    const events = (await auditRows('UpdateUser')).filter((e) => e.request_parameters!.includes(user.userId));
    expect(events.map((e) => e.error_code)).toEqual([null, null, ...Array<string>(6).fill('directory.invalid_attribute')]);
    expect(JSON.parse(events[0]!.request_parameters!)).toMatchObject({ operations: [{ attributePath: 'UserStatus', attributeValue: 'DISABLED' }] });
    expect(events.at(-1)!.request_parameters).not.toContain('Renamed');
  });

  it('locks a disabled user out at once, everywhere; re-enabled, they sign in and get new credentials again', async () => {
    const user = await member();
    const signedIn = await signIn(user);
    expect(signedIn.status).toBe(303);
    const fromPortal = await portalCredentials(signedIn.b);
    expect(fromPortal.status).toBe(200);
    const device = await f.login(user);
    const fromSso = await ssoCredentials(device.accessToken);
    expect((await whoAmI(fromPortal.creds)).Account).toBe(account.accountId);
    expect((await whoAmI(fromSso)).Account).toBe(account.accountId);

    await setStatus(user.userId, 'DISABLED');

    // The right password is refused exactly as a wrong one is: nothing tells the user apart.
    const refused = await signIn(user);
    expect(refused.status).toBe(401);
    expect(refused.text).toContain(FAILED);
    expect(pageOf(refused)).toEqual(pageOf(await signIn(user, 'Wrong#Pass99')));
    expect(refused.b.cookies.has('atrium_session')).toBe(false);
    // The session they had is over, and with it the portal's credentials.
    expect(await sessionWorks(signedIn.b)).toBe(false);
    expect((await portalCredentials(signedIn.b)).status).toBe(401);
    // The sso API no longer takes the token they had: it was issued before the disable.
    const tokenEnded = { name: 'UnauthorizedException', $metadata: { httpStatusCode: 401 } };
    await expect(ssoCredentials(device.accessToken)).rejects.toMatchObject(tokenEnded);
    await expect(portal.send(new ListAccountsCommand({ accessToken: device.accessToken }))).rejects.toMatchObject(tokenEnded);
    // Everything issued before stops working at STS.
    await expect(whoAmI(fromPortal.creds)).rejects.toMatchObject(REVOKED);
    await expect(whoAmI(fromSso)).rejects.toMatchObject(REVOKED);

    await setStatus(user.userId, 'ENABLED');

    const again = await signIn(user);
    expect(again.status).toBe(303);
    expect(await sessionWorks(again.b)).toBe(true);
    const renewed = await portalCredentials(again.b);
    expect(renewed.status).toBe(200);
    expect((await whoAmI(renewed.creds)).Arn).toMatch(new RegExp(`:assumed-role/AWSReservedSSO_${role.name}_[0-9a-f]{16}/${user.userName}$`));
    expect((await whoAmI(await ssoCredentials((await f.login(user)).accessToken))).Account).toBe(account.accountId);
    // What was revoked stays revoked.
    await expect(whoAmI(fromPortal.creds)).rejects.toMatchObject(REVOKED);
    expect(await sessionWorks(signedIn.b)).toBe(false);

    // The log: the disable, the revocation it caused, the ended session and the refused sign-in.
    const signInIdentity = (e: { user_identity: string }) => (JSON.parse(e.user_identity) as { principalId: string }).principalId;
    const verifications = (await auditRows('CredentialVerification')).filter((e) => signInIdentity(e) === user.userId);
    expect(verifications.map((e) => e.error_code)).toEqual([null, 'auth.user_disabled', 'auth.failed', null]);
    const revocations = (await auditRows('RevokeCredentials')).filter((e) => e.request_parameters!.includes(user.userId));
    expect(revocations.map((e) => JSON.parse(e.request_parameters!) as { subjects: unknown[]; reason: string })).toContainEqual(
      expect.objectContaining({ subjects: [{ kind: 'user', userId: user.userId }], reason: 'DisableUser' }),
    );
    const ended = (await auditRows('RevokeSession')).filter((e) => e.request_parameters!.includes(user.userId));
    expect(ended).toHaveLength(1);
    expect(JSON.parse(ended[0]!.response_elements!)).toEqual({ sessionIds: [expect.any(String)] });
    // A consequence of the disable, as the revocation is: the caller's one event is the disable.
    expect(ended[0]!.event_type).toBe('AwsServiceEvent');
  });

  it('disables and enables with `atrium user disable|enable`, enforced by the running server', async () => {
    const storage = ['--data-dir', server.dataDir, ...(dialect === 'postgres' ? ['--database-url', server.reg.config.databaseUrl!] : [])];
    const user = await member();
    const signedIn = await signIn(user);
    const { creds } = await portalCredentials(signedIn.b);
    expect((await whoAmI(creds)).Account).toBe(account.accountId);

    const disabled = await runCli(['user', 'disable', '--user-name', user.userName, '--json', ...storage]);
    expect(disabled.stderr).not.toContain('atrium:');
    expect(disabled.code).toBe(0);
    expect(JSON.parse(disabled.stdout)).toEqual({ userName: user.userName, userId: user.userId, userStatus: 'DISABLED' });
    expect((await describeUser(user.userId)).UserStatus).toBe('DISABLED');
    expect((await signIn(user)).status).toBe(401);
    expect(await sessionWorks(signedIn.b)).toBe(false);
    // The mark was written by another process: the server picks it up within 5 s.
    const t0 = Date.now();
    while ((await whoAmI(creds).then(() => true, () => false)) && Date.now() - t0 < 5_000) await new Promise((r) => setTimeout(r, 100));
    await expect(whoAmI(creds)).rejects.toMatchObject(REVOKED);

    const enabled = await runCli(['user', 'enable', '--user-name', user.userName, ...storage]);
    expect(enabled.code).toBe(0);
    expect(enabled.stdout).toBe(`userName: ${user.userName}\nuserId: ${user.userId}\nuserStatus: ENABLED\n`);
    expect((await describeUser(user.userId)).UserStatus).toBe('ENABLED');
    expect((await signIn(user)).status).toBe(303);

    const missing = await runCli(['user', 'disable', '--user-name', 'nobody-here', ...storage]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/nobody-here does not exist/);

    const help = await runCli(['user', '--help']);
    expect(help.stdout).toMatch(/disable \[options\]\s+disable a user/);
    expect(help.stdout).toMatch(/enable \[options\]\s+enable a disabled user/);
    const disableHelp = await runCli(['user', 'disable', '--help']);
    for (const flag of ['--user-name <name>', '--json', '--data-dir <dir>', '--database-url <url>']) expect(disableHelp.stdout).toContain(flag);

    // Audited as the identitystore UpdateUser it is, by Atrium's CLI.
    const events = (await auditRows('UpdateUser')).filter((e) => e.request_parameters!.includes(user.userName) || e.request_parameters!.includes('nobody-here'));
    expect(events.map((e) => [e.event_source, e.error_code, (JSON.parse(e.request_parameters!) as { operations: { attributeValue: string }[] }).operations[0]!.attributeValue])).toEqual([
      ['identitystore.amazonaws.com', null, 'DISABLED'],
      ['identitystore.amazonaws.com', null, 'ENABLED'],
      ['identitystore.amazonaws.com', 'directory.user_not_found', 'DISABLED'],
    ]);
    expect(events.every((e) => e.user_agent === 'atrium-cli')).toBe(true);
  });
});
