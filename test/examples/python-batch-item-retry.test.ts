import { afterEach, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import { describePython, runClient, useBatchFile, useLiveSignet } from './support.js';

// One md5 per Carbon Black request (no batching), so failNext: 1 fails exactly one item of two.
const signet = useLiveSignet({ CB_RETRIES: '0', CB_BREAKER_THRESHOLD: '100', CB_BATCH_MAX_HASHES: '1' });
const batchFile = useBatchFile();
afterEach(() => signet().stack.simulator.simulator.clearFaults());

describePython('examples/python: a batch item whose lookup failed retryably', () => {
  it('asks again for that item alone (after its retryAfterSeconds, capped) and prints every verdict', async () => {
    const { env, stack } = signet();
    // The first Carbon Black request fails: one of the two items gets a retryable 502 in its place.
    stack.simulator.simulator.setFaults({ errorStatus: 503, failNext: 1 });
    const file = batchFile([
      { md5: samples.expired.md5, name: samples.expired.name },
      { md5: samples.unsignedTool.md5, name: samples.unsignedTool.name },
    ]);
    const run = await runClient(['--max-wait', '0.2', 'batch', file], env);

    expect(run.code).toBe(0);
    const results = run.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(results.map((result) => result.md5)).toEqual([samples.expired.md5, samples.unsignedTool.md5]);
    for (const result of results) {
      expect(result).not.toHaveProperty('error');
      expect(['signed', 'unsigned']).toContain(result.verdict);
    }
    expect(run.stderr).toMatch(/1 of 2 batch items failed retryably; asking again in 0\.2 s \(attempt 2 of 4\)/);
    // Two reads for the batch, one more for the item that failed.
    expect(stack.upstreamRequests()).toBe(3);
  });
});
