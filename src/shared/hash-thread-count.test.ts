import { describe, expect, it } from 'vitest';
import { loadConfig } from '../config/config.js';
import { cgroupCpuLimit, hashThreadCount } from './hash-thread-count.js';

/** A file system of the given files; any other read fails as a missing file does. */
const files = (map: Record<string, string>) => (file: string) => {
  if (file in map) return map[file]!;
  throw Object.assign(new Error(`ENOENT: ${file}`), { code: 'ENOENT' });
};

describe('how many hash threads', () => {
  it('follows a container’s CPU quota, on cgroup v2 and v1, rounded up', () => {
    expect(cgroupCpuLimit(files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': '200000 100000\n' }))).toBe(2);
    expect(cgroupCpuLimit(files({ '/proc/self/cgroup': '0::/kubepods/pod1\n', '/sys/fs/cgroup/kubepods/pod1/cpu.max': '150000 100000\n' }))).toBe(2);
    expect(cgroupCpuLimit(files({ '/proc/self/cgroup': '0::/\n', '/sys/fs/cgroup/cpu.max': 'max 100000\n' }))).toBeUndefined();
    const v1 = { '/proc/self/cgroup': '4:memory:/x\n2:cpu,cpuacct:/docker/abc\n0::/\n', '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '50000\n', '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_period_us': '100000\n' };
    expect(cgroupCpuLimit(files(v1))).toBe(1);
    expect(cgroupCpuLimit(files({ ...v1, '/sys/fs/cgroup/cpu,cpuacct/docker/abc/cpu.cfs_quota_us': '-1\n' }))).toBeUndefined();
    expect(cgroupCpuLimit(files({}))).toBeUndefined();
  });

  it('is one per CPU within the quota, or ATRIUM_HASH_THREADS', () => {
    // A 2-CPU container on a 64-core host: 2 threads, not 64.
    expect(hashThreadCount(undefined, 64, 2)).toBe(2);
    expect(hashThreadCount(undefined, 4, undefined)).toBe(4);
    expect(hashThreadCount(undefined, 2, 8)).toBe(2);
    expect(hashThreadCount('6', 64, 2)).toBe(6);
  });

  it('refuses a bad ATRIUM_HASH_THREADS at start-up, naming it', () => {
    for (const bad of ['0', '-1', '2.5', 'two', '257', '08']) {
      expect(() => loadConfig({ dataDir: '/tmp/unused' }, { ATRIUM_HASH_THREADS: bad })).toThrow(/ATRIUM_HASH_THREADS must be a whole number from 1 to 256/);
    }
    expect(loadConfig({ dataDir: '/tmp/unused' }, { ATRIUM_HASH_THREADS: '3' }).dataDir).toBe('/tmp/unused');
  });
});
