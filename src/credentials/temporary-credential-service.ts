// Temporary role credentials (ASIA…), self-contained: the session token is an AES-256-GCM blob that
// carries the session context, and the secret is an HMAC of the access key id. Verifying one reads
// no database; revocation marks are checked from memory.

import { createCipheriv, createDecipheriv, createHash, createHmac } from 'node:crypto';
import { audited, type AuditStore } from '../audit/index.js';
import type { Envelope } from '../crypto/index.js';
import type { Principal, RequestContext } from '../shared/context.js';
import { DomainError, invalidArgument } from '../shared/errors.js';
import { newAccessKeyId } from '../shared/ids.js';
import type { ServiceDeps } from '../shared/service-deps.js';
import type { CredentialService } from './credential-service.js';
import { revocationKeysOf, type RevocationKeys, type RevocationService } from './revocation-service.js';
import type { RevocationStore } from './revocation-store.js';
import { parseAuthorization, verifySignature, type OwnSigningKeys, type SignedRequest } from './sigv4.js';

export interface RoleCredentialRequest {
  userId: string;
  userName: string;
  /** The portal session the credentials were issued in. */
  sessionId: string;
  accountId: string;
  permissionSetArn: string;
  /** AWSReservedSSO_<permission set name>_<16 hex> */
  roleName: string;
  durationSeconds: number;
  sessionTags?: Record<string, string>;
  /**
   * When the caller began to check the right to these credentials (the token or session, then the
   * assignment): they count as issued then, so that a revocation that commits while the check runs
   * still covers them (a revocation covers what was issued at or before it). Defaults to now.
   */
  checkedFrom?: number;
}

export interface RoleCredentials {
  accessKeyId: string;
  secretAccessKey: string;
  sessionToken: string;
  /** Epoch milliseconds. */
  expiration: number;
}

/** The session context a token carries. */
interface TokenClaims {
  k: string;
  u: string;
  n: string;
  s: string;
  a: string;
  p: string;
  r: string;
  i: number;
  e: number;
  t?: Record<string, string>;
}

/** A role session's context, for the policy engine: whose session, which permission set, its session tags. */
export interface RoleSession {
  userId: string;
  permissionSetArn: string;
  /** When the credentials were issued (epoch ms): aws:TokenIssueTime. */
  issuedAt: number;
  /** The role's name (`AWSReservedSSO_<set>_<hex>`): aws:PrincipalArn names the role. */
  roleName: string;
  tags?: Record<string, string>;
}

export type CallerPrincipal = Principal & { region: string; arn: string; accountId: string };

/** The service key row: 32 bytes that seal tokens, then 32 that derive secrets. */
const SERVICE_KEY = 'temporary-credentials';
const TOKEN_VERSION = 1;
const MAX_DURATION_SECONDS = 12 * 3600;
const ROLE_NAME = /^AWSReservedSSO_[\w+=,.@-]{1,32}_[0-9a-f]{16}$/;
const BASE32 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ234567';

const authError = (code: string, message: string) => new DomainError('unauthenticated', code, message);
const invalidToken = () => authError('auth.invalid_token', 'The security token included in the request is invalid.');

/** A stable AROA… id per role, as IAM gives every role one. */
export function roleIdOf(accountId: string, roleName: string): string {
  const digest = createHash('sha256').update(`${accountId}/${roleName}`).digest();
  return 'AROA' + [...digest.subarray(0, 17)].map((b) => BASE32[b % 32]).join('');
}

/** A role session's principal id (aws:userid): the role's id and the session's name, the user's. */
export const rolePrincipalIdOf = (accountId: string, roleName: string, userName: string) => `${roleIdOf(accountId, roleName)}:${userName}`;

type Stores = { revocation: RevocationStore; audit: AuditStore };

/** Opened tokens kept in memory, so that a client's repeated calls skip decrypting and deriving. */
const MAX_OPENED = 10_000;

interface Opened {
  claims: TokenClaims;
  secret: string;
  /** The secret's signing keys that verified a request, so that later requests skip deriving them. */
  signingKeys: OwnSigningKeys;
  principal: Omit<CallerPrincipal, 'region'>;
  /** The role session, shared by every request made with the token: never changed. */
  session: Readonly<RoleSession>;
  /** The revocation marks the credential is checked against. */
  revocationKeys: RevocationKeys;
}

