import { defineConfig } from 'vitest/config';

// `npm run test:faults`: the long fault-injection runs (real worker processes, SIGKILL).
export default defineConfig({
  test: {
    include: ['test/faults/**/*.test.ts'],
    testTimeout: 600_000,
    hookTimeout: 60_000,
    pool: 'forks',
    // One at a time: they measure, and they share the machine's two cores.
    fileParallelism: false,
  },
});
