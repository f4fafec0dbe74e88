// Tables owned by the OAuth/OIDC core: one table of models (clients, grants, device codes, access
// and refresh tokens), the storage of oidc-provider's adapter (src/protocols/oidc/adapter.ts).

export interface OidcModelsTable {
  /** oidc-provider's model name: Client, Grant, DeviceCode, AuthorizationCode, AccessToken, RefreshToken. */
  model: string;
  /** The client id or grant id; for tokens and codes, SHA-256 (hex) of the value, never the value. */
  id: string;
  /** JSON */
  payload: string;
  grant_id: string | null;
  /** Device codes only: the code the user types, normalised (upper case, no dash). */
  user_code: string | null;
  /** oidc-provider's sessions and interactions are found by uid. */
  uid: string | null;
  expires_at: number | null;
  consumed_at: number | null;
  /** Device codes only: token requests so far, for slow_down. */
  poll_count: number;
  created_at: number;
}

export interface OidcTables {
  oidc_models: OidcModelsTable;
}
