// The OAuth 2.0 grants behind AWS sso-oidc: client registration, device code (RFC 8628), authorization
// code with PKCE S256 (RFC 7636), refresh with rotation (RFC 6749 §6); and the token look-ups others need.

import { createHash, timingSafeEqual } from 'node:crypto';
import { audited, type AuditDeps, type AuditStore } from '../../audit/index.js';
import type { InstanceService } from '../../instance/index.js';
import type { RequestContext } from '../../shared/context.js';
import { DomainError, failedPrecondition, isDomainError, notFound, type ErrorKind } from '../../shared/errors.js';
import type { IdGenerator } from '../../shared/ids.js';
import type { OidcModel, OidcRecord, OidcStore } from './oidc-store.js';

export const DEVICE_CODE_GRANT = 'urn:ietf:params:oauth:grant-type:device_code';
export const REFRESH_TOKEN_GRANT = 'refresh_token';
export const AUTHORIZATION_CODE_GRANT = 'authorization_code';
const SUPPORTED_GRANTS = [DEVICE_CODE_GRANT, AUTHORIZATION_CODE_GRANT, REFRESH_TOKEN_GRANT];
/** What a client registered without grant types may use: the device flow, as the CLI's first clients did. */
const DEFAULT_GRANTS = [DEVICE_CODE_GRANT, REFRESH_TOKEN_GRANT];

const CLIENT_SECRET_LIFETIME_MS = 90 * 24 * 3600_000;
const DEVICE_CODE_LIFETIME_MS = 10 * 60_000;
const AUTHORIZATION_CODE_LIFETIME_MS = 5 * 60_000;
/** RFC 7636 §4.1: 43 to 128 unreserved characters. */
const CODE_VERIFIER = /^[A-Za-z0-9._~-]{43,128}$/;
/** A base64url SHA-256 digest: 43 characters. */
const S256_CHALLENGE = /^[A-Za-z0-9_-]{43}$/;
const ACCESS_TOKEN_LIFETIME_MS = 3600_000;
const POLL_INTERVAL_S = 1;
/** The CLI polls once before it shows the code and again at once after: two polls are free. */
const POLL_BURST = 2;
/** RFC 8628 §6.1: no vowels, no digits, so that no word and no 0/O or 1/I confusion appears. */
const USER_CODE_ALPHABET = 'BCDFGHJKLMNPQRSTVWXZ';
const REFRESH_REUSED = 'REFRESH_TOKEN_REUSED';
/**
 * Expired records are kept a day, so that a late poll or replay still gets its precise error, then
 * purged whenever a sign-in starts: logins are rare next to token use, and nothing else must wait.
 */
const PURGE_AFTER_MS = 24 * 3600_000;

type Stores = { oidc: OidcStore; audit: AuditStore };

export type OidcDeps = AuditDeps<Stores> & {
  read: Stores;
  instance: InstanceService;
  /** This server's public URL (no trailing slash), known only once it listens. */
  publicUrl: () => string;
};

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

export const oauthError = (error: OAuthErrorName, message: string, reason?: string) =>
  new DomainError(KIND[error], `oidc.${error}`, message, reason ? { reason } : {});

interface ClientPayload {
  clientName: string;
  clientType: string;
  scopes: string[];
  grantTypes: string[];
  redirectUris: string[];
  secretHash: string;
  secretExpiresAt: number;
}

/** Who a grant and its tokens act for. `accountId` is oidc-provider's name for the user id. */
interface Subject {
  accountId: string;
  userName: string;
  sessionId?: string;
  clientId: string;
  scopes: string[];
}

interface DevicePayload {
  clientId: string;
  clientName: string;
  scopes: string[];
  status: 'pending' | 'approved' | 'denied';
  subject?: Subject;
}

interface CodePayload {
  redirectUri: string;
  codeChallenge: string;
  subject: Subject;
}

