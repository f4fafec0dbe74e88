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

/**
 * Where users sign in, in AWS's terms: the Identity Center directory (`INTERNAL`, passwords) or an
 * external identity provider (`EXTERNAL_IDP`, SAML). Users, groups and assignments stay either way.
 */
export type IdentitySourceType = 'INTERNAL' | 'EXTERNAL_IDP';
export const IDENTITY_SOURCE_TYPES: readonly IdentitySourceType[] = ['INTERNAL', 'EXTERNAL_IDP'];

export interface InstanceSettings {
  /** Portal session duration in minutes (15 min – 90 days); used by sign-in. */
  sessionDurationMinutes: number;
  /** Rules a new password must meet; the defaults are AWS's. */
  passwordPolicy: PasswordPolicy;
  /** Changed only through InstanceService.setIdentitySource, which checks an IdP is configured. */
  identitySource: IdentitySourceType;
}

/** Settings `updateSettings` changes; the identity source has its own command and precondition. */
/** What updateSettings changes: any of the fields, the password policy's one by one. */
export type SettingsChange = { sessionDurationMinutes?: number; passwordPolicy?: Partial<PasswordPolicy> };

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

export const DEFAULT_SETTINGS: InstanceSettings = { sessionDurationMinutes: 8 * 60, passwordPolicy: DEFAULT_PASSWORD_POLICY, identitySource: 'INTERNAL' };

export interface InstanceStore {
  /** `forUpdate`: hold the row until the transaction ends (PostgreSQL; SQLite has one writer). */
  findInstance(opts?: { forUpdate?: boolean }): Promise<InstanceRecord | undefined>;
  insertInstance(instance: InstanceRecord): Promise<void>;
  updateInstanceName(instanceArn: string, name: string | null): Promise<void>;
  updateInstanceSettings(instanceArn: string, settings: InstanceSettings): Promise<void>;
}

/** What the instance needs of the SAML configuration: whether an identity provider is there to switch to. */
export interface IdentityProviderLookup {
  findIdp(): Promise<{ entityId: string } | undefined>;
}
