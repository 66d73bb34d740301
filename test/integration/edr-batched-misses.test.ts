import { describe, expect, it } from 'vitest';
import { distinctItems, edrStack, lookUpAll, verdictOf } from './support/edr-batching.js';

/**
 * EDR, binary-record over the binary search (the defaults), 8 slots and a
 * 50 ms simulator: 400 distinct misses asked at once share binary searches
 * (`md5:A OR md5:B ...`), never more than 8 open at once, and every verdict is
 * the one a Signet asking one md5 per request (CB_BATCH_MAX_HASHES=1) gives.
 */
const POPULATION = 1000;
const MISSES = 400;
const env = { CB_MAX_CONCURRENCY: '8', CB_MAX_QUEUE: '1000' };
const simulator = { population: POPULATION, latencyMs: 50 };

describe('EDR: distinct misses that arrive together share binary searches', () => {
  it('400 concurrent misses cost far fewer than 400 searches, at most 8 in flight, each verdict as one by one', async () => {
    const items = distinctItems(MISSES, POPULATION);

    const batched = await edrStack({ env, simulator });
    const batchedAnswers = await lookUpAll(batched.app, items);
    const stats = batched.simulator.simulator.stats;
    // 400 misses at up to 50 md5s a search: 8 when full; a search sealed early by a free slot adds a few.
    expect(stats.binarySearches).toBeGreaterThanOrEqual(MISSES / 50);
    expect(stats.binarySearches).toBeLessThanOrEqual(MISSES / 10);
    expect(stats.peakInFlight).toBeLessThanOrEqual(8);
    expect(batchedAnswers.every((answer) => answer.status === 200)).toBe(true);
    // Operators see it in /metrics: one observation per search, the 400 md5s across them.
    const metrics = (await batched.app.inject('/metrics')).body;
    expect(metrics).toContain(`signet_upstream_batch_hashes_count ${stats.binarySearches}`);
    expect(metrics).toContain(`signet_upstream_batch_hashes_sum ${MISSES}`);

    const single = await edrStack({ env: { ...env, CB_BATCH_MAX_HASHES: '1' }, simulator });
    const singleAnswers = await lookUpAll(single.app, items);
    expect(single.simulator.simulator.stats.binarySearches).toBe(MISSES);
    expect(single.simulator.simulator.stats.peakInFlight).toBeLessThanOrEqual(8);

    expect(batchedAnswers.map(verdictOf)).toEqual(singleAnswers.map(verdictOf));
    // The mix is real: signed, unsigned and unknown binaries all took part.
    expect(new Set(batchedAnswers.map((answer) => answer.body['verdict']))).toEqual(new Set(['signed', 'unsigned', 'unknown']));
  });
});
