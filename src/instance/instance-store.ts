// The port the instance module needs from the store.

export interface InstanceRecord {
  instanceArn: string;
  instanceId: string;
  identityStoreId: string;
  ownerAccountId: string;
  name: string | null;
  region: string;
  status: string;
  createdAt: number;
  settings: InstanceSettings;
}

export interface InstanceSettings {
  /** Portal session duration in minutes (15 min – 90 days); used by sign-in. */
  sessionDurationMinutes: number;
}

export const DEFAULT_SETTINGS: InstanceSettings = { sessionDurationMinutes: 8 * 60 };

export interface InstanceStore {
  findInstance(): Promise<InstanceRecord | undefined>;
  insertInstance(instance: InstanceRecord): Promise<void>;
  updateInstanceName(instanceArn: string, name: string | null): Promise<void>;
}
