// The instance: one Atrium deployment's identity center, its identity store id and settings.
// There is exactly one; it is created by `atrium init` (or the first `serve`).

import { audited, type AuditDeps, type AuditStore } from '../audit/index.js';
import type { RequestContext } from '../shared/context.js';
import { notFound } from '../shared/errors.js';
import { newIdentityStoreId, newInstanceId } from '../shared/ids.js';
import { checkSettings, settingsWithDefaults } from './instance-settings.js';
import { DEFAULT_SETTINGS, type InstanceRecord, type InstanceSettings, type InstanceStore } from './instance-store.js';

/** How long a process trusts its copy of the instance: settings changed elsewhere apply within this time. */
const CACHE_MS = 5_000;

type Stores = { instance: InstanceStore; audit: AuditStore };

export class InstanceService {
  private cached?: { record: InstanceRecord; at: number };

  constructor(private readonly deps: AuditDeps<Stores> & { read: { instance: InstanceStore } }) {}

  /** The instance, or undefined before init. Cached briefly: its name and settings can change. */
  async find(): Promise<InstanceRecord | undefined> {
    const now = this.deps.clock.now();
    if (this.cached && now - this.cached.at < CACHE_MS) return this.cached.record;
    const found = await this.deps.read.instance.findInstance();
    if (!found) return undefined;
    // Settings edited outside Atrium are checked here, so a bad one fails loudly rather than late.
    const settings = settingsWithDefaults(found.settings);
    checkSettings(settings);
    const record = { ...found, settings };
    this.cached = { record, at: now };
    return record;
  }

  /** Change settings (portal session duration, password policy); every process applies them within 5 s. */
  async updateSettings(ctx: RequestContext, change: Partial<InstanceSettings>): Promise<InstanceSettings> {
    const settings = await audited(
      this.deps,
      ctx,
      { eventName: 'UpdateInstanceSettings', requestParameters: change, responseElements: (s: InstanceSettings) => s },
      async (s) => {
        const instance = await this.get();
        const next = settingsWithDefaults({ ...instance.settings, ...change, passwordPolicy: { ...instance.settings.passwordPolicy, ...change.passwordPolicy } });
        checkSettings(next);
        await s.instance.updateInstanceSettings(instance.instanceArn, next);
        return next;
      },
    );
    this.cached = undefined;
    return settings;
  }

  async get(): Promise<InstanceRecord> {
    const found = await this.find();
    if (!found) throw notFound('instance.not_found', 'No instance exists; run atrium init.', { resourceType: 'INSTANCE' });
    return found;
  }

  /** Check that an InstanceArn from a request names this instance. */
  async requireArn(instanceArn: string): Promise<InstanceRecord> {
    const instance = await this.get();
    if (instance.instanceArn !== instanceArn) {
      throw notFound('instance.not_found', `Instance ${instanceArn} does not exist.`, { resourceType: 'INSTANCE', resourceId: instanceArn });
    }
    return instance;
  }

  /** Check that an IdentityStoreId from a request names this instance's identity store. */
  async requireIdentityStore(identityStoreId: string): Promise<InstanceRecord> {
    const instance = await this.get();
    if (instance.identityStoreId !== identityStoreId) {
      throw notFound('identitystore.not_found', `Identity store ${identityStoreId} does not exist.`, {
        resourceType: 'IDENTITY_STORE',
        resourceId: identityStoreId,
      });
    }
    return instance;
  }

  async create(ctx: RequestContext, ownerAccountId: string, region: string): Promise<InstanceRecord> {
    const instanceId = newInstanceId(this.deps.ids);
    const record: InstanceRecord = {
      instanceArn: `arn:aws:sso:::instance/${instanceId}`,
      instanceId,
      identityStoreId: newIdentityStoreId(this.deps.ids),
      ownerAccountId,
      name: null,
      region,
      status: 'ACTIVE',
      createdAt: this.deps.clock.now(),
      settings: DEFAULT_SETTINGS,
    };
    await audited(
      this.deps,
      ctx,
      { eventName: 'CreateInstance', requestParameters: { ownerAccountId, region }, responseElements: () => ({ instanceArn: record.instanceArn, identityStoreId: record.identityStoreId }) },
      (s) => s.instance.insertInstance(record),
    );
    this.cached = { record, at: this.deps.clock.now() };
    return record;
  }

  async updateName(ctx: RequestContext, instanceArn: string, name: string | null): Promise<void> {
    await audited(this.deps, ctx, { eventName: 'UpdateInstance', requestParameters: { instanceArn, name } }, async (s) => {
      await this.requireArn(instanceArn);
      await s.instance.updateInstanceName(instanceArn, name);
    });
    this.cached = undefined;
  }
}
