// Tables owned by the auth part of the sign-in work: password hashes, portal sessions and the
// sign-in throttle. Times are epoch milliseconds; booleans are 0/1.

export interface AuthPasswordsTable {
  identity_store_id: string;
  user_id: string;
  /** argon2id PHC string. */
  hash: string;
  /** JSON: earlier hashes, newest first, as many as the policy's history needs. */
  history: string;
  /** 1 when the password was set by an administrator and must be changed at first sign-in. */
  one_time: number;
  changed_at: number;
}

export interface AuthSessionsTable {
  session_id: string;
  /** SHA-256 (hex) of the cookie value; the cookie value itself is never stored. */
  token_hash: string;
  identity_store_id: string;
  user_id: string;
  user_name: string;
  /** 1 while a one-time password still has to be changed: the session is not usable yet. */
  must_change_password: number;
  /** When the session passed a second factor (0014-mfa). */
  mfa_at: number | null;
  source_ip: string;
  user_agent: string;
  created_at: number;
  expires_at: number;
}

export interface AuthThrottleTable {
  /** `ip:<address>` or `user:<lower-case user name>`. */
  throttle_key: string;
  failures: number;
  last_failure_at: number;
  locked_until: number;
}

export interface AuthTables {
  auth_passwords: AuthPasswordsTable;
  auth_sessions: AuthSessionsTable;
  auth_throttle: AuthThrottleTable;
}
