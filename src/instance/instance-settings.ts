// Instance settings: defaults for what an older instance row lacks, and the bounds every setting
// must stay within.

import { invalidArgument } from '../shared/errors.js';
import { DEFAULT_SETTINGS, IDENTITY_SOURCE_TYPES, MFA_DEVICE_TYPES, MFA_MODES, MFA_NO_DEVICE_ACTIONS, type InstanceSettings } from './instance-store.js';

const MIN_SESSION_MINUTES = 15;
const MAX_SESSION_MINUTES = 90 * 24 * 60;

type Group = 'passwordPolicy' | 'mfa' | 'signInProtection';
const PASSWORD_RULES = ['requireUppercase', 'requireLowercase', 'requireDigit', 'requireSymbol', 'rejectCommon'] as const;
const GROUPS: Group[] = ['passwordPolicy', 'mfa', 'signInProtection'];

/** The fields of `given` that the group has, so a name an older version stored by mistake is dropped. */
function known<G extends Group>(group: G, given: Partial<InstanceSettings[G]> | undefined): Partial<InstanceSettings[G]> {
  const names: object = DEFAULT_SETTINGS[group];
  return Object.fromEntries(Object.entries(given ?? {}).filter(([k]) => Object.hasOwn(names, k))) as Partial<InstanceSettings[G]>;
}

/** Stored settings completed with the defaults, so a setting added later needs no migration. */
export function settingsWithDefaults(stored: Partial<InstanceSettings>): InstanceSettings {
  return {
    ...DEFAULT_SETTINGS,
    ...stored,
    passwordPolicy: { ...DEFAULT_SETTINGS.passwordPolicy, ...known('passwordPolicy', stored.passwordPolicy) },
    mfa: { ...DEFAULT_SETTINGS.mfa, ...known('mfa', stored.mfa) },
    signInProtection: { ...DEFAULT_SETTINGS.signInProtection, ...known('signInProtection', stored.signInProtection) },
  };
}

/**
 * Settings as stored, completed with the defaults. A password rule stored as something else than
 * true or false (the CLI took any JSON before) reads as it acted: by its truth. A change must give
 * true or false (checkSettings).
 */
export function storedSettings(stored: Partial<InstanceSettings>): InstanceSettings {
  const settings = settingsWithDefaults(stored);
  for (const rule of PASSWORD_RULES) settings.passwordPolicy[rule] = Boolean(settings.passwordPolicy[rule]);
  return settings;
}

/** Refuse a change that names a setting no group has: it would be stored and never take effect. */
export function checkChangeNames(change: Partial<Record<Group, object | undefined>>): void {
  for (const group of GROUPS) {
    const names: object = DEFAULT_SETTINGS[group];
    const unknown = Object.keys(change[group] ?? {}).find((k) => !Object.hasOwn(names, k));
    if (unknown !== undefined) throw invalidArgument('instance.invalid_setting', `${group}.${unknown} is not a setting.`);
  }
}

const isInt = (n: number, lo: number, hi: number) => Number.isInteger(n) && n >= lo && n <= hi;

/** Refuse settings outside their bounds; the message names the setting. */
export function checkSettings(s: InstanceSettings): void {
  if (!isInt(s.sessionDurationMinutes, MIN_SESSION_MINUTES, MAX_SESSION_MINUTES)) {
    throw invalidArgument('instance.invalid_setting', `sessionDurationMinutes must be a whole number from ${MIN_SESSION_MINUTES} to ${MAX_SESSION_MINUTES}.`);
  }
  const p = s.passwordPolicy;
  // Below 8 characters no password is worth hashing; above 128 argon2's input grows for nothing.
  if (!isInt(p.minLength, 8, 128) || !isInt(p.maxLength, p.minLength, 128)) {
    throw invalidArgument('instance.invalid_setting', 'passwordPolicy needs 8 <= minLength <= maxLength <= 128.');
  }
  if (!isInt(p.historySize, 0, 24)) throw invalidArgument('instance.invalid_setting', 'passwordPolicy.historySize must be from 0 to 24.');
  // A string "false" would keep a rule on and a null turn one off without a word (the CLI's JSON is not the API's schema).
  for (const rule of PASSWORD_RULES) {
    if (typeof p[rule] !== 'boolean') throw invalidArgument('instance.invalid_setting', `passwordPolicy.${rule} must be true or false.`);
  }
  checkMfaSettings(s);
  if (!IDENTITY_SOURCE_TYPES.includes(s.identitySource)) throw invalidArgument('instance.invalid_setting', `identitySource must be ${IDENTITY_SOURCE_TYPES.join(' or ')}.`);
}

const bad = (message: string) => invalidArgument('instance.invalid_setting', message);

function checkMfaSettings(s: InstanceSettings): void {
  const m = s.mfa;
  if (!MFA_MODES.includes(m.mode)) throw bad(`mfa.mode must be one of ${MFA_MODES.join(', ')}.`);
  if (!Array.isArray(m.allowedDeviceTypes) || m.allowedDeviceTypes.length === 0 || m.allowedDeviceTypes.some((t) => !MFA_DEVICE_TYPES.includes(t))) {
    throw bad(`mfa.allowedDeviceTypes must be a non-empty list of ${MFA_DEVICE_TYPES.join(', ')}.`);
  }
  if (!MFA_NO_DEVICE_ACTIONS.includes(m.noDevice)) throw bad(`mfa.noDevice must be one of ${MFA_NO_DEVICE_ACTIONS.join(', ')}.`);
  if (!isInt(m.rememberDays, 1, 365)) throw bad('mfa.rememberDays must be a whole number from 1 to 365.');
  if (m.webauthnAttestation !== 'NONE' && m.webauthnAttestation !== 'REQUIRED') throw bad('mfa.webauthnAttestation must be NONE or REQUIRED.');
  if (typeof m.passkeySignIn !== 'boolean') throw bad('mfa.passkeySignIn must be true or false.');
  const p = s.signInProtection;
  const bounds: [keyof typeof p, number, number][] = [
    ['userFreeFailures', 1, 1000],
    ['ipFreeFailures', 1, 100_000],
    ['backoffBaseSeconds', 1, 3600],
    ['backoffMaxSeconds', 1, 86_400],
    ['userLockoutFailures', 1, 10_000],
    ['ipLockoutFailures', 1, 1_000_000],
    ['lockoutMinutes', 1, 7 * 24 * 60],
    ['failureWindowMinutes', 1, 7 * 24 * 60],
  ];
  for (const [name, lo, hi] of bounds) if (!isInt(p[name], lo, hi)) throw bad(`signInProtection.${name} must be a whole number from ${lo} to ${hi}.`);
  if (p.backoffMaxSeconds < p.backoffBaseSeconds) throw bad('signInProtection.backoffMaxSeconds must be at least backoffBaseSeconds.');
}
