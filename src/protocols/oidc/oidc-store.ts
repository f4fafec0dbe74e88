// The port the OAuth/OIDC core needs from the store: oidc-provider's adapter model (one record per
// model and id, found by id, user code, uid or grant) plus the atomic steps the grants rely on.

/** oidc-provider's model names (Client, Grant, Session, Interaction, DeviceCode, AccessToken, ...), and our Keys. */
export type OidcModel = string;

export interface OidcRecord<P = unknown> {
  model: OidcModel;
  /** A client, grant, session or interaction id; for secrets (tokens, codes) the SHA-256 of the value. */
  id: string;
  payload: P;
  grantId: string | null;
  /** Device codes: the user code, normalised (upper case, no dash). */
  userCode: string | null;
  /** Sessions: oidc-provider's uid. */
  uid: string | null;
  expiresAt: number | null;
  consumedAt: number | null;
  createdAt: number;
}

export interface OidcStore {
  /** Throws alreadyExists('oidc.taken') when the id or user code is taken. */
  insert(record: OidcRecord): Promise<void>;
  /**
   * Insert, or replace the payload, indexes and expiry of the record with this model and id. When it is
   * consumed already, it stays consumed. Throws alreadyExists('oidc.taken') on a user code taken by another.
   */
  upsert(record: OidcRecord): Promise<void>;
  find<P>(model: OidcModel, id: string): Promise<OidcRecord<P> | undefined>;
  /** Like find, and on PostgreSQL the row stays locked until the transaction ends. */
  findForUpdate<P>(model: OidcModel, id: string): Promise<OidcRecord<P> | undefined>;
  findByUserCode<P>(userCode: string): Promise<OidcRecord<P> | undefined>;
  findByUid<P>(model: OidcModel, uid: string): Promise<OidcRecord<P> | undefined>;
  /** Mark consumed, once: false when it already was (or is gone), so that two racers cannot both win. */
  consume(model: OidcModel, id: string, at: number): Promise<boolean>;
  destroy(model: OidcModel, id: string): Promise<void>;
  /**
   * Count one poll of a device code, if the polls so far stay within `burst` plus one per
   * `intervalMs` since the code was issued; false when the client polls too fast.
   */
  countPoll(id: string, at: number, intervalMs: number, burst: number): Promise<boolean>;
  /** Delete every record of a grant (the grant itself, its codes, access and refresh tokens). */
  revokeByGrantId(grantId: string): Promise<number>;
  /** Delete every grant the portal sessions approved (their GrantSession records carry them as uid). */
  revokeBySessions(sessionIds: readonly string[]): Promise<number>;
  /** Delete records that expired before `before`. */
  deleteExpired(before: number): Promise<number>;
}
