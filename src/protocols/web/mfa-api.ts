// The administrators' MFA API, SigV4-signed like the rest of /api/admin: the MFA settings and the
// sign-in protection settings of the instance, and a user's MFA devices (list, delete, reset; a
// reset also ends the user's portal sessions).

import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import { SIGNIN_SOURCE, type MfaDeviceView } from '../../auth/index.js';
import { MFA_DEVICE_TYPES, MFA_MODES, MFA_NO_DEVICE_ACTIONS, type InstanceSettings } from '../../instance/index.js';
import { invalidArgument } from '../../shared/errors.js';
import { epochSeconds } from '../aws/operation.js';
import { recordedInput, signedBy } from './admin-api.js';
import type { WebDeps } from './index.js';

const mfaSettingsInput = z
  .object({
    Mode: z.enum(MFA_MODES).optional(),
    AllowedDeviceTypes: z.array(z.enum(MFA_DEVICE_TYPES)).min(1).optional(),
    NoDevice: z.enum(MFA_NO_DEVICE_ACTIONS).optional(),
    RememberDays: z.number().int().optional(),
    WebAuthnAttestation: z.enum(['NONE', 'REQUIRED']).optional(),
    PasskeySignIn: z.boolean().optional(),
  })
  .strict();

const protectionInput = z
  .object({
    UserFreeFailures: z.number().int().optional(),
    IpFreeFailures: z.number().int().optional(),
    BackoffBaseSeconds: z.number().int().optional(),
    BackoffMaxSeconds: z.number().int().optional(),
    UserLockoutFailures: z.number().int().optional(),
    IpLockoutFailures: z.number().int().optional(),
    LockoutMinutes: z.number().int().optional(),
    FailureWindowMinutes: z.number().int().optional(),
  })
  .strict();

const settingsView = (s: InstanceSettings) => ({
  Mode: s.mfa.mode,
  AllowedDeviceTypes: s.mfa.allowedDeviceTypes,
  NoDevice: s.mfa.noDevice,
  RememberDays: s.mfa.rememberDays,
  WebAuthnAttestation: s.mfa.webauthnAttestation,
  PasskeySignIn: s.mfa.passkeySignIn,
});

const protectionView = (s: InstanceSettings) => Object.fromEntries(Object.entries(s.signInProtection).map(([k, v]) => [k[0]!.toUpperCase() + k.slice(1), v]));

const deviceView = (d: MfaDeviceView) => ({
  DeviceId: d.deviceId,
  Name: d.name,
  Type: d.type,
  Passkey: d.passkey,
  CreatedAt: epochSeconds(d.createdAt),
  ...(d.lastUsedAt === null ? {} : { LastUsedAt: epochSeconds(d.lastUsedAt) }),
});

/** PascalCase wire fields to the settings' camelCase ones, dropping the absent. */
/** The wire's names whose stored name is not just the first letter lowered. */
const STORED_NAME: Record<string, string> = { WebAuthnAttestation: 'webauthnAttestation' };
const camel = (o: Record<string, unknown>) =>
  Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined).map(([k, v]) => [STORED_NAME[k] ?? k[0]!.toLowerCase() + k.slice(1), v]));

export function registerMfaAdminRoutes(app: FastifyInstance, deps: WebDeps): void {
  const { reg } = deps;
  const signed = signedBy(deps);
  const checkedUserName = (userName: string | undefined) => {
    if (!userName || userName.length > 128) throw invalidArgument('admin.validation', 'Give the user name.');
    return userName;
  };
  const userNameOf = (request: FastifyRequest) => checkedUserName((request.params as { userName?: string }).userName);
  // The same routes with the user in the query (/api/admin/mfa-devices?userName=), as
  // /api/admin/sessions has it: a path cannot carry every user name (browsers and fetch resolve a
  // segment `.` or `..`, even percent-encoded), so the console uses these.
  const userNameInQuery = (request: FastifyRequest) => checkedUserName((request.query as { userName?: string }).userName);

  /** Parse a body with `schema`; a refusal is on the record under `eventName`. */
  const parsed = <T>(schema: z.ZodType<T>, body: Buffer, ctx: Parameters<Parameters<typeof signed>[0]>[1], eventName: string): Promise<T> => recordedInput(reg, ctx, eventName, schema, body);

  /** GET and PUT of one group of instance settings: PascalCase on the wire, only the fields given change. */
  const settingsRoutes = (path: string, schema: z.ZodType<Record<string, unknown>>, group: 'mfa' | 'signInProtection', view: (s: InstanceSettings) => unknown) => {
    app.get(path, signed(async () => view((await reg.instance.get()).settings)));
    app.put(
      path,
      signed(async (_request, ctx, body) => {
        const input = await parsed(schema, body, ctx, 'UpdateInstanceSettings');
        return view(await reg.instance.updateSettings(ctx, { [group]: camel(input) }));
      }, { eventName: 'UpdateInstanceSettings', eventSource: SIGNIN_SOURCE }),
    );
  };
  settingsRoutes('/api/admin/mfa/settings', mfaSettingsInput, 'mfa', settingsView);
  settingsRoutes('/api/admin/sign-in-protection', protectionInput, 'signInProtection', protectionView);
  for (const [path, userOf] of [
    ['/api/admin/users/:userName/mfa-devices', userNameOf],
    ['/api/admin/mfa-devices', userNameInQuery],
  ] as const) {
    app.get(
      path,
      signed(async (request) => ({ Devices: (await reg.mfa.listDevices(await reg.mfa.userByName(userOf(request)))).map(deviceView) })),
    );
    app.delete(
      `${path}/:deviceId`,
      signed(async (request, ctx) => {
        const user = await reg.mfa.userByName(userOf(request));
        await reg.mfa.deleteDevice(ctx, user, (request.params as { deviceId: string }).deviceId);
        return {};
      }, { eventName: 'DeleteMfaDevice', eventSource: SIGNIN_SOURCE }),
    );
    // Reset MFA: every device goes, and every portal session of the user ends with it (the ids
    // ended are answered as RevokedSessionIds, as DELETE /api/admin/sessions answers them).
    app.delete(
      path,
      signed(async (request, ctx) => {
        const reset = await reg.auth.resetUserMfa(ctx, userOf(request));
        return { DeletedDeviceIds: reset.deletedDeviceIds, RevokedSessionIds: reset.revokedSessionIds };
      }, { eventName: 'ResetUserMfa', eventSource: SIGNIN_SOURCE }),
    );
  }
}