export interface AuthorizationRequest {
  clientId: string;
  redirectUri: string;
  codeChallenge: string;
  codeChallengeMethod: string;
  /** Narrows the client's registered scopes. */
  scopes?: string[];
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
  refreshToken: string;
  grantId: string;
}

export interface ResolvedAccessToken {
  userId: string;
  userName: string;
  sessionId?: string;
  grantId: string;
  clientId: string;
  scopes: string[];
  expiresAt: number;
}

export interface DeviceApprover {
  userId: string;
  userName: string;
  /** The portal session that approved, so that ending it can end the grant too. */
  sessionId?: string;
}

export interface PendingDevice {
  userCode: string;
  clientName: string;
  expiresAt: number;
}

export const digest = (secret: string) => createHash('sha256').update(secret).digest('hex');
const LOOPBACK = new Set(['127.0.0.1', '[::1]', 'localhost']);
const randomToken = (ids: IdGenerator, bytes: number) => ids.bytes(bytes).toString('base64url');
/** The start URL a client names may differ from ours by a trailing slash. */
const withoutTrailingSlash = (url: string) => url.replace(/\/+$/, '');

/** Accepts what a user may type (lower case, spaces, no dash) and gives the stored XXXX-XXXX form. */
export function normalizeUserCode(input: string): string {
  const bare = input.toUpperCase().replace(/[^A-Z]/g, '');
  return bare.length === 8 ? `${bare.slice(0, 4)}-${bare.slice(4)}` : bare;
}

function newUserCode(ids: IdGenerator): string {
  // Rejection sampling keeps the 20-letter alphabet uniform.
  const limit = 256 - (256 % USER_CODE_ALPHABET.length);
  let out = '';
  while (out.length < 8) {
    for (const b of ids.bytes(16)) if (b < limit && out.length < 8) out += USER_CODE_ALPHABET[b % USER_CODE_ALPHABET.length];
  }
  return normalizeUserCode(out);
}

/** https anywhere, or http on this machine only (RFC 8252 §7.3). */
function acceptableRedirectUri(uri: string): boolean {
  if (!URL.canParse(uri)) return false;
  const u = new URL(uri);
  return u.hash === '' && (u.protocol === 'https:' || (u.protocol === 'http:' && LOOPBACK.has(u.hostname)));
}

/** Loopback redirects match on everything but the port, which a native app picks at run time (RFC 8252 §7.3). */
function redirectMatches(registered: string, requested: string): boolean {
  if (registered === requested) return true;
  if (!URL.canParse(registered) || !URL.canParse(requested)) return false;
  const a = new URL(registered);
  const b = new URL(requested);
  return a.protocol === 'http:' && LOOPBACK.has(a.hostname) && b.protocol === a.protocol && b.hostname === a.hostname && b.pathname === a.pathname && b.search === a.search;
}

/** Compared on equal-length digests, so that timing reveals nothing about the secret. */
function secretMatches(secret: string, expectedHash: string): boolean {
  return timingSafeEqual(Buffer.from(digest(secret), 'hex'), Buffer.from(expectedHash, 'hex'));
}

export class OidcService {
  constructor(private readonly deps: OidcDeps) {}

