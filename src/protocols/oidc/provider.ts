// The OAuth 2.0 / OpenID Connect core: oidc-provider 9, configured for Atrium.
// - Storage: our adapter over `oidc_models` (adapter.ts).
// - Accounts: the internal directory's users; a deleted or disabled user has no account, so no
//   token is issued or refreshed for them.
// - Grants live as long as a portal session (the instance setting); a refresh token lives as long
//   as its grant and rotates at each use; an access token lives an hour at most.
// - Sign-in and consent are our own pages (interactions.url); the device page is our own too.
// - Signing keys and cookie keys are generated once per instance and kept sealed in the store, so
//   that every process of one instance signs and verifies alike.

import { generateKeyPair, randomBytes } from 'node:crypto';
import { promisify } from 'node:util';
import type * as OidcProviderTypes from 'oidc-provider';
import type { Adapter, Configuration, JWK, KoaContextWithOIDC, default as Provider } from 'oidc-provider';
import type { Envelope } from '../../crypto/index.js';
import { isDomainError } from '../../shared/errors.js';
import type { Transactor } from '../../shared/transactor.js';
import type { OidcStore } from './oidc-store.js';

/** The scopes tokens may carry. A scope a client registers beyond these is not granted. */
/** The scope that lets a token reach the AWS access portal's accounts, roles and credentials. */
export const PORTAL_SCOPE = 'sso:account:access';
export const SCOPES = ['openid', 'profile', 'email', 'offline_access', PORTAL_SCOPE];
export const ACCESS_TOKEN_SECONDS = 3600;
export const DEVICE_CODE_SECONDS = 600;
const AUTHORIZATION_CODE_SECONDS = 300;
const INTERACTION_SECONDS = 600;
const KEYS_MODEL = 'Keys';
const KEYS_ID = 'provider';

export interface AtriumAccount {
  accountId: string;
  userName: string;
  displayName: string;
  email?: string;
}

export interface ProviderOptions {
  issuer: string;
  adapter: (name: string) => Adapter;
  findAccount: (userId: string) => Promise<AtriumAccount | undefined>;
  /** The portal session that gave a grant, carried by its access tokens. */
  sessionOfGrant: (grantId: string) => Promise<string | undefined>;
  /** The instance's portal session duration, in seconds, read before each request reaches the provider. */
  sessionSeconds: () => number;
  /** Where the provider sends a user to sign in and consent. */
  interactionUrl: (uid: string) => string;
  keys: ProviderKeys;
  renderError: (status: number, error: string, description: string) => string;
}

export interface ProviderKeys {
  cookieKeys: string[];
  jwks: { keys: JWK[] };
}

/** Seconds left in the grant a token belongs to, when the request names one. */
function grantSecondsLeft(ctx: KoaContextWithOIDC): number | undefined {
  const exp = ctx.oidc.entities.Grant?.exp;
  return exp === undefined ? undefined : Math.max(1, exp - Math.floor(Date.now() / 1000));
}

type OidcProviderModule = typeof OidcProviderTypes;
let loaded: Promise<OidcProviderModule> | undefined;

/**
 * oidc-provider, loaded at first use. Under Node 20, the runtime this project is pinned to and tested
 * on, it warns on import that it wants Node 22; that one line is kept out of our output.
 */
export function loadOidcProvider(): Promise<OidcProviderModule> {
  loaded ??= (async () => {
    const warn = console.warn;
    console.warn = (...args: unknown[]) => {
      if (!(typeof args[0] === 'string' && args[0].startsWith('oidc-provider WARNING: Unsupported runtime'))) warn(...args);
    };
    try {
      return await import('oidc-provider');
    } finally {
      console.warn = warn;
    }
  })();
  return loaded;
}

