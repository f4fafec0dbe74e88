import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // expect.poll waits for what a user would see (a page's rows, a status): one second, its
    // default, is less than a busy CI machine takes to answer a page of 50 lookups.
    expect: { poll: { timeout: 15_000 } },
    // Two cores: keep the files in a small pool; each starts its own server.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
