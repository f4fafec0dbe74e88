// The port the credentials module needs from the store.

export interface AccessKeyRecord {
  accessKeyId: string;
  sealedSecret: string;
  principalType: string;
  principalId: string;
  principalArn: string;
  accountId: string;
  userName: string;
  status: 'Active' | 'Inactive';
  /** 'bootstrap' for the administrator key that init issues. */
  purpose: string;
  createdAt: number;
}

export interface CredentialStore {
  insertAccessKey(key: AccessKeyRecord): Promise<void>;
  findAccessKey(accessKeyId: string): Promise<AccessKeyRecord | undefined>;
  listAccessKeysByPurpose(purpose: string): Promise<AccessKeyRecord[]>;
  deleteAccessKey(accessKeyId: string): Promise<void>;
}
