// SQL implementations of the core ports: instance, data keys, access keys, audit, jobs, tags.

import { sql } from 'kysely';
import { AUDIT_OFF_FOR_BENCH, lookupFieldsOf, stringifiesCanonically, type AuditEvent, type AuditStore } from '../../audit/index.js';
import type { DataKeyRecord, DataKeyStore } from '../../crypto/index.js';
import type { AccessKeyRecord, CredentialStore } from '../../credentials/index.js';
import type { InstanceRecord, InstanceStore } from '../../instance/index.js';
import type { JobRecord, JobStore } from '../../shared/jobs.js';
import type { Tag, TagStore } from '../../shared/tags.js';
import type { Database, Db, Dialect } from '../database.js';
import { precompiled } from '../precompiled.js';
import type { AuditEventsTable } from '../schema/core.js';

export class SqlInstanceStore implements InstanceStore {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}
  async findInstance(opts: { forUpdate?: boolean } = {}): Promise<InstanceRecord | undefined> {
    const q = this.db.selectFrom('instances').selectAll().limit(1);
    const r = await (opts.forUpdate && this.dialect === 'postgres' ? q.forUpdate() : q).executeTakeFirst();
    if (!r) return undefined;
    return {
      instanceArn: r.instance_arn,
      instanceId: r.instance_id,
      identityStoreId: r.identity_store_id,
      ownerAccountId: r.owner_account_id,
      name: r.name,
      region: r.region,
      status: r.status,
      createdAt: r.created_at,
      settings: JSON.parse(r.settings) as InstanceRecord['settings'],
    };
  }
  async insertInstance(i: InstanceRecord): Promise<void> {
    await this.db
      .insertInto('instances')
      .values({
        instance_arn: i.instanceArn,
        instance_id: i.instanceId,
        identity_store_id: i.identityStoreId,
        owner_account_id: i.ownerAccountId,
        name: i.name,
        region: i.region,
        status: i.status,
        created_at: i.createdAt,
        settings: JSON.stringify(i.settings),
      })
      .execute();
  }
  async updateInstanceName(instanceArn: string, name: string | null): Promise<void> {
    await this.db.updateTable('instances').set({ name }).where('instance_arn', '=', instanceArn).execute();
  }
  async updateInstanceSettings(instanceArn: string, settings: InstanceRecord['settings']): Promise<void> {
    await this.db.updateTable('instances').set({ settings: JSON.stringify(settings) }).where('instance_arn', '=', instanceArn).execute();
  }
}

