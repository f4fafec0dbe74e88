// Tables owned by audit/ beyond the event log itself (0013): the hash chain, the signed digests,
// the signing key, the sealer's lease and the seq gaps it passed.

export interface AuditChainTable {
  position: number;
  event_seq: number;
  event_id: string;
  /** hex SHA-256 */
  prev_hash: string;
  /** hex SHA-256 over prev_hash and the event's canonical serialisation */
  hash: string;
  sealed_at: number;
}

export interface AuditDigestsTable {
  position: number;
  hash: string;
  created_at: number;
  key_id: string;
  /** base64 Ed25519 signature */
  signature: string;
  /** auditDigestEvery when it was made (0022; NULL before: a v1 digest, whose message lacks it). */
  every: number | null;
}

export interface AuditSigningKeysTable {
  key_id: string;
  public_key_pem: string;
  /** The PKCS#8 PEM private key, sealed by the envelope with `audit-signing-key:<key_id>` as AAD. */
  sealed_private_key: string;
  created_at: number;
}

export interface AuditSealerTable {
  id: number;
  locked_by: string | null;
  locked_until: number;
  watermark: number;
}

export interface AuditGapsTable {
  from_seq: number;
  to_seq: number;
  noticed_at: number;
}

/**
 * LookupEvents' keys (0017): one row per key of a chained event, written by the sealer. Kind 'time'
 * (value '') keys every event, and 'id' its event id (0021): the log itself has only its primary key.
 */
export interface AuditLookupTable {
  kind: AuditLookupKind;
  value: string;
  event_time: number;
  event_seq: number;
}
export type AuditLookupKind = 'id' | 'name' | 'user' | 'key' | 'resource' | 'source' | 'time';

export interface AuditTables {
  audit_lookup: AuditLookupTable;
  audit_chain: AuditChainTable;
  audit_digests: AuditDigestsTable;
  audit_signing_keys: AuditSigningKeysTable;
  audit_sealer: AuditSealerTable;
  audit_gaps: AuditGapsTable;
}
