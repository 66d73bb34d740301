import { requestCount } from '../support/stack.js';
import { describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import type { Stack } from '../support/stack.js';
import type { VerdictBody } from './support.js';
import { batch, faultStack, lookup, problemOf, sleep, useCleanup } from './support.js';

useCleanup();

// Long enough that the fail-fast checks right after opening cannot race the cooldown on a busy machine.
const COOLDOWN_MS = 800;
const env = { CB_BREAKER_THRESHOLD: '3', CB_RETRIES: '0', CB_BREAKER_COOLDOWN_MS: String(COOLDOWN_MS) };
const failing = [samples.signed, samples.python, samples.unsigned] as const;

async function readiness(stack: Stack): Promise<{ statusCode: number; breaker: string }> {
  const response = await stack.app.inject('/readyz');
  return { statusCode: response.statusCode, breaker: response.json<{ carbonBlack: { breaker: string } }>().carbonBlack.breaker };
}

/** Three failing lookups (one request each with CB_RETRIES 0) open the breaker. */
async function openBreaker(stack: Stack): Promise<void> {
  const sim = stack.simulator.simulator;
  sim.setFaults({ errorRate: 1, errorStatus: 503 });
  for (const sample of failing) {
    const failed = await lookup(stack, sample.md5, sample.name);
    expect(problemOf(failed).code).toBe('CB_SERVER_ERROR');
  }
  expect(requestCount(sim.stats)).toBe(3);
}

describe('circuit breaker', () => {
  it('opens after CB_BREAKER_THRESHOLD failures, fails fast without asking Carbon Black, and one trial after the cooldown closes it', async () => {
    const stack = await faultStack({ env });
    const sim = stack.simulator.simulator;
    expect(await readiness(stack)).toEqual({ statusCode: 200, breaker: 'closed' });

    await openBreaker(stack);
    expect(stack.app.upstream.breakerState).toBe('open');

    const refused = await lookup(stack, samples.unsignedTool.md5, samples.unsignedTool.name);
    expect(refused.statusCode).toBe(503);
    expect(problemOf(refused)).toMatchObject({ status: 503, code: 'UPSTREAM_BREAKER_OPEN', title: 'Carbon Black is unavailable' });
    // The remaining cooldown (under 800 ms), rounded up to whole seconds.
    expect(refused.headers['retry-after']).toBe('1');
    expect(requestCount(sim.stats)).toBe(3);
    expect(stack.app.signatures.stats().size).toBe(0);

    // Still ready: the cache keeps serving, so taking the pod out of rotation would only make things worse.
    expect(await readiness(stack)).toEqual({ statusCode: 200, breaker: 'open' });

    sim.clearFaults();
    // Before the cooldown, even a healthy Carbon Black is not asked.
    expect(problemOf(await lookup(stack, samples.unsignedTool.md5, samples.unsignedTool.name)).code).toBe('UPSTREAM_BREAKER_OPEN');
    expect(requestCount(sim.stats)).toBe(3);

    await sleep(COOLDOWN_MS + 100);
    const trial = await lookup(stack, samples.unsignedTool.md5, samples.unsignedTool.name);
    expect(trial.statusCode).toBe(200);
    expect(trial.json<VerdictBody>()).toMatchObject({ md5: samples.unsignedTool.md5, cache: { status: 'miss' } });
    expect(requestCount(sim.stats)).toBe(4);
    expect(await readiness(stack)).toEqual({ statusCode: 200, breaker: 'closed' });

    // Closed again: every lookup goes through.
    const after = await lookup(stack, samples.signed.md5, samples.signed.name);
    expect(after.json<VerdictBody>()).toMatchObject({ signed: true, cache: { status: 'miss' } });
    expect(requestCount(sim.stats)).toBe(5);
    expect(stack.app.signatures.stats().size).toBe(2);
  });

  it('a failed trial reopens it for another cooldown', async () => {
    const stack = await faultStack({ env });
    const sim = stack.simulator.simulator;
    await openBreaker(stack);

    await sleep(COOLDOWN_MS + 100);
    const trial = await lookup(stack, samples.unsignedTool.md5, samples.unsignedTool.name);
    expect(problemOf(trial).code).toBe('CB_SERVER_ERROR');
    expect(requestCount(sim.stats)).toBe(4);
    expect((await readiness(stack)).breaker).toBe('open');
    expect(problemOf(await lookup(stack, samples.unsignedTool.md5, samples.unsignedTool.name)).code).toBe('UPSTREAM_BREAKER_OPEN');
    expect(requestCount(sim.stats)).toBe(4);

    sim.clearFaults();
    await sleep(COOLDOWN_MS + 100);
    expect((await lookup(stack, samples.unsignedTool.md5, samples.unsignedTool.name)).statusCode).toBe(200);
    expect((await readiness(stack)).breaker).toBe('closed');
  });

  it('after the cooldown exactly one trial goes out; lookups arriving during it fail fast instead of piling on', async () => {
    const stack = await faultStack({ env });
    const sim = stack.simulator.simulator;
    await openBreaker(stack);
    sim.clearFaults();
    // A slow trial, so the others arrive while it runs.
    sim.setFaults({ latencyMs: 300 });
    await sleep(COOLDOWN_MS + 100);

    const concurrent = [samples.signed, samples.unsignedTool, samples.codeHelper, samples.powershell, samples.tricky];
    const responses = await Promise.all(concurrent.map((sample) => lookup(stack, sample.md5, sample.name)));
    // Whichever arrived first was the trial; the rest were refused while it ran.
    const trials = responses.filter((r) => r.statusCode === 200);
    const refused = responses.filter((r) => r.statusCode !== 200);
    expect(trials).toHaveLength(1);
    expect(refused).toHaveLength(4);
    for (const response of refused) {
      expect(response.statusCode).toBe(503);
      expect(problemOf(response).code).toBe('UPSTREAM_BREAKER_OPEN');
      expect(response.headers['retry-after']).toBe('1');
    }
    expect(requestCount(sim.stats)).toBe(4);
    expect(sim.stats.peakInFlight).toBe(1);
    expect((await readiness(stack)).breaker).toBe('closed');
  });

  it('while open, a batch reports every uncached item as UPSTREAM_BREAKER_OPEN and still answers cached ones', async () => {
    const stack = await faultStack({ env });
    const sim = stack.simulator.simulator;
    // One verdict cached before the trouble starts.
    expect((await lookup(stack, samples.codeHelper.md5, samples.codeHelper.name)).statusCode).toBe(200);
    sim.resetStats();
    await openBreaker(stack);

    const response = await batch(stack, [
      { md5: samples.codeHelper.md5, name: samples.codeHelper.name },
      { md5: samples.unsignedTool.md5, name: samples.unsignedTool.name },
    ]);
    expect(response.statusCode).toBe(200);
    const { results } = response.json<{ results: Array<Record<string, unknown>> }>();
    expect(results[0]).toMatchObject({ md5: samples.codeHelper.md5, signed: true, cache: { status: 'hit' } });
    expect(results[1]).toMatchObject({ md5: samples.unsignedTool.md5, error: { status: 503, code: 'UPSTREAM_BREAKER_OPEN' } });
    expect(requestCount(sim.stats)).toBe(3);
  });
});
