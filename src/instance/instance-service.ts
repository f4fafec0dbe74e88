// The instance: one Atrium deployment's identity center, its identity store id and settings.
// There is exactly one; it is created by `atrium init` (or the first `serve`).

import { audited, type AuditDeps, type AuditStore } from '../audit/index.js';
import type { RequestContext } from '../shared/context.js';
import { failedPrecondition, invalidArgument, notFound } from '../shared/errors.js';
import { newIdentityStoreId, newInstanceId } from '../shared/ids.js';
import { checkChangeNames, checkSettings, settingsWithDefaults, storedSettings } from './instance-settings.js';
import {
  DEFAULT_SETTINGS,
  IDENTITY_SOURCE_TYPES,
  type IdentityProviderLookup,
  type IdentitySourceType,
  type InstanceRecord,
  type InstanceSettings,
  type InstanceStore,
  type SettingsChange,
} from './instance-store.js';

/** How long a process trusts its copy of the instance: settings changed elsewhere apply within this time. */
const CACHE_MS = 5_000;

type Stores = { instance: InstanceStore; audit: AuditStore; saml: IdentityProviderLookup };

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
    const settings = storedSettings(found.settings);
    checkSettings(settings);
    const record = { ...found, settings };
    this.cached = { record, at: now };
    return record;
  }

  /** Change settings (portal session duration, password policy); every process applies them within 5 s. */
  async updateSettings(ctx: RequestContext, change: SettingsChange): Promise<InstanceSettings> {
    const settings = await audited(
      this.deps,
      ctx,
      { eventName: 'UpdateInstanceSettings', requestParameters: change, responseElements: (s: InstanceSettings) => s },
      async (s) => {
        checkChangeNames(change);
        const instance = await this.current(s);
        // Named fields only: the identity source is never changed here, whatever the caller passed.
        const next = settingsWithDefaults({
          ...instance.settings,
          ...(change.sessionDurationMinutes === undefined ? {} : { sessionDurationMinutes: change.sessionDurationMinutes }),
          passwordPolicy: { ...instance.settings.passwordPolicy, ...change.passwordPolicy },
          mfa: { ...instance.settings.mfa, ...change.mfa },
          signInProtection: { ...instance.settings.signInProtection, ...change.signInProtection },
        });
        checkSettings(next);
        await s.instance.updateInstanceSettings(instance.instanceArn, next);
        return next;
      },
    );
    this.cached = undefined;
    return settings;
  }

  /** Where users sign in now (as this process last read it: at most 5 s old). */
  async identitySource(): Promise<IdentitySourceType> {
    return (await this.get()).settings.identitySource;
  }

  /**
   * Switch where users sign in. Users, groups, assignments and passwords all stay (AWS deletes them;
   * we keep them so that switching back is safe). EXTERNAL_IDP needs a configured SAML IdP.
   */
  async setIdentitySource(ctx: RequestContext, type: IdentitySourceType): Promise<{ type: IdentitySourceType; previous: IdentitySourceType }> {
    const result = await audited(
      this.deps,
      ctx,
      { eventName: 'UpdateIdentitySource', requestParameters: { identitySource: type }, responseElements: (r: { type: IdentitySourceType; previous: IdentitySourceType }) => r },
      async (s) => {
        if (!IDENTITY_SOURCE_TYPES.includes(type)) throw invalidArgument('instance.invalid_identity_source', `The identity source must be ${IDENTITY_SOURCE_TYPES.join(' or ')}.`);
        const instance = await this.current(s);
        // Read in the same transaction as the write: no switch to an IdP that was just removed.
        if (type === 'EXTERNAL_IDP' && !(await s.saml.findIdp())) {
          throw failedPrecondition(
            'instance.no_identity_provider',
            'No SAML identity provider is configured: import one (atrium saml idp import) before switching the identity source to EXTERNAL_IDP.',
          );
        }
        const next = { ...instance.settings, identitySource: type };
        checkSettings(next);
        await s.instance.updateInstanceSettings(instance.instanceArn, next);
        return { type, previous: instance.settings.identitySource };
      },
    );
    this.cached = undefined;
    return result;
  }

  /** The instance as the transaction sees it: a write never builds on this process's cached copy. */
  private async current(s: Stores): Promise<InstanceRecord> {
    // Held until the write: two concurrent changes of settings cannot lose one another.
    const found = await s.instance.findInstance({ forUpdate: true });
    if (!found) throw notFound('instance.not_found', 'No instance exists; run atrium init.', { resourceType: 'INSTANCE' });
    return { ...found, settings: storedSettings(found.settings) };
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

  /** `name` undefined: the name is left as it is (the call is still checked and recorded). */
  async updateName(ctx: RequestContext, instanceArn: string, name: string | undefined): Promise<void> {
    await audited(this.deps, ctx, { eventName: 'UpdateInstance', requestParameters: { instanceArn, ...(name === undefined ? {} : { name }) } }, async (s) => {
      await this.requireArn(instanceArn);
      if (name !== undefined) await s.instance.updateInstanceName(instanceArn, name);
    });
    this.cached = undefined;
  }
}
