// argon2id at OWASP's parameters (m=19 MiB, t=2, p=1). Hashing runs on libuv's thread pool, so
// the event loop keeps serving while a sign-in is verified; at most one hash per core runs at once.

import { availableParallelism } from 'node:os';
import { hash, verify } from '@node-rs/argon2';
import { takingTurns } from '../shared/taking-turns.js';

export const ARGON2_OPTIONS = { algorithm: 2, memoryCost: 19 * 1024, timeCost: 2, parallelism: 1 } as const;

/**
 * Hashes running at once: one per core, and always a thread of libuv's pool left free. Four hashes
 * on two cores take turns on each core and fight over the caches for their 19 MiB each: every hash
 * costs more CPU (about a quarter more, measured on 2 cores), and the WAL syncs of group commit
 * (also on the pool) queue behind them. The rest wait here, in arrival order, known users or not
 * alike.
 */
export const HASHES_AT_ONCE = Math.max(1, Math.min(availableParallelism(), (Number(process.env.UV_THREADPOOL_SIZE) || 4) - 1));

const inTurn = takingTurns(HASHES_AT_ONCE);

export const hashPassword = (password: string): Promise<string> => inTurn(() => hash(password, ARGON2_OPTIONS));

export async function verifyPassword(hashed: string, password: string): Promise<boolean> {
  try {
    return await inTurn(() => verify(hashed, password));
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
