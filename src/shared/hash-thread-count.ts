// How many password hashes run at once, on as many threads of their own.

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

/** ATRIUM_HASH_THREADS, when set: a whole number from 1 to MAX_HASH_THREADS. */
export const MAX_HASH_THREADS = 256;
export const isValidHashThreads = (text: string): boolean => /^[1-9]\d{0,2}$/.test(text) && Number(text) <= MAX_HASH_THREADS;

const readText = (file: string) => readFileSync(file, 'utf8');

/**
 * The CPUs a cgroup CPU quota (a container's limit, systemd's CPUQuota) grants this process,
 * rounded up; undefined without a quota, or where it cannot be read. Node 20's
 * availableParallelism() follows CPU affinity only, so a 2-CPU container on a 64-core host would
 * otherwise start 64 hash threads, about 30 MiB each while they hash.
 */
export function cgroupCpuLimit(read: (file: string) => string = readText): number | undefined {
  let lines: string[];
  try {
    lines = read('/proc/self/cgroup').split('\n');
  } catch {
    return undefined;
  }
  const limits: number[] = [];
  for (const line of lines) {
    const [, controllers, dir] = /^\d+:([^:]*):(.*)$/.exec(line.trim()) ?? [];
    if (dir === undefined) continue;
    try {
      if (controllers === '') {
        // cgroup v2: "max 100000", or "<quota> <period>".
        const [quota, period] = read(`/sys/fs/cgroup${dir === '/' ? '' : dir}/cpu.max`).trim().split(/\s+/);
        if (quota !== 'max' && Number(quota) > 0 && Number(period) > 0) limits.push(Number(quota) / Number(period));
      } else if (controllers!.split(',').includes('cpu')) {
        // cgroup v1: a quota of -1 is none.
        const base = `/sys/fs/cgroup/${controllers}${dir === '/' ? '' : dir}`;
        const quota = Number(read(`${base}/cpu.cfs_quota_us`));
        const period = Number(read(`${base}/cpu.cfs_period_us`));
        if (quota > 0 && period > 0) limits.push(quota / period);
      }
    } catch {
      // Not mounted where expected: no limit known from this line.
    }
  }
  return limits.length > 0 ? Math.max(1, Math.ceil(Math.min(...limits))) : undefined;
}

/**
 * ATRIUM_HASH_THREADS if set (and valid: `atrium serve` refuses it otherwise), else one per CPU this
 * process may use: its CPU affinity, within a cgroup CPU quota if there is one.
 */
export function hashThreadCount(setting: string | undefined, cpus: number = availableParallelism(), limit: number | undefined = cgroupCpuLimit()): number {
  if (setting !== undefined && isValidHashThreads(setting)) return Number(setting);
  return Math.max(1, Math.min(cpus, limit ?? cpus));
}
