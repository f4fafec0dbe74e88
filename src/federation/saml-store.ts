// The port federation/ needs from the store: the IdP configuration, this instance's SP key, the
// AuthnRequests we issued (consumed once) and the assertion ids already used (recorded once).

export type NameIdMatch = 'userName' | 'email';

export interface SamlIdpConfig {
  entityId: string;
  metadataXml: string;
  nameIdMatch: NameIdMatch;
  updatedAt: number;
}

export interface SamlSpKeyRecord {
  keyId: string;
  certificatePem: string;
  /** Sealed by the envelope, with `saml-sp-key:<keyId>` as additional authenticated data. */
  sealedPrivateKey: string;
  createdAt: number;
}

export interface SamlRequestRecord {
  requestId: string;
  returnTo: string;
  createdAt: number;
  expiresAt: number;
}

export interface SamlStore {
  findIdp(): Promise<SamlIdpConfig | undefined>;
  /** Insert or replace the one IdP configuration. */
  saveIdp(config: SamlIdpConfig): Promise<void>;
  findSpKey(): Promise<SamlSpKeyRecord | undefined>;
  /** False when a key exists already (another process made it first). */
  insertSpKey(key: SamlSpKeyRecord): Promise<boolean>;
  insertRequest(request: SamlRequestRecord): Promise<void>;
  /** Delete the request if it is unexpired at `now`, and return it: only one caller ever gets it. */
  consumeRequest(requestId: string, now: number): Promise<SamlRequestRecord | undefined>;
  /** Record an assertion key until `expiresAt`; false when it is recorded already (a replay). */
  recordAssertion(assertionKey: string, expiresAt: number): Promise<boolean>;
  /** Drop requests and assertion keys that expired before `now`. */
  deleteExpired(now: number): Promise<void>;
}
