import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Real sockets and private database servers: files run in parallel processes, tests in a file run in order.
    pool: 'forks',
    fileParallelism: true,
  },
});
