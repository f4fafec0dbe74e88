// Atrium's own admin APIs are authorized by the policy engine: the bootstrap key holds
// AdministratorAccess; a key made by `atrium access-key create --policy ReadOnlyAccess` lists but
// cannot create, in identitystore, sso-admin and organizations (as the real SDK sees it) and in the
// admin web API.

import { CreateUserCommand, IdentitystoreClient, ListUsersCommand } from '@aws-sdk/client-identitystore';
import { CreateAccountCommand, ListAccountsCommand, OrganizationsClient } from '@aws-sdk/client-organizations';
import { CreatePermissionSetCommand, ListPermissionSetsCommand, SSOAdminClient } from '@aws-sdk/client-sso-admin';
import { Hash } from '@smithy/core/serde';
import { SignatureV4 } from '@smithy/signature-v4';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../helpers/cli.js';
import { outcome } from '../helpers/portal-fixture.js';
import { cliStorage, dialects, sdkOptions, startServer, type TestServer } from '../helpers/server.js';

describe.each(dialects())('admin APIs authorized by policy on %s', (dialect) => {
  let server: TestServer;
  let storage: string[];

  beforeAll(async () => {
    server = await startServer(dialect);
    storage = cliStorage(server);
  });
  afterAll(async () => {
    await server?.close();
  });

  const clients = (credentials: { accessKeyId: string; secretAccessKey: string }) => ({
    ids: new IdentitystoreClient(sdkOptions(server, credentials)),
    sso: new SSOAdminClient(sdkOptions(server, credentials)),
    orgs: new OrganizationsClient(sdkOptions(server, credentials)),
  });
  const IdentityStoreId = () => server.init.identityStoreId;
  const InstanceArn = () => server.init.instanceArn;
  const calls = (c: ReturnType<typeof clients>) => ({
    listUsers: () => c.ids.send(new ListUsersCommand({ IdentityStoreId: IdentityStoreId() })),
    createUser: () => c.ids.send(new CreateUserCommand({ IdentityStoreId: IdentityStoreId(), UserName: `u-${Date.now()}-${Math.random()}`, DisplayName: 'U', Name: { GivenName: 'U', FamilyName: 'V' } })),
    listPermissionSets: () => c.sso.send(new ListPermissionSetsCommand({ InstanceArn: InstanceArn() })),
    createPermissionSet: () => c.sso.send(new CreatePermissionSetCommand({ InstanceArn: InstanceArn(), Name: `ps-${Date.now()}` })),
    listAccounts: () => c.orgs.send(new ListAccountsCommand({})),
    createAccount: () => c.orgs.send(new CreateAccountCommand({ AccountName: `a-${Date.now()}`, Email: `a-${Date.now()}@example.com` })),
  });

  it('lets the bootstrap key (AdministratorAccess) list and create', async () => {
    const admin = calls(clients(server.credentials));
    for (const [name, call] of Object.entries(admin)) expect(await outcome(call()), name).toBe('ok');
  });

  it('lets a ReadOnlyAccess key list but not create, naming the refused action', async () => {
    const made = await runCli(['access-key', 'create', '--policy', 'ReadOnlyAccess', '--json', ...storage]);
    expect(made.code, made.stderr).toBe(0);
    const key = JSON.parse(made.stdout) as { accessKeyId: string; secretAccessKey: string; policyArn: string };
    expect(key).toMatchObject({ accessKeyId: expect.stringMatching(/^AKIA/), policyArn: 'arn:aws:iam::aws:policy/ReadOnlyAccess' });
    const reader = calls(clients(key));
    expect(await outcome(reader.listUsers())).toBe('ok');
    expect(await outcome(reader.listPermissionSets())).toBe('ok');
    expect(await outcome(reader.listAccounts())).toBe('ok');
    expect(await outcome(reader.createUser())).toBe('AccessDeniedException 403');
    expect(await outcome(reader.createPermissionSet())).toBe('AccessDeniedException 403');
    expect(await outcome(reader.createAccount())).toMatch(/^AccessDenied(Exception)? 403$/);
    await expect(reader.createUser()).rejects.toThrow(/is not authorized to perform: identitystore:CreateUser on resource: \* because no identity-based policy allows/);
  });

  it('authorizes the admin web API too: a ReadOnlyAccess key reads but cannot mint a SCIM token', async () => {
    const made = await runCli(['access-key', 'create', '--policy', 'ReadOnlyAccess', '--json', ...storage]);
    const key = JSON.parse(made.stdout) as { accessKeyId: string; secretAccessKey: string };
    const call = async (creds: { accessKeyId: string; secretAccessKey: string }, method: string, path: string, body?: string) => {
      const url = new URL(server.url + path);
      const signer = new SignatureV4({ service: 'sso', region: 'us-east-1', credentials: creds, sha256: Hash.bind(null, 'sha256') });
      const headers: Record<string, string> = { host: url.host, ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
      const signed = await signer.sign({ method, protocol: 'http:', hostname: url.hostname, port: Number(url.port), path: url.pathname, headers, body });
      const res = await fetch(url, { method, headers: signed.headers, body });
      return { status: res.status, json: (method === 'HEAD' ? {} : await res.json()) as { __type?: string; message?: string } };
    };
    expect((await call(key, 'GET', '/api/admin/scim/tokens')).status).toBe(200);
    // HEAD reads as GET does (it needed sso:CreateAtriumScimTokens).
    expect((await call(key, 'HEAD', '/api/admin/scim/tokens')).status).toBe(200);
    expect(await call(key, 'POST', '/api/admin/scim/tokens', '{}')).toMatchObject({
      status: 403,
      json: { __type: 'AccessDeniedException', message: expect.stringContaining('sso:CreateAtriumScimTokens') },
    });
    expect((await call(key, 'POST', '/api/admin/policy/simulate', JSON.stringify({ UserName: 'nobody', AccountId: server.init.managementAccountId }))).status).toBe(404);
    expect((await call(server.credentials, 'POST', '/api/admin/scim/tokens', '{}')).status).toBe(200);
  });

  it('refuses an unknown managed policy name for a new key', async () => {
    const r = await runCli(['access-key', 'create', '--policy', 'NoSuchPolicy', ...storage]);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/NoSuchPolicy is not an AWS managed policy/);
  });
});
