// Envelope encryption: secrets are sealed with AES-256-GCM under a data key, the data key is
// wrapped by the key provider, and the owning row's id is bound in as additional authenticated data.

import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { KeyProvider } from './key-provider.js';

export interface DataKeyRecord {
  id: string;
  providerId: string;
  wrappedKey: Buffer;
  createdAt: number;
}

/** The port the envelope needs from the store. */
export interface DataKeyStore {
  newestDataKey(): Promise<DataKeyRecord | undefined>;
  findDataKey(id: string): Promise<DataKeyRecord | undefined>;
  insertDataKey(key: DataKeyRecord): Promise<void>;
}

export class Envelope {
  private readonly plainKeys = new Map<string, Buffer>();
  private active?: { id: string; key: Buffer };

  constructor(
    private readonly provider: KeyProvider,
    private readonly keys: DataKeyStore,
    private readonly now: () => number,
  ) {}

  /** Prove at start-up that this key provider can unwrap the data keys already in the database. */
  async check(): Promise<void> {
    const newest = await this.keys.newestDataKey();
    if (!newest) return;
    try {
      await this.keyById(newest.id);
    } catch {
      throw new Error(
        `the key-encryption key (${this.provider.id}) cannot unwrap data key ${newest.id}, which was wrapped by ${newest.providerId}: ` +
          'this is not the key file this database was sealed with (restore it, or point ATRIUM_KEY_FILE at it)',
      );
    }
  }

  /** Seal a secret for the row `aad` (its id). Returns a self-describing string. */
  async seal(plaintext: string | Buffer, aad: string): Promise<string> {
    const { id, key } = await this.activeKey();
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', key, iv);
    c.setAAD(Buffer.from(aad, 'utf8'));
    const body = Buffer.concat([c.update(plaintext), c.final()]);
    return `v1.${id}.${Buffer.concat([iv, c.getAuthTag(), body]).toString('base64')}`;
  }

  async open(sealed: string, aad: string): Promise<Buffer> {
    const [version, keyId, blob] = sealed.split('.');
    if (version !== 'v1' || !keyId || !blob) throw new Error('sealed value has an unknown format');
    const key = await this.keyById(keyId);
    const raw = Buffer.from(blob, 'base64');
    const d = createDecipheriv('aes-256-gcm', key, raw.subarray(0, 12));
    d.setAAD(Buffer.from(aad, 'utf8'));
    d.setAuthTag(raw.subarray(12, 28));
    return Buffer.concat([d.update(raw.subarray(28)), d.final()]);
  }

  private async activeKey(): Promise<{ id: string; key: Buffer }> {
    if (this.active) return this.active;
    const newest = await this.keys.newestDataKey();
    if (newest && newest.providerId === this.provider.id) {
      this.active = { id: newest.id, key: await this.keyById(newest.id) };
      return this.active;
    }
    const key = randomBytes(32);
    const record: DataKeyRecord = {
      id: `dk-${randomBytes(8).toString('hex')}`,
      providerId: this.provider.id,
      wrappedKey: await this.provider.wrap(key),
      createdAt: this.now(),
    };
    await this.keys.insertDataKey(record);
    this.plainKeys.set(record.id, key);
    this.active = { id: record.id, key };
    return this.active;
  }

  private async keyById(id: string): Promise<Buffer> {
    const cached = this.plainKeys.get(id);
    if (cached) return cached;
    const record = await this.keys.findDataKey(id);
    if (!record) throw new Error(`data key ${id} is missing`);
    const key = await this.provider.unwrap(record.wrappedKey);
    this.plainKeys.set(id, key);
    return key;
  }
}
