// The MFA shapes the console reads from the admin API (src/protocols/web/mfa-api.ts), and the
// words it shows for each setting's values.

export type MfaMode = 'ALWAYS_ON' | 'CONTEXT_AWARE' | 'DISABLED';
export type MfaDeviceType = 'TOTP' | 'WEBAUTHN';
export type MfaNoDevice = 'REGISTER' | 'BLOCK' | 'ALLOW';

export interface MfaSettings {
  Mode: MfaMode;
  AllowedDeviceTypes: MfaDeviceType[];
  NoDevice: MfaNoDevice;
  RememberDays: number;
  WebAuthnAttestation: 'NONE' | 'REQUIRED';
  PasskeySignIn: boolean;
}

export interface MfaDevice {
  DeviceId: string;
  Name: string;
  Type: MfaDeviceType;
  Passkey: boolean;
  CreatedAt: number;
  LastUsedAt?: number;
}

export const MFA_MODES: readonly { value: MfaMode; label: string; description: string }[] = [
  { value: 'ALWAYS_ON', label: 'Always on', description: 'Every sign-in asks for a second factor.' },
  { value: 'CONTEXT_AWARE', label: 'Context-aware', description: 'A second factor when the context changes: a browser not remembered, another network, or the remembered days are over.' },
  { value: 'DISABLED', label: 'Disabled', description: 'Users sign in with their password alone.' },
];

export const MFA_DEVICE_TYPES: readonly { value: MfaDeviceType; label: string }[] = [
  { value: 'TOTP', label: 'Authenticator apps (TOTP)' },
  { value: 'WEBAUTHN', label: 'Security keys and built-in authenticators (WebAuthn)' },
];

export const mfaModeLabel = (mode: MfaMode) => MFA_MODES.find((m) => m.value === mode)?.label ?? mode;
export const deviceTypeLabel = (type: MfaDeviceType) => (type === 'TOTP' ? 'Authenticator app' : 'Security key or built-in authenticator');
