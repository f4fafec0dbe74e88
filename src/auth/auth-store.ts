// The port the auth module needs from the store: password hashes, portal sessions and the
// sign-in throttle.

import type { Slice } from '../shared/pagination.js';

export interface PasswordRecord {
  identityStoreId: string;
  userId: string;
  hash: string;
  /** Earlier hashes, newest first. */
  history: string[];
  oneTime: boolean;
  changedAt: number;
}

export interface SessionRecord {
  sessionId: string;
  tokenHash: string;
  identityStoreId: string;
  userId: string;
  userName: string;
  mustChangePassword: boolean;
  /** When the session passed a second factor (or a remembered browser stood for one); null if never. */
  mfaAt: number | null;
  sourceIp: string;
  userAgent: string;
  createdAt: number;
  expiresAt: number;
}

export interface ThrottleState {
  failures: number;
  lockedUntil: number;
}

export interface AttemptState {
  throttle: Map<string, ThrottleState>;
  password: { hash: string; oneTime: boolean } | undefined;
}

export interface AuthStore {
  findPassword(identityStoreId: string, userId: string): Promise<PasswordRecord | undefined>;
  /** Insert or replace the user's password row. */
  savePassword(p: PasswordRecord): Promise<void>;

  insertSession(s: SessionRecord): Promise<void>;
  /**
   * A sign-in's session, inserted only if neither throttle key is locked at `now` (checked in the
   * same statement); false, and nothing written, if one is.
   */
  insertSessionUnlessLocked(s: SessionRecord, keys: readonly [string, string], now: number): Promise<boolean>;
  /** The live session whose cookie hashes to `tokenHash` (one indexed read). */
  findSessionByToken(tokenHash: string, now: number): Promise<SessionRecord | undefined>;
  findSession(sessionId: string, now: number): Promise<SessionRecord | undefined>;
  /**
   * Live sessions, newest first (by creation, then session id, both descending); of one user when
   * `userId` is given. With `slice`, at most `slice.limit`, after the key (createdAt, sessionId) of
   * the previous page's last row.
   */
  listSessions(q: { identityStoreId: string; userId?: string; now: number; slice?: Slice<[number, string]> }): Promise<SessionRecord[]>;
  markPasswordChanged(sessionId: string): Promise<void>;
  /** Record that the session passed a second factor now. */
  /** The session passed a second factor at `at`; it takes a new token (`tokenHash`), so that a copy of its cookie from before does not pass with it. */
  markMfa(sessionId: string, at: number, tokenHash: string): Promise<void>;
  /** Delete sessions by id; returns the ids that existed. */
  deleteSessions(sessionIds: readonly string[]): Promise<string[]>;

  /** A password attempt's throttle states (of its two keys) and the user's password hash (none for no user), in one read. */
  attemptState(keys: readonly [string, string], identityStoreId: string, userId: string | undefined): Promise<AttemptState>;
  /** Throttle state for each key that has one. */
  throttleStates(keys: readonly string[]): Promise<Map<string, ThrottleState>>;
  /**
   * Count one failure (restarting the count when the last one, and the end of the last lock, are
   * older than `windowStart`), holding
   * the key's row until the commit; returns the new count and the lock the key was under before.
   */
  recordFailure(key: string, now: number, windowStart: number): Promise<ThrottleState>;
  lockUntil(key: string, until: number): Promise<void>;
  /** Take back one counted attempt (a second factor counted before it was checked, that proved right); returns the count left. */
  forgiveFailure(key: string): Promise<void>;
  clearThrottle(key: string): Promise<void>;
}