export async function createProvider(o: ProviderOptions): Promise<Provider> {
  const { default: Provider, errors } = await loadOidcProvider();
  const configuration: Configuration = {
    adapter: o.adapter,
    async findAccount(_ctx, sub) {
      const account = await o.findAccount(sub);
      if (!account) return undefined;
      return {
        ...account,
        claims: () => ({ sub, preferred_username: account.userName, name: account.displayName, ...(account.email ? { email: account.email } : {}) }),
      };
    },
    claims: { openid: ['sub'], profile: ['preferred_username', 'name'], email: ['email'] },
    scopes: SCOPES,
    responseTypes: ['code'],
    pkce: { required: () => true },
    features: {
      devInteractions: { enabled: false },
      deviceFlow: {
        enabled: true,
        charset: 'base-20',
        mask: '****-****',
        // Users confirm codes on Atrium's own page, signed in to the portal.
        userCodeInputSource: (ctx) => {
          ctx.redirect('/device');
          return Promise.resolve();
        },
      },
      // RFC 7009 §2.1: a client revokes only the tokens issued to it. Set here as oidc-provider's
      // default has it, which otherwise prints a notice to stdout at its first use.
      revocation: {
        enabled: true,
        allowedPolicy: (_ctx: unknown, client: { clientId: string; clientAuthMethod?: string }, token: { clientId?: string }) => {
          if (token.clientId === client.clientId) return true;
          if (client.clientAuthMethod === 'none') return false;
          throw new errors.InvalidRequest('client is not authorized to revoke the presented token');
        },
      },
      userinfo: { enabled: true },
    },
    // AWS clients never ask for offline_access: whoever may refresh gets a refresh token.
    issueRefreshToken: (_ctx, client) => Promise.resolve(client.grantTypeAllowed('refresh_token')),
    rotateRefreshToken: true,
    // Kept with the opaque token, so that the sso portal API needs one read to know its holder.
    async extraTokenClaims(ctx, token) {
      const account = ctx.oidc.entities.Account as unknown as AtriumAccount | undefined;
      const sessionId = 'grantId' in token && token.grantId ? await o.sessionOfGrant(token.grantId) : undefined;
      return { ...(account ? { userName: account.userName } : {}), ...(sessionId ? { sessionId } : {}) };
    },
    ttl: {
      AccessToken: (ctx) => Math.min(ACCESS_TOKEN_SECONDS, grantSecondsLeft(ctx) ?? ACCESS_TOKEN_SECONDS),
      RefreshToken: (ctx) => grantSecondsLeft(ctx) ?? o.sessionSeconds(),
      Grant: () => o.sessionSeconds(),
      Session: () => o.sessionSeconds(),
      IdToken: () => ACCESS_TOKEN_SECONDS,
      DeviceCode: DEVICE_CODE_SECONDS,
      AuthorizationCode: AUTHORIZATION_CODE_SECONDS,
      Interaction: INTERACTION_SECONDS,
    },
    interactions: { url: (_ctx, interaction) => o.interactionUrl(interaction.uid) },
    cookies: { keys: o.keys.cookieKeys },
    jwks: o.keys.jwks,
    clientBasedCORS: () => false,
    renderError(ctx, out) {
      ctx.type = 'html';
      ctx.body = o.renderError(ctx.status, String(out.error), String(out.error_description ?? ''));
    },
  };
  return new Provider(o.issuer, configuration);
}

/**
 * This instance's provider keys: read from the store, or made and kept on first use. Two processes
 * starting at once agree: the second insert loses and reads what the first kept.
 */
export async function providerKeys(deps: { tx: Transactor<{ oidc: OidcStore }>; read: { oidc: OidcStore }; envelope: Envelope; now: () => number }): Promise<ProviderKeys> {
  const existing = await deps.read.oidc.find<{ sealed: string }>(KEYS_MODEL, KEYS_ID);
  if (existing) return JSON.parse((await deps.envelope.open(existing.payload.sealed, `oidc-keys:${KEYS_ID}`)).toString('utf8')) as ProviderKeys;
  // Off the event loop: an RSA key takes long enough to stall every request in flight.
  const { privateKey } = await promisify(generateKeyPair)('rsa', { modulusLength: 2048 });
  const jwk = { ...(privateKey.export({ format: 'jwk' }) as JWK), kid: randomBytes(8).toString('hex'), use: 'sig', alg: 'RS256' };
  const keys: ProviderKeys = { cookieKeys: [randomBytes(32).toString('base64url')], jwks: { keys: [jwk] } };
  const sealed = await deps.envelope.seal(JSON.stringify(keys), `oidc-keys:${KEYS_ID}`);
  try {
    const now = deps.now();
    await deps.tx.transaction((s) =>
      s.oidc.insert({ model: KEYS_MODEL, id: KEYS_ID, payload: { sealed }, grantId: null, userCode: null, uid: null, expiresAt: null, consumedAt: null, createdAt: now }),
    );
  } catch (err) {
    if (isDomainError(err) && err.code === 'oidc.taken') return providerKeys(deps);
    throw err;
  }
  return keys;
}
