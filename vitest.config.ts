import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts', 'src/**/*.test.ts'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // Kernel tests create network namespaces; keep files from racing on the same host resources.
    pool: 'forks',
  },
});
