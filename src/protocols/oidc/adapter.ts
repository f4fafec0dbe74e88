// oidc-provider's storage adapter over our store: one `oidc_models` row per model and id.
// - Secrets are never stored as they are: a token, code or session is kept under the SHA-256 of its
//   value, its payload's copy of that value (`jti`) is sealed by the envelope (a find by the value
//   puts it back without opening it; a find by user code or uid opens it), and a client's secret is
//   sealed by the envelope.
// - Writes join the caller's transaction when there is one (the sso-oidc adapter runs a whole token
//   request in one), so that a token and its audit event commit together.
// - Consuming twice loses: two racers on one refresh token cannot both get tokens.

import type { Adapter, AdapterPayload } from 'oidc-provider';
import { buildEvent, HIDDEN, type AuditStore } from '../../audit/index.js';
import type { Envelope } from '../../crypto/index.js';
import type { Clock } from '../../shared/clock.js';
import { isDomainError } from '../../shared/errors.js';
import type { RequestContext } from '../../shared/context.js';
import type { IdGenerator } from '../../shared/ids.js';
import type { Transactor } from '../../shared/transactor.js';
import { digest } from './digest.js';
import type { OidcRecord, OidcStore } from './oidc-store.js';

type Stores = { oidc: OidcStore; audit: AuditStore };

export interface AdapterDeps {
  tx: Transactor<Stores>;
  read: Stores;
  clock: Clock;
  ids: IdGenerator;
  envelope: Envelope;
  /** Who is asking, for the audit events the adapter writes (token issue, device authorization, family revocation). */
  context: () => RequestContext;
  /**
   * True when the provider serves the request itself (its endpoints under /oidc), so no service of
   * ours records the change around it: the adapter then records a new device authorization.
   */
  providerServes: () => boolean;
  /**
   * Which credential session a grant's tokens issued credentials under (the portal session that
   * approved it, or `grant:<id>`), read inside the transaction before the family goes.
   */
  credentialSessionOf?: (s: Stores, grantId: string) => Promise<string | undefined>;
  /** Revoke the credentials issued under a credential session, inside the caller's transaction. */
  revokeCredentials?: (ctx: RequestContext, credentialSession: string) => Promise<void>;
  /** oidc-provider's invalid_grant error, which the provider turns into its answer. */
  invalidGrant: (message: string) => Error;
  /**
   * The error oidc-provider answers as 503 temporarily_unavailable: a write found the database busy
   * (the store's `unavailable`), which would otherwise be its opaque server_error, a 500.
   */
  busy: (message: string) => Error;
}

/** Models found by a value that is itself a secret (a token, a code, a session cookie): kept hashed. */
const PLAIN_IDS = new Set(['Client', 'Grant']);
const clientAad = (clientId: string) => `oidc-client:${clientId}`;
const jtiAad = (model: string, key: string) => `oidc-jti:${model}:${key}`;

export function adapterFactory(deps: AdapterDeps): (name: string) => Adapter {
  return (name) => new StoreAdapter(name, deps);
}

/** Seal a client's secret for storage; the adapter opens it when oidc-provider reads the client. */
export async function sealClient(envelope: Envelope, metadata: AdapterPayload & { client_id: string; client_secret: string }) {
  return { ...metadata, client_secret: await envelope.seal(metadata.client_secret, clientAad(metadata.client_id)) };
}

class StoreAdapter implements Adapter {
  constructor(
    private readonly name: string,
    private readonly deps: AdapterDeps,
  ) {}

  /** A write, in its own transaction or the caller's; a busy database is the provider's 503. */
  private async transaction<T>(fn: (s: Stores) => Promise<T>): Promise<T> {
    try {
      return await this.deps.tx.transaction(fn);
    } catch (err) {
      if (isDomainError(err) && err.kind === 'unavailable') throw this.deps.busy(err.message);
      throw err;
    }
  }

  private key(id: string): string {
    return PLAIN_IDS.has(this.name) ? id : digest(id);
  }

  async upsert(id: string, payload: AdapterPayload, expiresIn?: number): Promise<void> {
    const now = this.deps.clock.now();
    const key = this.key(id);
    const stored = this.name === 'Client' ? await sealClient(this.deps.envelope, payload as AdapterPayload & { client_id: string; client_secret: string }) : await this.sealJti(key, payload);
    const record: OidcRecord = {
      model: this.name,
      id: key,
      payload: stored,
      grantId: this.name === 'Grant' ? id : (payload.grantId ?? null),
      userCode: payload.userCode ?? null,
      uid: payload.uid ?? null,
      expiresAt: expiresIn === undefined ? null : now + expiresIn * 1000,
      consumedAt: null,
      createdAt: now,
    };
    await this.transaction(async (s) => {
      await s.oidc.upsert(record);
      if (this.name === 'AccessToken') await s.audit.appendEvent(this.tokenEvent(payload, expiresIn));
      // A code not answered yet is a new one (an answer saves it with the account or the refusal).
      if (this.name === 'DeviceCode' && !payload.accountId && !payload.error && this.deps.providerServes()) await s.audit.appendEvent(this.deviceEvent(payload, expiresIn));
    });
  }

