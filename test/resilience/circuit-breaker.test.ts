import { requestCount } from '../support/stack.js';
import { describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import { populationMd5, populationName } from '../../src/simulator/population.js';
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
    // One md5 per request: batched, misses arriving together would all ride in the one trial request.
    const stack = await faultStack({ env: { ...env, CB_BATCH_MAX_HASHES: '1' } });
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

/** Deterministic [0, 1) source (mulberry32), so the simulator's fault draws repeat run to run. */
function seeded(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Breaker openings so far, from the app's own metrics (the guard's breaker-state events). */
async function openings(stack: Stack): Promise<number> {
  const text = (await stack.app.inject('/metrics')).body;
  const line = text.split('\n').find((l) => l.startsWith('signet_circuit_breaker_transitions_total') && l.includes('"open"'));
  return line === undefined ? 0 : Number(line.split(' ').pop());
}

const POPULATION = 2000;
const lookupEntry = (stack: Stack, i: number) => lookup(stack, populationMd5(i), populationName(i));

describe('circuit breaker: flakiness versus outage (lookups counted, not attempts)', () => {
  // Production breaker rule (5 failed lookups in a row, or >= 50 % of >= 20 lookups in 30 s);
  // short timeouts so a hang costs 400 ms.
  const flakyEnv = { CB_TIMEOUT_MS: '400', CB_DEADLINE_MS: '3000', CB_RETRIES: '2', CB_BREAKER_COOLDOWN_MS: '500' };

  it('a flaky Carbon Black (20 % 503, 1 % hang) never opens the breaker and >= 98 % of lookups succeed', async () => {
    const stack = await faultStack({ env: flakyEnv, simulator: { population: POPULATION, random: seeded(7) } });
    const sim = stack.simulator.simulator;
    sim.setFaults({ errorRate: 0.2, errorStatus: 503, hangRate: 0.01 });
    const LOOKUPS = 300;
    const codes = new Map<string, number>();
    let ok = 0;
    let sawOpen = false;
    for (let i = 0; i < LOOKUPS; i++) {
      const response = await lookupEntry(stack, i);
      if (response.statusCode === 200) ok++;
      else {
        const code = problemOf(response).code;
        codes.set(code, (codes.get(code) ?? 0) + 1);
      }
      if (stack.app.upstream.breakerState !== 'closed') sawOpen = true;
    }
    const attempts = requestCount(sim.stats);
    console.info(
      `flaky: ${ok}/${LOOKUPS} lookups ok (${((100 * ok) / LOOKUPS).toFixed(1)} %), ${attempts} requests, failures ${JSON.stringify(Object.fromEntries(codes))}, openings ${await openings(stack)}`,
    );
    // The faults really fired: well over the 5 failed attempts that used to open it.
    expect(attempts - LOOKUPS).toBeGreaterThan(40);
    expect(codes.get('UPSTREAM_BREAKER_OPEN') ?? 0).toBe(0);
    expect(sawOpen).toBe(false);
    expect(await openings(stack)).toBe(0);
    expect(ok / LOOKUPS).toBeGreaterThanOrEqual(0.98);
  });

  it('an outage (every request 503) opens it within the threshold; then lookups fail fast without reaching Carbon Black; recovery closes it', async () => {
    const stack = await faultStack({ env: flakyEnv, simulator: { population: POPULATION } });
    const sim = stack.simulator.simulator;
    sim.setFaults({ errorRate: 1, errorStatus: 503 });
    let failedLookups = 0;
    while (stack.app.upstream.breakerState === 'closed') {
      const response = await lookupEntry(stack, failedLookups);
      expect(problemOf(response).code).toBe('CB_SERVER_ERROR');
      failedLookups++;
      if (failedLookups > 5) break;
    }
    // CB_BREAKER_THRESHOLD (5) failed lookups, each after its 3 attempts.
    expect(failedLookups).toBe(5);
    expect(stack.app.upstream.breakerState).toBe('open');
    expect(requestCount(sim.stats)).toBe(15);

    const before = requestCount(sim.stats);
    const started = performance.now();
    for (let i = 100; i < 150; i++) {
      const refused = await lookupEntry(stack, i);
      expect(refused.statusCode).toBe(503);
      expect(problemOf(refused).code).toBe('UPSTREAM_BREAKER_OPEN');
    }
    const elapsedMs = performance.now() - started;
    expect(requestCount(sim.stats)).toBe(before);
    expect(await openings(stack)).toBe(1);
    console.info(
      `outage: opened after ${failedLookups} lookups / ${before} requests; 50 refusals in ${elapsedMs.toFixed(0)} ms, none sent`,
    );

    sim.clearFaults();
    await sleep(600);
    expect((await lookupEntry(stack, 200)).statusCode).toBe(200);
    expect(stack.app.upstream.breakerState).toBe('closed');
    expect(requestCount(sim.stats)).toBe(before + 1);
    for (let i = 201; i < 211; i++) expect((await lookupEntry(stack, i)).statusCode).toBe(200);
    expect(await openings(stack)).toBe(1);
  });

  it('a partial outage that breaks every streak opens it on the failure rate', async () => {
    const stack = await faultStack({
      env: { ...flakyEnv, CB_RETRIES: '0', CB_BREAKER_THRESHOLD: '1000', CB_BREAKER_MIN_CALLS: '20', CB_BREAKER_FAILURE_RATE: '50' },
      simulator: { population: POPULATION },
    });
    const sim = stack.simulator.simulator;
    let i = 0;
    // fail, fail, succeed, ...: 67 % failed, never more than 2 in a row.
    while (stack.app.upstream.breakerState === 'closed' && i < 100) {
      sim.setFaults({ failNext: i % 3 === 2 ? 0 : 1 });
      await lookupEntry(stack, i);
      i++;
    }
    expect(stack.app.upstream.breakerState).toBe('open');
    // Opened by the 20th lookup (the minimum), not before.
    expect(i).toBe(20);
  });
});
