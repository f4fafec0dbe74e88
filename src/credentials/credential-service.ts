// Access keys and request authentication. Secrets are sealed at rest (the key id is the AAD);
// a verified request yields the principal that signed it.

import { audited, type AuditDeps, type AuditStore } from '../audit/index.js';
import type { Envelope } from '../crypto/index.js';
import type { Principal, RequestContext } from '../shared/context.js';
import { DomainError } from '../shared/errors.js';
import { newAccessKeyId, newSecretAccessKey } from '../shared/ids.js';
import type { AccessKeyRecord, CredentialStore } from './credential-store.js';
import { parseAuthorization, verifySignature, type SignedRequest } from './sigv4.js';

type Stores = { credentials: CredentialStore; audit: AuditStore };

export interface IssuedAccessKey {
  accessKeyId: string;
  secretAccessKey: string;
}

/** How long a decrypted key stays in memory; a deleted key stops working within this time. */
const KEY_CACHE_MS = 2_000;

const GLOBAL_REGION = 'us-east-1';
const GLOBAL_SERVICES = new Set(['iam', 'organizations', 'sts']);

export class CredentialService {
  private readonly cache = new Map<string, { record?: AccessKeyRecord; secret?: string; at: number }>();

  /** The instance's region, once known: requests signed for another are refused. */
  private region?: string;

  constructor(
    private readonly deps: AuditDeps<Stores> & {
      read: { credentials: CredentialStore };
      envelope: Envelope;
      /** The instance's region (none before `atrium init`). */
      instanceRegion?: () => Promise<string | undefined>;
    },
  ) {}

  /**
   * A signature scoped to another region than the instance's is refused, as AWS refuses it. AWS's
   * global services (IAM, Organizations, STS's global endpoint) sign for us-east-1 wherever the
   * caller is, and are taken in that region too.
   */
  async requireRegion(auth: { region: string; service: string }): Promise<void> {
    this.region ??= await this.deps.instanceRegion?.();
    if (this.region !== undefined && auth.region !== this.region && !(auth.region === GLOBAL_REGION && GLOBAL_SERVICES.has(auth.service))) {
      throw new DomainError('unauthenticated', 'auth.bad_scope', `Credential should be scoped to a valid region: this endpoint's region is ${this.region}.`);
    }
  }

  async createAccessKey(
    ctx: RequestContext,
    owner: { principalType: string; principalId: string; principalArn: string; accountId: string; userName: string },
    purpose: string,
    replacePurpose = false,
  ): Promise<IssuedAccessKey> {
    const accessKeyId = newAccessKeyId(this.deps.ids, 'AKIA');
    const secretAccessKey = newSecretAccessKey(this.deps.ids);
    const record: AccessKeyRecord = {
      ...owner,
      accessKeyId,
      sealedSecret: await this.deps.envelope.seal(secretAccessKey, accessKeyId),
      status: 'Active',
      purpose,
      createdAt: this.deps.clock.now(),
    };
    // The keys a rotation deletes are named in the event: the deletion is part of the change.
    const replaced: string[] = [];
    await audited(
      this.deps,
      ctx,
      { eventName: 'CreateAccessKey', requestParameters: { userName: owner.userName, purpose }, responseElements: () => ({ accessKeyId, ...(replacePurpose ? { deletedAccessKeyIds: replaced } : {}) }) },
      async (s) => {
        if (replacePurpose) {
          for (const old of await s.credentials.listAccessKeysByPurpose(purpose)) {
            await s.credentials.deleteAccessKey(old.accessKeyId);
            replaced.push(old.accessKeyId);
          }
        }
        await s.credentials.insertAccessKey(record);
      },
    );
    this.cache.clear();
    return { accessKeyId, secretAccessKey };
  }

  async listAccessKeys(purpose: string): Promise<AccessKeyRecord[]> {
    return this.deps.read.credentials.listAccessKeysByPurpose(purpose);
  }

  /** Verify a SigV4-signed request for one of `services`; returns who signed it. */
  /**
   * `anyRegion`: the request was made to another service, whose region the scope names (POST
   * /authorize). `presigned`: the signature may be in the query string (parseAuthorization).
   */
  async authenticate(req: SignedRequest, services: readonly string[], opts: { anyRegion?: boolean; presigned?: boolean } = {}): Promise<Principal & { region: string }> {
    const auth = parseAuthorization(req, services, this.deps.clock.now(), opts);
    if (!opts.anyRegion) await this.requireRegion(auth);
    const key = await this.lookup(auth.accessKeyId);
    if (!key.record || !key.secret || key.record.status !== 'Active') {
      throw new DomainError('unauthenticated', 'auth.unknown_key', 'The security token included in the request is invalid.');
    }
    verifySignature(req, auth, key.secret);
    const r = key.record;
    return {
      type: r.principalType,
      principalId: r.principalId,
      arn: r.principalArn,
      accountId: r.accountId,
      accessKeyId: r.accessKeyId,
      userName: r.userName,
      region: auth.region,
    };
  }

  private async lookup(accessKeyId: string): Promise<{ record?: AccessKeyRecord; secret?: string }> {
    const now = this.deps.clock.now();
    const hit = this.cache.get(accessKeyId);
    if (hit && now - hit.at < KEY_CACHE_MS) return hit;
    const record = /^[A-Z0-9]{16,128}$/.test(accessKeyId) ? await this.deps.read.credentials.findAccessKey(accessKeyId) : undefined;
    const secret = record ? (await this.deps.envelope.open(record.sealedSecret, accessKeyId)).toString('utf8') : undefined;
    const entry = { record, secret, at: now };
    if (this.cache.size > 10_000) this.cache.clear();
    this.cache.set(accessKeyId, entry);
    return entry;
  }
}
