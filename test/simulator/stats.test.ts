import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import { samples } from '../../src/simulator/fixtures.js';
import { createStats, MAX_RECORDED_QUERIES, recordBinaryQuery, recordQuery, resetStats } from '../../src/simulator/stats.js';
import { binarySearch, search, simulator, summary, TOKEN } from './helpers.js';

const ZERO = { processSearches: 0, binaryReads: 0, binarySearches: 0, inFlight: 0, peakInFlight: 0, queries: [], binaryQueries: [] };

let app: SimulatorInstance;
beforeEach(async () => {
  app = await simulator();
});
afterEach(async () => {
  await app.close();
});

describe('stats', () => {
  it('counts searches and records each raw q in order, GET and POST alike', async () => {
    await search(app, { q: 'process_name:git' });
    await app.inject({
      method: 'GET',
      url: `/api/v1/process?q=process_md5:${samples.signed.md5}+digsig_prog_name:git`,
      headers: { 'x-auth-token': TOKEN },
    });
    await app.inject({ method: 'POST', url: '/api/v1/process', headers: { 'x-auth-token': TOKEN }, payload: { q: ['process_name:nc'] } });
    await search(app, { q: 'broken(' });
    await app.inject({ method: 'GET', url: '/api/info', headers: { 'x-auth-token': TOKEN } });
    expect(app.simulator.stats).toMatchObject({
      processSearches: 4,
      inFlight: 0,
      peakInFlight: 1,
      queries: ['process_name:git', `process_md5:${samples.signed.md5} digsig_prog_name:git`, 'process_name:nc', 'broken('],
    });
  });

  it('peakInFlight is the number of searches open at once', async () => {
    await app.close();
    app = await simulator({ latencyMs: 500 });
    const responses = await Promise.all(Array.from({ length: 25 }, () => search(app, { q: 'process_name:git', rows: 1 })));
    expect(responses.every((r) => r.statusCode === 200)).toBe(true);
    expect(app.simulator.stats.peakInFlight).toBe(25);
    expect(app.simulator.stats.inFlight).toBe(0);
    // One after the other, the peak stays at 1.
    app.simulator.resetStats();
    for (let i = 0; i < 3; i += 1) await search(app, { q: 'process_name:git' });
    expect(app.simulator.stats.peakInFlight).toBe(1);
  });

  it('resetStats zeroes the counters in place', async () => {
    const stats = app.simulator.stats;
    await search(app, { q: 'process_name:git' });
    app.simulator.resetStats();
    expect(stats).toEqual(ZERO);
    await search(app, { q: 'process_name:nc' });
    expect(stats.queries).toEqual(['process_name:nc']);
  });

  it('is served and reset over HTTP', async () => {
    await search(app, { q: 'process_name:git' });
    const shown = await app.inject({ method: 'GET', url: '/__simulator/stats', headers: { 'x-auth-token': TOKEN } });
    expect(shown.json()).toEqual({ ...ZERO, processSearches: 1, peakInFlight: 1, queries: ['process_name:git'] });
    await summary(app, samples.signed.md5);
    await binarySearch(app, { q: 'digsig_result:Signed' });
    const again = await app.inject({ method: 'GET', url: '/__simulator/stats', headers: { 'x-auth-token': TOKEN } });
    expect(again.json()).toEqual({
      ...ZERO,
      processSearches: 1,
      binaryReads: 1,
      binarySearches: 1,
      peakInFlight: 1,
      queries: ['process_name:git'],
      binaryQueries: ['digsig_result:Signed'],
    });
    const reset = await app.inject({ method: 'POST', url: '/__simulator/stats/reset', headers: { 'x-auth-token': TOKEN } });
    expect(reset.json()).toEqual(ZERO);
    expect(app.simulator.stats.processSearches).toBe(0);
  });

  it('keeps only the last MAX_RECORDED_QUERIES queries of each kind', () => {
    const stats = createStats();
    for (let i = 0; i < MAX_RECORDED_QUERIES + 5; i += 1) recordQuery(stats, `q${i}`);
    for (let i = 0; i < MAX_RECORDED_QUERIES + 2; i += 1) recordBinaryQuery(stats, `b${i}`);
    expect(stats.queries).toHaveLength(MAX_RECORDED_QUERIES);
    expect(stats.queries[0]).toBe('q5');
    expect(stats.queries.at(-1)).toBe(`q${MAX_RECORDED_QUERIES + 4}`);
    expect(stats.binaryQueries).toHaveLength(MAX_RECORDED_QUERIES);
    expect(stats.binaryQueries[0]).toBe('b2');
    resetStats(stats);
    expect(stats.queries).toEqual([]);
    expect(stats.binaryQueries).toEqual([]);
  });
});
