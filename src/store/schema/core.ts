// Core tables: the instance, data keys, access keys, the audit log, jobs and tags.
// Times are epoch milliseconds in bigint columns; JSON is stored as text for portability.

import type { Generated } from 'kysely';

export interface InstancesTable {
  instance_arn: string;
  instance_id: string;
  identity_store_id: string;
  owner_account_id: string;
  name: string | null;
  region: string;
  status: string;
  created_at: number;
  /** JSON: instance settings (session duration, access control attributes …). */
  settings: string;
}

export interface DataKeysTable {
  id: string;
  provider_id: string;
  /** base64 */
  wrapped_key: string;
  created_at: number;
}

export interface AccessKeysTable {
  access_key_id: string;
  /** The secret, sealed by crypto/ with the access key id as AAD. */
  sealed_secret: string;
  principal_type: string;
  principal_id: string;
  principal_arn: string;
  account_id: string;
  user_name: string;
  status: string;
  purpose: string;
  created_at: number;
}

export interface AuditEventsTable {
  seq: Generated<number>;
  event_id: string;
  event_time: number;
  event_source: string;
  event_name: string;
  aws_region: string;
  source_ip: string;
  user_agent: string;
  /** JSON */
  user_identity: string;
  /** JSON or null */
  request_parameters: string | null;
  /** JSON or null */
  response_elements: string | null;
  error_code: string | null;
  error_message: string | null;
  request_id: string;
  read_only: number;
  event_type: string;
  /** Lookup columns (0013): userIdentity.userName, userIdentity.accessKeyId and the event's main resource. */
  user_name: string | null;
  access_key_id: string | null;
  resource_type: string | null;
  resource_name: string | null;
  /** 1: request_parameters and response_elements were written in the chain's canonical form (0020); the sealer hashes them as they are. */
  canonical_json: number | null;
}

export interface JobsTable {
  id: string;
  kind: string;
  /** JSON */
  payload: string;
  status: string;
  attempts: number;
  run_after: number;
  locked_by: string | null;
  locked_until: number | null;
  last_error: string | null;
  created_at: number;
  updated_at: number;
}

export interface TagsTable {
  resource_arn: string;
  tag_key: string;
  tag_value: string;
}

export interface CoreTables {
  instances: InstancesTable;
  data_keys: DataKeysTable;
  access_keys: AccessKeysTable;
  audit_events: AuditEventsTable;
  jobs: JobsTable;
  tags: TagsTable;
}