  /** A device authorization started at the provider's own endpoint, as sso-oidc's StartDeviceAuthorization records one. */
  private deviceEvent(p: AdapterPayload, expiresIn: number | undefined) {
    const scope = typeof p.params?.scope === 'string' ? p.params.scope.split(' ') : undefined;
    return buildEvent(this.deps.context(), this.deps, 'StartDeviceAuthorization', { clientId: p.clientId, scope }, { responseElements: { userCode: HIDDEN, expiresIn } });
  }

  /** Every access token issued, by any grant, is one CreateToken event in the same transaction. */
  private tokenEvent(p: AdapterPayload, expiresIn: number | undefined) {
    const requestParameters = { clientId: p.clientId, grantType: p.gty, scope: p.scope?.split(' ') };
    const responseElements = { tokenType: 'Bearer', expiresIn, grantId: p.grantId, userId: p.accountId };
    return buildEvent(this.deps.context(), this.deps, 'CreateToken', requestParameters, { responseElements });
  }

  /**
   * A hashed model's payload keeps its value (`jti`, the token itself) only sealed. An
   * Interaction's is sealed whole: oidc-provider copies its own id into `returnTo`, and the
   * provider session's cookie into `session.cookie`.
   */
  private async sealJti(key: string, payload: AdapterPayload): Promise<AdapterPayload> {
    if (this.name === 'Interaction') return { sealedPayload: await this.deps.envelope.seal(JSON.stringify(payload), jtiAad(this.name, key)) };
    if (PLAIN_IDS.has(this.name) || typeof payload.jti !== 'string') return payload;
    const { jti, ...rest } = payload;
    return { ...rest, sealedJti: await this.deps.envelope.seal(jti, jtiAad(this.name, key)) };
  }

  async find(id: string): Promise<AdapterPayload | undefined> {
    return this.payloadOf(await this.deps.read.oidc.find<AdapterPayload>(this.name, this.key(id)), id);
  }

  async findByUserCode(userCode: string): Promise<AdapterPayload | undefined> {
    return this.payloadOf(await this.deps.read.oidc.findByUserCode<AdapterPayload>(userCode));
  }

  async findByUid(uid: string): Promise<AdapterPayload | undefined> {
    return this.payloadOf(await this.deps.read.oidc.findByUid<AdapterPayload>(this.name, uid));
  }

  /** The payload as oidc-provider stored it; `id` is the value it was found by, when it was (the token itself). */
  private async payloadOf(r: OidcRecord<AdapterPayload> | undefined, id?: string): Promise<AdapterPayload | undefined> {
    // Expired records are still handed over: oidc-provider checks `exp` itself, and says "expired"
    // where it matters (a device code) rather than "not found".
    if (!r) return undefined;
    const { sealedJti, sealedPayload, ...stored } = r.payload as AdapterPayload & { sealedJti?: unknown; sealedPayload?: unknown };
    const payload: AdapterPayload =
      typeof sealedPayload === 'string' ? (JSON.parse((await this.deps.envelope.open(sealedPayload, jtiAad(this.name, r.id))).toString('utf8')) as AdapterPayload) : stored;
    if (typeof sealedJti === 'string') payload.jti = id ?? (await this.deps.envelope.open(sealedJti, jtiAad(this.name, r.id))).toString('utf8');
    if (r.consumedAt !== null) payload.consumed = Math.floor(r.consumedAt / 1000);
    if (this.name === 'Client' && typeof payload.client_secret === 'string') {
      payload.client_secret = (await this.deps.envelope.open(payload.client_secret, clientAad(r.id))).toString('utf8');
    }
    return payload;
  }

  async consume(id: string): Promise<void> {
    const key = this.key(id);
    const won = await this.transaction((s) => s.oidc.consume(this.name, key, this.deps.clock.now()));
    if (won) return;
    // Lost a race: the other request got the tokens. A code or refresh token used twice means a leak,
    // so its family goes (RFC 6749 §4.1.2, RFC 6819 §5.2.2.3), as oidc-provider does when it sees
    // the reuse itself (on SQLite it always does: the second request runs after the first commits).
    const used = await this.deps.read.oidc.find(this.name, key);
    if (used?.grantId) await this.revokeByGrantId(used.grantId);
    throw this.deps.invalidGrant(`${this.name === 'RefreshToken' ? 'refresh token' : 'grant'} already used`);
  }

  async destroy(id: string): Promise<void> {
    await this.transaction((s) => s.oidc.destroy(this.name, this.key(id)));
  }

  async revokeByGrantId(grantId: string): Promise<void> {
    // oidc-provider calls this once per model; the first call removes the whole family. A family
    // ends on a refresh token used twice (a leak), a code replayed, or RFC 7009 revocation: the
    // credentials its tokens got end with it, in the same transaction.
    await this.transaction(async (s) => {
      const credentialSession = await this.deps.credentialSessionOf?.(s, grantId);
      const revoked = await s.oidc.revokeByGrantId(grantId);
      if (revoked > 0) {
        const ctx = this.deps.context();
        await s.audit.appendEvent(buildEvent(ctx, this.deps, 'RevokeGrant', { grantId }, { responseElements: { revoked } }));
        if (credentialSession !== undefined) await this.deps.revokeCredentials?.(ctx, credentialSession);
      }
    });
  }
}