export class SqlDataKeyStore implements DataKeyStore {
  constructor(private readonly db: Db) {}
  private static toRecord(r: { id: string; provider_id: string; wrapped_key: string; created_at: number }): DataKeyRecord {
    return { id: r.id, providerId: r.provider_id, wrappedKey: Buffer.from(r.wrapped_key, 'base64'), createdAt: r.created_at };
  }
  async newestDataKey(): Promise<DataKeyRecord | undefined> {
    const r = await this.db.selectFrom('data_keys').selectAll().orderBy('created_at', 'desc').orderBy('id').limit(1).executeTakeFirst();
    return r && SqlDataKeyStore.toRecord(r);
  }
  async findDataKey(id: string): Promise<DataKeyRecord | undefined> {
    const r = await this.db.selectFrom('data_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return r && SqlDataKeyStore.toRecord(r);
  }
  async insertDataKey(k: DataKeyRecord): Promise<void> {
    await this.db
      .insertInto('data_keys')
      .values({ id: k.id, provider_id: k.providerId, wrapped_key: k.wrappedKey.toString('base64'), created_at: k.createdAt })
      .execute();
  }
}

export class SqlCredentialStore implements CredentialStore {
  constructor(private readonly db: Db) {}
  private static toRecord(r: Record<string, unknown>): AccessKeyRecord {
    return {
      accessKeyId: r.access_key_id as string,
      sealedSecret: r.sealed_secret as string,
      principalType: r.principal_type as string,
      principalId: r.principal_id as string,
      principalArn: r.principal_arn as string,
      accountId: r.account_id as string,
      userName: r.user_name as string,
      status: r.status as AccessKeyRecord['status'],
      purpose: r.purpose as string,
      createdAt: r.created_at as number,
    };
  }
  async insertAccessKey(k: AccessKeyRecord): Promise<void> {
    await this.db
      .insertInto('access_keys')
      .values({
        access_key_id: k.accessKeyId,
        sealed_secret: k.sealedSecret,
        principal_type: k.principalType,
        principal_id: k.principalId,
        principal_arn: k.principalArn,
        account_id: k.accountId,
        user_name: k.userName,
        status: k.status,
        purpose: k.purpose,
        created_at: k.createdAt,
      })
      .execute();
  }
  async findAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined> {
    const r = await this.db.selectFrom('access_keys').selectAll().where('access_key_id', '=', accessKeyId).executeTakeFirst();
    return r && SqlCredentialStore.toRecord(r);
  }
  async listAccessKeysByPurpose(purpose: string): Promise<AccessKeyRecord[]> {
    const rows = await this.db.selectFrom('access_keys').selectAll().where('purpose', '=', purpose).orderBy('created_at').execute();
    return rows.map((r) => SqlCredentialStore.toRecord(r));
  }
  async deleteAccessKey(accessKeyId: string): Promise<void> {
    await this.db.deleteFrom('access_keys').where('access_key_id', '=', accessKeyId).execute();
  }
}

type AuditRow = Omit<AuditEventsTable, 'seq'>;

function auditRow(e: AuditEvent): AuditRow {
  // From the record alone, as verify recomputes them.
  const lookup = lookupFieldsOf(e);
  return {
    event_id: e.eventId,
    event_time: e.eventTime,
    event_source: e.eventSource,
    event_name: e.eventName,
    aws_region: e.awsRegion,
    source_ip: e.sourceIPAddress,
    user_agent: e.userAgent,
    user_identity: JSON.stringify(e.userIdentity),
    request_parameters: e.requestParameters == null ? null : JSON.stringify(e.requestParameters),
    response_elements: e.responseElements == null ? null : JSON.stringify(e.responseElements),
    error_code: e.errorCode ?? null,
    error_message: e.errorMessage ?? null,
    request_id: e.requestID,
    read_only: e.readOnly ? 1 : 0,
    event_type: e.eventType,
    user_name: lookup.userName,
    access_key_id: lookup.accessKeyId,
    resource_type: lookup.resourceType,
    resource_name: lookup.resourceName,
    canonical_json: stringifiesCanonically(e.requestParameters) && stringifiesCanonically(e.responseElements) ? 1 : 0,
  };
}

const AUDIT_COLUMNS: readonly (keyof AuditRow)[] = [
  'event_id',
  'event_time',
  'event_source',
  'event_name',
  'aws_region',
  'source_ip',
  'user_agent',
  'user_identity',
  'request_parameters',
  'response_elements',
  'error_code',
  'error_message',
  'request_id',
  'read_only',
  'event_type',
  'user_name',
  'access_key_id',
  'resource_type',
  'resource_name',
  'canonical_json',
];

const insertAuditEvent = precompiled<Database, AuditRow, never>((db, arg) =>
  db.insertInto('audit_events').values(Object.fromEntries(AUDIT_COLUMNS.map((c) => [c, arg(c)])) as unknown as AuditRow),
);

export class SqlAuditStore implements AuditStore {
  constructor(private readonly db: Db) {}
  appendEvent(e: AuditEvent): Promise<void> {
    return this.appendEvents([e]);
  }

