import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Integration tests start real servers on loopback; give them room on a 2-core machine.
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
      // A little under what the suite reached when the gate was set (92.7 / 90.5 / 93.7 / 93.5 %),
      // so that a change which drops tested code fails CI. Raise them as the suite grows.
      thresholds: { statements: 91, branches: 89, functions: 92, lines: 92 },
    },
  },
});
