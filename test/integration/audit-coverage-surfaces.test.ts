// Audit coverage of the surfaces users and clients call (audit-coverage.test.ts covers the admin
// APIs and SCIM, audit-coverage-cli.test.ts the command line): sign-in, MFA, the portal and its
// API, sso-oidc, the OIDC provider's endpoints, STS, IAM and POST /authorize. The list is read
// from the code: every route the built app serves with a method that can change something, the
// sso portal API's routes, IAM's operations and the endpoints the provider's discovery document
// names. Each either leaves exactly the events a user would expect, or is listed as leaving none,
// with why. No secret the test handles (passwords, tokens, keys, client secrets, TOTP seeds)
// reaches any event.

import { createHash, randomBytes } from 'node:crypto';
import { CreateTokenCommand, RegisterClientCommand, StartDeviceAuthorizationCommand, type RegisterClientCommandInput } from '@aws-sdk/client-sso-oidc';
import { GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import * as OTPAuth from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isIamRead, operations as iamOperations } from '../../src/protocols/aws/iam.js';
import { DEVICE_CODE_GRANT, AUTHORIZATION_CODE_GRANT, oidcServiceOf } from '../../src/protocols/oidc/index.js';
import { POLICY_KEY_PURPOSE } from '../../src/policy/index.js';
import { systemContext } from '../../src/shared/context.js';
import { Browser } from '../helpers/browser.js';
import { adminCall, totpEnrolmentOf } from '../helpers/mfa.js';
import { portalFixture, type PortalUser } from '../helpers/portal-fixture.js';
import { dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';
import { eventsAfter, expectNoSecretInAnyEvent, identityOf, lastSeq, mutatingRoutes, routeTree, routesUnder, signedFetch, type EventRow } from './audit-coverage-helpers.js';

const PASSWORD = 'Surf#Cov-Pass-8Qm';
const NEW_PASSWORD = 'Surf#Cov-Next-4Tz';
const REDIRECT_URI = 'http://127.0.0.1:49152/oauth/callback';
const IAM_VERSION = '2010-05-08';

/** What an operation must leave: these events by the caller, in order; the first names these values. */
interface Expected {
  events: string[];
  who: Record<string, unknown>;
  mentions?: string[];
  results?: string[];
}
interface Change {
  /** Work before the operation (a sign-in, an enrolment); its events are not the operation's. */
  setup?(): Promise<void>;
  run(): Promise<Expected>;
}
interface NoEvent {
  noEvent: string;
  /** Run to show it leaves none; absent when another test drives it (it needs a peer this one lacks). */
  run?(): Promise<void>;
}

const totp = (secret: string) => new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate();

describe.each(dialects())('audit coverage of the user and client surfaces on %s', (dialect) => {
  let server: TestServer;
  let fixture: ReturnType<typeof portalFixture>;
  let accountId: string;
  let permissionSetArn: string;
  /** The portal's name of a role: its permission set's. */
  const roleName = 'CovReader';
  const secrets = new Set<string>();
  const state: { browser?: Browser; user?: PortalUser; client?: { clientId: string; clientSecret: string }; deviceCode?: string; userCode?: string; refreshToken?: string; accessToken?: string; deviceId?: string; totpSecret?: string; consent?: { uid: string; csrf: string }; policyArn?: string } = {};
  const setup = () => systemContext('sso.amazonaws.com', 'us-east-1', `setup-${Math.random()}`, 'cov-setup');
  const asUser = (u: PortalUser) => ({ type: 'IdentityCenterUser', principalId: u.userId, userName: u.userName });
  const anonymous = { type: 'Unknown' };

  /** A new directory user with a password, and (unless `signedIn` is false) a browser signed in as them. */
  async function newUser(signedIn = true): Promise<{ user: PortalUser; browser: Browser }> {
    const user = await fixture.newUser();
    await server.reg.auth.setPassword(setup(), user.userName, { password: PASSWORD, oneTime: false });
    const browser = new Browser(server.url);
    if (signedIn) expect((await browser.signIn(user.userName, PASSWORD)).status).toBe(303);
    return { user, browser };
  }
  /** newUser, kept as the state's user and browser for the operation that follows. */
  async function becomeNewUser(signedIn = true): Promise<void> {
    const { user, browser } = await newUser(signedIn);
    state.user = user;
    state.browser = browser;
  }
  async function csrfOf(browser: Browser): Promise<string> {
    return (JSON.parse((await browser.request('/api/portal/session')).text) as { csrfToken: string }).csrfToken;
  }
  /** A JSON call of the portal app, with the session cookie and its CSRF token. */
  async function portalJson(browser: Browser, method: string, path: string, body?: unknown) {
    const res = await fetch(server.url + path, {
      method,
      headers: { cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'x-csrf-token': await csrfOf(browser), ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await res.text();
    expect(res.status, `${method} ${path}: ${text}`).toBeLessThan(300);
    return text ? (JSON.parse(text) as Record<string, unknown>) : {};
  }
  /** An authenticator app added on the devices page by a signed-in browser; its device id. */
  async function addTotp(browser: Browser): Promise<string> {
    const page = await browser.request('/mfa/devices/totp');
    expect(page.status).toBe(200);
    const e = totpEnrolmentOf(page.text);
    secrets.add(e.secret);
    const done = await browser.request('/mfa/devices/totp', { form: { csrf: e.csrf, return_to: '/mfa/devices', enrolment_id: e.enrolmentId, name: 'Phone', code: totp(e.secret) } });
    expect(done.status).toBe(303);
    const { devices } = await portalJson(browser, 'GET', '/api/portal/mfa/devices');
    return (devices as { DeviceId?: string; deviceId?: string }[]).map((d) => d.DeviceId ?? d.deviceId!).at(-1)!;
  }
  /** A client registered through sso-oidc, kept as the state's client. */
  async function registerClient(clientName: string, extra: Partial<RegisterClientCommandInput> = {}): Promise<void> {
    const client = await fixture.oidc.send(new RegisterClientCommand({ clientName, clientType: 'public', scopes: ['sso:account:access'], ...extra }));
    state.client = { clientId: client.clientId!, clientSecret: client.clientSecret! };
    secrets.add(client.clientSecret!);
  }
  /** Register a client and start a device authorization through sso-oidc, as the AWS CLI does. */
  async function startDevice(): Promise<void> {
    await registerClient('cov-cli');
    const auth = await fixture.oidc.send(new StartDeviceAuthorizationCommand({ ...state.client!, startUrl: server.init.startUrl }));
    state.deviceCode = auth.deviceCode!;
    state.userCode = auth.userCode!;
    secrets.add(auth.deviceCode!);
  }
  /** Tokens for the signed-in user through the device flow, approved in process. */
  async function deviceTokens(): Promise<void> {
    await becomeNewUser();
    await startDevice();
    const [session] = await server.reg.auth.listSessions(state.user!.userName);
    await oidcServiceOf(server.reg).approveDevice(setup(), state.userCode!, { ...state.user!, sessionId: session!.sessionId }, 'approve');
    const token = await fixture.oidc.send(new CreateTokenCommand({ ...state.client!, grantType: DEVICE_CODE_GRANT, deviceCode: state.deviceCode }));
    state.accessToken = token.accessToken!;
    state.refreshToken = token.refreshToken!;
    secrets.add(token.accessToken!).add(token.refreshToken!);
  }
  const iam = async (action: string, params: Record<string, string>) =>
    signedFetch(server, 'iam', 'POST', '/', { 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams({ Action: action, Version: IAM_VERSION, ...params }).toString());
  const document = JSON.stringify({ Version: '2012-10-17', Statement: [{ Effect: 'Allow', Action: 's3:GetObject', Resource: '*' }] });

  const operations: Record<string, Change | NoEvent> = {
    // ---- sign-in ----
    'POST /login': {
      async run() {
        const b = new Browser(server.url);
        const page = await b.request('/login');
        expect((await b.request('/login', { form: { csrf: Browser.csrfOf(page.text), return_to: '/start', username: 'whoever' } })).status).toBe(200);
        // The name typed is not recorded: people type passwords there.
        return { events: ['CredentialChallenge'], who: anonymous, mentions: ['HIDDEN_DUE_TO_SECURITY_REASONS'] };
      },
    },
    'POST /login/password': {
      async setup() {
        await becomeNewUser(false);
      },
      async run() {
        expect((await state.browser!.signIn(state.user!.userName, PASSWORD)).status).toBe(303);
        return { events: ['CredentialChallenge', 'CredentialVerification', 'UserAuthentication'], who: anonymous };
      },
    },
    'POST /login/change-password': {
      async setup() {
        await becomeNewUser();
      },
      async run() {
        const b = state.browser!;
        const page = await b.request('/login/change-password');
        const done = await b.request('/login/change-password', {
          form: { csrf: Browser.csrfOf(page.text), return_to: '/start', current_password: PASSWORD, new_password: NEW_PASSWORD, confirm_password: NEW_PASSWORD },
        });
        expect(done.status).toBe(303);
        secrets.add(NEW_PASSWORD);
        return { events: ['UpdatePassword'], who: asUser(state.user!), mentions: [state.user!.userName] };
      },
    },
    'POST /logout': {
      async setup() {
        await becomeNewUser();
      },
      async run() {
        const b = state.browser!;
        const [session] = await server.reg.auth.listSessions(state.user!.userName);
        expect((await b.request('/logout', { form: { csrf: await csrfOf(b) } })).status).toBe(303);
        return { events: ['Logout'], who: asUser(state.user!), mentions: [session!.sessionId] };
      },
    },

    // ---- MFA: enrolment and devices (the WebAuthn ceremonies need a browser's authenticator: test/e2e/webauthn.test.ts) ----
    'POST /mfa/devices/totp': {
      async setup() {
        await becomeNewUser();
      },
      async run() {
        const deviceId = await addTotp(state.browser!);
        state.deviceId = deviceId;
        // The first device also marks the session as having passed MFA: that is a verification.
        return { events: ['RegisterMfaDevice', 'CredentialVerification'], who: asUser(state.user!), mentions: [state.user!.userName, 'TOTP'], results: [deviceId] };
      },
    },
    'POST /mfa/devices/:deviceId/rename': {
      async run() {
        const done = await state.browser!.request(`/mfa/devices/${state.deviceId}/rename`, { form: { csrf: await csrfOf(state.browser!), name: 'Renamed phone' } });
        expect(done.status).toBe(303);
        return { events: ['UpdateMfaDevice'], who: asUser(state.user!), mentions: [state.deviceId!, 'Renamed phone'] };
      },
    },
    'PATCH /api/portal/mfa/devices/:deviceId': {
      async run() {
        await portalJson(state.browser!, 'PATCH', `/api/portal/mfa/devices/${state.deviceId}`, { name: 'Work phone' });
        return { events: ['UpdateMfaDevice'], who: asUser(state.user!), mentions: [state.deviceId!, 'Work phone'] };
      },
    },
    'DELETE /api/portal/mfa/devices/:deviceId': {
      async setup() {
        state.deviceId = await addTotp(state.browser!);
      },
      async run() {
        await portalJson(state.browser!, 'DELETE', `/api/portal/mfa/devices/${state.deviceId}`);
        return { events: ['DeleteMfaDevice'], who: asUser(state.user!), mentions: [state.deviceId!] };
      },
    },
    'POST /mfa/devices/:deviceId/delete': {
      async setup() {
        state.deviceId = await addTotp(state.browser!);
      },
      async run() {
        expect((await state.browser!.request(`/mfa/devices/${state.deviceId}/delete`, { form: { csrf: await csrfOf(state.browser!) } })).status).toBe(303);
        return { events: ['DeleteMfaDevice'], who: asUser(state.user!), mentions: [state.deviceId!] };
      },
    },
    'POST /mfa/devices/webauthn/options': { noEvent: 'hands out a WebAuthn challenge; the registration that answers it is the change (RegisterMfaDevice)' },
    'POST /mfa/devices/webauthn': { noEvent: 'RegisterMfaDevice, as for an authenticator app (MfaService.finishWebauthnRegistration, audited); needs a WebAuthn authenticator: test/e2e/webauthn.test.ts' },
    'POST /login/mfa/register/totp': {
      async setup() {
        await adminCall(server, 'PUT', '/api/admin/mfa/settings', { Mode: 'ALWAYS_ON', NoDevice: 'REGISTER' });
        await becomeNewUser(false);
        expect((await state.browser!.signIn(state.user!.userName, PASSWORD)).headers.get('location')).toMatch(/^\/login\/mfa\/register/);
      },
      async run() {
        const page = await state.browser!.request('/login/mfa/register?return_to=%2Fstart');
        const e = totpEnrolmentOf(page.text);
        secrets.add(e.secret);
        state.totpSecret = e.secret;
        const done = await state.browser!.request('/login/mfa/register/totp', { form: { csrf: e.csrf, return_to: '/start', enrolment_id: e.enrolmentId, name: 'Phone', code: totp(e.secret) } });
        expect(done.status).toBe(303);
        return { events: ['RegisterMfaDevice', 'CredentialVerification', 'UserAuthentication'], who: asUser(state.user!), mentions: [state.user!.userName, 'TOTP'] };
      },
    },
    'POST /login/mfa': {
      async setup() {
        // The user who just registered signs in again: now a challenge.
        state.browser = new Browser(server.url);
        expect((await state.browser.signIn(state.user!.userName, PASSWORD)).headers.get('location')).toMatch(/^\/login\/mfa\?/);
      },
      async run() {
        const page = await state.browser!.request('/login/mfa?return_to=%2Fstart');
        // The next period's code: the current one was just used to register.
        const code = new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(state.totpSecret!) }).generate({ timestamp: Date.now() + 30_000 });
        const done = await state.browser!.request('/login/mfa', { form: { csrf: Browser.csrfOf(page.text), return_to: '/start', code } });
        expect(done.status).toBe(303);
        return { events: ['CredentialVerification', 'UserAuthentication'], who: asUser(state.user!) };
      },
    },
    'POST /login/mfa/step-up': { noEvent: 'CredentialVerification (stepUp: true), audited in AuthService.stepUp; driven in test/integration/mfa-step-up.test.ts' },
    'POST /login/mfa/step-up/webauthn/options': { noEvent: 'hands out a WebAuthn challenge; the answer is the verification' },
    'POST /login/mfa/step-up/webauthn': { noEvent: 'CredentialVerification, as step-up by TOTP; needs a WebAuthn authenticator: test/e2e/webauthn.test.ts' },
    'POST /login/mfa/webauthn/options': { noEvent: 'hands out a WebAuthn challenge; the answer is the verification' },
    'POST /login/mfa/webauthn': { noEvent: 'CredentialVerification and UserAuthentication, as by TOTP; needs a WebAuthn authenticator: test/e2e/webauthn.test.ts' },
    'POST /login/mfa/register/webauthn/options': { noEvent: 'hands out a WebAuthn challenge; the registration that answers it is the change' },
    'POST /login/mfa/register/webauthn': { noEvent: 'RegisterMfaDevice, CredentialVerification and UserAuthentication, as by TOTP; needs a WebAuthn authenticator: test/e2e/webauthn.test.ts' },
    'POST /login/passkey/options': { noEvent: 'hands out a WebAuthn challenge; the sign-in that answers it is audited' },
    'POST /login/passkey': { noEvent: 'CredentialVerification and UserAuthentication (AuthService.signInWithPasskey); needs a passkey: test/e2e/webauthn.test.ts' },
    'POST /saml/acs': { noEvent: 'CredentialVerification and UserAuthentication of a SAML sign-in (AuthService.signInFederated), or a refused CredentialVerification; needs an IdP\'s signed response: saml-sp-rules.test.ts' },

    // ---- the portal ----
    'POST /api/portal/credentials': {
      async setup() {
        await adminCall(server, 'PUT', '/api/admin/mfa/settings', { Mode: 'DISABLED' });
        await becomeNewUser();
        await fixture.assignment('create', accountId, permissionSetArn, 'USER', state.user!.userId);
      },
      async run() {
        const { status, creds } = await state.browser!.portalCredentials(accountId, roleName);
        expect(status).toBe(200);
        secrets.add(creds.secretAccessKey!).add(creds.sessionToken!);
        return { events: ['GetRoleCredentials'], who: asUser(state.user!), mentions: [accountId, roleName], results: [creds.accessKeyId!] };
      },
    },
    'DELETE /api/portal/sessions/:sessionId': {
      async setup() {
        // A second session of the same user, ended from the first.
        expect((await new Browser(server.url).signIn(state.user!.userName, PASSWORD)).status).toBe(303);
      },
      async run() {
        const current = (JSON.parse((await state.browser!.request('/api/portal/session')).text) as { sessionId: string }).sessionId;
        const other = (await server.reg.auth.listSessions(state.user!.userName)).map((s) => s.sessionId).find((id) => id !== current)!;
        await portalJson(state.browser!, 'DELETE', `/api/portal/sessions/${other}`);
        return { events: ['RevokeSession'], who: asUser(state.user!), mentions: [other] };
      },
    },

    // ---- sso-oidc (the AWS CLI's device flow) ----
    'POST /client/register': {
      async run() {
        await registerClient('cov-register');
        return { events: ['RegisterClient'], who: anonymous, mentions: ['cov-register'], results: [state.client!.clientId] };
      },
    },
    'POST /device_authorization': {
      async setup() {
        await registerClient('cov-device');
      },
      async run() {
        const auth = await fixture.oidc.send(new StartDeviceAuthorizationCommand({ ...state.client!, startUrl: server.init.startUrl }));
        secrets.add(auth.deviceCode!);
        return { events: ['StartDeviceAuthorization'], who: anonymous, mentions: [state.client!.clientId] };
      },
    },
    'POST /device': {
      async setup() {
        await becomeNewUser();
        await startDevice();
      },
      async run() {
        const page = await state.browser!.request(`/device?user_code=${state.userCode}`);
        const done = await state.browser!.request('/device', { form: { csrf: Browser.csrfOf(page.text), user_code: state.userCode!, decision: 'approve' } });
        expect(done.status).toBe(200);
        return { events: ['ApproveDeviceAuthorization'], who: asUser(state.user!), mentions: [state.user!.userId] };
      },
    },
    'POST /token': {
      async run() {
        const token = await fixture.oidc.send(new CreateTokenCommand({ ...state.client!, grantType: DEVICE_CODE_GRANT, deviceCode: state.deviceCode }));
        secrets.add(token.accessToken!).add(token.refreshToken!);
        state.accessToken = token.accessToken!;
        state.refreshToken = token.refreshToken!;
        return { events: ['CreateToken'], who: anonymous, mentions: [state.client!.clientId, 'device_code'] };
      },
    },

    // ---- the sso portal API (bearer token from sso-oidc) ----
    'GET /assignment/accounts': {
      noEvent: 'ListAccounts reads',
      async run() {
        const res = await fetch(`${server.url}/assignment/accounts`, { headers: { 'x-amz-sso_bearer_token': state.accessToken! } });
        expect(res.status).toBe(200);
      },
    },
    'GET /assignment/roles': {
      noEvent: 'ListAccountRoles reads',
      async run() {
        const res = await fetch(`${server.url}/assignment/roles?account_id=${accountId}`, { headers: { 'x-amz-sso_bearer_token': state.accessToken! } });
        expect(res.status).toBe(200);
      },
    },
    'GET /federation/credentials': {
      async setup() {
        await deviceTokens();
        await fixture.assignment('create', accountId, permissionSetArn, 'USER', state.user!.userId);
      },
      async run() {
        const res = await fetch(`${server.url}/federation/credentials?account_id=${accountId}&role_name=${roleName}`, { headers: { 'x-amz-sso_bearer_token': state.accessToken! } });
        const body = (await res.json()) as { roleCredentials: { accessKeyId: string; secretAccessKey: string; sessionToken: string } };
        expect(res.status).toBe(200);
        secrets.add(body.roleCredentials.secretAccessKey).add(body.roleCredentials.sessionToken);
        return { events: ['GetRoleCredentials'], who: asUser(state.user!), mentions: [accountId, roleName], results: [body.roleCredentials.accessKeyId] };
      },
    },
    'POST /logout {"ssoBearerToken":"present"}': {
      async run() {
        const res = await fetch(`${server.url}/logout`, { method: 'POST', headers: { 'x-amz-sso_bearer_token': state.accessToken! } });
        expect(res.status).toBe(200);
        return { events: ['Logout'], who: asUser(state.user!) };
      },
    },

    // ---- the OIDC provider's own endpoints (discovery), for relying parties other than AWS's ----
    'oidc authorization_endpoint': { noEvent: "starts an authorization request, kept until the user answers it on the consent page: that answer is the change (AuthorizeClient, POST /consent/:uid)" },
    'POST /consent/:uid': {
      async setup() {
        await becomeNewUser();
        await registerClient('cov-pkce', { grantTypes: [AUTHORIZATION_CODE_GRANT, 'refresh_token'], redirectUris: ['http://127.0.0.1/oauth/callback'] });
        const verifier = randomBytes(32).toString('base64url');
        const query = new URLSearchParams({
          response_type: 'code',
          client_id: state.client!.clientId,
          redirect_uri: REDIRECT_URI,
          state: 's',
          code_challenge_method: 'S256',
          scopes: 'sso:account:access',
          code_challenge: createHash('sha256').update(verifier).digest('base64url'),
        });
        // /authorize, then the provider's /oidc/auth, then the consent page.
        let consent = await state.browser!.request(`/authorize?${query.toString()}`);
        for (let hop = 0; hop < 5 && consent.status >= 300 && consent.status < 400; hop++) {
          const next = new URL(consent.headers.get('location')!, server.url);
          consent = await state.browser!.request(next.pathname + next.search);
        }
        expect(consent.status).toBe(200);
        state.consent = { uid: /action="\/consent\/([^"]+)"/.exec(consent.text)![1]!, csrf: Browser.csrfOf(consent.text) };
      },
      async run() {
        const approved = await state.browser!.request(`/consent/${state.consent!.uid}`, { form: { csrf: state.consent!.csrf, decision: 'approve' } });
        expect(approved.status).toBe(303);
        return { events: ['AuthorizeClient'], who: asUser(state.user!), mentions: [state.client!.clientId, state.user!.userId] };
      },
    },
    'oidc token_endpoint': {
      async setup() {
        await deviceTokens();
      },
      async run() {
        const res = await fetch(`${server.url}/oidc/token`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: state.refreshToken!, client_id: state.client!.clientId, client_secret: state.client!.clientSecret }).toString(),
        });
        const body = (await res.json()) as { access_token: string; refresh_token: string };
        expect(res.status).toBe(200);
        secrets.add(body.access_token).add(body.refresh_token);
        state.accessToken = body.access_token;
        state.refreshToken = body.refresh_token;
        return { events: ['CreateToken'], who: anonymous, mentions: [state.client!.clientId, 'refresh_token'] };
      },
    },
    'oidc revocation_endpoint': {
      async run() {
        const res = await fetch(`${server.url}/oidc/token/revocation`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ token: state.refreshToken!, token_type_hint: 'refresh_token', client_id: state.client!.clientId, client_secret: state.client!.clientSecret }).toString(),
        });
        expect(res.status).toBe(200);
        expect(await oidcServiceOf(server.reg).resolveAccessToken(state.accessToken!)).toBeUndefined();
        return { events: ['RevokeGrant'], who: anonymous };
      },
    },
    'oidc device_authorization_endpoint': {
      async setup() {
        await registerClient('cov-rp-device');
      },
      async run() {
        const res = await fetch(`${server.url}/oidc/device/auth`, {
          method: 'POST',
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams({ client_id: state.client!.clientId, client_secret: state.client!.clientSecret, scope: 'openid' }).toString(),
        });
        const body = (await res.json()) as { device_code: string };
        expect(res.status).toBe(200);
        secrets.add(body.device_code);
        return { events: ['StartDeviceAuthorization'], who: anonymous, mentions: [state.client!.clientId] };
      },
    },
    'oidc userinfo_endpoint': { noEvent: 'reads the claims of the token holder' },
    'oidc jwks_uri': { noEvent: 'reads the public signing keys' },
    'oidc end_session_endpoint': { noEvent: "ends the provider's own browser session (not the portal session, which POST /logout ends); grants it revokes are RevokeGrant events" },
    'oidc pushed_authorization_request_endpoint': { noEvent: 'stores an authorization request for a few minutes, as the authorization endpoint does; its answer (AuthorizeClient) is the change' },

    // ---- STS, IAM and the policy decision point ----
    'sts GetCallerIdentity': {
      noEvent: 'reads who signed the request',
      async run() {
        const me = await new STSClient(sdkOptions(server)).send(new GetCallerIdentityCommand({}));
        expect(me.Arn).toContain('atrium-admin');
      },
    },
    'iam CreatePolicy': {
      async run() {
        const xml = await iam('CreatePolicy', { PolicyName: 'CovPolicy', PolicyDocument: document });
        state.policyArn = /<Arn>([^<]+)<\/Arn>/.exec(xml)![1]!;
        return { events: ['CreatePolicy'], who: { type: 'IAMUser', accessKeyId: server.credentials.accessKeyId }, mentions: ['CovPolicy'], results: [state.policyArn] };
      },
    },
    'iam CreatePolicyVersion': {
      async run() {
        await iam('CreatePolicyVersion', { PolicyArn: state.policyArn!, PolicyDocument: document, SetAsDefault: 'true' });
        return { events: ['CreatePolicyVersion'], who: { type: 'IAMUser', accessKeyId: server.credentials.accessKeyId }, mentions: [state.policyArn!] };
      },
    },
    'iam GetPolicy': { noEvent: 'reads', run: async () => void (await iam('GetPolicy', { PolicyArn: state.policyArn! })) },
    'iam GetPolicyVersion': { noEvent: 'reads', run: async () => void (await iam('GetPolicyVersion', { PolicyArn: state.policyArn!, VersionId: 'v2' })) },
    'iam ListPolicies': { noEvent: 'reads', run: async () => void (await iam('ListPolicies', { Scope: 'Local' })) },
    'iam ListPolicyVersions': { noEvent: 'reads', run: async () => void (await iam('ListPolicyVersions', { PolicyArn: state.policyArn! })) },
    'iam SetDefaultPolicyVersion': {
      async run() {
        await iam('SetDefaultPolicyVersion', { PolicyArn: state.policyArn!, VersionId: 'v1' });
        return { events: ['SetDefaultPolicyVersion'], who: { type: 'IAMUser', accessKeyId: server.credentials.accessKeyId }, mentions: [state.policyArn!, 'v1'] };
      },
    },
    'iam DeletePolicyVersion': {
      async run() {
        await iam('DeletePolicyVersion', { PolicyArn: state.policyArn!, VersionId: 'v2' });
        return { events: ['DeletePolicyVersion'], who: { type: 'IAMUser', accessKeyId: server.credentials.accessKeyId }, mentions: [state.policyArn!, 'v2'] };
      },
    },
    'iam DeletePolicy': {
      async setup() {
        // A policy of one version: IAM refuses to delete a policy whose other versions remain.
        const xml = await iam('CreatePolicy', { PolicyName: 'CovPolicyToDelete', PolicyDocument: document });
        state.policyArn = /<Arn>([^<]+)<\/Arn>/.exec(xml)![1]!;
      },
      async run() {
        await iam('DeletePolicy', { PolicyArn: state.policyArn! });
        return { events: ['DeletePolicy'], who: { type: 'IAMUser', accessKeyId: server.credentials.accessKeyId }, mentions: [state.policyArn!] };
      },
    },
    'POST /authorize': {
      noEvent:
        "a gateway's question about one request it serves (allow or deny), asked on every request it forwards and answered from memory: recording each would put a write on the gateway's hot path; " +
        'the request the gateway then serves is its own to log, as CloudTrail logs the call and not the IAM evaluation',
      async run() {
        const url = new URL('https://s3.amazonaws.com/cov-bucket/key');
        const { SignatureV4 } = await import('@smithy/signature-v4');
        const { Hash } = await import('@smithy/core/serde');
        const signer = new SignatureV4({ service: 's3', region: 'us-east-1', credentials: server.credentials, sha256: Hash.bind(null, 'sha256') });
        const signed = await signer.sign({ method: 'GET', protocol: 'https:', hostname: url.hostname, path: url.pathname, headers: { host: url.host } });
        const res = await fetch(`${server.url}/authorize`, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: JSON.stringify({ Method: 'GET', Path: url.pathname, Headers: signed.headers, Body: '', Action: 's3:GetObject', Resource: 'arn:aws:s3:::cov-bucket/key' }),
        });
        expect(res.status).toBe(200);
        expect(((await res.json()) as { Allowed: boolean }).Allowed).toBe(true);
      },
    },
  };

  beforeAll(async () => {
    server = await startServer(dialect);
    fixture = portalFixture(server);
    secrets.add(server.credentials.secretAccessKey).add(PASSWORD);
    accountId = server.init.managementAccountId;
    permissionSetArn = (await fixture.newPermissionSet(roleName)).arn;
  });
  afterAll(() => server?.close());

  it('lists every route, sso portal API operation, IAM operation and OIDC endpoint the code serves, and none it does not', async () => {
    const tree = await routeTree(server);
    const discovery = (await (await fetch(`${server.url}/oidc/.well-known/openid-configuration`)).json()) as Record<string, unknown>;
    const declared = [
      // The admin API and SCIM are audit-coverage.test.ts's; POST / is the AWS APIs' (awsJson there, IAM and STS here).
      // POST /logout is two routes: the portal's sign-out (a cookie), and the sso portal API's Logout (a bearer token).
      ...mutatingRoutes(tree).filter((r) => !/^\S+ \/(scim\/v2|api\/admin)\//.test(r) && r !== 'POST /' && !/^\S+ \/oidc/.test(r)),
      ...routesUnder(tree, ['/assignment/', '/federation/']),
      ...Object.keys(iamOperations(server.reg)).map((op) => `iam ${op}`),
      'sts GetCallerIdentity',
      ...Object.keys(discovery).filter((k) => k.endsWith('_endpoint') || k === 'jwks_uri').map((k) => `oidc ${k}`),
    ];
    expect(Object.keys(operations).sort()).toEqual([...new Set(declared)].sort());
    // A refused IAM call is recorded unless it reads: the reads are exactly the IAM cases that leave no event.
    const iamReads = Object.keys(iamOperations(server.reg)).filter(isIamRead);
    expect(iamReads.sort()).toEqual(Object.keys(operations).filter((n) => n.startsWith('iam ') && 'noEvent' in operations[n]!).map((n) => n.slice(4)).sort());
  });

  const names = Object.keys(operations);
  describe.each(names)('%s', (name) => {
    const c = operations[name]!;
    if ('noEvent' in c) {
      it.skipIf(!c.run)(`leaves no event: ${c.noEvent}`, async () => {
        const before = await lastSeq(server);
        await c.run!();
        expect((await eventsAfter(server, before)).filter((r) => r.event_name !== 'AuthenticateBearerToken').map((r) => r.event_name)).toEqual([]);
      });
      return;
    }
    it('leaves exactly its events, by the caller, naming what it changed', async () => {
      await c.setup?.();
      const before = await lastSeq(server);
      const expected = await c.run();
      // What Atrium then did by itself (AwsServiceEvent: credentials revoked after a sign-out) is not the caller's.
      const rows = (await eventsAfter(server, before)).filter((r) => r.event_type === 'AwsApiCall');
      expect(rows.map((r) => r.event_name)).toEqual(expected.events);
      expect(rows.map((r) => r.error_code)).toEqual(expected.events.map(() => null));
      const main = rows[0]!;
      expect(identityOf(main)).toMatchObject(expected.who);
      for (const value of expected.mentions ?? []) expect(main.request_parameters ?? '').toContain(value);
      for (const value of expected.results ?? []) expect(main.response_elements ?? '').toContain(value);
    });
  });

  /**
   * A change the caller's policies refuse leaves one event, as CloudTrail records such a call:
   * errorCode AccessDenied with the message the client got, the caller, and what it was given
   * (secrets hidden). A refused read, and a request that is not signed by a known key, leave none.
   */
  describe('a change refused by the policy engine', () => {
    const reader = { principalType: 'IAMUser', principalId: 'AIDACOVREADONLY00001', principalArn: 'arn:aws:iam::000000000000:user/cov-reader', userName: 'cov-reader' };
    let readOnly: { accessKeyId: string; secretAccessKey: string };
    /** A key whose purpose names no policy: it may do nothing at all. */
    let powerless: { accessKeyId: string; secretAccessKey: string };
    /** A value sent in a field named like a secret: the event must hide it. */
    const planted = `planted-${randomBytes(12).toString('hex')}`;
    beforeAll(async () => {
      const owner = { ...reader, accountId: server.init.managementAccountId };
      readOnly = await server.reg.credentials.createAccessKey(setup(), owner, `${POLICY_KEY_PURPOSE}ReadOnlyAccess`);
      powerless = await server.reg.credentials.createAccessKey(setup(), { ...owner, principalId: 'AIDACOVNOTHING000001', userName: 'cov-nobody' }, 'cov-nothing');
      secrets.add(readOnly.secretAccessKey).add(powerless.secretAccessKey).add(planted);
    });
    const awsJson = (service: string, target: string, input: Record<string, unknown>) => () =>
      signedFetch(server, service, 'POST', '/', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': target }, JSON.stringify(input), {}, readOnly);
    const refused: Record<string, { call: () => Promise<string>; eventName: string; eventSource: string; mentions: () => string[]; hides?: string[] }> = {
      'identitystore CreateUser (awsJson)': {
        call: () => awsJson('identitystore', 'AWSIdentityStore.CreateUser', { IdentityStoreId: server.init.identityStoreId, UserName: 'denied', DisplayName: 'D', Name: { GivenName: 'D', FamilyName: 'D' } })(),
        eventName: 'CreateUser',
        eventSource: 'identitystore.amazonaws.com',
        mentions: () => [server.init.identityStoreId, 'HIDDEN_DUE_TO_SECURITY_REASONS'],
        // The person's names are hidden, as in CreateUser's own event.
        hides: ['denied', 'GivenName":"D'],
      },
      'sso-admin CreatePermissionSet (awsJson)': {
        call: () => awsJson('sso', 'SWBExternalService.CreatePermissionSet', { InstanceArn: server.init.instanceArn, Name: 'DeniedSet' })(),
        eventName: 'CreatePermissionSet',
        eventSource: 'sso.amazonaws.com',
        mentions: () => [server.init.instanceArn, 'DeniedSet'],
      },
      'organizations CreateOrganizationalUnit (awsJson)': {
        call: () => awsJson('organizations', 'AWSOrganizationsV20161128.CreateOrganizationalUnit', { ParentId: 'r-cov0', Name: 'denied-ou' })(),
        eventName: 'CreateOrganizationalUnit',
        eventSource: 'organizations.amazonaws.com',
        mentions: () => ['r-cov0', 'denied-ou'],
      },
      'iam CreatePolicy (awsQuery)': {
        call: () =>
          signedFetch(server, 'iam', 'POST', '/', { 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams({ Action: 'CreatePolicy', Version: IAM_VERSION, PolicyName: 'Denied', PolicyDocument: document }).toString(), {}, readOnly),
        eventName: 'CreatePolicy',
        eventSource: 'iam.amazonaws.com',
        mentions: () => ['Denied', 's3:GetObject'],
      },
      'POST /api/admin/scim/tokens (admin API)': {
        call: () => signedFetch(server, 'sso', 'POST', '/api/admin/scim/tokens', { 'content-type': 'application/json' }, JSON.stringify({ ExpiresInDays: 7, Token: planted }), {}, readOnly),
        eventName: 'CreateBearerToken',
        eventSource: 'sso-directory.amazonaws.com',
        mentions: () => ['ExpiresInDays', 'HIDDEN_DUE_TO_SECURITY_REASONS'],
      },
      'POST /api/admin/users/:userName/password (admin API)': {
        call: () => signedFetch(server, 'sso', 'POST', '/api/admin/users/cov-denied/password', {}, undefined, {}, readOnly),
        eventName: 'ResetPassword',
        eventSource: 'sso.amazonaws.com',
        mentions: () => ['cov-denied'],
      },
    };
    /** The refusal the client got: its status line and message (AWS JSON's `message`, or IAM's XML Message). */
    async function refusalOf(call: () => Promise<string>): Promise<{ status: number; message: string }> {
      const err = await call().then(
        (text) => { throw new Error(`not refused: ${text}`); },
        (e: unknown) => e as Error,
      );
      const [, status, body] = /^\S+ \S+: (\d{3}) (.*)$/s.exec(err.message) ?? [];
      const message = body?.startsWith('<') ? /<Message>([^<]*)<\/Message>/.exec(body)?.[1] : (JSON.parse(body ?? '{}') as { message?: string }).message;
      return { status: Number(status), message: message ?? '' };
    }

    it.each(Object.keys(refused))('%s: refused as before (403, AccessDenied), and leaves one AccessDenied event by the caller with its parameters', async (name) => {
      const c = refused[name]!;
      const before = await lastSeq(server);
      const { status, message } = await refusalOf(c.call);
      expect(status).toBe(403);
      expect(message).toMatch(/is not authorized to perform: \S+:\S+/);
      const rows = (await eventsAfter(server, before)) as (EventRow & { event_source: string; error_message: string | null; read_only: number })[];
      expect(rows.map((r) => [r.event_name, r.error_code])).toEqual([[c.eventName, 'AccessDenied']]);
      const [event] = rows;
      expect(event!.event_source).toBe(c.eventSource);
      expect(event!.error_message).toBe(message);
      expect(Number(event!.read_only)).toBe(0);
      expect(identityOf(event!)).toEqual({ type: 'IAMUser', principalId: reader.principalId, arn: reader.principalArn, accountId: server.init.managementAccountId, accessKeyId: readOnly.accessKeyId, userName: reader.userName });
      for (const value of c.mentions()) expect(event!.request_parameters ?? '').toContain(value);
      expect(event!.request_parameters ?? '').not.toContain(planted);
      for (const value of c.hides ?? []) expect(event!.request_parameters ?? '').not.toContain(value);
    });

    it('the refused changes changed nothing', async () => {
      expect(await server.reg.directory.findUserByName(server.init.identityStoreId, 'denied')).toBeUndefined();
    });

    it("a change the console administrator's grant refuses (ReadOnlyAccess, or none) leaves one AccessDenied event by them, on both APIs", async () => {
      const { user, browser } = await newUser();
      await server.reg.consoleAdmins.grant(setup(), user.userName, 'ReadOnlyAccess');
      const csrf = await csrfOf(browser);
      /** A request of the console page itself: the session cookie, its CSRF token, same-origin. */
      const fromConsole = async (path: string, headers: Record<string, string>, body: unknown) => {
        const res = await fetch(server.url + path, {
          method: 'POST',
          headers: { cookie: [...browser.cookies].map(([k, v]) => `${k}=${v}`).join('; '), 'x-csrf-token': csrf, origin: server.url, 'sec-fetch-site': 'same-origin', ...headers },
          body: JSON.stringify(body),
        });
        return { status: res.status, json: (await res.json()) as { __type?: string; message?: string } };
      };
      const createGroup = () => fromConsole('/', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSIdentityStore.CreateGroup' }, { IdentityStoreId: server.init.identityStoreId, DisplayName: 'console-denied' });
      const before = await lastSeq(server);
      const answers = [await createGroup(), await fromConsole('/api/admin/scim/tokens', { 'content-type': 'application/json' }, { ExpiresInDays: 3 })];
      await server.reg.consoleAdmins.revoke(setup(), user.userName);
      answers.push(await createGroup());
      for (const a of answers) expect(a).toMatchObject({ status: 403, json: { __type: 'AccessDeniedException' } });
      // The revocation between is the setup's, not the administrator's.
      const rows = (await eventsAfter(server, before)).filter((r) => r.event_name !== 'RevokeConsoleAccess') as (EventRow & { error_message: string | null })[];
      expect(rows.map((r) => [r.event_name, r.error_code, r.error_message])).toEqual(answers.map((a, i) => [i === 1 ? 'CreateBearerToken' : 'CreateGroup', 'AccessDenied', a.json.message]));
      for (const r of rows) expect(identityOf(r)).toMatchObject({ type: 'IdentityCenterUser', principalId: user.userId, userName: user.userName });
      // The group's name is hidden, as in CreateGroup's own event.
      expect(rows[0]!.request_parameters).toContain(server.init.identityStoreId);
      expect(rows[0]!.request_parameters).not.toContain('console-denied');
    });

    it('an IAM change a role session\'s permission set refuses leaves one AccessDenied event by the assumed role, without its session token', async () => {
      await adminCall(server, 'PUT', '/api/admin/mfa/settings', { Mode: 'DISABLED' });
      const { user, browser } = await newUser();
      // CovReader holds no policy: its sessions may do nothing.
      await fixture.assignment('create', accountId, permissionSetArn, 'USER', user.userId);
      const { status, creds } = await browser.portalCredentials(accountId, roleName);
      expect(status).toBe(200);
      secrets.add(creds.secretAccessKey!).add(creds.sessionToken!);
      const session = { accessKeyId: creds.accessKeyId!, secretAccessKey: creds.secretAccessKey!, sessionToken: creds.sessionToken! };
      const before = await lastSeq(server);
      const form = new URLSearchParams({ Action: 'DeletePolicy', Version: IAM_VERSION, PolicyArn: `arn:aws:iam::${accountId}:policy/RoleDenied` }).toString();
      const { status: refused, message } = await refusalOf(() => signedFetch(server, 'iam', 'POST', '/', { 'content-type': 'application/x-www-form-urlencoded' }, form, {}, session));
      expect(refused).toBe(403);
      const rows = (await eventsAfter(server, before)) as (EventRow & { error_message: string | null })[];
      expect(rows.map((r) => [r.event_name, r.error_code, r.error_message])).toEqual([['DeletePolicy', 'AccessDenied', message]]);
      expect(identityOf(rows[0]!)).toMatchObject({ type: 'AssumedRole', accessKeyId: creds.accessKeyId, accountId });
      expect(rows[0]!.request_parameters).toContain('RoleDenied');
    });

    it('a read the policies refuse leaves no event, as reads leave none', async () => {
      const before = await lastSeq(server);
      const reads = [
        () => signedFetch(server, 'identitystore', 'POST', '/', { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSIdentityStore.ListUsers' }, JSON.stringify({ IdentityStoreId: server.init.identityStoreId }), {}, powerless),
        () => signedFetch(server, 'iam', 'POST', '/', { 'content-type': 'application/x-www-form-urlencoded' }, new URLSearchParams({ Action: 'ListPolicies', Version: IAM_VERSION }).toString(), {}, powerless),
        () => signedFetch(server, 'sso', 'GET', '/api/admin/scim/tokens', {}, undefined, {}, powerless),
      ];
      for (const read of reads) expect((await refusalOf(read)).status).toBe(403);
      expect((await eventsAfter(server, before)).map((r) => r.event_name)).toEqual([]);
    });

    it('a change signed with an unknown key or a wrong secret is not a policy refusal, and leaves no event', async () => {
      const before = await lastSeq(server);
      const body = JSON.stringify({ IdentityStoreId: server.init.identityStoreId, DisplayName: 'anonymous' });
      const headers = { 'content-type': 'application/x-amz-json-1.1', 'x-amz-target': 'AWSIdentityStore.CreateGroup' };
      const forged = [
        { accessKeyId: 'AKIAUNKNOWNKEY000001', secretAccessKey: readOnly.secretAccessKey },
        { accessKeyId: readOnly.accessKeyId, secretAccessKey: `wrong-${readOnly.secretAccessKey}` },
      ];
      for (const credentials of forged) {
        expect((await refusalOf(() => signedFetch(server, 'identitystore', 'POST', '/', headers, body, {}, credentials))).status).toBe(403);
        expect((await refusalOf(() => signedFetch(server, 'sso', 'POST', '/api/admin/scim/tokens', { 'content-type': 'application/json' }, '{}', {}, credentials))).status).toBe(403);
      }
      expect((await eventsAfter(server, before)).map((r) => r.event_name)).toEqual([]);
    });
  });

  it('put no secret the test handled into any event', async () => {
    expect(await expectNoSecretInAnyEvent(server, secrets)).toBeGreaterThanOrEqual(15);
  });
});
