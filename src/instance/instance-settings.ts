// Instance settings: defaults for what an older instance row lacks, and the bounds every setting
// must stay within.

import { invalidArgument } from '../shared/errors.js';
import { DEFAULT_SETTINGS, IDENTITY_SOURCE_TYPES, type InstanceSettings } from './instance-store.js';

const MIN_SESSION_MINUTES = 15;
const MAX_SESSION_MINUTES = 90 * 24 * 60;

/** Stored settings completed with the defaults, so a setting added later needs no migration. */
export function settingsWithDefaults(stored: Partial<InstanceSettings>): InstanceSettings {
  return {
    ...DEFAULT_SETTINGS,
    ...stored,
    passwordPolicy: { ...DEFAULT_SETTINGS.passwordPolicy, ...stored.passwordPolicy },
  };
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
  if (!IDENTITY_SOURCE_TYPES.includes(s.identitySource)) throw invalidArgument('instance.invalid_setting', `identitySource must be ${IDENTITY_SOURCE_TYPES.join(' or ')}.`);
}
