// argon2id at OWASP's parameters (m=19 MiB, t=2, p=1). Hashing runs on threads of its own, one per
// core (./hash-threads.ts), so the event loop keeps serving while a sign-in is verified.

import { hashThreadCount } from '../shared/hash-thread-count.js';
import { hashThreads } from './hash-threads.js';

export const ARGON2_OPTIONS = { algorithm: 2, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;

/**
 * Hashes running at once: one per core (or ATRIUM_HASH_THREADS; see src/shared/hash-thread-count.ts). More
 * would take turns on a core and fight over the caches for their 19 MiB each: every hash costs more
 * CPU (about a quarter more, measured on 2 cores). The rest wait, in arrival order, known users or
 * not alike.
 */
export const HASHES_AT_ONCE = hashThreadCount(process.env.ATRIUM_HASH_THREADS);

const onHashThread = hashThreads(HASHES_AT_ONCE);

export const hashPassword = async (password: string): Promise<string> => (await onHashThread({ op: 'hash', password, options: ARGON2_OPTIONS })) as string;

export async function verifyPassword(hashed: string, password: string): Promise<boolean> {
  try {
    return (await onHashThread({ op: 'verify', hashed, password })) === true;
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
