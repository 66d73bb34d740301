import { describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import { edrStack, lookUpAll } from './support/edr-batching.js';

/** Coalescing per md5 is unchanged by batching: 1000 concurrent lookups of one uncached md5 cost one search of one md5. */
describe('EDR: one md5 asked 1000 times at once', () => {
  it('makes exactly one binary search, for that md5 alone, and gives all 1000 the same verdict', async () => {
    const stack = await edrStack({ env: { CB_MAX_CONCURRENCY: '8' }, simulator: { latencyMs: 50 } });
    const { md5, name } = samples.signed;
    const answers = await lookUpAll(
      stack.app,
      Array.from({ length: 1000 }, () => ({ md5, name })),
    );

    const stats = stack.simulator.simulator.stats;
    expect(stats.binarySearches).toBe(1);
    expect(stats.binaryQueries).toEqual([`md5:${md5.toUpperCase()}`]);
    expect(answers.every((answer) => answer.status === 200 && answer.body['signed'] === true)).toBe(true);
    const statuses = answers.map((answer) => (answer.body['cache'] as { status: string }).status);
    expect(statuses.filter((status) => status === 'miss')).toHaveLength(1);
    expect(statuses.filter((status) => status === 'coalesced')).toHaveLength(999);
  });
});
