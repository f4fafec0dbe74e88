// A key provider whose key-encryption key is a 32-byte file on local disk (mode 0600).
// It is created on first use; losing it makes every sealed secret unreadable.

import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { KeyProvider } from './key-provider.js';

export class LocalKeyProvider implements KeyProvider {
  readonly id: string;
  private constructor(private readonly kek: Buffer) {
    // The id names the key without revealing it: a short hash of a hash.
    this.id = `local:${createHash('sha256').update('atrium-kek-id').update(kek).digest('hex').slice(0, 16)}`;
  }

  static fromFile(file: string, create: boolean): LocalKeyProvider {
    if (!existsSync(file)) {
      if (!create) throw new Error(`key file ${file} does not exist`);
      mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      try {
        writeFileSync(file, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
      } catch (err) {
        // Another process starting beside this one wrote it first: theirs is the key.
        if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      }
    }
    chmodSync(file, 0o600);
    const kek = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
    if (kek.length !== 32) throw new Error(`key file ${file} must hold 32 bytes in base64`);
    return new LocalKeyProvider(kek);
  }

  static fromKey(kek: Buffer): LocalKeyProvider {
    if (kek.length !== 32) throw new Error('the key-encryption key must be 32 bytes');
    return new LocalKeyProvider(kek);
  }

  wrap(dataKey: Buffer): Promise<Buffer> {
    const iv = randomBytes(12);
    const c = createCipheriv('aes-256-gcm', this.kek, iv);
    c.setAAD(Buffer.from('atrium-data-key'));
    const body = Buffer.concat([c.update(dataKey), c.final()]);
    return Promise.resolve(Buffer.concat([iv, c.getAuthTag(), body]));
  }

  unwrap(wrapped: Buffer): Promise<Buffer> {
    const d = createDecipheriv('aes-256-gcm', this.kek, wrapped.subarray(0, 12));
    d.setAAD(Buffer.from('atrium-data-key'));
    d.setAuthTag(wrapped.subarray(12, 28));
    return Promise.resolve(Buffer.concat([d.update(wrapped.subarray(28)), d.final()]));
  }
}