  async registerClient(ctx: RequestContext, input: RegisterClientInput): Promise<RegisteredClient> {
    const { clientName, clientType, scopes = [], grantTypes = DEFAULT_GRANTS, redirectUris = [] } = input;
    return audited(
      this.deps,
      ctx,
      { eventName: 'RegisterClient', requestParameters: { clientName, clientType, scopes, grantTypes }, responseElements: (r) => ({ clientId: r.clientId }) },
      async (s) => {
        if (clientType !== 'public') throw oauthError('invalid_client_metadata', `Client type ${clientType} is not supported; use public.`);
        const unsupported = grantTypes.find((g) => !SUPPORTED_GRANTS.includes(g));
        if (unsupported) throw oauthError('invalid_client_metadata', `Grant type ${unsupported} is not supported.`);
        if (input.issuerUrl !== undefined || input.entitledApplicationArn !== undefined) {
          throw oauthError('invalid_request', 'Trusted token issuers and entitled applications are not supported.');
        }
        const badUri = redirectUris.find((u) => !acceptableRedirectUri(u));
        if (badUri !== undefined) throw oauthError('invalid_redirect_uri', `Redirect URI ${badUri} must be https, or http on a loopback address.`);
        if (grantTypes.includes(AUTHORIZATION_CODE_GRANT) && redirectUris.length === 0) {
          throw oauthError('invalid_redirect_uri', 'The authorization code grant needs at least one redirect URI.');
        }
        const now = this.deps.clock.now();
        const clientId = randomToken(this.deps.ids, 24);
        const clientSecret = randomToken(this.deps.ids, 48);
        const payload: ClientPayload = {
          clientName,
          clientType,
          scopes: [...new Set(scopes)],
          grantTypes,
          redirectUris,
          secretHash: digest(clientSecret),
          secretExpiresAt: now + CLIENT_SECRET_LIFETIME_MS,
        };
        await s.oidc.insert(record('Client', clientId, payload, now, { expiresAt: payload.secretExpiresAt }));
        return { clientId, clientSecret, clientIdIssuedAt: now, clientSecretExpiresAt: payload.secretExpiresAt };
      },
    );
  }

  async startDeviceAuthorization(ctx: RequestContext, input: { clientId: string; clientSecret: string; startUrl: string }): Promise<DeviceAuthorization> {
    // A user code that collides with an earlier one (1 in 2.5e10 per live code) is drawn again.
    for (let attempt = 1; ; attempt++) {
      try {
        const started = await this.startDeviceAuthorizationOnce(ctx, input);
        // Housekeeping of records nobody can use any more, not a change anyone made: not audited.
        await this.deps.tx.transaction((s) => s.oidc.deleteExpired(this.deps.clock.now() - PURGE_AFTER_MS));
        return started;
      } catch (err) {
        if (!(isDomainError(err) && err.code === 'oidc.taken' && attempt < 3)) throw err;
      }
    }
  }

  private startDeviceAuthorizationOnce(ctx: RequestContext, input: { clientId: string; clientSecret: string; startUrl: string }) {
    return audited(
      this.deps,
      ctx,
      {
        eventName: 'StartDeviceAuthorization',
        requestParameters: { clientId: input.clientId, startUrl: input.startUrl },
        responseElements: (r: DeviceAuthorization) => ({ userCode: r.userCode, expiresIn: r.expiresIn, interval: r.interval }),
      },
      async (s) => {
        const client = await this.authenticate(s, input.clientId, input.clientSecret);
        if (!client.payload.grantTypes.includes(DEVICE_CODE_GRANT)) throw oauthError('unauthorized_client', 'This client may not use the device code grant.');
        const publicUrl = this.deps.publicUrl();
        if (withoutTrailingSlash(input.startUrl) !== `${publicUrl}/start`) {
          throw oauthError('invalid_request', `The start URL is not this instance's start URL (${publicUrl}/start).`);
        }
        const now = this.deps.clock.now();
        const deviceCode = randomToken(this.deps.ids, 32);
        const userCode = newUserCode(this.deps.ids);
        const payload: DevicePayload = { clientId: client.id, clientName: client.payload.clientName, scopes: client.payload.scopes, status: 'pending' };
        await s.oidc.insert(record('DeviceCode', digest(deviceCode), payload, now, { userCode, expiresAt: now + DEVICE_CODE_LIFETIME_MS }));
        return {
          deviceCode,
          userCode,
          verificationUri: `${publicUrl}/device`,
          verificationUriComplete: `${publicUrl}/device?user_code=${userCode}`,
          expiresIn: DEVICE_CODE_LIFETIME_MS / 1000,
          interval: POLL_INTERVAL_S,
        };
      },
    );
  }

