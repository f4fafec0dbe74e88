// The OAuth 2.0 grants behind AWS sso-oidc and browser OIDC, over one oidc-provider 9 instance:
// - RegisterClient stores the client in the provider's shape (its secret sealed);
// - StartDeviceAuthorization and CreateToken are the provider's own device_authorization and token
//   endpoints, called in process with the camelCase request turned into a form, inside one
//   transaction with their audit event;
// - the device page and the consent page answer the provider's device codes and interactions;
// - the sso portal API finds access tokens in the provider's storage.

import type { IncomingMessage, ServerResponse } from 'node:http';
import { inject } from 'light-my-request';
import type { Adapter, ClientMetadata, default as Provider } from 'oidc-provider';
import { audited, HIDDEN, type AuditService, type AuditStore } from '../../audit/index.js';
import type { Envelope } from '../../crypto/index.js';
import type { DirectoryService } from '../../directory/index.js';
import type { InstanceService } from '../../instance/index.js';
import type { Clock } from '../../shared/clock.js';
import { IdleOffStorage } from '../../shared/idle-off-storage.js';
import { systemContext, type RequestContext } from '../../shared/context.js';
import { DomainError, failedPrecondition, notFound, RETRY_UNAVAILABLE_SECONDS, unavailable, type ErrorKind } from '../../shared/errors.js';
import type { IdGenerator } from '../../shared/ids.js';
import type { Transactor } from '../../shared/transactor.js';
import { adapterFactory } from './adapter.js';
import { digest } from './digest.js';
import type { OidcRecord, OidcStore } from './oidc-store.js';
import { createProvider, loadOidcProvider, PORTAL_SCOPE, providerKeys, SCOPES, type AtriumAccount } from './provider.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const REFRESH_TOKEN_GRANT = 'refresh_token';
export const AUTHORIZATION_CODE_GRANT = 'authorization_code';
const SUPPORTED_GRANTS = [DEVICE_CODE_GRANT, AUTHORIZATION_CODE_GRANT, REFRESH_TOKEN_GRANT];
/** What a client registered without grant types may use: the device flow, as the CLI's first clients did. */
const DEFAULT_GRANTS = [DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT];

const CLIENT_SECRET_LIFETIME_S = 90 * 24 * 3600;
const POLL_INTERVAL_S = 1;
/** The CLI polls once before it shows the code and again at once after: two polls are free. */
const POLL_BURST = 2;
/**
 * Expired records are kept a day, so that a late poll or replay still gets its precise error, then
 * purged whenever a device sign-in starts: logins are rare next to token use.
 */
const PURGE_AFTER_MS = 24 * 3600_000;
/** Where oidc-provider is mounted: its issuer is this server's public URL with this path. */
export const OIDC_MOUNT = '/oidc';
/** Which portal session approved a grant: credentials from its tokens die with that session. */
export const GRANT_SESSION = 'GrantSession';

type Stores = { oidc: OidcStore; audit: AuditStore };

export interface OidcDeps {
  tx: Transactor<Stores>;
  read: Stores;
  clock: Clock;
  ids: IdGenerator;
  envelope: Envelope;
  audit: AuditService;
  instance: InstanceService;
  directory: DirectoryService;
  region: string;
  /** This server's public URL (no trailing slash), known only once it listens. */
  publicUrl: () => string;
  /** The HTML page for an error the provider shows the browser. */
  renderError: (status: number, error: string, description: string) => string;
  /**
   * Revoke the credentials issued under a credential session (a portal session id, or
   * `grant:<id>`), inside the caller's transaction: when a grant's token family is revoked.
   */
  revokeCredentials?: (ctx: RequestContext, credentialSession: string, reason: string) => Promise<void>;
  /** Where a fault inside oidc-provider (its 500) is logged with its cause. */
  logFault?: (err: unknown, message: string) => void;
}

/**
 * Whether tokens of these scopes reach the portal (and so AWS credentials): the portal scope, or no
 * scope at all from a client registered for it.
 */
async function reachesPortal(oidc: Stores['oidc'], scopes: readonly string[], clientId: string): Promise<boolean> {
  if (scopes.includes(PORTAL_SCOPE)) return true;
  return scopes.length === 0 && ((await oidc.find<{ scope?: string }>('Client', clientId))?.payload.scope?.split(' ').includes(PORTAL_SCOPE) ?? false);
}

/** A grant's portal session; `portal` is false for an application's grant (absent on rows written before it was kept). */
interface GrantSessionPayload {
  sessionId: string;
  portal?: boolean;
}

