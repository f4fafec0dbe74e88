// argon2id at OWASP's parameters (m=19 MiB, t=2, p=1). Hashing runs on libuv's thread pool, so
// the event loop keeps serving while a sign-in is verified.

import { hash, verify } from '@node-rs/argon2';

export const ARGON2_OPTIONS = { algorithm: 2, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;

export const hashPassword = (password: string): Promise<string> => hash(password, ARGON2_OPTIONS);

export async function verifyPassword(hashed: string, password: string): Promise<boolean> {
  try {
    return await verify(hashed, password);
  } catch {
    // A malformed stored hash matches nothing.
    return false;
  }
}

/** True if `password` is any of `hashes`; all are checked, so the time does not say which. */
export async function matchesAny(hashes: readonly string[], password: string): Promise<boolean> {
  const results = await Promise.all(hashes.map((h) => verifyPassword(h, password)));
  return results.includes(true);
}