  async createToken(ctx: RequestContext, req: TokenRequest): Promise<IssuedTokens> {
    // Waiting for the user is the normal case and is not a change: it leaves no audit event.
    if (req.grantType === DEVICE_CODE_GRANT && req.deviceCode !== undefined) await this.refusePending(req.clientId, req.clientSecret, req.deviceCode);
    try {
      return await audited(
        this.deps,
        ctx,
        {
          eventName: 'CreateToken',
          requestParameters: { clientId: req.clientId, grantType: req.grantType, scope: req.scope },
          responseElements: (r) => ({ tokenType: r.tokenType, expiresIn: r.expiresIn, grantId: r.grantId }),
        },
        async (s) => {
          const client = await this.authenticate(s, req.clientId, req.clientSecret);
          if (!SUPPORTED_GRANTS.includes(req.grantType)) throw oauthError('unsupported_grant_type', `Grant type ${req.grantType} is not supported.`);
          if (!client.payload.grantTypes.includes(req.grantType)) throw oauthError('unauthorized_client', `This client may not use ${req.grantType}.`);
          if (req.grantType === DEVICE_CODE_GRANT) return this.deviceGrant(s, client, req);
          if (req.grantType === AUTHORIZATION_CODE_GRANT) return this.codeGrant(s, client, req);
          return this.refreshGrant(s, client, req);
        },
      );
    } catch (err) {
      // A refresh token used twice was stolen or leaked: the whole family goes (RFC 6819 §5.2.2.3).
      if (isDomainError(err) && err.details.reason === REFRESH_REUSED && req.refreshToken !== undefined) {
        const used = await this.deps.read.oidc.find('RefreshToken', digest(req.refreshToken));
        if (used?.grantId) await this.revokeGrant(ctx, used.grantId);
      }
      throw err;
    }
  }

  /**
   * Checks an authorization request before anyone signs in (RFC 6749 §4.1.2.1): an unknown client
   * or redirect URI must not be redirected to. Returns the client's name, for the page to show.
   */
  async checkAuthorizationRequest(request: AuthorizationRequest): Promise<{ clientName: string }> {
    const client = await this.authorizingClient(this.deps.read, request);
    return { clientName: client.payload.clientName };
  }

  /** The signed-in user's consent: a one-time code for the client's redirect URI, valid for 5 minutes. */
  async issueAuthorizationCode(ctx: RequestContext, request: AuthorizationRequest, user: DeviceApprover): Promise<string> {
    const requestParameters = { clientId: request.clientId, redirectUri: request.redirectUri, scopes: request.scopes, userId: user.userId };
    return audited(this.deps, ctx, { eventName: 'AuthorizeClient', requestParameters }, async (s) => {
      const client = await this.authorizingClient(s, request);
      const now = this.deps.clock.now();
      const code = randomToken(this.deps.ids, 32);
      const scopes = this.requestedScopes(request.scopes, client.payload.scopes);
      const subject: Subject = { accountId: user.userId, userName: user.userName, sessionId: user.sessionId, clientId: client.id, scopes };
      const payload: CodePayload = { redirectUri: request.redirectUri, codeChallenge: request.codeChallenge, subject };
      await s.oidc.insert(record('AuthorizationCode', digest(code), payload, now, { expiresAt: now + AUTHORIZATION_CODE_LIFETIME_MS }));
      return code;
    });
  }

  /** The access token's holder, or undefined when it is unknown, expired or revoked. */
  async resolveAccessToken(token: string): Promise<ResolvedAccessToken | undefined> {
    const found = await this.deps.read.oidc.find<Subject>('AccessToken', digest(token));
    if (!found?.grantId || found.expiresAt === null || found.expiresAt <= this.deps.clock.now()) return undefined;
    const p = found.payload;
    return { userId: p.accountId, userName: p.userName, sessionId: p.sessionId, grantId: found.grantId, clientId: p.clientId, scopes: p.scopes, expiresAt: found.expiresAt };
  }

