// The console's rule until the policy engine lands: AdministratorAccess allows every operation,
// ReadOnlyAccess only the read-only ones.

import { describe, expect, it } from 'vitest';
import { consoleAllows, isConsolePolicy } from './console-admins.js';

describe('consoleAllows', () => {
  it('lets AdministratorAccess run reads and changes alike', () => {
    expect(consoleAllows('AdministratorAccess', { readOnly: true })).toBe(true);
    expect(consoleAllows('AdministratorAccess', { readOnly: false })).toBe(true);
  });

  it('lets ReadOnlyAccess read and refuses every change', () => {
    expect(consoleAllows('ReadOnlyAccess', { readOnly: true })).toBe(true);
    expect(consoleAllows('ReadOnlyAccess', { readOnly: false })).toBe(false);
  });

  it('knows only the two named policies', () => {
    expect(['AdministratorAccess', 'ReadOnlyAccess', 'PowerUserAccess', 'administratoraccess', ''].map(isConsolePolicy)).toEqual([true, true, false, false, false]);
  });
});
