import { afterEach, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import { describePython, retryLines, runClient, useLiveSignet } from './support.js';

// CB_RETRIES 0: Signet does not retry Carbon Black itself, so each injected failure reaches the client as a retryable
// problem (502 CB_SERVER_ERROR with Retry-After 5, or 503 CB_RATE_LIMITED with Carbon Black's Retry-After).
const signet = useLiveSignet({ CB_RETRIES: '0', CB_BREAKER_THRESHOLD: '100' });
afterEach(() => signet().stack.simulator.simulator.clearFaults());

describePython('examples/python: retryable failures', () => {
  it('retries a retryable 502 three times, the waits capped by --max-wait, then prints the verdict', async () => {
    const { env, stack } = signet();
    stack.simulator.simulator.setFaults({ errorStatus: 503, failNext: 3 });
    const run = await runClient(['--max-wait', '0.2', 'lookup', samples.unsigned.md5, samples.unsigned.name], env);

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ md5: samples.unsigned.md5, verdict: 'unsigned' });
    const retries = retryLines(run);
    expect(retries).toHaveLength(3);
    for (const line of retries) {
      expect(line).toContain('502 CB_SERVER_ERROR');
      // Signet asked for 5 s; the client waited no longer than its cap.
      expect(line).toMatch(/Retry-After 5 s\); retrying in 0\.2 s/);
    }
    expect(retries.map((line) => /attempt (\d) of 4/.exec(line)?.[1])).toEqual(['2', '3', '4']);
    expect(stack.upstreamRequests()).toBe(4);
  });

  it('waits for the Retry-After Signet sends (1 s here) before asking again', async () => {
    const { env, stack } = signet();
    stack.simulator.simulator.setFaults({ errorStatus: 429, failNext: 1, retryAfterSeconds: 1 });
    const run = await runClient(['lookup', samples.python.md5, samples.python.name], env);

    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ md5: samples.python.md5, verdict: 'signed' });
    expect(retryLines(run)).toEqual([expect.stringMatching(/503 CB_RATE_LIMITED: .*Retry-After 1 s\); retrying in 1\.0 s/)]);
    expect(run.elapsedMs).toBeGreaterThanOrEqual(1000);
  });

  it('gives up after --max-attempts with exit 1 and prints no verdict', async () => {
    const { env, stack } = signet();
    stack.simulator.simulator.setFaults({ errorStatus: 503, failNext: 10 });
    const before = stack.upstreamRequests();
    const run = await runClient(
      ['--max-attempts', '2', '--max-wait', '0.1', 'lookup', samples.badSignature.md5, samples.badSignature.name],
      env,
    );

    expect(run.code).toBe(1);
    expect(run.stdout).toBe('');
    expect(retryLines(run)).toHaveLength(1);
    expect(run.stderr).toMatch(/no verdict: 502 CB_SERVER_ERROR: .*\(retryable, attempts used up\)/);
    expect(stack.upstreamRequests() - before).toBe(2);
  });
});