  /** End a grant: its access and refresh tokens stop working at once. */
  async revokeGrant(ctx: RequestContext, grantId: string, eventName = 'RevokeGrant'): Promise<number> {
    return audited(this.deps, ctx, { eventName, requestParameters: { grantId }, responseElements: (n) => ({ revoked: n }) }, (s) => s.oidc.revokeByGrantId(grantId));
  }

  /** For the verification page: the pending request behind a user code, if it is still open. */
  async describeDevice(userCode: string): Promise<PendingDevice | undefined> {
    const found = await this.deps.read.oidc.findByUserCode<DevicePayload>(normalizeUserCode(userCode));
    if (!found || !this.isOpen(found)) return undefined;
    return { userCode: found.userCode!, clientName: found.payload.clientName, expiresAt: found.expiresAt! };
  }

  /** The signed-in user's answer to a device code. Codes expire after 10 minutes and are answered once. */
  async approveDevice(ctx: RequestContext, userCode: string, user: DeviceApprover, decision: 'approve' | 'deny'): Promise<PendingDevice> {
    const code = normalizeUserCode(userCode);
    return audited(
      this.deps,
      ctx,
      { eventName: decision === 'approve' ? 'ApproveDeviceAuthorization' : 'DenyDeviceAuthorization', requestParameters: { userCode: code, userId: user.userId } },
      async (s) => {
        const found = await s.oidc.findByUserCode<DevicePayload>(code);
        if (!found || !this.isOpen(found)) throw notFound('oidc.device_not_found', 'This code is not valid or has expired.', { resourceType: 'DEVICE_CODE' });
        if (found.payload.status !== 'pending') throw failedPrecondition('oidc.device_answered', 'This code has already been answered.');
        const subject: Subject = { accountId: user.userId, userName: user.userName, sessionId: user.sessionId, clientId: found.payload.clientId, scopes: found.payload.scopes };
        const payload: DevicePayload = { ...found.payload, status: decision === 'approve' ? 'approved' : 'denied', subject };
        if (!(await s.oidc.updatePayload('DeviceCode', found.id, payload))) throw failedPrecondition('oidc.device_answered', 'This code has already been answered.');
        return { userCode: code, clientName: found.payload.clientName, expiresAt: found.expiresAt! };
      },
    );
  }

  private isOpen(r: OidcRecord): boolean {
    return r.consumedAt === null && r.expiresAt !== null && r.expiresAt > this.deps.clock.now();
  }

  private async authorizingClient(s: Stores, request: AuthorizationRequest): Promise<OidcRecord<ClientPayload>> {
    const client = await s.oidc.find<ClientPayload>('Client', request.clientId);
    if (!client || client.payload.secretExpiresAt <= this.deps.clock.now()) throw oauthError('invalid_client', 'The client is not registered.');
    if (!client.payload.grantTypes.includes(AUTHORIZATION_CODE_GRANT)) throw oauthError('unauthorized_client', 'This client may not use the authorization code grant.');
    if (!client.payload.redirectUris.some((r) => redirectMatches(r, request.redirectUri))) {
      throw oauthError('invalid_redirect_uri', 'The redirect URI is not registered for this client.');
    }
    if (request.codeChallengeMethod !== 'S256') throw oauthError('invalid_request', 'Only the S256 code challenge method is supported.');
    if (!S256_CHALLENGE.test(request.codeChallenge)) throw oauthError('invalid_request', 'The code challenge is not a base64url SHA-256 digest.');
    this.requestedScopes(request.scopes, client.payload.scopes);
    return client;
  }

