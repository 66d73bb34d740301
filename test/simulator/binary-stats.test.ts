import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import { samples } from '../../src/simulator/fixtures.js';
import { binarySearch, get, search, simulator, summary, TOKEN } from './helpers.js';

let app: SimulatorInstance;
beforeEach(async () => {
  app = await simulator();
});
afterEach(async () => {
  await app.close();
});

describe('stats of binary requests', () => {
  it('counts summary reads and binary searches apart from process searches, and records binary queries', async () => {
    await summary(app, samples.signed.md5);
    await summary(app, samples.unseen.md5); // a 404 still arrived
    await summary(app, 'not-an-md5');
    await binarySearch(app, { q: `md5:${samples.signed.md5}` });
    await app.inject({
      method: 'POST',
      url: '/api/v1/binary',
      headers: { 'x-auth-token': TOKEN },
      payload: { q: ['digsig_result:Expired'] },
    });
    await binarySearch(app, { q: 'process_name:git' }); // rejected, still counted
    await binarySearch(app, {});
    await search(app, { q: 'process_name:git' });
    await get(app, `/api/v1/binary/${samples.signed.md5}`); // the download: in flight, but neither counter
    await get(app, '/api/info');
    expect(app.simulator.stats).toMatchObject({
      processSearches: 1,
      binaryReads: 3,
      binarySearches: 4,
      inFlight: 0,
      peakInFlight: 1,
      queries: ['process_name:git'],
      binaryQueries: [`md5:${samples.signed.md5}`, 'digsig_result:Expired', 'process_name:git', ''],
    });
  });

  it('does not count requests without the token', async () => {
    await app.inject({ method: 'GET', url: `/api/v1/binary/${samples.signed.md5}/summary` });
    await app.inject({ method: 'GET', url: '/api/v1/binary?q=md5:0', headers: { 'x-auth-token': 'wrong' } });
    expect(app.simulator.stats).toMatchObject({ binaryReads: 0, binarySearches: 0, peakInFlight: 0, binaryQueries: [] });
  });

  it('counts every kind of upstream request in inFlight and peakInFlight', async () => {
    await app.close();
    app = await simulator({ latencyMs: 400 });
    const requests = [
      ...Array.from({ length: 4 }, () => search(app, { q: 'process_name:git' })),
      ...Array.from({ length: 4 }, () => summary(app, samples.python.md5)),
      ...Array.from({ length: 4 }, () => binarySearch(app, { q: `md5:${samples.python.md5}` })),
      get(app, `/api/v1/binary/${samples.python.md5}`),
    ];
    const responses = await Promise.all(requests);
    expect(responses.map((r) => r.statusCode)).toEqual([...Array(12).fill(200), 404]);
    expect(app.simulator.stats).toMatchObject({ processSearches: 4, binaryReads: 4, binarySearches: 4, inFlight: 0, peakInFlight: 13 });
  });

  it('reset clears the binary counters and queries too', async () => {
    const stats = app.simulator.stats;
    await summary(app, samples.signed.md5);
    await binarySearch(app, { q: 'digsig_result:Signed' });
    app.simulator.resetStats();
    expect(stats).toMatchObject({ binaryReads: 0, binarySearches: 0, peakInFlight: 0, binaryQueries: [] });
    await binarySearch(app, { q: 'digsig_result:Unsigned' });
    expect(stats.binaryQueries).toEqual(['digsig_result:Unsigned']);
    expect(stats.binarySearches).toBe(1);
  });
});
