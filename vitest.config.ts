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
      // A little under what the suite reached when the gate was last raised (94.0 / 91.5 / 94.7 / 94.8 %),
      // so that a change which drops tested code fails CI. Raise them as the suite grows.
      thresholds: { statements: 93, branches: 90, functions: 93, lines: 93 },
    },
  },
});
