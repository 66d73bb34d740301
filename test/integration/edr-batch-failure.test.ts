import { describe, expect, it } from 'vitest';
import { distinctItems, edrStack, lookUpAll } from './support/edr-batching.js';

/**
 * A batched binary search that fails gives every lookup of its batch the
 * error, never a verdict (an md5 missing from a failed answer is not
 * "unknown"), and caches nothing: the next lookups ask Carbon Black again.
 */
describe('EDR: a failed batch', () => {
  it('answers each of its 30 misses with the error, caches none, and a later lookup asks again', async () => {
    const stack = await edrStack({ env: { CB_RETRIES: '0', CB_BREAKER_THRESHOLD: '100' }, simulator: { population: 100 } });
    const sim = stack.simulator.simulator;
    const items = distinctItems(30, 100);
    sim.setFaults({ errorRate: 1, errorStatus: 500 });

    const failed = await lookUpAll(stack.app, items);
    // On an idle Signet the first miss goes alone at once; the 29 arriving with it share the next search.
    expect(sim.stats.binarySearches).toBeLessThanOrEqual(2);
    const searchesFailed = sim.stats.binarySearches;
    for (const answer of failed) {
      expect(answer.status).toBe(502);
      expect(answer.body).toMatchObject({ code: 'CB_SERVER_ERROR' });
      expect(answer.body).not.toHaveProperty('verdict');
    }
    expect(stack.app.signatures.stats().size).toBe(0);

    sim.clearFaults();
    const answered = await lookUpAll(stack.app, items);
    expect(sim.stats.binarySearches).toBeGreaterThan(searchesFailed);
    expect(sim.stats.binarySearches).toBeLessThanOrEqual(2 * searchesFailed);
    expect(answered.every((answer) => answer.status === 200 && (answer.body['cache'] as { status: string }).status === 'miss')).toBe(true);
  });
});
