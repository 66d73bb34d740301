import { Agent, type Dispatcher } from 'undici';
import { describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createCarbonBlackClient } from '../../src/backends/edr/client.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { samples } from '../../src/simulator/fixtures.js';
import { populationIsSigned } from '../../src/simulator/population.js';
import { distinctItems, edrStack } from './support/edr-batching.js';

/**
 * A batch of 100 md5s makes a binary-search URL of about 4 KiB: Signet sends
 * it as `POST /api/v1/binary` with the JSON body, and the simulator's answer
 * gives each of the 100 its right verdict.
 */
async function until(condition: () => boolean): Promise<void> {
  const deadline = Date.now() + 5000;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
}

describe('EDR: a full batch of 100 md5s goes as one POST', () => {
  it('100 misses in one batch request: one POST search, every verdict right', async () => {
    const requests: Array<{ method: string; path: string }> = [];
    const recorder: Dispatcher.DispatcherComposeInterceptor = (dispatch) => (options, handler) => {
      requests.push({ method: options.method, path: options.path });
      return dispatch(options, handler);
    };
    const dispatcher = new Agent().compose(recorder);
    // The window is long enough for all 100 items of the request to join one batch.
    const env = { CB_BATCH_MAX_HASHES: '100', CB_BATCH_WINDOW_MS: '200' };
    const stack = await edrStack({ env, simulator: { population: 200, latencyMs: 300 } });
    const carbonBlack = createCarbonBlackClient({
      baseUrl: stack.config.carbonBlack.url,
      token: stack.config.carbonBlack.token!,
      joinField: 'digsig_prog_name',
      timeoutMs: 3000,
      dispatcher,
    });
    // A Signet of its own, on the stack's simulator, whose client records every request it sends.
    const signet = await buildApp(stack.config, { carbonBlack, metrics: createMetrics({ defaultMetrics: false }) });
    try {
      // One lookup out first: the guard is busy, so the 100 misses collect in one batch rather than the first going alone.
      const first = signet.inject({ url: `/v1/signatures/${samples.signed.md5}?name=${samples.signed.name}` });
      await until(() => stack.simulator.simulator.stats.inFlight === 1);
      const items = distinctItems(100, 200);
      const response = await signet.inject({ method: 'POST', url: '/v1/signatures/batch', payload: { items } });
      expect((await first).statusCode).toBe(200);
      expect(response.statusCode).toBe(200);
      const { results } = response.json<{ results: Array<{ md5: string; verdict: string; signed: boolean }> }>();

      expect(requests.map((request) => request.method)).toEqual(['GET', 'POST']);
      expect(requests[1]?.path).toBe('/api/v1/binary');
      expect(stack.simulator.simulator.stats.binarySearches).toBe(2);
      expect(stack.simulator.simulator.stats.binaryQueries[1]?.split(' OR ')).toHaveLength(100);
      results.forEach((result, k) => {
        expect(result.md5).toBe(items[k]!.md5);
        if (k % 10 === 9) expect(result.verdict).toBe('unknown');
        else expect(result.signed).toBe(populationIsSigned(k));
      });
    } finally {
      await signet.close();
      await carbonBlack.close();
    }
  });
});
