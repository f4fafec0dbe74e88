// The ports temporary credentials need from the store: revocation marks ("not valid before T for
// subject S") and the service keys every process shares.

export interface RevocationMark {
  seq: number;
  subjectKey: string;
  notBefore: number;
}

export interface RevocationStore {
  insertRevocations(subjectKeys: string[], notBefore: number): Promise<void>;
  deleteRevocationsBefore(notBefore: number): Promise<void>;
  /** Marks with a seq above `afterSeq` and a not-before above `notBeforeAfter`, in seq order. */
  listRevocationsSince(afterSeq: number, notBeforeAfter: number): Promise<RevocationMark[]>;
  findServiceKey(name: string): Promise<string | undefined>;
  /** Does nothing when the key exists already, so that racing processes agree on the first one. */
  insertServiceKeyIfAbsent(name: string, sealedKey: string, now: number): Promise<void>;
}
