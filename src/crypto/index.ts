// crypto/: key providers and envelope encryption. Secrets at rest go through here.
export type { KeyProvider } from './key-provider.js';
export { LocalKeyProvider } from './local-key-provider.js';
export { Envelope, type DataKeyRecord, type DataKeyStore } from './envelope.js';
export {
  createEd25519KeyPair,
  ed25519PrivateKey,
  ed25519PublicKey,
  keyFingerprint,
  signEd25519,
  verifyEd25519,
  type Ed25519KeyPair,
} from './ed25519.js';
