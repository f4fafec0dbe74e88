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
  /** When to ask for a second factor, which devices count, and what a user without one meets. */
  mfa: MfaSettings;
  /** Sign-in throttling and lock-out, per user name and per source address. */
  signInProtection: SignInProtection;
}

/** AWS's three choices: every sign-in (always-on), when the sign-in context changes, never. */
export type MfaMode = 'ALWAYS_ON' | 'CONTEXT_AWARE' | 'DISABLED';
export const MFA_MODES: readonly MfaMode[] = ['ALWAYS_ON', 'CONTEXT_AWARE', 'DISABLED'];
export type MfaDeviceType = 'TOTP' | 'WEBAUTHN';
export const MFA_DEVICE_TYPES: readonly MfaDeviceType[] = ['TOTP', 'WEBAUTHN'];
/** A user without a device: registers one at sign-in, is refused, or signs in with the password alone. */
export type MfaNoDeviceAction = 'REGISTER' | 'BLOCK' | 'ALLOW';
export const MFA_NO_DEVICE_ACTIONS: readonly MfaNoDeviceAction[] = ['REGISTER', 'BLOCK', 'ALLOW'];

export interface MfaSettings {
  mode: MfaMode;
  allowedDeviceTypes: MfaDeviceType[];
  noDevice: MfaNoDeviceAction;
  /** Context-aware: a remembered browser is asked again after this many days. */
  rememberDays: number;
  /** WebAuthn attestation: NONE (the default) or REQUIRED (the authenticator must attest). */
  webauthnAttestation: 'NONE' | 'REQUIRED';
  /** Offer sign-in with a passkey alone (a discoverable credential, no user name typed). */
  passkeySignIn: boolean;
}

export interface SignInProtection {
  /** Failures per user name before back-off starts. */
  userFreeFailures: number;
  /** Failures per source address before back-off starts (an address may be a whole office). */
  ipFreeFailures: number;
  /** The first back-off; each further failure doubles it, up to backoffMaxSeconds. */
  backoffBaseSeconds: number;
  backoffMaxSeconds: number;
  /** Failures per user name, and per address, that lock the key out for lockoutMinutes. */
  userLockoutFailures: number;
  ipLockoutFailures: number;
  lockoutMinutes: number;
  /** Failures older than this no longer count. */
  failureWindowMinutes: number;
}

/** Settings `updateSettings` changes; the identity source has its own command and precondition. */
/** What updateSettings changes: any of the fields, the password policy's one by one. */
export type SettingsChange = {
  sessionDurationMinutes?: number;
  passwordPolicy?: Partial<PasswordPolicy>;
  mfa?: Partial<MfaSettings>;
  signInProtection?: Partial<SignInProtection>;
};

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

/** MFA is off until an administrator turns it on, so an upgrade changes no one's sign-in. */
export const DEFAULT_MFA_SETTINGS: MfaSettings = {
  mode: 'DISABLED',
  allowedDeviceTypes: ['TOTP', 'WEBAUTHN'],
  noDevice: 'REGISTER',
  rememberDays: 30,
  webauthnAttestation: 'NONE',
  passkeySignIn: false,
};

export const DEFAULT_SIGN_IN_PROTECTION: SignInProtection = {
  userFreeFailures: 5,
  ipFreeFailures: 100,
  backoffBaseSeconds: 30,
  backoffMaxSeconds: 15 * 60,
  userLockoutFailures: 20,
  ipLockoutFailures: 500,
  lockoutMinutes: 15,
  failureWindowMinutes: 15,
};

export const DEFAULT_SETTINGS: InstanceSettings = {
  sessionDurationMinutes: 8 * 60,
  passwordPolicy: DEFAULT_PASSWORD_POLICY,
  identitySource: 'INTERNAL',
  mfa: DEFAULT_MFA_SETTINGS,
  signInProtection: DEFAULT_SIGN_IN_PROTECTION,
};

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
