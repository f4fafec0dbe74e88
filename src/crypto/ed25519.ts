// Ed25519 signing keys with node:crypto alone: the audit log signs its digests with one.

import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';

export interface Ed25519KeyPair {
  publicKeyPem: string;
  privateKeyPem: string;
}

export function createEd25519KeyPair(): Ed25519KeyPair {
  const { publicKey, privateKey } = generateKeyPairSync('ed25519');
  return {
    publicKeyPem: publicKey.export({ format: 'pem', type: 'spki' }).toString(),
    privateKeyPem: privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
}

/** A public key from PEM; anything that is not an Ed25519 public key is refused with a clear error. */
export function ed25519PublicKey(pem: string): KeyObject {
  let key: KeyObject;
  try {
    key = createPublicKey(pem);
  } catch {
    throw new Error('not a PEM public key');
  }
  if (key.asymmetricKeyType !== 'ed25519') throw new Error(`not an Ed25519 public key (it is ${key.asymmetricKeyType ?? 'unknown'})`);
  return key;
}

export function ed25519PrivateKey(pem: string): KeyObject {
  const key = createPrivateKey(pem);
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('not an Ed25519 private key');
  return key;
}

/** base64 signature over `message`. */
export const signEd25519 = (key: KeyObject, message: string): string => sign(null, Buffer.from(message, 'utf8'), key).toString('base64');

export function verifyEd25519(key: KeyObject, message: string, signature: string): boolean {
  try {
    return verify(null, Buffer.from(message, 'utf8'), key, Buffer.from(signature, 'base64'));
  } catch {
    return false;
  }
}

/** A short, stable name for a public key: the first 16 hex digits of SHA-256 over its SPKI DER. */
export const keyFingerprint = (key: KeyObject): string =>
  createHash('sha256').update(key.export({ format: 'der', type: 'spki' })).digest('hex').slice(0, 16);