  async appendEvents(events: readonly AuditEvent[]): Promise<void> {
    if (AUDIT_OFF_FOR_BENCH) return;
    // One precompiled statement per event: every write appends one, and building the insert
    // through the query builder costs more than SQLite takes to run it.
    for (const e of events) await insertAuditEvent(this.db, auditRow(e));
  }

}

export class SqlJobStore implements JobStore {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}
  async enqueueJob(j: { id: string; kind: string; payload: unknown; runAfter: number; now: number }): Promise<void> {
    await this.db
      .insertInto('jobs')
      .values({
        id: j.id,
        kind: j.kind,
        payload: JSON.stringify(j.payload),
        status: 'queued',
        attempts: 0,
        run_after: j.runAfter,
        locked_by: null,
        locked_until: null,
        last_error: null,
        created_at: j.now,
        updated_at: j.now,
      })
      .execute();
  }
  async claimJobs(workerId: string, now: number, leaseUntil: number, limit: number): Promise<JobRecord[]> {
    // Due: queued and ready, or running with an expired lease (its worker died).
    const due = (qb: Db) =>
      qb
        .selectFrom('jobs')
        .select('id')
        .where((eb) =>
          eb.or([
            eb.and([eb('status', '=', 'queued'), eb('run_after', '<=', now)]),
            eb.and([eb('status', '=', 'running'), eb('locked_until', '<', now)]),
          ]),
        )
        .orderBy('run_after')
        .limit(limit);
    const rows =
      this.dialect === 'postgres'
        ? await this.db
            .updateTable('jobs')
            .set((eb) => ({ status: 'running', attempts: eb('attempts', '+', 1), locked_by: workerId, locked_until: leaseUntil, updated_at: now }))
            .where('id', 'in', due(this.db).forUpdate().skipLocked())
            .returning(['id', 'kind', 'payload', 'attempts'])
            .execute()
        : await this.db.transaction().execute(async (trx) => {
            const ids = (await due(trx).execute()).map((r) => r.id);
            if (ids.length === 0) return [];
            return trx
              .updateTable('jobs')
              .set((eb) => ({ status: 'running', attempts: eb('attempts', '+', 1), locked_by: workerId, locked_until: leaseUntil, updated_at: now }))
              .where('id', 'in', ids)
              .returning(['id', 'kind', 'payload', 'attempts'])
              .execute();
          });
    return rows.map((r) => ({ id: r.id, kind: r.kind, payload: JSON.parse(r.payload) as unknown, attempts: r.attempts }));
  }
  async completeJob(id: string, now: number): Promise<void> {
    await this.db.updateTable('jobs').set({ status: 'done', updated_at: now, locked_by: null, locked_until: null }).where('id', '=', id).execute();
  }
  async retryJob(id: string, now: number, runAfter: number, error: string): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ status: 'queued', run_after: runAfter, last_error: error, updated_at: now, locked_by: null, locked_until: null })
      .where('id', '=', id)
      .execute();
  }
  async failJob(id: string, now: number, error: string): Promise<void> {
    await this.db
      .updateTable('jobs')
      .set({ status: 'failed', last_error: error, updated_at: now, locked_by: null, locked_until: null })
      .where('id', '=', id)
      .execute();
  }
}

export class SqlTagStore implements TagStore {
  constructor(
    private readonly db: Db,
    private readonly dialect: Dialect,
  ) {}
  async putTags(resourceArn: string, tags: Tag[]): Promise<void> {
    for (const t of tags) {
      await this.db
        .insertInto('tags')
        .values({ resource_arn: resourceArn, tag_key: t.Key, tag_value: t.Value })
        .onConflict((oc) => oc.columns(['resource_arn', 'tag_key']).doUpdateSet({ tag_value: t.Value }))
        .execute();
    }
  }
  async removeTags(resourceArn: string, keys: string[]): Promise<void> {
    if (keys.length === 0) return;
    await this.db.deleteFrom('tags').where('resource_arn', '=', resourceArn).where('tag_key', 'in', keys).execute();
  }
  async listTags(resourceArn: string): Promise<Tag[]> {
    const rows = await this.db.selectFrom('tags').select(['tag_key', 'tag_value']).where('resource_arn', '=', resourceArn).orderBy('tag_key').execute();
    return rows.map((r) => ({ Key: r.tag_key, Value: r.tag_value }));
  }
  async deleteAllTags(resourceArn: string): Promise<void> {
    await this.db.deleteFrom('tags').where('resource_arn', '=', resourceArn).execute();
  }
}

/** Used by `atrium serve` readiness: one round trip to the database. */
export async function ping(db: Db): Promise<void> {
  await sql`select 1`.execute(db);
}
