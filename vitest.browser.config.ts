import { defineConfig } from 'vitest/config';

/** `npm run test:browser`: Swagger UI driven in Debian's Chromium (see .ci/run for the install). */
export default defineConfig({
  test: {
    include: ['test/browser/**/*.browser.ts'],
    environment: 'node',
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
  },
});
