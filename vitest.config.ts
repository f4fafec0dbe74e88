import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Two cores: keep the files in a small pool; each starts its own server.
    pool: 'forks',
    maxWorkers: 2,
    reporters: ['default'],
  },
});
