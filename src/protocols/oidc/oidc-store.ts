// The port the OAuth/OIDC core needs from the store: oidc-provider's adapter model (one record per
// model and id, found by id, user code or grant) plus the atomic steps the grants rely on.

export type OidcModel = 'Client' | 'Grant' | 'DeviceCode' | 'AuthorizationCode' | 'AccessToken' | 'RefreshToken';

export interface OidcRecord<P = unknown> {
  model: OidcModel;
  /** A client or grant id; for secrets (tokens, device codes) the SHA-256 of the value. */
  id: string;
  payload: P;
  grantId: string | null;
  userCode: string | null;
  expiresAt: number | null;
  consumedAt: number | null;
  createdAt: number;
}

export interface OidcStore {
  /** Throws alreadyExists('oidc.taken') when the id or user code is taken. */
  insert(record: OidcRecord): Promise<void>;
  find<P>(model: OidcModel, id: string): Promise<OidcRecord<P> | undefined>;
  findByUserCode<P>(userCode: string): Promise<OidcRecord<P> | undefined>;
  /** Replace the payload of a record not yet consumed; false when there is none. */
  updatePayload(model: OidcModel, id: string, payload: unknown): Promise<boolean>;
  /** Mark consumed, once: false when it already was (or is gone), so that two racers cannot both win. */
  consume(model: OidcModel, id: string, at: number): Promise<boolean>;
  /**
   * Count one poll of a device code, if the polls so far stay within `burst` plus one per
   * `intervalMs` since the code was issued; false when the client polls too fast.
   */
  countPoll(id: string, at: number, intervalMs: number, burst: number): Promise<boolean>;
  /** Delete every record of a grant (the grant itself, its access and refresh tokens). */
  revokeByGrantId(grantId: string): Promise<number>;
  /** Delete records that expired before `before`. */
  deleteExpired(before: number): Promise<number>;
}