/** The session key credentials are issued under for a grant's tokens: its approving portal session, else the grant. */
export const credentialSessionOfGrant = (grantId: string, sessionId: string | undefined): string => sessionId ?? `grant:${grantId}`;

/** An OAuth error, named by its RFC 6749 / RFC 8628 code: the adapter maps `oidc.<error>` to the wire. */
export type OAuthErrorName =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'invalid_client_metadata'
  | 'invalid_redirect_uri'
  | 'authorization_pending'
  | 'slow_down'
  | 'access_denied'
  | 'expired_token';

const KIND: Record<OAuthErrorName, ErrorKind> = {
  invalid_request: 'invalid_argument',
  invalid_client: 'unauthenticated',
  invalid_grant: 'failed_precondition',
  unauthorized_client: 'permission_denied',
  unsupported_grant_type: 'invalid_argument',
  invalid_scope: 'invalid_argument',
  invalid_client_metadata: 'invalid_argument',
  invalid_redirect_uri: 'invalid_argument',
  authorization_pending: 'failed_precondition',
  slow_down: 'throttled',
  access_denied: 'permission_denied',
  expired_token: 'failed_precondition',
};

export const oauthError = (error: OAuthErrorName, message: string) => new DomainError(KIND[error], `oidc.${error}`, message);

/** An error oidc-provider answered with, as ours; what it may say beyond RFC 6749's list is a bad request. */
function providerError(body: Record<string, unknown>): DomainError {
  const name = typeof body.error === 'string' && Object.hasOwn(KIND, body.error) ? (body.error as OAuthErrorName) : 'invalid_request';
  const description = typeof body.error_description === 'string' ? body.error_description : 'The request was refused.';
  return oauthError(name, description);
}

export interface RegisterClientInput {
  clientName: string;
  clientType: string;
  scopes?: string[];
  grantTypes?: string[];
  redirectUris?: string[];
  issuerUrl?: string;
  entitledApplicationArn?: string;
}

export interface RegisteredClient {
  clientId: string;
  clientSecret: string;
  /** Epoch seconds. */
  clientIdIssuedAt: number;
  clientSecretExpiresAt: number;
}

export interface DeviceAuthorization {
  deviceCode: string;
  userCode: string;
  verificationUri: string;
  verificationUriComplete: string;
  expiresIn: number;
  interval: number;
}

export interface TokenRequest {
  clientId: string;
  clientSecret: string;
  grantType: string;
  deviceCode?: string;
  code?: string;
  refreshToken?: string;
  scope?: string[];
  redirectUri?: string;
  codeVerifier?: string;
}

export interface IssuedTokens {
  accessToken: string;
  tokenType: 'Bearer';
  /** Seconds. */
  expiresIn: number;
  refreshToken?: string;
  idToken?: string;
}

export interface ResolvedAccessToken {
  userId: string;
  userName: string;
  sessionId?: string;
  grantId: string;
  clientId: string;
  scopes: string[];
  /**
   * Whether the token may list accounts and roles and get credentials: it was issued for the
   * portal's scope, or it has no scope and its client was registered for the portal (registered
   * without scopes, as the AWS CLI's legacy profiles are; 0024 marked those registered before). A
   * token an application got for `openid profile` is not one: the user agreed to that much, not
   * to AWS credentials; nor is a scope-less token such a client got from the provider's own
   * device endpoint.
   */
  portalAccess: boolean;
  /** Epoch milliseconds. */
  issuedAt: number;
  expiresAt: number;
}

export interface DeviceApprover {
  userId: string;
  userName: string;
  /** The portal session that approved, so that ending it ends the credentials issued under the grant. */
  sessionId?: string;
  /** When that session expires (epoch ms): the grant, and every token of it, ends by then too. */
  sessionExpiresAt?: number;
}

export interface PendingDevice {
  userCode: string;
  clientName: string;
  expiresAt: number;
}

export interface PendingInteraction {
  uid: string;
  clientName: string;
  redirectUri: string;
  scopes: string[];
}

/** The fields of oidc-provider's stored payloads that we read. */
interface TokenPayload {
  accountId?: string;
  clientId?: string;
  grantId?: string;
  scope?: string;
  error?: string;
  sessionUid?: string;
  params?: { scope?: string };
  extra?: { userName?: string; sessionId?: string };
}

