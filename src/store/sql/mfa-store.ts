// SQL implementation of auth's MFA store port: devices, challenges, sign-in flows and keys.

import type { MfaChallengePurpose, MfaChallengeRecord, MfaDeviceRecord, MfaFlowRecord, MfaFlowState, MfaStore } from '../../auth/index.js';
import type { MfaDeviceType } from '../../instance/index.js';
import type { Database, Db } from '../database.js';
import { precompiled } from '../precompiled.js';
import type { MfaChallengesTable, MfaDevicesTable, MfaSigninFlowsTable } from '../schema/mfa.js';

const toDevice = (r: MfaDevicesTable): MfaDeviceRecord => ({
  deviceId: r.device_id,
  identityStoreId: r.identity_store_id,
  userId: r.user_id,
  slot: r.slot,
  name: r.name,
  type: r.type as MfaDeviceType,
  secret: r.secret,
  lastStep: r.last_step === null ? null : Number(r.last_step),
  credentialId: r.credential_id,
  publicKey: r.public_key,
  signCount: Number(r.sign_count),
  transports: r.transports ? (JSON.parse(r.transports) as string[]) : [],
  discoverable: r.discoverable === 1,
  createdAt: Number(r.created_at),
  lastUsedAt: r.last_used_at === null ? null : Number(r.last_used_at),
});

const toChallenge = (r: MfaChallengesTable): MfaChallengeRecord => ({
  challengeId: r.challenge_id,
  purpose: r.purpose as MfaChallengePurpose,
  identityStoreId: r.identity_store_id,
  userId: r.user_id,
  payload: r.payload,
  createdAt: Number(r.created_at),
  expiresAt: Number(r.expires_at),
});

// The second factor of every sign-in runs these: precompiled, as building and compiling them
// through the query builder costs more than the database takes to run them.
const devicesOf = precompiled<Database, { store: string; user: string }, MfaDevicesTable>((db, arg) =>
  db.selectFrom('mfa_devices').selectAll().where('identity_store_id', '=', arg('store')).where('user_id', '=', arg('user')).orderBy('created_at').orderBy('device_id'),
);
const deviceByCredential = precompiled<Database, { id: string }, MfaDevicesTable>((db, arg) => db.selectFrom('mfa_devices').selectAll().where('credential_id', '=', arg('id')));
const advanceStep = precompiled<Database, { id: string; step: number; now: number }, never>((db, arg) =>
  db
    .updateTable('mfa_devices')
    .set({ last_step: arg('step'), last_used_at: arg('now') })
    .where('device_id', '=', arg('id'))
    .where((eb) => eb.or([eb('last_step', 'is', null), eb('last_step', '<', arg('step'))])),
);
/** Authenticators without a counter always send 0; one with a counter must move it forward. */
const assertionWith = (op: '=' | '<') =>
  precompiled<Database, { id: string; count: number; now: number }, never>((db, arg) =>
    db.updateTable('mfa_devices').set({ sign_count: arg('count'), last_used_at: arg('now') }).where('device_id', '=', arg('id')).where('sign_count', op, arg('count')),
  );
const assertionWithoutCounter = assertionWith('=');
const assertionWithCounter = assertionWith('<');
const markUsed = precompiled<Database, { id: string; now: number; expiresAt: number }, never>((db, arg) =>
  db
    .insertInto('mfa_challenges')
    .values({ challenge_id: arg('id'), purpose: 'used', identity_store_id: null, user_id: null, payload: '', created_at: arg('now'), expires_at: arg('expiresAt') })
    .onConflict((oc) => oc.column('challenge_id').doNothing()),
);
const flowByToken = precompiled<Database, { hash: string; now: number }, MfaSigninFlowsTable>((db, arg) =>
  db.selectFrom('mfa_signin_flows').selectAll().where('token_hash', '=', arg('hash')).where('expires_at', '>', arg('now')),
);
const deleteFlowRow = precompiled<Database, { id: string }, never>((db, arg) => db.deleteFrom('mfa_signin_flows').where('flow_id', '=', arg('id')));

export class SqlMfaStore implements MfaStore {
  constructor(private readonly db: Db) {}

  async listDevices(identityStoreId: string, userId: string): Promise<MfaDeviceRecord[]> {
    return (await devicesOf(this.db, { store: identityStoreId, user: userId })).rows.map(toDevice);
  }

  async findDevice(deviceId: string): Promise<MfaDeviceRecord | undefined> {
    const r = await this.db.selectFrom('mfa_devices').selectAll().where('device_id', '=', deviceId).executeTakeFirst();
    return r && toDevice(r);
  }

  async findDeviceByCredentialId(credentialId: string): Promise<MfaDeviceRecord | undefined> {
    const [r] = (await deviceByCredential(this.db, { id: credentialId })).rows;
    return r && toDevice(r);
  }

  async insertDevice(d: MfaDeviceRecord): Promise<boolean> {
    // ON CONFLICT DO NOTHING on any unique index: a lost race is an answer, not an aborted transaction.
    const r = await this.db
      .insertInto('mfa_devices')
      .values({
        device_id: d.deviceId,
        identity_store_id: d.identityStoreId,
        user_id: d.userId,
        slot: d.slot,
        name: d.name,
        type: d.type,
        secret: d.secret,
        last_step: d.lastStep,
        credential_id: d.credentialId,
        public_key: d.publicKey,
        sign_count: d.signCount,
        transports: JSON.stringify(d.transports),
        discoverable: d.discoverable ? 1 : 0,
        created_at: d.createdAt,
        last_used_at: d.lastUsedAt,
      })
      .onConflict((oc) => oc.doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0) === 1;
  }

