// Envelope encryption: a sealed secret opens only for its own row, under the same key-encryption key.

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { Envelope, type DataKeyRecord, type DataKeyStore } from './envelope.js';
import { LocalKeyProvider } from './local-key-provider.js';

function memoryKeys(): DataKeyStore & { rows: DataKeyRecord[] } {
  const rows: DataKeyRecord[] = [];
  return {
    rows,
    newestDataKey: () => Promise.resolve(rows[rows.length - 1]),
    findDataKey: (id) => Promise.resolve(rows.find((r) => r.id === id)),
    insertDataKey: (k) => Promise.resolve(void rows.push(k)),
  };
}

describe('Envelope', () => {
  const kek = randomBytes(32);

  it('seals without leaving the plaintext anywhere and opens for the same row', async () => {
    const keys = memoryKeys();
    const env = new Envelope(LocalKeyProvider.fromKey(kek), keys, () => 0);
    const sealed = await env.seal('s3cr3t-value-xyz', 'AKIAROW1');
    expect(sealed).not.toContain('s3cr3t');
    expect(keys.rows[0]!.wrappedKey.length).toBeGreaterThan(32);
    // A second process with the same key file and database opens it.
    const other = new Envelope(LocalKeyProvider.fromKey(kek), keys, () => 0);
    expect((await other.open(sealed, 'AKIAROW1')).toString()).toBe('s3cr3t-value-xyz');
  });

  it('refuses to open a value moved to another row, or under another key-encryption key', async () => {
    const keys = memoryKeys();
    const env = new Envelope(LocalKeyProvider.fromKey(kek), keys, () => 0);
    const sealed = await env.seal('secret', 'row-a');
    await expect(env.open(sealed, 'row-b')).rejects.toThrow();
    const stranger = new Envelope(LocalKeyProvider.fromKey(randomBytes(32)), keys, () => 0);
    await expect(stranger.open(sealed, 'row-a')).rejects.toThrow();
  });
});
