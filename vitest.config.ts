import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests start real peers on loopback ports; a small pool keeps the 2-core CI calm.
    maxWorkers: 2,
    reporters: ['default'],
  },
});