/** A user code as a page or link gives it (ABCD-EFGH, any case, the dash optional), upper-cased; undefined for anything else, which is not looked up at all. */
export const wellFormedUserCode = (value: unknown): string | undefined =>
  typeof value === 'string' && /^[A-Za-z]{4}-?[A-Za-z]{4}$/.test(value.trim()) ? value.trim().toUpperCase() : undefined;

/** Accepts what a user may type (lower case, spaces, no dash) and gives the XXXX-XXXX form. */
export function normalizeUserCode(input: string): string {
  const bare = input.toUpperCase().replace(/[^A-Z]/g, '');
  return bare.length === 8 ? `${bare.slice(0, 4)}-${bare.slice(4)}` : bare;
}

/** https anywhere, or http on this machine only (RFC 8252 §7.3). */
function acceptableRedirectUri(uri: string): boolean {
  if (!URL.canParse(uri)) return false;
  const u = new URL(uri);
  return u.hash === '' && (u.protocol === 'https:' || (u.protocol === 'http:' && ['127.0.0.1', '[::1]', 'localhost'].includes(u.hostname)));
}

const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, '');
const form = (fields: Record<string, string | undefined>) =>
  new URLSearchParams(Object.entries(fields).filter((e): e is [string, string] => e[1] !== undefined)).toString();

/**
 * oidc-provider's own AsyncLocalStorage (it enters it for every request its Koa app serves, and
 * never leaves it enabled on purpose): disabled again whenever no provider call of ours is in flight,
 * so that Node's promise hooks go off for the requests that never reach the provider (the sso portal
 * API, SigV4 services). Every request its app serves goes through `within` (`post`, `dispatch`);
 * only its `Provider.ctx` getter and client-id metadata documents (not enabled) read it.
 */
let providerStorage: Promise<{ disable(): void } | undefined> | undefined;
let providerCalls = 0;
const PROVIDER_ALS = 'oidc-provider/lib/helpers/als.js';

async function enterProvider(): Promise<void> {
  providerCalls++;
  providerStorage ??= (import(PROVIDER_ALS) as Promise<{ default?: { disable?: unknown } }>).then(
    (m) => (typeof m.default?.disable === 'function' ? (m.default as { disable(): void }) : undefined),
    () => undefined,
  );
  await providerStorage;
}

async function leaveProvider(): Promise<void> {
  const storage = await providerStorage;
  if (--providerCalls === 0) storage?.disable();
}

export class OidcService {
  /** The request a provider call serves: its audit context, and the session length to give grants. */
  private readonly scope = new IdleOffStorage<{ ctx: RequestContext; sessionSeconds: number; refusalsAudited: boolean }>();
  private built?: Promise<{ provider: Provider; callback: ReturnType<Provider['callback']>; clients: Adapter }>;

  constructor(private readonly deps: OidcDeps) {}

  /** The provider, built at first use: its issuer is the public URL, known once the server listens. */
  private core() {
    this.built ??= this.build().catch((err: unknown) => {
      this.built = undefined;
      throw err;
    });
    return this.built;
  }

