// Tables of temporary credentials: the service keys that seal session tokens and derive secrets,
// and the "not valid before T for subject S" revocation marks.

import type { Generated } from 'kysely';

export interface ServiceKeysTable {
  name: string;
  /** The key material, sealed by crypto/ with the name as AAD. */
  sealed_key: string;
  created_at: number;
}

export interface RevocationsTable {
  /** Monotonic: a process reads only the marks written since its last read. */
  seq: Generated<number>;
  subject_key: string;
  not_before: number;
}

export interface RevocationTables {
  service_keys: ServiceKeysTable;
  revocations: RevocationsTable;
}
