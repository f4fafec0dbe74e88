// The server's MFA device routes, as the portal app calls them. Registering a device (the QR code,
// the WebAuthn ceremony) runs on the server's page at /mfa/devices.

import { call } from '../api.js';

export interface MfaDevice {
  deviceId: string;
  name: string;
  type: 'TOTP' | 'WEBAUTHN';
  passkey: boolean;
  /** Epoch seconds. */
  createdAt: number;
  /** Epoch seconds, or null if never used. */
  lastUsedAt: number | null;
}

export const fetchMfaDevices = () => call<{ devices: MfaDevice[] }>('/api/portal/mfa/devices').then((r) => r.devices);

export const renameMfaDevice = (csrfToken: string, deviceId: string, name: string) =>
  call<{ devices: MfaDevice[] }>(`/api/portal/mfa/devices/${encodeURIComponent(deviceId)}`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrfToken },
    body: JSON.stringify({ name }),
  }).then((r) => r.devices);

export const removeMfaDevice = (csrfToken: string, deviceId: string) =>
  call<{ devices: MfaDevice[] }>(`/api/portal/mfa/devices/${encodeURIComponent(deviceId)}`, { method: 'DELETE', headers: { 'x-csrf-token': csrfToken } }).then((r) => r.devices);