  private async build() {
    const { tx, read, clock, ids, envelope } = this.deps;
    const keys = await providerKeys({ tx, read, envelope, now: () => clock.now() });
    const { errors } = await loadOidcProvider();
    const adapter = adapterFactory({
      tx,
      read,
      clock,
      ids,
      envelope,
      context: () => this.scope.getStore()?.ctx ?? this.systemCtx(),
      // dispatch() is the one caller that leaves the provider's refusals (and changes) to it.
      providerServes: () => this.scope.getStore()?.refusalsAudited === false,
      // None for an application's grant (no portal scope): its tokens could never get credentials, so
      // revoking them (RFC 7009, a refresh token reused) must not end those the user's CLI got in the
      // same portal session, as its Logout does not.
      credentialSessionOf: async (s, grantId) => {
        const found = (await s.oidc.find<GrantSessionPayload>(GRANT_SESSION, grantId))?.payload;
        return found?.portal === false ? undefined : credentialSessionOfGrant(grantId, found?.sessionId);
      },
      revokeCredentials: (ctx, credentialSession) => this.deps.revokeCredentials?.(ctx, credentialSession, 'RevokeGrant') ?? Promise.resolve(),
      invalidGrant: (message) => new errors.InvalidGrant(message),
      // RFC 6749's temporarily_unavailable, shown to the client (a 5xx is otherwise hidden as server_error).
      busy: (message) => Object.assign(new errors.OIDCProviderError(503, 'temporarily_unavailable'), { expose: true, error_description: message }),
    });
    const provider = await createProvider({
      issuer: `${this.deps.publicUrl()}${OIDC_MOUNT}`,
      adapter,
      findAccount: (userId) => this.findAccount(userId),
      sessionOfGrant: (grantId) => this.sessionOfGrant(grantId),
      sessionSeconds: () => this.scope.getStore()?.sessionSeconds ?? 8 * 3600,
      interactionUrl: (uid) => `/consent/${uid}`,
      keys,
      renderError: this.deps.renderError,
    });
    // "Busy, retry" says when, as Atrium's other 503s do.
    provider.use(async (koa, next) => {
      await next();
      if (koa.status === 503) koa.set('Retry-After', String(RETRY_UNAVAILABLE_SECONDS));
    });
    // The provider answers its own faults 500 and keeps the cause: it goes to the log, not the client.
    provider.on('server_error', (_koa, err: unknown) => this.deps.logFault?.(err, 'the OIDC provider failed a request'));
    // The provider's own refusals at its token endpoint leave an event, like sso-oidc's do.
    provider.on('grant.error', (koa, err: { error?: string; error_description?: string }) => {
      const params = koa.oidc?.params ?? {};
      const store = this.scope.getStore();
      if (!store || store.refusalsAudited || err.error === 'authorization_pending' || err.error === 'slow_down') return;
      const requestParameters = { clientId: params.client_id, grantType: params.grant_type };
      // Best effort: the refusal stands whether or not its event could be written.
      this.deps.audit.recordRefusal(store.ctx, 'CreateToken', requestParameters, `oidc.${err.error ?? 'server_error'}`, err.error_description ?? '').catch(() => undefined);
    });
    return { provider, callback: provider.callback(), clients: adapter('Client') };
  }

  private systemCtx(): RequestContext {
    return systemContext('sso.amazonaws.com', this.deps.region, this.deps.ids.uuid(), 'atrium');
  }

  private async findAccount(userId: string): Promise<AtriumAccount | undefined> {
    const { identityStoreId } = await this.deps.instance.get();
    const user = await this.deps.directory.describeUser(identityStoreId, userId).catch(() => undefined);
    if (!user || user.status !== 'ENABLED') return undefined;
    const { userName, displayName, emails } = user.profile;
    return { accountId: userId, userName, displayName: displayName ?? userName, email: (emails?.find((e) => e.primary) ?? emails?.[0])?.value };
  }

  /**
   * Run `fn` as part of a request: the provider's writes are audited as `ctx`, its grants last a
   * portal session, and no longer than the approving one (`endsBy`, epoch ms) has left.
   */
  private async within<T>(ctx: RequestContext, fn: () => Promise<T>, refusalsAudited = true, endsBy?: number): Promise<T> {
    const { sessionDurationMinutes } = (await this.deps.instance.get()).settings;
    const left = endsBy === undefined ? Infinity : Math.max(1, Math.floor((endsBy - this.deps.clock.now()) / 1000));
    await enterProvider();
    try {
      return await this.scope.run({ ctx, sessionSeconds: Math.min(sessionDurationMinutes * 60, left), refusalsAudited }, fn);
    } finally {
      await leaveProvider();
    }
  }

  /** One in-process request to the provider's endpoint, as a form post: the body never crosses a socket. */
  private async post(path: string, fields: Record<string, string | undefined>): Promise<{ status: number; body: Record<string, unknown> }> {
    const { callback } = await this.core();
    // Koa's handler resolves once it has answered; inject wants a plain listener.
    const listener = (req: IncomingMessage, res: ServerResponse) => void callback(req, res);
    const res = await inject(listener, {
      method: 'POST',
      url: path,
      headers: { 'content-type': 'application/x-www-form-urlencoded', host: new URL(this.deps.publicUrl()).host },
      payload: form(fields),
    });
    const body = res.headers['content-type']?.toString().includes('json') ? (res.json<Record<string, unknown>>() ?? {}) : {};
    if (res.statusCode === 503) throw unavailable('store.busy', typeof body.error_description === 'string' ? body.error_description : 'The service is busy. Retry the request.');
    if (res.statusCode >= 500) throw new Error(`oidc-provider answered ${res.statusCode} at ${path}`);
    return { status: res.statusCode, body };
  }

