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
  /** Rules a new password must meet; the defaults are AWS's. */
  passwordPolicy: PasswordPolicy;
}

export interface PasswordPolicy {
  minLength: number;
  maxLength: number;
  requireUppercase: boolean;
  requireLowercase: boolean;
  requireDigit: boolean;
  requireSymbol: boolean;
  /** How many previous passwords may not be reused. */
  historySize: number;
  /** Refuse passwords on the bundled list of common and breached passwords. */
  rejectCommon: boolean;
}

export const DEFAULT_PASSWORD_POLICY: PasswordPolicy = {
  minLength: 8,
  maxLength: 64,
  requireUppercase: true,
  requireLowercase: true,
  requireDigit: true,
  requireSymbol: true,
  historySize: 3,
  rejectCommon: true,
};

export const DEFAULT_SETTINGS: InstanceSettings = { sessionDurationMinutes: 8 * 60, passwordPolicy: DEFAULT_PASSWORD_POLICY };

export interface InstanceStore {
  findInstance(): Promise<InstanceRecord | undefined>;
  insertInstance(instance: InstanceRecord): Promise<void>;
  updateInstanceName(instanceArn: string, name: string | null): Promise<void>;
  updateInstanceSettings(instanceArn: string, settings: InstanceSettings): Promise<void>;
}
