// crypto/: key providers and envelope encryption. Secrets at rest go through here.
export type { KeyProvider } from './key-provider.js';
export { LocalKeyProvider } from './local-key-provider.js';
export { Envelope, type DataKeyRecord, type DataKeyStore } from './envelope.js';
