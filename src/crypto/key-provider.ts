// The key provider port: something that wraps and unwraps data keys with a key-encryption key
// that never leaves it. Local file today; PKCS#11 and KMS later implement the same shape.

export interface KeyProvider {
  /** Stable name of the provider and its key, stored beside each wrapped data key. */
  readonly id: string;
  wrap(dataKey: Buffer): Promise<Buffer>;
  unwrap(wrapped: Buffer): Promise<Buffer>;
}