  /** The provider's endpoints under OIDC_MOUNT, for browsers and relying parties. */
  async dispatch(ctx: RequestContext, req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { callback } = await this.core();
    const url = req.url ?? '/';
    Object.assign(req, { originalUrl: url, url: url.slice(OIDC_MOUNT.length) || '/' });
    // Here nobody but the provider sees its refusals: its grant.error event records them.
    await this.within(ctx, () => callback(req, res), false);
  }

  async registerClient(ctx: RequestContext, input: RegisterClientInput): Promise<RegisteredClient> {
    const { clientName, clientType, scopes = [], grantTypes = DEFAULT_GRANTS, redirectUris = [] } = input;
    return audited(
      this.deps,
      ctx,
      {
        eventName: 'RegisterClient',
        requestParameters: { clientName, clientType, scopes, grantTypes, ...(input.issuerUrl === undefined ? {} : { issuerUrl: input.issuerUrl }) },
        responseElements: (r) => ({ clientId: r.clientId }),
      },
      async () => {
        if (clientType !== 'public') throw oauthError('invalid_client_metadata', `Client type ${clientType} is not supported; use public.`);
        const unsupported = grantTypes.find((g) => !SUPPORTED_GRANTS.includes(g));
        if (unsupported) throw oauthError('invalid_client_metadata', `Grant type ${unsupported} is not supported.`);
        // AWS's own clients (the CLI's and the Toolkit's PKCE sign-in) name the instance they register
        // with by its start URL: this instance's is welcome; another issuer is not.
        const ownStartUrl = `${this.deps.publicUrl()}/start`;
        if (input.issuerUrl !== undefined && withoutTrailingSlash(input.issuerUrl) !== ownStartUrl) {
          throw oauthError('invalid_request', `Trusted token issuers are not supported: the issuer URL must be this instance's start URL (${ownStartUrl}).`);
        }
        if (input.entitledApplicationArn !== undefined) throw oauthError('invalid_request', 'Entitled applications are not supported.');
        const badUri = redirectUris.find((u) => !acceptableRedirectUri(u));
        if (badUri !== undefined) throw oauthError('invalid_redirect_uri', `Redirect URI ${badUri} must be https, or http on a loopback address.`);
        const codeFlow = grantTypes.includes(AUTHORIZATION_CODE_GRANT);
        if (codeFlow && redirectUris.length === 0) throw oauthError('invalid_redirect_uri', 'The authorization code grant needs at least one redirect URI.');
        const unknownScope = scopes.find((sc) => !SCOPES.includes(sc));
        if (unknownScope !== undefined) throw oauthError('invalid_scope', `Scope ${unknownScope} is not offered; the scopes are ${SCOPES.join(', ')}.`);
        const { provider, clients } = await this.core();
        const issuedAt = Math.floor(this.deps.clock.now() / 1000);
        const metadata: ClientMetadata & { client_secret: string; client_id_issued_at: number; client_secret_expires_at: number } = {
          client_id: this.deps.ids.bytes(24).toString('base64url'),
          client_secret: this.deps.ids.bytes(48).toString('base64url'),
          client_name: clientName,
          application_type: 'native',
          grant_types: grantTypes,
          response_types: codeFlow ? ['code'] : [],
          redirect_uris: redirectUris,
          token_endpoint_auth_method: 'client_secret_post',
          // A client registered without scopes (the AWS CLI's legacy profiles) is one for the portal.
          scope: [...new Set(['openid', 'offline_access', ...(scopes.length === 0 ? [PORTAL_SCOPE] : scopes)])].join(' '),
          client_id_issued_at: issuedAt,
          client_secret_expires_at: issuedAt + CLIENT_SECRET_LIFETIME_S,
        };
        // The provider checks the metadata as it will when the client comes back.
        await provider.Client.validate(metadata).catch((err: { error?: string; error_description?: string }) => {
          throw oauthError(err.error === 'invalid_redirect_uri' ? 'invalid_redirect_uri' : 'invalid_client_metadata', err.error_description ?? 'The client metadata is not valid.');
        });
        // Kept until its secret expires (then the purge removes it a day later): the AWS CLI registers anew.
        await clients.upsert(metadata.client_id, metadata, CLIENT_SECRET_LIFETIME_S);
        return {
          clientId: metadata.client_id,
          clientSecret: metadata.client_secret,
          clientIdIssuedAt: metadata.client_id_issued_at,
          clientSecretExpiresAt: metadata.client_secret_expires_at,
        };
      },
    );
  }

