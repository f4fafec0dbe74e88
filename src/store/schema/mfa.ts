// Tables of MFA (issue 5): devices, one-shot challenges, sign-in flows waiting for a second factor,
// and sealed keys. Times are epoch milliseconds; booleans are 0/1.

export interface MfaDevicesTable {
  device_id: string;
  identity_store_id: string;
  user_id: string;
  slot: number;
  name: string;
  /** TOTP | WEBAUTHN */
  type: string;
  /** TOTP seed, sealed by the envelope with the device id as AAD. */
  secret: string | null;
  last_step: number | null;
  credential_id: string | null;
  public_key: string | null;
  sign_count: number;
  /** JSON array of transports. */
  transports: string | null;
  discoverable: number;
  created_at: number;
  last_used_at: number | null;
}

export interface MfaChallengesTable {
  challenge_id: string;
  purpose: string;
  identity_store_id: string | null;
  user_id: string | null;
  payload: string;
  created_at: number;
  expires_at: number;
}

export interface MfaSigninFlowsTable {
  flow_id: string;
  token_hash: string;
  identity_store_id: string;
  user_id: string;
  user_name: string;
  must_change_password: number;
  /** CHALLENGE (prove a device) | REGISTER (register one first) */
  state: string;
  created_at: number;
  expires_at: number;
}

export interface MfaKeysTable {
  key_name: string;
  sealed: string;
  created_at: number;
}

export interface MfaTables {
  mfa_devices: MfaDevicesTable;
  mfa_challenges: MfaChallengesTable;
  mfa_signin_flows: MfaSigninFlowsTable;
  mfa_keys: MfaKeysTable;
}
