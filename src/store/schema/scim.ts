// Tables owned by provisioning: the SCIM bearer tokens (only their hash is kept).

export interface ScimTokensTable {
  token_id: string;
  /** SHA-256 (hex) of the token; the token itself is shown once and never stored. */
  token_hash: string;
  /** The live-token slot it holds (unique); null once it has expired. */
  slot: number | null;
  created_at: number;
  expires_at: number;
  last_used_at: number | null;
}

export interface ScimTables {
  scim_tokens: ScimTokensTable;
}
