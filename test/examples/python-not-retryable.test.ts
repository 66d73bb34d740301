import { afterEach, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import { describePython, retryLines, runClient, useLiveSignet } from './support.js';

const signet = useLiveSignet({ CB_RETRIES: '0' });
afterEach(() => signet().stack.simulator.simulator.clearFaults());

describePython('examples/python: failures that are not retryable', () => {
  it('a wrong API key (401, retryable false) is not retried: exit 1, no verdict, Carbon Black never asked', async () => {
    const { url, stack } = signet();
    const before = stack.upstreamRequests();
    const run = await runClient(['lookup', samples.signed.md5, samples.signed.name], {
      SIGNET_URL: url,
      SIGNET_API_KEY: 'not-the-right-key-at-all',
    });

    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(retryLines(run)).toEqual([]);
    expect(run.stderr).toMatch(/no verdict: 401 \w+: .*\(not retryable\)/);
    expect(stack.upstreamRequests()).toBe(before);
  });

  it("Carbon Black rejecting Signet's token (502 CB_TOKEN_REJECTED, retryable false) is asked once, not retried", async () => {
    const { env, stack } = signet();
    stack.simulator.simulator.setFaults({ errorStatus: 401, errorRate: 1 });
    const before = stack.upstreamRequests();
    const run = await runClient(['lookup', samples.codeHelper.md5, samples.codeHelper.name], env);

    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(retryLines(run)).toEqual([]);
    expect(run.stderr).toMatch(/no verdict: 502 CB_TOKEN_REJECTED: .*Retrying will not help\. \(not retryable\)/);
    expect(stack.upstreamRequests() - before).toBe(1);
  });
});
