import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // No test may resolve a name through the machine's resolver.
    setupFiles: ['test/support/no-system-dns.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Integration tests drive real peers (SIPp at hundreds of calls per second, baresip, stunnel)
    // whose retransmission timers are real: one file at a time keeps a 2-core machine from
    // starving them. The whole suite stays around three minutes.
    fileParallelism: false,
    reporters: ['default'],
  },
});
