// MFA devices and their proofs: TOTP authenticator apps (RFC 6238 through otpauth, seeds sealed by
// the envelope) and WebAuthn security keys and passkeys (@simplewebauthn/server), at most 8 per user.

import { createHash, createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import {
  generateAuthenticationOptions,
  generateRegistrationOptions,
  verifyAuthenticationResponse,
  verifyRegistrationResponse,
  type AuthenticationResponseJSON,
  type PublicKeyCredentialCreationOptionsJSON,
  type PublicKeyCredentialRequestOptionsJSON,
  type RegistrationResponseJSON,
} from '@simplewebauthn/server';
import { Secret, TOTP } from 'otpauth';
import { audited, type AuditStore } from '../audit/index.js';
import type { DirectoryService } from '../directory/index.js';
import type { InstanceService, MfaDeviceType, MfaSettings } from '../instance/index.js';
import type { RequestContext } from '../shared/context.js';
import { failedPrecondition, invalidArgument, isDomainError, notFound, quotaExceeded } from '../shared/errors.js';
import { hex } from '../shared/ids.js';
import type { ServiceDeps } from '../shared/service-deps.js';
import { MAX_DEVICES_PER_USER, type MfaChallengePurpose, type MfaDeviceRecord, type MfaStore } from './mfa-store.js';
import { fastAssertion } from './webauthn-assertion.js';

export type MfaStores = { mfa: MfaStore; audit: AuditStore };

/** What MFA needs of crypto/'s envelope. */
export interface SecretSealer {
  seal(plaintext: string | Buffer, aad: string): Promise<string>;
  open(sealed: string, aad: string): Promise<Buffer>;
}

/** The WebAuthn relying party: the public URL's host and origin (the adapter knows them). */
export interface RelyingParty {
  rpId: string;
  origin: string;
}

/** Whose devices: a directory user. */
/** How a device is registered: `firstDevice` for the one a sign-in asks for (insertDevice). */
export interface RegistrationOptions {
  firstDevice?: boolean;
}

export interface MfaUser {
  identityStoreId: string;
  userId: string;
  userName: string;
}

/** A device as its owner and administrators see it: never its secret. */
export interface MfaDeviceView {
  deviceId: string;
  name: string;
  type: MfaDeviceType;
  /** WebAuthn: a discoverable credential (passkey) or a security key used as a second factor. */
  passkey: boolean;
  createdAt: number;
  lastUsedAt: number | null;
}

export type SecondFactorProof =
  | { type: 'TOTP'; code: string }
  | { type: 'WEBAUTHN'; challengeId: string; response: unknown };

/**
 * A checked proof, or why it was refused (the page says so; the audit log records the code). An
 * accepted proof still has to `commit` (the TOTP step, or the WebAuthn challenge and counter) in
 * the caller's transaction, the one that opens the session: the second factor adds statements to
 * the sign-in's commit, not a commit of its own. `commit` answers false when a racing request used
 * the same code or challenge first; the caller then rolls back and refuses.
 */
export type ProofResult =
  | { ok: true; deviceId: string; type: MfaDeviceType; device: MfaDeviceRecord; commit: (s: MfaStores) => Promise<boolean> }
  /**
   * `useUp` (WebAuthn): a refused answer uses its challenge up, in the caller's commit that records
   * the refusal; false when it was used already, and the answer is then CHALLENGE_EXPIRED.
   */
  | { ok: false; code: string; message: string; useUp?: (s: MfaStores) => Promise<boolean> };

/** The refusal of a WebAuthn challenge that expired or was used already. */
export const CHALLENGE_EXPIRED = { code: 'mfa.challenge_expired', message: 'This challenge expired or was used already: try again.' };

const secretOf = (bytes: Buffer) => new Secret({ buffer: Uint8Array.from(bytes).buffer });

/** A sign-in challenge's claims: purpose, user (none for a passkey alone), the WebAuthn challenge, expiry. */
interface ChallengeClaims {
  p: 'webauthn_authenticate' | 'passkey';
  u: string | null;
  c: string;
  e: number;
}

const TOTP_PERIOD = 30;
const TOTP_DIGITS = 6;
const ENROL_MS = 10 * 60_000;
const CHALLENGE_MS = 5 * 60_000;
const ISSUER = 'Atrium';
/** One HMAC key per instance, sealed in the database: it signs remembered browsers and sign-in challenges. */
const MAC_KEY = 'mfa-mac';

const deviceAad = (deviceId: string) => `mfa-device:${deviceId}`;
const challengeAad = (challengeId: string) => `mfa-challenge:${challengeId}`;
const keyAad = (name: string) => `mfa-key:${name}`;
const noDevice = (deviceId: string) => notFound('mfa.device_not_found', `MFA device ${deviceId} does not exist.`, { resourceType: 'MFA_DEVICE', resourceId: deviceId });
const refused = (code: string, message: string): ProofResult => ({ ok: false, code, message });

export const viewOf = (d: MfaDeviceRecord): MfaDeviceView => ({
  deviceId: d.deviceId,
  name: d.name,
  type: d.type,
  passkey: d.discoverable,
  createdAt: d.createdAt,
  lastUsedAt: d.lastUsedAt,
});

/** A device name: 1 to 64 printable characters. */
function checkName(name: unknown): string {
  const trimmed = typeof name === 'string' ? name.trim() : '';
  if (!trimmed || [...trimmed].length > 64 || /\p{Cc}/u.test(trimmed)) throw invalidArgument('mfa.invalid_name', 'A device name is 1 to 64 printable characters.');
  return trimmed;
}

/** The network a sign-in came from: the /24 of an IPv4 address, the /64 of an IPv6 one. */
export function networkOf(ip: string): string {
  const v4 = /^(?:::ffff:)?(\d+)\.(\d+)\.(\d+)\.\d+$/i.exec(ip);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  // IPv6: the first four of its eight groups, with "::" expanded (in the text, the fourth field
  // may be past the gap, or the gap inside the first four).
  const [head = '', tail] = ip.toLowerCase().split('%')[0]!.split('::', 2) as [string, string?];
  const groups = (part: string) => (part === '' ? [] : part.split(':'));
  const [h, t] = [groups(head), groups(tail ?? '')];
  const full = tail === undefined ? h : [...h, ...Array<string>(Math.max(0, 8 - h.length - t.length)).fill('0'), ...t];
  return `${full.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}

const totpOf = (secret: Secret, label = 'user') => new TOTP({ issuer: ISSUER, label, algorithm: 'SHA1', digits: TOTP_DIGITS, period: TOTP_PERIOD, secret });

export class MfaService {
  private macKey?: Promise<Buffer>;

  constructor(private readonly deps: ServiceDeps<MfaStores> & { envelope: SecretSealer; instance: InstanceService; directory: DirectoryService }) {}

  private get read(): MfaStore {
    return this.deps.read.mfa;
  }

  async settings(): Promise<MfaSettings> {
    return (await this.deps.instance.get()).settings.mfa;
  }

  async listDevices(user: Pick<MfaUser, 'identityStoreId' | 'userId'>): Promise<MfaDeviceView[]> {
    return (await this.read.listDevices(user.identityStoreId, user.userId)).map(viewOf);
  }

  /** The devices that can answer a challenge now: those of a type the settings allow. */
  async usableDevices(user: Pick<MfaUser, 'identityStoreId' | 'userId'>): Promise<MfaDeviceRecord[]> {
    const allowed = (await this.settings()).allowedDeviceTypes;
    return (await this.read.listDevices(user.identityStoreId, user.userId)).filter((d) => allowed.includes(d.type));
  }

  /** The directory user of a user name, for administrators. */
  async userByName(userName: string): Promise<MfaUser> {
    const instance = await this.deps.instance.get();
    const user = await this.deps.directory.findUserByName(instance.identityStoreId, userName);
    if (!user) throw notFound('directory.user_not_found', `User ${userName} does not exist.`, { resourceType: 'USER', resourceId: userName });
    return { identityStoreId: user.identityStoreId, userId: user.userId, userName: user.userName };
  }

  private async requireAllowed(type: MfaDeviceType): Promise<void> {
    if (!(await this.settings()).allowedDeviceTypes.includes(type)) {
      throw failedPrecondition('mfa.device_type_not_allowed', `${type === 'TOTP' ? 'Authenticator apps' : 'Security keys and passkeys'} are not allowed by the MFA settings.`);
    }
  }

  private async requireFreeSlot(user: MfaUser): Promise<number> {
    const used = new Set((await this.read.listDevices(user.identityStoreId, user.userId)).map((d) => d.slot));
    for (let slot = 1; slot <= MAX_DEVICES_PER_USER; slot++) if (!used.has(slot)) return slot;
    throw quotaExceeded('mfa.too_many_devices', `A user may register at most ${MAX_DEVICES_PER_USER} MFA devices: remove one first.`);
  }

  private async challenge(purpose: MfaChallengePurpose, user: MfaUser | undefined, payload: (id: string) => Promise<string>, ttl: number): Promise<string> {
    const challengeId = hex(this.deps.ids, 32);
    const now = this.deps.clock.now();
    const sealedPayload = await payload(challengeId);
    await this.deps.tx.transaction(async (s) => {
      await s.mfa.deleteExpiredChallenges(now);
      await s.mfa.insertChallenge({ challengeId, purpose, identityStoreId: user?.identityStoreId ?? null, userId: user?.userId ?? null, payload: sealedPayload, createdAt: now, expiresAt: now + ttl });
    });
    return challengeId;
  }

  /** Insert a device in a free slot, or refuse: a ninth device, a name in use. */
  /**
   * `firstDevice`: the registration a sign-in asks for when the user has no device. Whether it may
   * is decided at the password step, and checked again here, in the device's own transaction: a
   * sign-in begun with the password alone must not add a device once the user has one, or once the
   * settings no longer let a sign-in register one.
   */
  private async insertDevice(s: MfaStores, user: MfaUser, device: Omit<MfaDeviceRecord, 'slot' | 'identityStoreId' | 'userId'>, opts: RegistrationOptions = {}): Promise<MfaDeviceRecord> {
    const existing = await s.mfa.listDevices(user.identityStoreId, user.userId);
    if (opts.firstDevice) {
      const settings = await this.settings();
      if (settings.mode === 'DISABLED' || settings.noDevice !== 'REGISTER' || existing.some((d) => settings.allowedDeviceTypes.includes(d.type))) {
        throw failedPrecondition('mfa.registration_closed', 'This sign-in can no longer register a device: sign in again.');
      }
    }
    if (existing.some((d) => d.name === device.name)) throw invalidArgument('mfa.name_in_use', `You already have a device named ${device.name}.`);
    const slot = await this.requireFreeSlot(user);
    const record: MfaDeviceRecord = { ...device, identityStoreId: user.identityStoreId, userId: user.userId, slot };
    if (!(await s.mfa.insertDevice(record))) {
      // Another registration took the slot (or the credential is registered already).
      throw quotaExceeded('mfa.too_many_devices', `A user may register at most ${MAX_DEVICES_PER_USER} MFA devices, or this device is registered already.`);
    }
    return record;
  }

  // ---- TOTP ----

  /** Start registering an authenticator app: a new secret, shown once, held sealed for 10 minutes. */
  async beginTotpEnrolment(user: MfaUser): Promise<{ enrolmentId: string; secret: string; uri: string }> {
    await this.requireAllowed('TOTP');
    await this.requireFreeSlot(user);
    const secret = new Secret({ size: 20 });
    const enrolmentId = await this.challenge('totp_enrol', user, (id) => this.deps.envelope.seal(Buffer.from(secret.bytes), challengeAad(id)), ENROL_MS);
    return { enrolmentId, secret: secret.base32, uri: totpOf(secret, user.userName).toString() };
  }

  /** Finish registering an authenticator app with its first code; that code cannot be used again. */
  async confirmTotpEnrolment(ctx: RequestContext, user: MfaUser, input: { enrolmentId: string; name: string; code: string }, opts: RegistrationOptions = {}): Promise<MfaDeviceView> {
    const name = checkName(input.name);
    const action = { eventName: 'RegisterMfaDevice', requestParameters: { userName: user.userName, type: 'TOTP', name }, responseElements: (d: MfaDeviceView) => ({ deviceId: d.deviceId }) };
    return audited(this.deps, ctx, action, async (s) => {
      await this.requireAllowed('TOTP');
      const now = this.deps.clock.now();
      const enrolment = await s.mfa.consumeChallenge(String(input.enrolmentId).slice(0, 64), 'totp_enrol', now);
      if (!enrolment || enrolment.userId !== user.userId) throw failedPrecondition('mfa.enrolment_expired', 'This registration expired: start again.');
      const secret = await this.deps.envelope.open(enrolment.payload, challengeAad(enrolment.challengeId));
      const step = this.totpStep(secretOf(secret), input.code, now);
      // A wrong code rolls back, so the enrolment stays open for another try.
      if (step === undefined) throw invalidArgument('mfa.wrong_code', 'The code is not correct: check the clock of your device and try again.');
      const deviceId = `mfa-${hex(this.deps.ids, 16)}`;
      const record = await this.insertDevice(s, user, {
        deviceId,
        name,
        type: 'TOTP',
        secret: await this.deps.envelope.seal(secret, deviceAad(deviceId)),
        lastStep: step,
        credentialId: null,
        publicKey: null,
        signCount: 0,
        transports: [],
        discoverable: false,
        createdAt: now,
        lastUsedAt: now,
      }, opts);
      return viewOf(record);
    });
  }

  /**
   * The time step a code belongs to, within one step of drift either way, or undefined. Every step
   * is computed and compared in constant time, whichever matches: a sign-in checks its code before
   * the throttle answers, and the time of a refused answer must not tell whether it was right.
   */
  private totpStep(secret: Secret, code: unknown, now: number): number | undefined {
    const token = typeof code === 'string' ? code.trim() : '';
    const wellFormed = /^\d{6}$/.test(token);
    const given = Buffer.from(wellFormed ? token : '------');
    const totp = totpOf(secret);
    const current = Math.floor(now / 1000 / TOTP_PERIOD);
    let step: number | undefined;
    for (const delta of [-1, 0, 1]) {
      const matches = timingSafeEqual(Buffer.from(totp.generate({ timestamp: now + delta * TOTP_PERIOD * 1000 })), given);
      if (matches && step === undefined) step = current + delta;
    }
    return wellFormed ? step : undefined;
  }

  /** Check a TOTP code against the user's authenticator apps; a code of a step already used is refused. */
  async verifyTotp(user: Pick<MfaUser, 'identityStoreId' | 'userId'>, code: string): Promise<ProofResult> {
    const devices = (await this.usableDevices(user)).filter((d) => d.type === 'TOTP');
    if (devices.length === 0) return refused('mfa.no_device', 'You have no authenticator app registered.');
    const now = this.deps.clock.now();
    // Every device is tried, whichever matches (the first that does counts): the time does not tell.
    let match: { d: MfaDeviceRecord; step: number } | undefined;
    for (const d of devices) {
      const secret = await this.deps.envelope.open(d.secret!, deviceAad(d.deviceId));
      const step = this.totpStep(secretOf(secret), code, now);
      if (step !== undefined && !match) match = { d, step };
    }
    if (!match) return refused('mfa.wrong_code', 'The code is not correct.');
    const { d, step } = match;
    if (d.lastStep !== null && step <= d.lastStep) return refused('mfa.code_reused', 'This code was used already: wait for the next one.');
    return { ok: true, deviceId: d.deviceId, type: 'TOTP', device: d, commit: (s) => s.mfa.advanceTotpStep(d.deviceId, step, now) };
  }

  // ---- WebAuthn ----

  /** Options for navigator.credentials.create(); `passkey` asks for a discoverable credential. */
  async beginWebauthnRegistration(user: MfaUser, rp: RelyingParty, opts: { passkey: boolean }): Promise<{ challengeId: string; options: PublicKeyCredentialCreationOptionsJSON }> {
    await this.requireAllowed('WEBAUTHN');
    await this.requireFreeSlot(user);
    const settings = await this.settings();
    const existing = (await this.read.listDevices(user.identityStoreId, user.userId)).filter((d) => d.credentialId);
    const options = await generateRegistrationOptions({
      rpName: ISSUER,
      rpID: rp.rpId,
      userName: user.userName,
      userID: Buffer.from(user.userId, 'utf8'),
      attestationType: settings.webauthnAttestation === 'REQUIRED' ? 'direct' : 'none',
      excludeCredentials: existing.map((d) => ({ id: d.credentialId!, transports: d.transports })),
      authenticatorSelection: { residentKey: opts.passkey ? 'required' : 'discouraged', userVerification: 'preferred' },
    });
    const challengeId = await this.challenge('webauthn_register', user, () => Promise.resolve(JSON.stringify({ challenge: options.challenge, passkey: opts.passkey })), CHALLENGE_MS);
    return { challengeId, options };
  }

  async finishWebauthnRegistration(ctx: RequestContext, user: MfaUser, rp: RelyingParty, input: { challengeId: string; name: string; response: unknown }, opts: RegistrationOptions = {}): Promise<MfaDeviceView> {
    const name = checkName(input.name);
    const action = { eventName: 'RegisterMfaDevice', requestParameters: { userName: user.userName, type: 'WEBAUTHN', name }, responseElements: (d: MfaDeviceView) => ({ deviceId: d.deviceId, passkey: d.passkey }) };
    const now = this.deps.clock.now();
    // Consumed outside the audited change: a refused response must not leave its challenge reusable.
    const challenge = await this.deps.tx.transaction((s) => s.mfa.consumeChallenge(String(input.challengeId).slice(0, 64), 'webauthn_register', now));
    return audited(this.deps, ctx, action, async (s) => {
      await this.requireAllowed('WEBAUTHN');
      if (!challenge || challenge.userId !== user.userId) throw failedPrecondition('mfa.challenge_expired', 'This registration expired or was used already: start again.');
      const { challenge: expected, passkey } = JSON.parse(challenge.payload) as { challenge: string; passkey: boolean };
      const settings = await this.settings();
      let info;
      try {
        const verified = await verifyRegistrationResponse({
          response: input.response as RegistrationResponseJSON,
          expectedChallenge: expected,
          expectedOrigin: rp.origin,
          expectedRPID: rp.rpId,
          requireUserVerification: false,
        });
        if (!verified.verified) throw new Error('not verified');
        info = verified.registrationInfo;
      } catch (err) {
        throw invalidArgument('mfa.invalid_webauthn_response', `The security key's answer was refused: ${webauthnReason(err)}`);
      }
      if (settings.webauthnAttestation === 'REQUIRED' && info.fmt === 'none') {
        throw invalidArgument('mfa.attestation_required', 'The MFA settings require an attested security key; this one gave no attestation.');
      }
      const deviceId = `mfa-${hex(this.deps.ids, 16)}`;
      const record = await this.insertDevice(s, user, {
        deviceId,
        name,
        type: 'WEBAUTHN',
        secret: null,
        lastStep: null,
        credentialId: info.credential.id,
        publicKey: Buffer.from(info.credential.publicKey).toString('base64url'),
        signCount: info.credential.counter,
        transports: info.credential.transports ?? [],
        discoverable: passkey,
        createdAt: now,
        lastUsedAt: null,
      }, opts);
      return viewOf(record);
    });
  }

  /** Options for navigator.credentials.get(): the user's keys, or (no user) any passkey of this site. */
  async beginWebauthnAuthentication(user: MfaUser | undefined, rp: RelyingParty): Promise<{ challengeId: string; options: PublicKeyCredentialRequestOptionsJSON }> {
    const devices = user ? (await this.usableDevices(user)).filter((d) => d.type === 'WEBAUTHN') : [];
    const options = await generateAuthenticationOptions({
      rpID: rp.rpId,
      allowCredentials: devices.map((d) => ({ id: d.credentialId!, transports: d.transports })),
      // A passkey sign-in (no user yet) is both factors at once: the server requires verification,
      // so the key is asked for it, rather than touched only to be refused.
      userVerification: user ? 'preferred' : 'required',
    });
    // A signed, self-contained challenge: issuing one writes nothing. It is used up once, in the
    // commit that opens the session (or when it is refused).
    const claims: ChallengeClaims = { p: user ? 'webauthn_authenticate' : 'passkey', u: user?.userId ?? null, c: options.challenge, e: this.deps.clock.now() + CHALLENGE_MS };
    return { challengeId: await this.signToken('challenge', claims), options };
  }

  /**
   * Check an assertion. With `user`, it must be one of that user's keys; without, it is a passkey
   * sign-in and the credential names the user (`discoverable` devices only).
   */
  async verifyWebauthn(user: Pick<MfaUser, 'identityStoreId' | 'userId'> | undefined, rp: RelyingParty, challengeId: string, response: unknown): Promise<ProofResult> {
    const now = this.deps.clock.now();
    const claims = await this.openToken<ChallengeClaims>('challenge', challengeId);
    const expired = refused(CHALLENGE_EXPIRED.code, CHALLENGE_EXPIRED.message);
    if (!claims || claims.p !== (user ? 'webauthn_authenticate' : 'passkey') || claims.u !== (user?.userId ?? null) || claims.e <= now) return expired;
    // A replay is caught when it is used up, in the commit: no read for it here.
    const used = createHash('sha256').update(challengeId).digest('hex');
    const useUp = (s: MfaStores) => s.mfa.useChallenge(used, now, claims.e);
    // One try per challenge: a refused answer uses it up too (in the caller's commit of the refusal).
    const refuse = (code: string, message: string): ProofResult => ({ ok: false, code, message, useUp });
    const credentialId = typeof response === 'object' && response !== null && typeof (response as { id?: unknown }).id === 'string' ? (response as { id: string }).id.slice(0, 1400) : '';
    const device = credentialId ? await this.read.findDeviceByCredentialId(credentialId) : undefined;
    const settings = await this.settings();
    if (!device || !settings.allowedDeviceTypes.includes('WEBAUTHN') || (user ? device.userId !== user.userId : !device.discoverable)) {
      return refuse('mfa.unknown_credential', 'This security key is not registered here.');
    }
    const publicKey = Buffer.from(device.publicKey!, 'base64url');
    // A user (a security key as second factor) need not verify; a passkey alone is both factors: it must (PIN or biometrics).
    const requireUserVerification = !user;
    const fast = fastAssertion({ response, expectedChallenge: claims.c, expectedOrigin: rp.origin, expectedRPID: rp.rpId, publicKey, counter: device.signCount, requireUserVerification });
    if (fast) return this.accepted(device, fast.newCounter, useUp, now);
    let newCounter: number;
    try {
      const verified = await verifyAuthenticationResponse({
        response: response as AuthenticationResponseJSON,
        expectedChallenge: claims.c,
        expectedOrigin: rp.origin,
        expectedRPID: rp.rpId,
        credential: { id: device.credentialId!, publicKey, counter: device.signCount, transports: device.transports },
        requireUserVerification,
      });
      if (!verified.verified) return refuse('mfa.invalid_webauthn_response', 'The security key could not be verified.');
      newCounter = verified.authenticationInfo.newCounter;
    } catch (err) {
      return refuse('mfa.invalid_webauthn_response', `The security key's answer was refused: ${webauthnReason(err)}`);
    }
    return this.accepted(device, newCounter, useUp, now);
  }

  /** A verified assertion: its commit uses the challenge up and moves the counter. */
  private accepted(device: MfaDeviceRecord, newCounter: number, useUp: (s: MfaStores) => Promise<boolean>, now: number): ProofResult {
    const commit = async (s: MfaStores) => (await useUp(s)) && (await s.mfa.recordAssertion(device.deviceId, newCounter, now));
    return { ok: true, deviceId: device.deviceId, type: 'WEBAUTHN', device, commit };
  }

  // ---- managing devices ----

  async renameDevice(ctx: RequestContext, user: MfaUser, deviceId: string, name: string): Promise<MfaDeviceView> {
    const checked = checkName(name);
    const action = { eventName: 'UpdateMfaDevice', requestParameters: { userName: user.userName, deviceId, name: checked } };
    return audited(this.deps, ctx, action, async (s) => {
      const device = await s.mfa.findDevice(deviceId);
      if (!device || device.userId !== user.userId) throw noDevice(deviceId);
      if (!(await s.mfa.renameDevice(deviceId, checked))) throw invalidArgument('mfa.name_in_use', `You already have a device named ${checked}.`);
      return viewOf({ ...device, name: checked });
    });
  }

  /** Remove one of a user's devices (theirs, or an administrator's act). */
  async deleteDevice(ctx: RequestContext, user: MfaUser, deviceId: string): Promise<void> {
    await audited(this.deps, ctx, { eventName: 'DeleteMfaDevice', requestParameters: { userName: user.userName, deviceId } }, async (s) => {
      const device = await s.mfa.findDevice(deviceId);
      if (!device || device.userId !== user.userId) throw noDevice(deviceId);
      await s.mfa.deleteDevices([deviceId]);
    });
  }

  // The recovery path (every device of a user deleted by an administrator) is
  // AuthService.resetUserMfa: it ends the user's sessions in the same transaction, and sessions are auth's.

  // ---- remembered browsers (context-aware MFA) ----

  private key(): Promise<Buffer> {
    this.macKey ??= (async () => {
      const load = async () => {
        const sealed = await this.read.findKey(MAC_KEY);
        return sealed ? this.deps.envelope.open(sealed, keyAad(MAC_KEY)) : undefined;
      };
      const found = await load();
      if (found) return found;
      const sealed = await this.deps.envelope.seal(randomBytes(32), keyAad(MAC_KEY));
      await this.deps.tx.transaction((s) => s.mfa.insertKeyIfAbsent(MAC_KEY, sealed, this.deps.clock.now()));
      // Processes race at first use: every one reads back the winner.
      return (await load())!;
    })().catch((err: unknown) => {
      this.macKey = undefined;
      throw err;
    });
    return this.macKey;
  }

  /** `body.mac`, the MAC over the body under `purpose` (domain separation between token kinds). */
  private async signToken(purpose: string, claims: unknown): Promise<string> {
    const body = Buffer.from(JSON.stringify(claims)).toString('base64url');
    return `${body}.${createHmac('sha256', await this.key()).update(`${purpose}:${body}`).digest('base64url')}`;
  }

  /** The claims of a token this instance signed for `purpose`, or undefined. */
  private async openToken<T>(purpose: string, token: unknown): Promise<T | undefined> {
    if (typeof token !== 'string' || token.length > 2048) return undefined;
    const [body, mac, extra] = token.split('.');
    if (!body || !mac || extra !== undefined) return undefined;
    const expected = createHmac('sha256', await this.key()).update(`${purpose}:${body}`).digest();
    const given = Buffer.from(mac, 'base64url');
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) return undefined;
    try {
      return JSON.parse(Buffer.from(body, 'base64url').toString('utf8')) as T;
    } catch {
      return undefined;
    }
  }

  /**
   * A signed token that says "this browser passed MFA for this user, from this network, at this time,
   * while the user had these devices": deleting any of them (or resetting the user's MFA) ends it.
   */
  async rememberToken(user: Pick<MfaUser, 'identityStoreId' | 'userId'>, sourceIp: string): Promise<string> {
    const devices = (await this.read.listDevices(user.identityStoreId, user.userId)).map((d) => d.deviceId);
    return this.signToken('remember', { u: user.userId, n: networkOf(sourceIp), t: this.deps.clock.now(), d: devices });
  }

  /** True if the token is ours, for this user and network, younger than the settings' days, and every device it names still exists. */
  async isRemembered(token: string | undefined, user: Pick<MfaUser, 'identityStoreId' | 'userId'>, sourceIp: string, rememberDays: number): Promise<boolean> {
    const claims = await this.openToken<{ u: string; n: string; t: number; d?: unknown }>('remember', token);
    if (!claims || claims.u !== user.userId || claims.n !== networkOf(sourceIp) || !(this.deps.clock.now() - claims.t < rememberDays * 86_400_000)) return false;
    // A token from before device lists were signed into it counts for nothing.
    if (!Array.isArray(claims.d)) return false;
    const current = new Set((await this.read.listDevices(user.identityStoreId, user.userId)).map((d) => d.deviceId));
    return claims.d.every((id) => typeof id === 'string' && current.has(id));
  }
}

/** A short, safe reason from @simplewebauthn's error (its messages name the mismatched field, never a secret). */
function webauthnReason(err: unknown): string {
  if (isDomainError(err)) return err.message;
  const message = err instanceof Error ? err.message : 'malformed response';
  return message.replace(/[^\x20-\x7e]/g, '').slice(0, 200) || 'malformed response';
}
