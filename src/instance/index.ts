// instance/: the identity center instance and its settings.
export { InstanceService } from './instance-service.js';
export {
  DEFAULT_SETTINGS,
  IDENTITY_SOURCE_TYPES,
  MFA_DEVICE_TYPES,
  MFA_MODES,
  MFA_NO_DEVICE_ACTIONS,
  type MfaDeviceType,
  type MfaMode,
  type MfaNoDeviceAction,
  type MfaSettings,
  type SignInProtection,
  type IdentityProviderLookup,
  type IdentitySourceType,
  type InstanceRecord,
  type InstanceSettings,
  type InstanceStore,
  type PasswordPolicy,
  type SettingsChange,
} from './instance-store.js';
export {
  CONSOLE_POLICIES,
  CONSOLE_SOURCE,
  ConsoleAdminService,
  consoleAllows,
  consolePrincipal,
  isConsolePolicy,
  type ConsoleAdminStore,
  type ConsoleGrant,
  type ConsolePolicy,
} from './console-admins.js';
