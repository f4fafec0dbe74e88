import { describe, expect, it } from 'vitest';
import { checkSettings, settingsWithDefaults, storedSettings } from './instance-settings.js';
import { DEFAULT_SETTINGS, type InstanceSettings } from './instance-store.js';

describe('instance settings', () => {
  it('reads an instance stored before the identity source existed as INTERNAL, keeping what it had', () => {
    const stored = { sessionDurationMinutes: 60, passwordPolicy: { ...DEFAULT_SETTINGS.passwordPolicy, minLength: 12 } };
    const settings = settingsWithDefaults(stored);
    expect(settings).toEqual({ ...stored, identitySource: 'INTERNAL', mfa: DEFAULT_SETTINGS.mfa, signInProtection: DEFAULT_SETTINGS.signInProtection });
    expect(() => checkSettings(settings)).not.toThrow();
  });

  it('reads an instance stored before MFA existed with MFA off, and refuses MFA settings out of bounds, naming them', () => {
    const settings = settingsWithDefaults({ sessionDurationMinutes: 60, mfa: { mode: 'ALWAYS_ON' } } as Partial<InstanceSettings>);
    expect(settings.mfa).toEqual({ ...DEFAULT_SETTINGS.mfa, mode: 'ALWAYS_ON' });
    expect(settingsWithDefaults({}).mfa.mode).toBe('DISABLED');
    const bad: [Partial<InstanceSettings['mfa']> | Partial<InstanceSettings['signInProtection']>, RegExp][] = [
      [{ mode: 'SOMETIMES' } as never, /mfa.mode must be one of ALWAYS_ON, CONTEXT_AWARE, DISABLED/],
      [{ allowedDeviceTypes: [] }, /mfa.allowedDeviceTypes/],
      [{ allowedDeviceTypes: ['SMS'] } as never, /mfa.allowedDeviceTypes/],
      [{ rememberDays: 0 }, /mfa.rememberDays/],
    ];
    for (const [mfa, message] of bad) expect(() => checkSettings({ ...DEFAULT_SETTINGS, mfa: { ...DEFAULT_SETTINGS.mfa, ...mfa } })).toThrow(message);
    expect(() => checkSettings({ ...DEFAULT_SETTINGS, signInProtection: { ...DEFAULT_SETTINGS.signInProtection, lockoutMinutes: 0 } })).toThrow(/signInProtection.lockoutMinutes/);
    expect(() => checkSettings({ ...DEFAULT_SETTINGS, signInProtection: { ...DEFAULT_SETTINGS.signInProtection, backoffBaseSeconds: 60, backoffMaxSeconds: 30 } })).toThrow(/backoffMaxSeconds/);
  });

  it('refuses a password rule that is not true or false, naming it', () => {
    for (const [rule, value] of [['requireUppercase', 'false'], ['rejectCommon', null], ['requireSymbol', 'no'], ['requireDigit', 0]] as const) {
      const settings = { ...DEFAULT_SETTINGS, passwordPolicy: { ...DEFAULT_SETTINGS.passwordPolicy, [rule]: value } };
      expect(() => checkSettings(settings)).toThrow(`passwordPolicy.${rule} must be true or false.`);
    }
    expect(() => checkSettings({ ...DEFAULT_SETTINGS, passwordPolicy: { ...DEFAULT_SETTINGS.passwordPolicy, rejectCommon: false } })).not.toThrow();
    // One stored so before reads as it acted, so the instance still starts and can be corrected.
    const stored = storedSettings({ passwordPolicy: { ...DEFAULT_SETTINGS.passwordPolicy, requireUppercase: 'false', rejectCommon: null } } as never);
    expect(stored.passwordPolicy).toMatchObject({ requireUppercase: true, rejectCommon: false });
    expect(() => checkSettings(stored)).not.toThrow();
  });

  it('refuses an identity source edited by hand to something else, naming the setting', () => {
    for (const identitySource of ['external_idp', 'ACTIVE_DIRECTORY', '', null]) {
      const settings = { ...DEFAULT_SETTINGS, identitySource } as unknown as InstanceSettings;
      expect(() => checkSettings(settings)).toThrow(/identitySource must be INTERNAL or EXTERNAL_IDP/);
    }
    expect(() => checkSettings({ ...DEFAULT_SETTINGS, identitySource: 'EXTERNAL_IDP' })).not.toThrow();
  });
});