  async startDeviceAuthorization(ctx: RequestContext, input: { clientId: string; clientSecret: string; startUrl: string }): Promise<DeviceAuthorization> {
    const publicUrl = this.deps.publicUrl();
    const started = await audited(
      this.deps,
      ctx,
      {
        eventName: 'StartDeviceAuthorization',
        requestParameters: { clientId: input.clientId, startUrl: input.startUrl },
        // The user code is a secret while it is open (whoever reads the log could approve or deny it).
        responseElements: (r: DeviceAuthorization) => ({ userCode: HIDDEN, expiresIn: r.expiresIn, interval: r.interval }),
      },
      () =>
        this.within(ctx, async () => {
          if (withoutTrailingSlash(input.startUrl) !== `${publicUrl}/start`) {
            throw oauthError('invalid_request', `The start URL is not this instance's start URL (${publicUrl}/start).`);
          }
          const client = await this.deps.read.oidc.find<{ scope?: string }>('Client', input.clientId);
          const scope = client?.payload.scope
            ?.split(' ')
            .filter((sc) => sc !== 'openid' && sc !== 'offline_access')
            .join(' ');
          const res = await this.post('/device/auth', { client_id: input.clientId, client_secret: input.clientSecret, scope: scope || undefined });
          if (res.status !== 200) throw providerError(res.body);
          const userCode = String(res.body.user_code);
          return {
            deviceCode: String(res.body.device_code),
            userCode,
            verificationUri: `${publicUrl}/device`,
            verificationUriComplete: `${publicUrl}/device?user_code=${userCode}`,
            expiresIn: Number(res.body.expires_in),
            interval: POLL_INTERVAL_S,
          };
        }),
    );
    // Housekeeping of records nobody can use any more, not a change anyone made: not audited.
    await this.deps.tx.transaction((s) => s.oidc.deleteExpired(this.deps.clock.now() - PURGE_AFTER_MS));
    return started;
  }

  async createToken(ctx: RequestContext, req: TokenRequest): Promise<IssuedTokens> {
    if (!SUPPORTED_GRANTS.includes(req.grantType)) {
      const err = oauthError('unsupported_grant_type', `Grant type ${req.grantType} is not supported.`);
      await this.deps.audit.recordRefusal(ctx, 'CreateToken', this.audited(req), err.code, err.message);
      throw err;
    }
    // Waiting for the user is the normal case: a poll too soon is slowed down, and neither is audited.
    if (req.grantType === DEVICE_CODE_GRANT && req.deviceCode !== undefined) await this.pace(req.clientId, req.deviceCode);
    const res = await this.within(ctx, () =>
      // The token, its refresh token, the consumed code and the CreateToken event commit together.
      this.deps.tx.transaction(() =>
        this.post('/token', {
          grant_type: req.grantType,
          client_id: req.clientId,
          client_secret: req.clientSecret,
          device_code: req.deviceCode,
          code: req.code,
          code_verifier: req.codeVerifier,
          redirect_uri: req.redirectUri,
          refresh_token: req.refreshToken,
          scope: req.scope?.join(' '),
        }),
      ),
    );
    if (res.status === 200) {
      const b = res.body;
      return {
        accessToken: String(b.access_token),
        tokenType: 'Bearer',
        expiresIn: Number(b.expires_in),
        ...(typeof b.refresh_token === 'string' ? { refreshToken: b.refresh_token } : {}),
        ...(typeof b.id_token === 'string' ? { idToken: b.id_token } : {}),
      };
    }
    let err = providerError(res.body);
    // oidc-provider calls a grant the client may not use a bad request; AWS calls it an unauthorized client.
    if (err.code === 'oidc.invalid_request' && !(await this.clientMayUse(req.clientId, req.grantType))) {
      err = oauthError('unauthorized_client', `This client may not use ${req.grantType}.`);
    }
    if (err.code !== 'oidc.authorization_pending') await this.deps.audit.recordRefusal(ctx, 'CreateToken', this.audited(req), err.code, err.message);
    throw err;
  }

  private async clientMayUse(clientId: string, grantType: string): Promise<boolean> {
    const client = await this.deps.read.oidc.find<{ grant_types?: string[] }>('Client', clientId);
    return client?.payload.grant_types?.includes(grantType) ?? true;
  }

  private audited(req: TokenRequest) {
    return { clientId: req.clientId, grantType: req.grantType, scope: req.scope };
  }