  async renameDevice(deviceId: string, name: string): Promise<boolean> {
    const device = await this.findDevice(deviceId);
    if (!device) return false;
    const clash = await this.db
      .selectFrom('mfa_devices')
      .select('device_id')
      .where('identity_store_id', '=', device.identityStoreId)
      .where('user_id', '=', device.userId)
      .where('name', '=', name)
      .where('device_id', '!=', deviceId)
      .executeTakeFirst();
    if (clash) return false;
    await this.db.updateTable('mfa_devices').set({ name }).where('device_id', '=', deviceId).execute();
    return true;
  }

  async deleteDevices(deviceIds: readonly string[]): Promise<string[]> {
    if (deviceIds.length === 0) return [];
    const rows = await this.db.deleteFrom('mfa_devices').where('device_id', 'in', deviceIds).returning('device_id').execute();
    return rows.map((r) => r.device_id);
  }

  async advanceTotpStep(deviceId: string, step: number, now: number): Promise<boolean> {
    return (await advanceStep(this.db, { id: deviceId, step, now })).numAffectedRows === 1n;
  }

  async recordAssertion(deviceId: string, signCount: number, now: number): Promise<boolean> {
    const update = signCount === 0 ? assertionWithoutCounter : assertionWithCounter;
    return (await update(this.db, { id: deviceId, count: signCount, now })).numAffectedRows === 1n;
  }

  async insertChallenge(c: MfaChallengeRecord): Promise<void> {
    await this.db
      .insertInto('mfa_challenges')
      .values({
        challenge_id: c.challengeId,
        purpose: c.purpose,
        identity_store_id: c.identityStoreId,
        user_id: c.userId,
        payload: c.payload,
        created_at: c.createdAt,
        expires_at: c.expiresAt,
      })
      .execute();
  }

  async useChallenge(challengeHash: string, now: number, expiresAt: number): Promise<boolean> {
    // The primary key makes the second use a no-op, on every process.
    return (await markUsed(this.db, { id: challengeHash, now, expiresAt })).numAffectedRows === 1n;
  }

  async consumeChallenge(challengeId: string, purpose: MfaChallengePurpose, now: number): Promise<MfaChallengeRecord | undefined> {
    const r = await this.db
      .deleteFrom('mfa_challenges')
      .where('challenge_id', '=', challengeId)
      .where('purpose', '=', purpose)
      .where('expires_at', '>', now)
      .returningAll()
      .executeTakeFirst();
    return r && toChallenge(r);
  }

  async deleteExpiredChallenges(now: number): Promise<void> {
    await this.db.deleteFrom('mfa_challenges').where('expires_at', '<=', now).execute();
    await this.db.deleteFrom('mfa_signin_flows').where('expires_at', '<=', now).execute();
  }

  async insertFlow(f: MfaFlowRecord): Promise<void> {
    await this.db
      .insertInto('mfa_signin_flows')
      .values({
        flow_id: f.flowId,
        token_hash: f.tokenHash,
        identity_store_id: f.identityStoreId,
        user_id: f.userId,
        user_name: f.userName,
        must_change_password: f.mustChangePassword ? 1 : 0,
        state: f.state,
        created_at: f.createdAt,
        expires_at: f.expiresAt,
      })
      .execute();
  }

  async findFlowByToken(tokenHash: string, now: number): Promise<MfaFlowRecord | undefined> {
    const [r] = (await flowByToken(this.db, { hash: tokenHash, now })).rows;
    if (!r) return undefined;
    return {
      flowId: r.flow_id,
      tokenHash: r.token_hash,
      identityStoreId: r.identity_store_id,
      userId: r.user_id,
      userName: r.user_name,
      mustChangePassword: r.must_change_password === 1,
      state: r.state as MfaFlowState,
      createdAt: Number(r.created_at),
      expiresAt: Number(r.expires_at),
    };
  }

  async setFlowState(flowId: string, state: MfaFlowState): Promise<void> {
    await this.db.updateTable('mfa_signin_flows').set({ state }).where('flow_id', '=', flowId).execute();
  }

  async deleteFlow(flowId: string): Promise<boolean> {
    return (await deleteFlowRow(this.db, { id: flowId })).numAffectedRows === 1n;
  }

  async deleteFlowsOfUser(identityStoreId: string, userId: string): Promise<number> {
    const r = await this.db.deleteFrom('mfa_signin_flows').where('identity_store_id', '=', identityStoreId).where('user_id', '=', userId).executeTakeFirst();
    return Number(r.numDeletedRows);
  }

  async findKey(name: string): Promise<string | undefined> {
    const r = await this.db.selectFrom('mfa_keys').select('sealed').where('key_name', '=', name).executeTakeFirst();
    return r?.sealed;
  }

  async insertKeyIfAbsent(name: string, sealed: string, now: number): Promise<void> {
    await this.db.insertInto('mfa_keys').values({ key_name: name, sealed, created_at: now }).onConflict((oc) => oc.column('key_name').doNothing()).execute();
  }
}
