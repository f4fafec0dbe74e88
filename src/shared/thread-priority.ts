// A background thread's scheduling priority, lowered so that it yields a busy core to the thread
// that serves requests. On Linux each thread has its own nice value, and setpriority() with a
// thread's id changes that thread alone (man 2 setpriority, "Bugs"); /proc/thread-self names the
// calling thread. Elsewhere there is no such handle, and nothing is changed: the whole process is
// never reniced by mistake.

import { readlinkSync } from 'node:fs';
import { getPriority, setPriority } from 'node:os';

/** The highest nice value: the lowest priority. */
const NICEST = 19;

/**
 * Lower the calling thread's priority by `by` nice steps (relative to what it has, so a process
 * started with a nice value keeps it as the floor). Returns the thread's nice value, or undefined
 * when this platform cannot name the thread or refuses the change: the thread then runs as it was.
 */
export function lowerThisThreadPriority(by: number): number | undefined {
  let tid: number;
  try {
    tid = Number(readlinkSync('/proc/thread-self').split('/').pop());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(tid) || tid <= 0) return undefined;
  try {
    // Raising a nice value (lowering the priority) needs no privilege; a sandbox may refuse it anyway.
    if (by > 0) setPriority(tid, Math.min(NICEST, getPriority(tid) + by));
    return getPriority(tid);
  } catch {
    return undefined;
  }
}
