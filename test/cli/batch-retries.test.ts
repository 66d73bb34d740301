/**
 * `signet batch` retries what Signet calls retryable, after Retry-After, up
 * to --retries times per chunk: items whose `error.retryable` is true (here
 * Carbon Black's 429, passed on by a Signet told not to retry itself) are
 * sent again on their own; a whole request answered 503 `retryable: true` (a
 * proxy stands in for a Signet instance that is shutting down) is sent again
 * whole. A failure for good stops the run: no further request, every later
 * item carries it.
 */
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { populationEntry } from '../../src/simulator/population.js';
import type { CliStack, Proxy } from './support.js';
import { cliEnv, jsonLines, populationItems, runCli, sendProblem, startCliStack, startProxy } from './support.js';

let stack: CliStack;
let proxy: Proxy;
/** Batch requests the proxy answers 503 itself before forwarding again. */
let failBatches = 0;

beforeAll(async () => {
  // One md5 per Carbon Black request (no batching), so failNext: 2 fails exactly two items of four.
  stack = await startCliStack({ env: { CB_RETRIES: '0', CB_BATCH_MAX_HASHES: '1' }, simulator: { population: 1500 } });
  proxy = await startProxy(stack.url, (request, response) => {
    if (request.method !== 'POST' || failBatches === 0) return false;
    failBatches--;
    return sendProblem(response, 503, 'UPSTREAM_DISPOSED', true, 1);
  });
});
afterAll(async () => {
  await proxy.close();
  await stack.close();
});
beforeEach(() => {
  failBatches = 0;
  proxy.requests.length = 0;
  stack.simulator.simulator.clearFaults();
});

/** Four binaries no earlier case asked for (a cached verdict would not reach Carbon Black and its faults). */
let next = 0;
function fourItems(): { items: { md5: string; name: string }[]; input: string; verdicts: string[] } {
  const from = 1000 + 4 * next++;
  const items = populationItems(4, from);
  return {
    items,
    input: items.map((item) => JSON.stringify(item)).join('\n'),
    verdicts: items.map((_, k) => populationEntry(from + k).verdict),
  };
}

function batchSizes(): number[] {
  return proxy.requests.filter((request) => request.method === 'POST').map((request) => request.items!);
}

describe('signet batch retries retryable failures', () => {
  it('items Carbon Black rate-limited are sent again alone after their Retry-After, and get verdicts', async () => {
    const { input, verdicts } = fourItems();
    stack.simulator.simulator.setFaults({ errorStatus: 429, retryAfterSeconds: 1, failNext: 2 });
    const started = Date.now();
    const run = await runCli(['batch'], { env: cliEnv(proxy), stdin: input });
    expect(run.stderr).toMatch(/2 of 4 items failed for now; retry 1 of 3 in 1 s/);
    expect(run.status).toBe(0);
    expect(batchSizes()).toEqual([4, 2]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(jsonLines(run.stdout).map((result) => result.verdict)).toEqual(verdicts);
  });

  it('with --retries 0 those items keep their retryable errors, in place, and the exit status is 3', async () => {
    const { items, input } = fourItems();
    stack.simulator.simulator.setFaults({ errorStatus: 429, retryAfterSeconds: 1, failNext: 2 });
    const run = await runCli(['batch', '--retries', '0'], { env: cliEnv(proxy), stdin: input });
    expect(run.status).toBe(3);
    expect(batchSizes()).toEqual([4]);
    const results = jsonLines(run.stdout);
    expect(results).toHaveLength(4);
    const failed = results.filter((result) => 'error' in result);
    expect(failed).toHaveLength(2);
    for (const result of failed) {
      expect(result.error).toMatchObject({ status: 503, code: 'CB_RATE_LIMITED', retryable: true, retryAfterSeconds: 1 });
    }
    expect(results.map((result) => result.md5)).toEqual(items.map((item) => item.md5));
  });

  it('a whole request answered 503 retryable is sent again whole after Retry-After', async () => {
    const { input, verdicts } = fourItems();
    failBatches = 1;
    const started = Date.now();
    const run = await runCli(['batch'], { env: cliEnv(proxy), stdin: input });
    expect(run.status).toBe(0);
    expect(batchSizes()).toEqual([4, 4]);
    expect(Date.now() - started).toBeGreaterThanOrEqual(1000);
    expect(run.stderr).toContain('the request for 4 items failed for now (503 UPSTREAM_DISPOSED); retry 1 of 3 in 1 s');
    expect(jsonLines(run.stdout).map((result) => result.verdict)).toEqual(verdicts);
  });

  it('when the retries are spent the run stops: later chunks are not sent, every item carries the failure', async () => {
    failBatches = 100;
    const many = populationItems(1500)
      .map((item) => JSON.stringify(item))
      .join('\n');
    const run = await runCli(['batch', '--retries', '1'], { env: cliEnv(proxy), stdin: many });
    expect(run.status).toBe(3);
    // The first chunk twice, the second never.
    expect(batchSizes()).toEqual([1000, 1000]);
    const results = jsonLines(run.stdout);
    expect(results).toHaveLength(1500);
    expect(results[0]).toMatchObject({
      md5: populationEntry(0).md5,
      error: { status: 503, code: 'UPSTREAM_DISPOSED', retryable: true, retryAfterSeconds: 1 },
    });
    expect(results[1499]).toMatchObject({
      error: { code: 'UPSTREAM_DISPOSED', detail: expect.stringMatching(/^not sent, since an earlier request failed: /) },
    });
    expect(run.stderr).toMatch(/signet: batch stopped: 503 UPSTREAM_DISPOSED \(retryable, Retry-After 1 s\)/);
  });

  it('a refused key is not retried: one request, every item carries the 401, the key appears nowhere', async () => {
    const { input } = fourItems();
    const wrong = 'wrong-key-0a1b2c3d4e5f6a7b';
    const run = await runCli(['batch', '--chunk-size', '2'], { env: cliEnv(proxy, { SIGNET_API_KEY: wrong }), stdin: input });
    expect(run.status).toBe(3);
    expect(batchSizes()).toEqual([2]);
    expect(proxy.requests[0]!.authorization).toBe(`Bearer ${wrong}`);
    const results = jsonLines(run.stdout);
    expect(results).toHaveLength(4);
    for (const result of results) expect(result.error).toMatchObject({ status: 401, code: 'UNAUTHORIZED', retryable: false });
    expect(run.stdout + run.stderr).not.toContain(wrong);
  });
});
