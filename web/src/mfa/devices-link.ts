// The way from the portal to the user's MFA devices: the server-rendered page at /mfa/devices, where
// the WebAuthn ceremonies and the TOTP QR code run under their own content policy.

export const MFA_DEVICES_ITEM = { id: 'mfa-devices', text: 'MFA devices', href: '/mfa/devices' } as const;
