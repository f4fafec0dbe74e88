// instance/: the identity center instance and its settings.
export { InstanceService } from './instance-service.js';
export { DEFAULT_SETTINGS, type InstanceRecord, type InstanceSettings, type InstanceStore, type PasswordPolicy } from './instance-store.js';
