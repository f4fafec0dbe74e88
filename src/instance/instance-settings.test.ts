import { describe, expect, it } from 'vitest';
import { checkSettings, settingsWithDefaults } from './instance-settings.js';
import { DEFAULT_SETTINGS, type InstanceSettings } from './instance-store.js';

describe('instance settings', () => {
  it('reads an instance stored before the identity source existed as INTERNAL, keeping what it had', () => {
    const stored = { sessionDurationMinutes: 60, passwordPolicy: { ...DEFAULT_SETTINGS.passwordPolicy, minLength: 12 } };
    const settings = settingsWithDefaults(stored);
    expect(settings).toEqual({ ...stored, identitySource: 'INTERNAL' });
    expect(() => checkSettings(settings)).not.toThrow();
  });

  it('refuses an identity source edited by hand to something else, naming the setting', () => {
    for (const identitySource of ['external_idp', 'ACTIVE_DIRECTORY', '', null]) {
      const settings = { ...DEFAULT_SETTINGS, identitySource } as unknown as InstanceSettings;
      expect(() => checkSettings(settings)).toThrow(/identitySource must be INTERNAL or EXTERNAL_IDP/);
    }
    expect(() => checkSettings({ ...DEFAULT_SETTINGS, identitySource: 'EXTERNAL_IDP' })).not.toThrow();
  });
});
