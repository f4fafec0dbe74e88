// The port federation/ needs from the store: the IdP configuration, this instance's SP key, the
// AuthnRequests we issued (consumed once), the assertion ids already used (recorded once), and the
// principal attributes of the portal sessions a SAML sign-in opened.

export type NameIdMatch = 'userName' | 'email';

export interface SamlIdpOptions {
  /** Accept unsolicited responses (IdP-initiated sign-in, no InResponseTo). */
  allowIdpInitiated: boolean;
  /** Principal attribute key → the assertion attribute Name its value comes from. */
  attributeMapping: Record<string, string>;
  /** Create an unknown user from the assertion (just-in-time); off: users come from SCIM. */
  jitProvisioning: boolean;
}

export interface SamlIdpConfig {
  entityId: string;
  metadataXml: string;
  nameIdMatch: NameIdMatch;
  options: SamlIdpOptions;
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
  /** SHA-256 (hex) of the binding cookie of the browser the request was issued to. */
  browserBinding: string;
  createdAt: number;
  expiresAt: number;
}

export interface SamlStore {
  findIdp(): Promise<SamlIdpConfig | undefined>;
  /** Insert or replace the one IdP configuration. */
  saveIdp(config: SamlIdpConfig): Promise<void>;
  /** This instance's SP keys, the current one (the newest) first. */
  listSpKeys(): Promise<SamlSpKeyRecord[]>;
  /** Changes whenever a key is added or deleted: a cheap read that tells a cached key is stale. */
  spKeysVersion(): Promise<string>;
  /** False when a key of that id exists already (another process made it first). */
  insertSpKey(key: SamlSpKeyRecord): Promise<boolean>;
  /** Delete every SP key but `keepKeyId`; the ids deleted. */
  deleteSpKeysExcept(keepKeyId: string): Promise<string[]>;
  insertRequest(request: SamlRequestRecord): Promise<void>;
  /** Delete the request if it is unexpired at `now`, and return it: only one caller ever gets it. */
  consumeRequest(requestId: string, now: number): Promise<SamlRequestRecord | undefined>;
  /** Record an assertion key until `expiresAt`; false when it is recorded already (a replay). */
  recordAssertion(assertionKey: string, expiresAt: number): Promise<boolean>;
  /** Keep a portal session's principal attributes until the session expires. */
  insertSessionAttributes(sessionId: string, attributes: Record<string, string>, expiresAt: number): Promise<void>;
  /** A session's principal attributes, if it has any and they are unexpired at `now`. */
  findSessionAttributes(sessionId: string, now: number): Promise<Record<string, string> | undefined>;
  /** Drop requests, assertion keys and session attributes that expired before `now`. */
  deleteExpired(now: number): Promise<void>;
}