  private async authenticate(s: Stores, clientId: string, clientSecret: string): Promise<OidcRecord<ClientPayload>> {
    const client = await s.oidc.find<ClientPayload>('Client', clientId);
    // The secret is hashed and compared even for an unknown client, so that timing tells nothing.
    const matches = secretMatches(clientSecret, client?.payload.secretHash ?? digest(''));
    if (!client || !matches || client.payload.secretExpiresAt <= this.deps.clock.now()) {
      throw oauthError('invalid_client', 'The client id or secret is not valid.');
    }
    return client;
  }

  /** Throws authorization_pending or slow_down for a well-formed poll of a code still waiting for the user. */
  private async refusePending(clientId: string, clientSecret: string, deviceCode: string): Promise<void> {
    const id = digest(deviceCode);
    const found = await this.deps.read.oidc.find<DevicePayload>('DeviceCode', id);
    if (!found || !this.isOpen(found) || found.payload.status !== 'pending' || found.payload.clientId !== clientId) return;
    // Every other case, a bad secret included, is decided and recorded by the audited path.
    if (!(await this.authenticate(this.deps.read, clientId, clientSecret).then(() => true, () => false))) return;
    const now = this.deps.clock.now();
    const inPace = await this.deps.tx.transaction((s) => s.oidc.countPoll(id, now, POLL_INTERVAL_S * 1000, POLL_BURST));
    if (!inPace) throw oauthError('slow_down', `Poll at most once every ${POLL_INTERVAL_S} s.`);
    throw oauthError('authorization_pending', 'The user has not yet approved this request.');
  }

  private async deviceGrant(s: Stores, client: OidcRecord<ClientPayload>, req: TokenRequest): Promise<IssuedTokens> {
    if (req.deviceCode === undefined) throw oauthError('invalid_request', 'deviceCode is required for the device code grant.');
    const id = digest(req.deviceCode);
    const found = await s.oidc.find<DevicePayload>('DeviceCode', id);
    if (!found || found.payload.clientId !== client.id) throw oauthError('invalid_grant', 'The device code is not valid.');
    if (found.consumedAt !== null) throw oauthError('invalid_grant', 'The device code has already been used.');
    if (found.expiresAt === null || found.expiresAt <= this.deps.clock.now()) throw oauthError('expired_token', 'The device code has expired.');
    const { status, subject } = found.payload;
    if (status === 'denied') throw oauthError('access_denied', 'The user denied this request.');
    if (status !== 'approved' || !subject) throw oauthError('authorization_pending', 'The user has not yet approved this request.');
    if (!(await s.oidc.consume('DeviceCode', id, this.deps.clock.now()))) throw oauthError('invalid_grant', 'The device code has already been used.');
    return this.startGrant(s, { ...subject, scopes: this.requestedScopes(req.scope, subject.scopes) });
  }

  private async codeGrant(s: Stores, client: OidcRecord<ClientPayload>, req: TokenRequest): Promise<IssuedTokens> {
    if (req.code === undefined || req.codeVerifier === undefined || req.redirectUri === undefined) {
      throw oauthError('invalid_request', 'code, codeVerifier and redirectUri are required for the authorization code grant.');
    }
    const id = digest(req.code);
    const found = await s.oidc.find<CodePayload>('AuthorizationCode', id);
    if (!found || found.payload.subject.clientId !== client.id) throw oauthError('invalid_grant', 'The authorization code is not valid.');
    if (found.consumedAt !== null) throw oauthError('invalid_grant', 'The authorization code has already been used.');
    if (found.expiresAt === null || found.expiresAt <= this.deps.clock.now()) throw oauthError('invalid_grant', 'The authorization code has expired.');
    if (found.payload.redirectUri !== req.redirectUri) throw oauthError('invalid_grant', 'The redirect URI differs from the one authorized.');
    const challenge = CODE_VERIFIER.test(req.codeVerifier) ? createHash('sha256').update(req.codeVerifier).digest('base64url') : '';
    if (!secretMatches(challenge, digest(found.payload.codeChallenge))) throw oauthError('invalid_grant', 'The code verifier does not match the code challenge.');
    if (!(await s.oidc.consume('AuthorizationCode', id, this.deps.clock.now()))) throw oauthError('invalid_grant', 'The authorization code has already been used.');
    const { subject } = found.payload;
    return this.startGrant(s, { ...subject, scopes: this.requestedScopes(req.scope, subject.scopes) });
  }

