// SQL implementation of policy/'s customer-managed policy store.

import { sql } from 'kysely';
import type { CustomerPolicyRecord, CustomerPolicyStore, CustomerPolicyVersionRecord } from '../../policy/customer-policy-store.js';
import type { Db } from '../database.js';
import type { CustomerPoliciesTable, CustomerPolicyVersionsTable } from '../schema/policy.js';

const toPolicy = (r: CustomerPoliciesTable): CustomerPolicyRecord => ({
  policyArn: r.policy_arn,
  accountId: r.account_id,
  policyName: r.policy_name,
  path: r.path,
  policyId: r.policy_id,
  description: r.description,
  defaultVersionId: r.default_version_id,
  nextVersion: Number(r.next_version),
  createdAt: Number(r.created_at),
  updatedAt: Number(r.updated_at),
});

const toVersion = (r: CustomerPolicyVersionsTable): CustomerPolicyVersionRecord => ({
  policyArn: r.policy_arn,
  versionId: r.version_id,
  document: r.document,
  createdAt: Number(r.created_at),
});

export class SqlCustomerPolicyStore implements CustomerPolicyStore {
  constructor(private readonly db: Db) {}

  async insertPolicy(p: CustomerPolicyRecord, v: CustomerPolicyVersionRecord): Promise<boolean> {
    const r = await this.db
      .insertInto('customer_policies')
      .values({
        policy_arn: p.policyArn,
        account_id: p.accountId,
        policy_name: p.policyName,
        path: p.path,
        policy_id: p.policyId,
        description: p.description,
        default_version_id: p.defaultVersionId,
        next_version: p.nextVersion,
        created_at: p.createdAt,
        updated_at: p.updatedAt,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    if ((r.numInsertedOrUpdatedRows ?? 0n) === 0n) return false;
    await this.db.insertInto('customer_policy_versions').values({ policy_arn: v.policyArn, version_id: v.versionId, document: v.document, created_at: v.createdAt }).execute();
    return true;
  }

  async findPolicy(policyArn: string): Promise<CustomerPolicyRecord | undefined> {
    const r = await this.db.selectFrom('customer_policies').selectAll().where('policy_arn', '=', policyArn).executeTakeFirst();
    return r && toPolicy(r);
  }

  async findPolicyByName(accountId: string, policyName: string): Promise<CustomerPolicyRecord | undefined> {
    const r = await this.db.selectFrom('customer_policies').selectAll().where('account_id', '=', accountId).where('policy_name', '=', policyName).executeTakeFirst();
    return r && toPolicy(r);
  }

  async listPolicies(accountId: string, pathPrefix: string, afterName: string | undefined, limit: number): Promise<CustomerPolicyRecord[]> {
    let q = this.db.selectFrom('customer_policies').selectAll().where('account_id', '=', accountId).orderBy('policy_name').limit(limit);
    // substr, not LIKE: exact and case-sensitive on both dialects, with no wildcard to escape.
    if (pathPrefix !== '/') q = q.where(sql<string>`substr(path, 1, ${pathPrefix.length})`, '=', pathPrefix);
    if (afterName !== undefined) q = q.where('policy_name', '>', afterName);
    return (await q.execute()).map(toPolicy);
  }

  async listVersions(policyArn: string): Promise<CustomerPolicyVersionRecord[]> {
    return (await this.db.selectFrom('customer_policy_versions').selectAll().where('policy_arn', '=', policyArn).orderBy('created_at').orderBy('version_id').execute()).map(toVersion);
  }

  async findVersion(policyArn: string, versionId: string): Promise<CustomerPolicyVersionRecord | undefined> {
    const r = await this.db.selectFrom('customer_policy_versions').selectAll().where('policy_arn', '=', policyArn).where('version_id', '=', versionId).executeTakeFirst();
    return r && toVersion(r);
  }

  async insertVersion(v: CustomerPolicyVersionRecord, expectedNext: number, setAsDefault: boolean, now: number): Promise<boolean> {
    const r = await this.db
      .updateTable('customer_policies')
      .set({ next_version: expectedNext + 1, updated_at: now, ...(setAsDefault ? { default_version_id: v.versionId } : {}) })
      .where('policy_arn', '=', v.policyArn)
      .where('next_version', '=', expectedNext)
      .executeTakeFirst();
    if ((r.numUpdatedRows ?? 0n) === 0n) return false;
    await this.db.insertInto('customer_policy_versions').values({ policy_arn: v.policyArn, version_id: v.versionId, document: v.document, created_at: v.createdAt }).execute();
    return true;
  }

  async deletePolicy(policyArn: string): Promise<void> {
    await this.db.deleteFrom('customer_policy_versions').where('policy_arn', '=', policyArn).execute();
    await this.db.deleteFrom('customer_policies').where('policy_arn', '=', policyArn).execute();
  }

  async lockPolicy(policyArn: string, now: number): Promise<CustomerPolicyRecord | undefined> {
    const r = await this.db.updateTable('customer_policies').set({ updated_at: now }).where('policy_arn', '=', policyArn).returningAll().executeTakeFirst();
    return r && toPolicy(r);
  }

  async setDefaultVersion(policyArn: string, versionId: string): Promise<void> {
    await this.db.updateTable('customer_policies').set({ default_version_id: versionId }).where('policy_arn', '=', policyArn).execute();
  }

  async deleteVersion(policyArn: string, versionId: string): Promise<void> {
    await this.db.deleteFrom('customer_policy_versions').where('policy_arn', '=', policyArn).where('version_id', '=', versionId).execute();
  }
}
