// The port the provisioning module needs from the store for SCIM bearer tokens. The cap on live
// tokens is held by the store as numbered slots under a unique constraint, not by read-then-insert.

export interface ScimTokenRecord {
  tokenId: string;
  /** SHA-256 (hex) of the token. */
  tokenHash: string;
  createdAt: number;
  expiresAt: number;
  lastUsedAt: number | null;
}

export interface ScimTokenStore {
  /** Free the slot of every token that has expired by `now`. */
  releaseExpiredSlots(now: number): Promise<void>;
  /**
   * Insert the token into the first free one of slots 1..`slots`; false, with nothing written, when
   * every slot is held. A slot taken by a concurrent uncommitted insert is waited for, never shared.
   */
  insertTokenInFreeSlot(token: ScimTokenRecord, slots: number): Promise<boolean>;
  findTokenByHash(tokenHash: string): Promise<ScimTokenRecord | undefined>;
  /** Whether the token exists and has not expired by `now`. */
  /** With `holdUntilCommit`, inside a transaction: the token cannot be deleted until it commits. */
  tokenActive(tokenId: string, now: number, opts?: { holdUntilCommit?: boolean }): Promise<boolean>;
  listTokens(): Promise<ScimTokenRecord[]>;
  /** False when there was no such token. */
  deleteToken(tokenId: string): Promise<boolean>;
  /** Record a use at `at`; false when the token is gone or had expired by then. */
  touchToken(tokenId: string, at: number): Promise<boolean>;
}
