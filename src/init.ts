// Initialisation: the instance, its identity store, the organization with its management account,
// and the bootstrap administrator key. Idempotent: a second run returns the same ids and never
// shows an old secret again.

import { publicUrlOf } from './config/config.js';
import type { Registry } from './registry.js';
import { systemContext } from './shared/context.js';

export interface InitResult {
  instanceArn: string;
  identityStoreId: string;
  managementAccountId: string;
  adminAccessKeyId: string;
  /** Only when this run issued the key; null afterwards. */
  adminSecretAccessKey: string | null;
  startUrl: string;
  region: string;
}

export const BOOTSTRAP_PURPOSE = 'bootstrap';
export const ADMIN_USER_NAME = 'atrium-admin';

export async function initialize(reg: Registry, opts: { rotateAdminKey?: boolean; port?: number; via?: string } = {}): Promise<InitResult & { created: boolean }> {
  const ctx = systemContext('sso.amazonaws.com', reg.config.region, reg.newRequestId(), opts.via);
  const org = await reg.organization.ensureOrganization(ctx, 'management@atrium.invalid');
  let created = false;
  let instance = await reg.instance.find();
  if (!instance) {
    try {
      instance = await reg.instance.create(ctx, org.managementAccountId, reg.config.region);
      created = true;
    } catch (err) {
      // Another process won the race; its instance is the instance.
      instance = await reg.instance.find();
      if (!instance) throw err;
    }
  }
  const existing = await reg.credentials.listAccessKeys(BOOTSTRAP_PURPOSE);
  let adminAccessKeyId = existing[existing.length - 1]?.accessKeyId;
  let adminSecretAccessKey: string | null = null;
  if (!adminAccessKeyId || opts.rotateAdminKey) {
    const owner = {
      principalType: 'IAMUser',
      principalId: `AIDA${instance.instanceId.slice(7, 23).toUpperCase()}`,
      principalArn: `arn:aws:iam::${instance.ownerAccountId}:user/${ADMIN_USER_NAME}`,
      accountId: instance.ownerAccountId,
      userName: ADMIN_USER_NAME,
    };
    const issued = await reg.credentials.createAccessKey(ctx, owner, BOOTSTRAP_PURPOSE, opts.rotateAdminKey === true).catch(async (err: unknown) => {
      // Another process issued the first key at the same moment (one bootstrap key is unique): its key is the key.
      const winner = opts.rotateAdminKey ? undefined : (await reg.credentials.listAccessKeys(BOOTSTRAP_PURPOSE))[0];
      if (!winner) throw err;
      return { accessKeyId: winner.accessKeyId, secretAccessKey: null };
    });
    adminAccessKeyId = issued.accessKeyId;
    adminSecretAccessKey = issued.secretAccessKey;
  }
  return {
    instanceArn: instance.instanceArn,
    identityStoreId: instance.identityStoreId,
    managementAccountId: instance.ownerAccountId,
    adminAccessKeyId,
    adminSecretAccessKey,
    startUrl: `${publicUrlOf(reg.config, opts.port)}/start`,
    region: instance.region,
    created,
  };
}