export class TemporaryCredentialService {
  private keys?: { token: Buffer; secret: Buffer };
  private readonly opened = new Map<string, Opened>();

  constructor(
    private readonly deps: ServiceDeps<Stores> & {
      envelope: Envelope;
      credentials: CredentialService;
      revocation: RevocationService;
      /** ABAC: the session tags of a user's role sessions (from the access control attributes), if any. */
      sessionTagsOf?: (userId: string) => Promise<Record<string, string> | undefined>;
    },
  ) {}

  /**
   * Load the service key, creating it if this database has none. Racing processes insert-if-absent
   * and then all read back the one that won. The registry calls this at start-up.
   */
  async loadKeys(): Promise<void> {
    const store = this.deps.read.revocation;
    let sealed = await store.findServiceKey(SERVICE_KEY);
    if (!sealed) {
      await store.insertServiceKeyIfAbsent(SERVICE_KEY, await this.deps.envelope.seal(this.deps.ids.bytes(64), SERVICE_KEY), this.deps.clock.now());
      sealed = await store.findServiceKey(SERVICE_KEY);
    }
    if (!sealed) throw new Error('the temporary-credentials service key could not be created');
    const raw = await this.deps.envelope.open(sealed, SERVICE_KEY);
    this.keys = { token: raw.subarray(0, 32), secret: raw.subarray(32, 64) };
  }

  async issueRoleCredentials(ctx: RequestContext, r: RoleCredentialRequest): Promise<RoleCredentials> {
    if (!Number.isInteger(r.durationSeconds) || r.durationSeconds < 1 || r.durationSeconds > MAX_DURATION_SECONDS) {
      throw invalidArgument('credentials.invalid_duration', `The session duration must be 1 to ${MAX_DURATION_SECONDS} seconds.`);
    }
    if (!ROLE_NAME.test(r.roleName)) throw invalidArgument('credentials.invalid_role_name', 'The role name is not an AWSReservedSSO role name.');
    const keys = await this.requireKeys();
    const sessionTags = r.sessionTags ?? (await this.deps.sessionTagsOf?.(r.userId));
    const accessKeyId = newAccessKeyId(this.deps.ids, 'ASIA');
    const issuedAt = Math.min(r.checkedFrom ?? Infinity, this.deps.clock.now());
    const claims: TokenClaims = {
      k: accessKeyId,
      u: r.userId,
      n: r.userName,
      s: r.sessionId,
      a: r.accountId,
      p: r.permissionSetArn,
      r: r.roleName,
      i: issuedAt,
      e: issuedAt + r.durationSeconds * 1000,
      ...(sessionTags && Object.keys(sessionTags).length ? { t: sessionTags } : {}),
    };
    const credentials: RoleCredentials = {
      accessKeyId,
      secretAccessKey: secretOf(keys.secret, accessKeyId),
      sessionToken: this.seal(keys.token, claims),
      expiration: claims.e,
    };
    return audited(
      this.deps,
      { ...ctx, eventSource: 'sso.amazonaws.com' },
      {
        eventName: 'GetRoleCredentials',
        requestParameters: { accountId: r.accountId, roleName: r.roleName, permissionSetArn: r.permissionSetArn, userName: r.userName, sessionId: r.sessionId },
        responseElements: (c) => ({ accessKeyId: c.accessKeyId, expiration: c.expiration }),
      },
      () => Promise.resolve(credentials),
    );
  }

  /**
   * Verify a SigV4 request signed with temporary credentials (x-amz-security-token) or with an
   * access key; returns who signed it.
   */
  async authenticate(req: SignedRequest, services: readonly string[], opts: { presigned?: boolean } = {}): Promise<CallerPrincipal> {
    return (await this.authenticateSession(req, services, opts)).principal;
  }

