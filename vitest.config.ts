import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    exclude: ['test/faults/**', 'node_modules/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // End-to-end files start servers and workers against the one local Redis;
    // files run in parallel but each test uses its own key prefix.
    pool: 'forks',
  },
});
