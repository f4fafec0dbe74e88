// The port MFA needs from the store: devices (TOTP seeds sealed, WebAuthn public keys), one-shot
// challenges, the sign-in flows that wait for a second factor, and sealed keys.

import type { MfaDeviceType } from '../instance/index.js';

export const MAX_DEVICES_PER_USER = 8;

export interface MfaDeviceRecord {
  deviceId: string;
  identityStoreId: string;
  userId: string;
  /** 1..MAX_DEVICES_PER_USER, unique per user: the store's guard against a ninth device. */
  slot: number;
  name: string;
  type: MfaDeviceType;
  /** TOTP seed sealed by the envelope (AAD: `mfa-device:<deviceId>`). */
  secret: string | null;
  /** The last TOTP time step accepted: a code of that step or an earlier one is refused. */
  lastStep: number | null;
  /** WebAuthn credential id and COSE public key, base64url. */
  credentialId: string | null;
  publicKey: string | null;
  signCount: number;
  transports: string[];
  /** A discoverable credential (passkey): it can sign in with no user name typed. */
  discoverable: boolean;
  createdAt: number;
  lastUsedAt: number | null;
}

/** `used`: a signed sign-in challenge that was answered (kept until it expires, to refuse replays). */
export type MfaChallengePurpose = 'totp_enrol' | 'webauthn_register' | 'used';

export interface MfaChallengeRecord {
  challengeId: string;
  purpose: MfaChallengePurpose;
  identityStoreId: string | null;
  userId: string | null;
  /** Sealed TOTP seed (enrolment) or the WebAuthn challenge. */
  payload: string;
  createdAt: number;
  expiresAt: number;
}

export type MfaFlowState = 'CHALLENGE' | 'REGISTER';

/** A sign-in that passed its password and waits for a second factor. */
export interface MfaFlowRecord {
  flowId: string;
  tokenHash: string;
  identityStoreId: string;
  userId: string;
  userName: string;
  mustChangePassword: boolean;
  state: MfaFlowState;
  createdAt: number;
  expiresAt: number;
}

export interface MfaStore {
  listDevices(identityStoreId: string, userId: string): Promise<MfaDeviceRecord[]>;
  findDevice(deviceId: string): Promise<MfaDeviceRecord | undefined>;
  findDeviceByCredentialId(credentialId: string): Promise<MfaDeviceRecord | undefined>;
  /** Insert unless its slot, name or credential is taken; false when it was not inserted. */
  insertDevice(d: MfaDeviceRecord): Promise<boolean>;
  /** False when the user already has a device of that name. */
  renameDevice(deviceId: string, name: string): Promise<boolean>;
  deleteDevices(deviceIds: readonly string[]): Promise<string[]>;
  /** Accept TOTP `step` only if it is newer than the last one accepted (one conditional UPDATE). */
  advanceTotpStep(deviceId: string, step: number, now: number): Promise<boolean>;
  /** Record a WebAuthn assertion: the new counter, only if it did not go backwards meanwhile. */
  recordAssertion(deviceId: string, signCount: number, now: number): Promise<boolean>;

  insertChallenge(c: MfaChallengeRecord): Promise<void>;
  /** Record a signed challenge as used, once: false when it already was (a replay). */
  useChallenge(challengeHash: string, now: number, expiresAt: number): Promise<boolean>;
  /** Take a live challenge once: a second consumer finds nothing. */
  consumeChallenge(challengeId: string, purpose: MfaChallengePurpose, now: number): Promise<MfaChallengeRecord | undefined>;
  /** Drop expired challenges and sign-in flows, so their rows do not pile up. */
  deleteExpiredChallenges(now: number): Promise<void>;

  insertFlow(f: MfaFlowRecord): Promise<void>;
  findFlowByToken(tokenHash: string, now: number): Promise<MfaFlowRecord | undefined>;
  setFlowState(flowId: string, state: MfaFlowState): Promise<void>;
  /** Delete a flow; false when another request ended it first. */
  deleteFlow(flowId: string): Promise<boolean>;
  /** Every sign-in of the user that waits for its second factor; returns how many. */
  deleteFlowsOfUser(identityStoreId: string, userId: string): Promise<number>;

  findKey(name: string): Promise<string | undefined>;
  /** Insert a sealed key unless one of that name exists (processes race at first use). */
  insertKeyIfAbsent(name: string, sealed: string, now: number): Promise<void>;
}