  /** As authenticate, with the role session's context (none for an access key) for the policy engine. */
  /**
   * `anyRegion`: the request was made to another service (a gateway's, checked by POST
   * /authorize), whose region is its own: the signature's scope names it, not Atrium's region.
   * `presigned`: the signature may be in the query string (parseAuthorization).
   */
  async authenticateSession(req: SignedRequest, services: readonly string[], opts: { anyRegion?: boolean; presigned?: boolean } = {}): Promise<{ principal: CallerPrincipal; session?: RoleSession }> {
    const now = this.deps.clock.now();
    const auth = parseAuthorization(req, services, now, opts);
    const token = auth.securityToken;
    if (!auth.accessKeyId.startsWith('ASIA')) {
      if (token !== undefined) throw invalidToken();
      const p = await this.deps.credentials.authenticate(req, services, opts);
      return { principal: { ...p, arn: p.arn ?? '', accountId: p.accountId ?? '' } };
    }
    if (!opts.anyRegion) await this.deps.credentials.requireRegion(auth);
    const o = typeof token === 'string' ? this.openCached(this.keys ?? (await this.requireKeys()), token, auth.accessKeyId) : undefined;
    if (!o) throw invalidToken();
    const c = o.claims;
    if (now >= c.e) throw authError('auth.token_expired', 'The security token included in the request is expired');
    // Revoked credentials are refused as invalid, not expired: they will never work again, and
    // ExpiredToken would send a user looking at clocks and caches instead of at their access.
    // The marks in memory answer at once while they are fresh; otherwise they are read first.
    const revocation = this.deps.revocation;
    const revoked =
      revocation.revokedNow(o.revocationKeys, c.i) ?? (await revocation.isRevoked({ userId: c.u, sessionId: c.s, accountId: c.a, permissionSetArn: c.p, issuedAt: c.i }, o.revocationKeys));
    if (revoked) throw invalidToken();
    verifySignature(req, auth, o.secret, o.signingKeys);
    return { principal: { ...o.principal, region: auth.region }, session: o.session };
  }

  /** The token opened for `accessKeyId`, from memory when it was opened before. */
  private openCached(keys: { token: Buffer; secret: Buffer }, token: string, accessKeyId: string): Opened | undefined {
    const hit = this.opened.get(token);
    if (hit) return hit.claims.k === accessKeyId ? hit : undefined;
    const c = this.open(keys.token, token, accessKeyId);
    if (!c) return undefined;
    const opened: Opened = {
      claims: c,
      secret: secretOf(keys.secret, accessKeyId),
      signingKeys: new Map(),
      principal: {
        type: 'AssumedRole',
        principalId: rolePrincipalIdOf(c.a, c.r, c.n),
        arn: `arn:aws:sts::${c.a}:assumed-role/${c.r}/${c.n}`,
        accountId: c.a,
        accessKeyId: c.k,
        userName: c.n,
      },
      session: Object.freeze({ userId: c.u, permissionSetArn: c.p, issuedAt: c.i, roleName: c.r, ...(c.t ? { tags: Object.freeze({ ...c.t }) } : {}) }),
      revocationKeys: revocationKeysOf({ userId: c.u, sessionId: c.s, accountId: c.a, permissionSetArn: c.p }),
    };
    if (this.opened.size >= MAX_OPENED) this.opened.clear();
    this.opened.set(token, opened);
    return opened;
  }

  private async requireKeys(): Promise<{ token: Buffer; secret: Buffer }> {
    if (!this.keys) await this.loadKeys();
    return this.keys!;
  }

  private seal(key: Buffer, claims: TokenClaims): string {
    const iv = this.deps.ids.bytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv);
    // The access key id is the AAD: a token only works with the key id it was issued with.
    c.setAAD(Buffer.from(claims.k, 'utf8'));
    const body = Buffer.concat([c.update(JSON.stringify(claims), 'utf8'), c.final()]);
    return Buffer.concat([Buffer.of(TOKEN_VERSION), iv, c.getAuthTag(), body]).toString('base64');
  }

  /** The claims of an intact token for `accessKeyId`, or undefined for anything else. */
  private open(key: Buffer, token: string, accessKeyId: string): TokenClaims | undefined {
    const raw = Buffer.from(token, 'base64');
    if (raw.length < 30 || raw[0] !== TOKEN_VERSION || raw.toString('base64') !== token) return undefined;
    try {
      const d = createDecipheriv('aes-256-gcm', key, raw.subarray(1, 13));
      d.setAAD(Buffer.from(accessKeyId, 'utf8'));
      d.setAuthTag(raw.subarray(13, 29));
      const claims = JSON.parse(Buffer.concat([d.update(raw.subarray(29)), d.final()]).toString('utf8')) as TokenClaims;
      return claims.k === accessKeyId ? claims : undefined;
    } catch {
      return undefined;
    }
  }
}

/** 40 characters, like an AWS secret, that only the holder of the service key can compute. */
function secretOf(key: Buffer, accessKeyId: string): string {
  return createHmac('sha256', key).update(accessKeyId).digest().subarray(0, 30).toString('base64');
}