  /** Throws slow_down when a device code still waiting for the user is polled faster than the interval. */
  private async pace(clientId: string, deviceCode: string): Promise<void> {
    const id = digest(deviceCode);
    const found = await this.deps.read.oidc.find<TokenPayload>('DeviceCode', id);
    if (!found || !this.isOpen(found) || found.payload.clientId !== clientId || found.payload.accountId || found.payload.error) return;
    const now = this.deps.clock.now();
    const inPace = await this.deps.tx.transaction((s) => s.oidc.countPoll(id, now, POLL_INTERVAL_S * 1000, POLL_BURST));
    if (!inPace) throw oauthError('slow_down', `Poll at most once every ${POLL_INTERVAL_S} s.`);
  }

  /** The access token's holder, or undefined when it is unknown, expired or revoked. */
  async resolveAccessToken(token: string): Promise<ResolvedAccessToken | undefined> {
    const found = await this.deps.read.oidc.find<TokenPayload>('AccessToken', digest(token));
    if (!found || !this.isOpen(found)) return undefined;
    const p = found.payload;
    if (!p.accountId || !p.grantId || !p.clientId) return undefined;
    const scopes = p.scope ? p.scope.split(' ') : [];
    const portalAccess = await reachesPortal(this.deps.read.oidc, scopes, p.clientId);
    return {
      userId: p.accountId,
      userName: p.extra?.userName ?? p.accountId,
      sessionId: p.extra?.sessionId,
      grantId: p.grantId,
      clientId: p.clientId,
      scopes,
      portalAccess,
      // The row's own time, to the millisecond (the payload's iat is to the second: a token issued in
      // the second a user was disabled and enabled again would read as issued before the disable).
      issuedAt: found.createdAt,
      expiresAt: found.expiresAt!,
    };
  }

  /** End a grant: its access and refresh tokens stop working at once. */
  /** End a grant's tokens; `alsoInside` runs in the same transaction (Logout revokes the credentials too). */
  async revokeGrant(ctx: RequestContext, grantId: string, eventName = 'RevokeGrant', alsoInside?: () => Promise<void>): Promise<number> {
    return audited(this.deps, ctx, { eventName, requestParameters: { grantId }, responseElements: (n) => ({ revoked: n }) }, async (s) => {
      const revoked = await s.oidc.revokeByGrantId(grantId);
      await alsoInside?.();
      return revoked;
    });
  }

  /** For the verification page: the pending request behind a user code, if it is still open. */
  async describeDevice(userCode: string): Promise<PendingDevice | undefined> {
    const found = await this.openDevice(this.deps.read, userCode);
    if (!found) return undefined;
    return { userCode: normalizeUserCode(userCode), clientName: await this.clientName(found.payload.clientId), expiresAt: found.expiresAt! };
  }

  private async openDevice(s: Stores, userCode: string) {
    const found = await s.oidc.findByUserCode<TokenPayload>(normalizeUserCode(userCode).replace('-', ''));
    return found && this.isOpen(found) ? found : undefined;
  }

  private async clientName(clientId: string | undefined): Promise<string> {
    const client = clientId ? await this.deps.read.oidc.find<{ client_name?: string }>('Client', clientId) : undefined;
    return client?.payload.client_name ?? 'An unnamed client';
  }

  /** The signed-in user's answer to a device code. Codes expire after 10 minutes and are answered once. */
  async approveDevice(ctx: RequestContext, userCode: string, user: DeviceApprover, decision: 'approve' | 'deny'): Promise<PendingDevice> {
    const code = normalizeUserCode(userCode);
    const eventName = decision === 'approve' ? 'ApproveDeviceAuthorization' : 'DenyDeviceAuthorization';
    return audited(this.deps, ctx, { eventName, requestParameters: { userCode: code, userId: user.userId } }, (s) =>
      this.within(ctx, async () => {
        const open = await this.openDevice(s, code);
        // Locked on PostgreSQL, and SQLite runs one writer: two answers cannot both pass this check.
        const found = open && (await s.oidc.findForUpdate<TokenPayload>('DeviceCode', open.id));
        if (!found || !this.isOpen(found)) throw notFound('oidc.device_not_found', 'This code is not valid or has expired.', { resourceType: 'DEVICE_CODE' });
        if (found.payload.accountId || found.payload.error) throw failedPrecondition('oidc.device_answered', 'This code has already been answered.');
        const { provider } = await this.core();
        const device = await provider.DeviceCode.findByUserCode(code.replace('-', ''));
        if (!device) throw notFound('oidc.device_not_found', 'This code is not valid or has expired.', { resourceType: 'DEVICE_CODE' });
        if (decision === 'deny') {
          Object.assign(device, { error: 'access_denied', errorDescription: 'The user denied this request.' });
        } else {
          const scope = device.params?.scope as string | undefined;
          const grantId = await this.startGrant(s, provider, { accountId: user.userId, clientId: device.clientId!, scope, sessionId: user.sessionId });
          Object.assign(device, { accountId: user.userId, grantId, scope: scope ?? '', authTime: Math.floor(this.deps.clock.now() / 1000) });
        }
        await device.save();
        return { userCode: code, clientName: await this.clientName(device.clientId), expiresAt: found.expiresAt! };
      }, true, user.sessionExpiresAt),
    );
  }

