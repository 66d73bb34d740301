import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    environment: 'node',
    // Integration tests start real servers on loopback; give them room on a 2-core machine.
    testTimeout: 20_000,
    hookTimeout: 20_000,
    pool: 'forks',
    // Node 22.23.3 (V8 12.4) was measured computing wrong results in the simulator's hot scan loops while
    // Turbofan compiled them on its background thread: 6 of 8 loaded runs of the population test miscounted
    // (0 of 16 on Node 24). With concurrent recompilation off, 1 of 56 still failed; with concurrent OSR off
    // too, 0 of 24. The README's "Runtime on Node 22" says the same to operators.
    ...(process.versions.node.startsWith('22.') && { execArgv: ['--no-concurrent-recompilation', '--no-concurrent-osr'] }),
    coverage: {
      provider: 'v8',
      include: ['src/**/*.ts'],
      reporter: ['text-summary', 'json-summary'],
      reportsDirectory: 'coverage',
      // A little under what the suite reaches (91.7 / 89.8 / 91.4 / 92.5 %), so that a change which drops
      // tested code fails CI. server.ts and logger.ts's exit path run only in the child processes of the
      // shutdown tests, which coverage does not instrument; they lowered the figures when they grew.
      thresholds: { statements: 91, branches: 89, functions: 91, lines: 92 },
    },
  },
});
