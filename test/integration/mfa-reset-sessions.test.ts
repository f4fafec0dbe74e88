// An administrator's MFA reset, the recovery path for a lost or stolen device, on both databases:
// besides the devices, every portal session of the user ends, with the CLI sign-in approved in it
// and every credential issued under them, as a session revoke ends them. Through the admin API (as
// the console calls it) and `atrium mfa reset` from another process.

import { GetRoleCredentialsCommand, ListAccountsCommand, SSOClient } from '@aws-sdk/client-sso';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemContext } from '../../src/shared/context.js';
import { Browser } from '../helpers/browser.js';
import { runCli } from '../helpers/cli.js';
import { adminCall, registerTotpAtSignIn, setMfaSettings } from '../helpers/mfa.js';
import { outcome, portalFixture, type PortalUser } from '../helpers/portal-fixture.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

const PASSWORD = 'Lost#Phone-7Kq2';
const totpCode = (secret: string) => new TOTP({ secret: Secret.fromBase32(secret), digits: 6, period: 30, algorithm: 'SHA1' }).generate();

describe.each(dialects())('MFA reset ends the user\'s sessions on %s', (dialect) => {
  let server: TestServer;
  let f: ReturnType<typeof portalFixture>;
  let portal: SSOClient;
  let account: { accountId: string };
  let role: { name: string; arn: string };

  beforeAll(async () => {
    server = await startServer(dialect);
    f = portalFixture(server);
    portal = new SSOClient({ endpoint: server.url, region: 'us-east-1', maxAttempts: 1 });
    account = await f.newAccount();
    role = await f.newPermissionSet();
    await setMfaSettings(server, { Mode: 'ALWAYS_ON', NoDevice: 'REGISTER', AllowedDeviceTypes: ['TOTP'] });
  });
  afterAll(() => server?.close());

  const whoAmI = (c: { accessKeyId?: string; secretAccessKey?: string; sessionToken?: string }) =>
    new STSClient({ ...sdkOptions(server), credentials: { accessKeyId: c.accessKeyId!, secretAccessKey: c.secretAccessKey!, sessionToken: c.sessionToken } }).send(
      new GetCallerIdentityCommand({}),
    );
  const ssoCredentials = (accessToken: string) => portal.send(new GetRoleCredentialsCommand({ accessToken, accountId: account.accountId, roleName: role.name })).then((r) => r.roleCredentials!);
  const sessionWorks = async (b: Browser) => (await b.request('/api/portal/session')).status === 200;
  const auditRows = (eventName: string) => server.reg.database.db.selectFrom('audit_events').selectAll().where('event_name', '=', eventName).orderBy('seq').execute();

  /**
   * A user with the role, signed in through the pages with their authenticator app (registered at
   * sign-in), holding what that sign-in gives: the portal's credentials, and a CLI sign-in approved
   * in the same portal session with its bearer token and the credentials it got.
   */
  async function signedInWithDevice() {
    const user: PortalUser = await f.newUser();
    await server.reg.auth.setPassword(systemContext('sso.amazonaws.com', 'us-east-1', 'test'), user.userName, { password: PASSWORD, oneTime: false });
    await f.assignment('create', account.accountId, role.arn, 'USER', user.userId);
    const b = new Browser(server.url);
    expect((await b.signIn(user.userName, PASSWORD)).headers.get('location')).toBe('/login/mfa/register?return_to=%2Fstart');
    expect((await registerTotpAtSignIn(b, '/start', totpCode)).response.status).toBe(303);
    const [session] = await server.reg.auth.listSessions(user.userName);
    const fromPortal = await b.portalCredentials(account.accountId, role.name);
    expect(fromPortal.status).toBe(200);
    const cli = await f.login({ ...user, sessionId: session!.sessionId });
    const fromCli = await ssoCredentials(cli.accessToken);
    expect(await outcome(whoAmI(fromPortal.creds))).toBe('ok');
    expect(await outcome(whoAmI(fromCli))).toBe('ok');
    const [device] = await server.reg.mfa.listDevices({ identityStoreId: server.init.identityStoreId, ...user });
    return { user, b, sessionId: session!.sessionId, deviceId: device!.deviceId, token: cli.accessToken, fromPortal: fromPortal.creds, fromCli };
  }

  it('through the admin API: the browser session, the CLI token and every credential from them are refused at once, in one audited change', async () => {
    const s = await signedInWithDevice();
    // Another user's session is not touched.
    const bystander = await signedInWithDevice();

    const reset = await adminCall(server, 'DELETE', `/api/admin/users/${s.user.userName}/mfa-devices`);
    expect(reset.status).toBe(200);

    // The browser is signed out, and its portal credentials route refuses.
    expect(await sessionWorks(s.b)).toBe(false);
    expect((await s.b.portalCredentials(account.accountId, role.name)).status).toBe(401);
    // The bearer token of the CLI sign-in approved in that session is refused by the portal API.
    expect(await outcome(portal.send(new ListAccountsCommand({ accessToken: s.token })))).toBe('UnauthorizedException 401');
    expect(await outcome(ssoCredentials(s.token))).toBe('UnauthorizedException 401');
    // Credentials issued before, from the portal and from the CLI, fail at STS.
    expect(await outcome(whoAmI(s.fromPortal))).toBe('InvalidClientTokenId 403');
    expect(await outcome(whoAmI(s.fromCli))).toBe('InvalidClientTokenId 403');
    expect(await server.reg.auth.listSessions(s.user.userName)).toEqual([]);
    // The answer names what ended.
    expect(reset.json).toEqual({ DeletedDeviceIds: [s.deviceId], RevokedSessionIds: [s.sessionId] });

    expect(await sessionWorks(bystander.b)).toBe(true);
    expect(await outcome(whoAmI(bystander.fromCli))).toBe('ok');

    // One event by the caller, naming what it ended; the revocation is its service event, caused by it.
    const [event, ...more] = (await auditRows('ResetUserMfa')).filter((e) => e.request_parameters!.includes(s.user.userName));
    expect(more).toEqual([]);
    expect(event!.error_code).toBeNull();
    expect(JSON.parse(event!.response_elements!)).toEqual({ deletedDeviceIds: [s.deviceId], sessionIds: [s.sessionId] });
    const revocations = (await auditRows('RevokeCredentials')).filter((e) => e.request_parameters!.includes(s.sessionId));
    expect(revocations.map((e) => [e.event_type, JSON.parse(e.request_parameters!) as unknown])).toEqual([
      ['AwsServiceEvent', { subjects: [{ kind: 'session', sessionId: s.sessionId }], reason: 'ResetUserMfa', causedBy: event!.request_id }],
    ]);

    // The user signs in again and registers a new device: the recovery path.
    const again = new Browser(server.url);
    expect((await again.signIn(s.user.userName, PASSWORD)).headers.get('location')).toBe('/login/mfa/register?return_to=%2Fstart');
  });

  it('with `atrium mfa reset` from another process: it prints what ended, and the server refuses the credentials within 5 s', async () => {
    const s = await signedInWithDevice();
    const storage = ['--data-dir', server.dataDir, ...(dialect === 'postgres' ? ['--database-url', server.reg.config.databaseUrl!] : [])];

    const reset = await runCli(['mfa', 'reset', '--user-name', s.user.userName, '--json', ...storage]);
    expect([reset.code, reset.stderr]).toEqual([0, '']);
    expect(await sessionWorks(s.b)).toBe(false);
    expect(await outcome(ssoCredentials(s.token))).toBe('UnauthorizedException 401');
    // The marks were written by another process: this one reads them within its refresh.
    await expect.poll(() => outcome(whoAmI(s.fromCli)), { timeout: 5_000, interval: 100 }).toBe('InvalidClientTokenId 403');
    expect(await outcome(whoAmI(s.fromPortal))).toBe('InvalidClientTokenId 403');
    expect(JSON.parse(reset.stdout)).toEqual({ deletedDeviceIds: [s.deviceId], revokedSessionIds: [s.sessionId] });

    // Nothing left to end: the text says so.
    const again = await runCli(['mfa', 'reset', '--user-name', s.user.userName, ...storage]);
    expect(again.stdout).toBe('deleted 0 device(s), revoked 0 session(s)\n');
  });
});