  /** A grant for the client to act for the user, remembered with the portal session that gave it. */
  private async startGrant(s: Stores, provider: Provider, g: { accountId: string; clientId: string; scope?: string; sessionId?: string }): Promise<string> {
    const grant = new provider.Grant({ accountId: g.accountId, clientId: g.clientId });
    if (g.scope) grant.addOIDCScope(g.scope);
    const grantId = await grant.save();
    if (g.sessionId) {
      const now = this.deps.clock.now();
      // As long as the grant (the provider sets no `exp` on the instance it saved; the row has it).
      const expiresAt = (await s.oidc.find('Grant', grantId))?.expiresAt ?? null;
      // Whether its tokens reach the portal (and so credentials), as resolveAccessToken decides it.
      const payload: GrantSessionPayload = { sessionId: g.sessionId, portal: await reachesPortal(s.oidc, g.scope ? g.scope.split(' ') : [], g.clientId) };
      // Found by session when the session ends (oidc-store revokeBySessions): the uid column holds it.
      await s.oidc.upsert({ model: GRANT_SESSION, id: grantId, payload, grantId, userCode: null, uid: g.sessionId, expiresAt, consumedAt: null, createdAt: now });
    }
    return grantId;
  }

  /** The portal session behind a grant, for the token's `extra` claims. */
  async sessionOfGrant(grantId: string): Promise<string | undefined> {
    return (await this.deps.read.oidc.find<{ sessionId: string }>(GRANT_SESSION, grantId))?.payload.sessionId;
  }

  /** The consent page's view of an authorization request waiting for the user. */
  async describeInteraction(req: IncomingMessage, res: ServerResponse): Promise<PendingInteraction | undefined> {
    const { provider } = await this.core();
    const details = await provider.interactionDetails(req, res).catch(() => undefined);
    if (!details) return undefined;
    const clientId = String(details.params.client_id);
    const scope = typeof details.params.scope === 'string' ? details.params.scope : '';
    const redirectUri = typeof details.params.redirect_uri === 'string' ? details.params.redirect_uri : '';
    return { uid: details.uid, clientName: await this.clientName(clientId), redirectUri, scopes: scope.split(' ').filter(Boolean) };
  }

  /**
   * The signed-in user's answer to an authorization request: the browser goes back to the provider,
   * which sends it on to the client's redirect URI with a code (or with access_denied).
   */
  async finishInteraction(ctx: RequestContext, req: IncomingMessage, res: ServerResponse, user: DeviceApprover, decision: 'approve' | 'deny'): Promise<string> {
    const { provider } = await this.core();
    const details = await provider.interactionDetails(req, res).catch(() => undefined);
    if (!details) throw notFound('oidc.interaction_not_found', 'This sign-in request has expired. Start again from your application.', { resourceType: 'INTERACTION' });
    const clientId = String(details.params.client_id);
    const scope = typeof details.params.scope === 'string' ? details.params.scope : undefined;
    const eventName = decision === 'approve' ? 'AuthorizeClient' : 'DenyClient';
    return audited(this.deps, ctx, { eventName, requestParameters: { clientId, scope, userId: user.userId } }, (s) =>
      this.within(ctx, async () => {
        if (decision === 'deny') {
          return provider.interactionResult(req, res, { error: 'access_denied', error_description: 'The user denied the request.' }, { mergeWithLastSubmission: false });
        }
        const grantId = await this.startGrant(s, provider, { accountId: user.userId, clientId, scope, sessionId: user.sessionId });
        return provider.interactionResult(req, res, { login: { accountId: user.userId }, consent: { grantId } }, { mergeWithLastSubmission: false });
      }, true, user.sessionExpiresAt),
    );
  }

  private isOpen(r: OidcRecord): boolean {
    return r.consumedAt === null && r.expiresAt !== null && r.expiresAt > this.deps.clock.now();
  }
}