  /** A new grant lives as long as a portal session; its refresh tokens die with it. */
  private async startGrant(s: Stores, subject: Subject): Promise<IssuedTokens> {
    const now = this.deps.clock.now();
    const { sessionDurationMinutes } = (await this.deps.instance.get()).settings;
    const grantId = this.deps.ids.uuid();
    const grantExpiresAt = now + sessionDurationMinutes * 60_000;
    await s.oidc.insert(record('Grant', grantId, subject, now, { grantId, expiresAt: grantExpiresAt }));
    return this.mintTokens(s, grantId, subject, grantExpiresAt);
  }

  private async refreshGrant(s: Stores, client: OidcRecord<ClientPayload>, req: TokenRequest): Promise<IssuedTokens> {
    if (req.refreshToken === undefined) throw oauthError('invalid_request', 'refreshToken is required for the refresh token grant.');
    const id = digest(req.refreshToken);
    const found = await s.oidc.find<Subject>('RefreshToken', id);
    if (!found?.grantId || found.payload.clientId !== client.id) throw oauthError('invalid_grant', 'The refresh token is not valid.');
    if (found.consumedAt !== null) throw oauthError('invalid_grant', 'The refresh token has already been used.', REFRESH_REUSED);
    if (found.expiresAt === null || found.expiresAt <= this.deps.clock.now()) throw oauthError('invalid_grant', 'The refresh token has expired.');
    if (!(await s.oidc.consume('RefreshToken', id, this.deps.clock.now()))) throw oauthError('invalid_grant', 'The refresh token has already been used.', REFRESH_REUSED);
    const grant = await s.oidc.find<Subject>('Grant', found.grantId);
    if (!grant || grant.expiresAt === null) throw oauthError('invalid_grant', 'The grant has been revoked.');
    const scopes = this.requestedScopes(req.scope, grant.payload.scopes);
    return this.mintTokens(s, found.grantId, { ...grant.payload, scopes }, grant.expiresAt);
  }

  /** A token request may narrow the granted scopes, never widen them. */
  private requestedScopes(requested: string[] | undefined, granted: string[]): string[] {
    if (requested === undefined) return granted;
    const extra = requested.find((sc) => !granted.includes(sc));
    if (extra !== undefined) throw oauthError('invalid_scope', `Scope ${extra} was not granted to this client.`);
    return [...new Set(requested)];
  }

  private async mintTokens(s: Stores, grantId: string, subject: Subject, grantExpiresAt: number): Promise<IssuedTokens> {
    const now = this.deps.clock.now();
    const accessToken = randomToken(this.deps.ids, 32);
    const refreshToken = randomToken(this.deps.ids, 32);
    const accessExpiresAt = Math.min(now + ACCESS_TOKEN_LIFETIME_MS, grantExpiresAt);
    await s.oidc.insert(record('AccessToken', digest(accessToken), subject, now, { grantId, expiresAt: accessExpiresAt }));
    await s.oidc.insert(record('RefreshToken', digest(refreshToken), subject, now, { grantId, expiresAt: grantExpiresAt }));
    return { accessToken, tokenType: 'Bearer', expiresIn: Math.max(0, Math.floor((accessExpiresAt - now) / 1000)), refreshToken, grantId };
  }
}

function record(model: OidcModel, id: string, payload: unknown, createdAt: number, extra: { grantId?: string; userCode?: string; expiresAt?: number }): OidcRecord {
  return { model, id, payload, grantId: extra.grantId ?? null, userCode: extra.userCode ?? null, expiresAt: extra.expiresAt ?? null, consumedAt: null, createdAt };
}
