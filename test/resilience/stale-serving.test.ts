import { requestCount } from '../support/stack.js';
import { describe, expect, it } from 'vitest';
import { samples } from '../../src/simulator/fixtures.js';
import type { VerdictBody } from './support.js';
import { batch, faultStack, lookup, movableClock, problemOf, useCleanup, waitFor } from './support.js';

useCleanup();

const { md5: GIT, name: GIT_NAME } = samples.signed;
const TTL_S = 60;
const STALE_IF_ERROR_S = 300;

/**
 * Stale answers over the real stack. The cache reads a movable clock
 * (AppDependencies.now), so verdicts expire without waiting; the breaker
 * and the deadline keep real time.
 */
describe('stale-if-error', () => {
  it('an expired verdict answers 200 marked stale while Carbon Black fails, until the stale-if-error window ends', async () => {
    const clock = movableClock();
    const stack = await faultStack({
      env: {
        CACHE_TTL_SIGNED_SECONDS: String(TTL_S),
        CACHE_STALE_IF_ERROR_SECONDS: String(STALE_IF_ERROR_S),
        CB_RETRIES: '0',
        CB_BREAKER_THRESHOLD: '100',
      },
      deps: { now: clock.now },
    });
    const sim = stack.simulator.simulator;
    const storedAt = new Date(clock.now()).toISOString();
    expect((await lookup(stack, GIT, GIT_NAME)).json<VerdictBody>().cache).toMatchObject({ status: 'miss', storedAt });

    clock.advance((TTL_S + 1) * 1000);
    sim.setFaults({ errorRate: 1, errorStatus: 503 });
    const stale = await lookup(stack, GIT, GIT_NAME);
    expect(stale.statusCode).toBe(200);
    expect(stale.headers['x-cache']).toBe('STALE');
    expect(stale.json<VerdictBody>()).toMatchObject({
      md5: GIT,
      signed: true,
      checkedAt: storedAt,
      cache: {
        hit: true,
        status: 'stale',
        storedAt,
        ageSeconds: TTL_S + 1,
        expiresAt: new Date(Date.parse(storedAt) + TTL_S * 1000).toISOString(),
      },
    });
    // Carbon Black was asked (and failed) before the stale verdict was served.
    expect(requestCount(sim.stats)).toBe(2);
    // The failure did not replace or drop the entry.
    expect(stack.app.signatures.stats().size).toBe(1);

    // Still inside the window at its very end.
    clock.advance((STALE_IF_ERROR_S - 1) * 1000);
    expect((await lookup(stack, GIT, GIT_NAME)).json<VerdictBody>().cache).toMatchObject({ status: 'stale', storedAt });
    expect(requestCount(sim.stats)).toBe(3);

    // Past the window: the error, not a verdict that old.
    clock.advance(1001);
    const tooOld = await lookup(stack, GIT, GIT_NAME);
    expect(tooOld.statusCode).toBe(502);
    expect(problemOf(tooOld).code).toBe('CB_SERVER_ERROR');
    expect(requestCount(sim.stats)).toBe(4);

    sim.clearFaults();
    const recovered = await lookup(stack, GIT, GIT_NAME);
    expect(recovered.statusCode).toBe(200);
    expect(recovered.headers['x-cache']).toBe('MISS');
    expect(recovered.json<VerdictBody>().cache).toMatchObject({
      status: 'miss',
      hit: false,
      storedAt: new Date(clock.now()).toISOString(),
    });
    expect(requestCount(sim.stats)).toBe(5);
    expect((await lookup(stack, GIT, GIT_NAME)).json<VerdictBody>().cache.status).toBe('hit');
  });

  it.each([
    ['a 429', { errorRate: 1, errorStatus: 429, retryAfterSeconds: 1 }],
    ['a 401', { errorRate: 1, errorStatus: 401 }],
    ['a hang', { hangRate: 1 }],
    ['a reset', { resetRate: 1 }],
    ['malformed JSON', { malformedRate: 1 }],
    ['a truncated body', { truncatedRate: 1 }],
  ] as const)('%s also falls back to the stale verdict', async (_kind, faults) => {
    const clock = movableClock();
    const stack = await faultStack({
      env: { CACHE_TTL_SIGNED_SECONDS: String(TTL_S), CB_RETRIES: '0', CB_TIMEOUT_MS: '300', CB_BREAKER_THRESHOLD: '100' },
      deps: { now: clock.now },
    });
    const sim = stack.simulator.simulator;
    await lookup(stack, GIT, GIT_NAME);
    clock.advance((TTL_S + 1) * 1000);
    sim.setFaults(faults);
    const stale = await lookup(stack, GIT, GIT_NAME);
    expect(stale.statusCode).toBe(200);
    expect(stale.headers['x-cache']).toBe('STALE');
    expect(stale.headers['retry-after']).toBeUndefined();
    expect(stale.json<VerdictBody>()).toMatchObject({ signed: true, cache: { status: 'stale' } });
    expect(requestCount(sim.stats)).toBe(2);
  });

  it('a full queue falls back to the stale verdict too, without asking Carbon Black', async () => {
    const clock = movableClock();
    const stack = await faultStack({
      env: { CACHE_TTL_SIGNED_SECONDS: String(TTL_S), CB_MAX_CONCURRENCY: '1', CB_MAX_QUEUE: '0', CB_TIMEOUT_MS: '1000' },
      deps: { now: clock.now },
    });
    const sim = stack.simulator.simulator;
    await lookup(stack, GIT, GIT_NAME);
    clock.advance((TTL_S + 1) * 1000);
    sim.setFaults({ hangRate: 1 });
    // Another md5 takes the only slot and hangs; no queue places.
    const blocker = lookup(stack, samples.python.md5, samples.python.name);
    await waitFor(() => stack.app.upstream.inFlight === 1 && sim.stats.inFlight === 1, 'the blocking lookup to hold the slot');
    expect(requestCount(sim.stats)).toBe(2);

    const stale = await lookup(stack, GIT, GIT_NAME);
    expect(stale.statusCode).toBe(200);
    expect(stale.json<VerdictBody>().cache.status).toBe('stale');
    // The stale answer cost no request: the only one besides the first load is the blocker's.
    expect(requestCount(sim.stats)).toBe(2);

    expect((await blocker).statusCode).toBe(504);
  });

  it('Cache-Control: no-cache on a failing Carbon Black falls back to the cached verdict: a hit while fresh, stale after', async () => {
    const clock = movableClock();
    const stack = await faultStack({
      env: { CACHE_TTL_SIGNED_SECONDS: String(TTL_S), CB_RETRIES: '0', CB_BREAKER_THRESHOLD: '100' },
      deps: { now: clock.now },
    });
    const sim = stack.simulator.simulator;
    await lookup(stack, GIT, GIT_NAME);
    sim.setFaults({ errorRate: 1, errorStatus: 502 });
    // Fresh, but the caller asked to skip the cache: Carbon Black fails and the cached verdict answers,
    // still fresh, so a hit with its real age (not "stale", not age 0).
    clock.advance(5000);
    const forced = await lookup(stack, GIT, GIT_NAME, { 'cache-control': 'no-cache' });
    expect(forced.statusCode).toBe(200);
    expect(forced.headers['x-cache']).toBe('HIT');
    expect(forced.json<VerdictBody>().cache).toMatchObject({ status: 'hit', ageSeconds: 5 });
    // Past its lifetime, the same fallback is stale.
    clock.advance(TTL_S * 1000);
    const expired = await lookup(stack, GIT, GIT_NAME, { 'cache-control': 'no-cache' });
    expect(expired.headers['x-cache']).toBe('STALE');
    expect(expired.json<VerdictBody>().cache.status).toBe('stale');
    expect(requestCount(sim.stats)).toBe(3);
  });

  it('while the breaker is open an expired verdict is served stale without asking Carbon Black', async () => {
    const clock = movableClock();
    const stack = await faultStack({
      env: {
        CACHE_TTL_SIGNED_SECONDS: String(TTL_S),
        CB_RETRIES: '0',
        CB_BREAKER_THRESHOLD: '2',
        CB_BREAKER_COOLDOWN_MS: '60000',
      },
      deps: { now: clock.now },
    });
    const sim = stack.simulator.simulator;
    const storedAt = new Date(clock.now()).toISOString();
    await lookup(stack, GIT, GIT_NAME);
    clock.advance((TTL_S + 5) * 1000);

    sim.setFaults({ errorRate: 1, errorStatus: 503 });
    for (const sample of [samples.python, samples.unsigned]) {
      expect(problemOf(await lookup(stack, sample.md5, sample.name)).code).toBe('CB_SERVER_ERROR');
    }
    expect(stack.app.upstream.breakerState).toBe('open');
    expect(requestCount(sim.stats)).toBe(3);

    const stale = await lookup(stack, GIT, GIT_NAME);
    expect(stale.statusCode).toBe(200);
    expect(stale.headers['x-cache']).toBe('STALE');
    expect(stale.headers['retry-after']).toBeUndefined();
    expect(stale.json<VerdictBody>()).toMatchObject({
      signed: true,
      cache: { hit: true, status: 'stale', storedAt, ageSeconds: TTL_S + 5 },
    });
    expect(requestCount(sim.stats)).toBe(3);

    // An md5 with nothing cached gets the breaker's 503, with the remaining cooldown as Retry-After.
    const uncached = await lookup(stack, samples.codeHelper.md5, samples.codeHelper.name);
    expect(uncached.statusCode).toBe(503);
    expect(problemOf(uncached).code).toBe('UPSTREAM_BREAKER_OPEN');
    expect(Number(uncached.headers['retry-after'])).toBeGreaterThan(30);
    expect(Number(uncached.headers['retry-after'])).toBeLessThanOrEqual(60);
    expect(requestCount(sim.stats)).toBe(3);
  });

  it('in a batch, an expired item answers stale and an uncached one reports its error, in place', async () => {
    const clock = movableClock();
    const stack = await faultStack({
      env: { CACHE_TTL_SIGNED_SECONDS: String(TTL_S), CB_RETRIES: '0', CB_BREAKER_THRESHOLD: '100' },
      deps: { now: clock.now },
    });
    const sim = stack.simulator.simulator;
    const storedAt = new Date(clock.now()).toISOString();
    await lookup(stack, GIT, GIT_NAME);
    clock.advance((TTL_S + 1) * 1000);
    sim.setFaults({ errorRate: 1, errorStatus: 504 });

    const response = await batch(stack, [
      { md5: GIT, name: GIT_NAME },
      { md5: samples.python.md5, name: samples.python.name },
    ]);
    expect(response.statusCode).toBe(200);
    const { results } = response.json<{ results: Array<Record<string, unknown>> }>();
    expect(results[0]).toMatchObject({ md5: GIT, signed: true, cache: { hit: true, status: 'stale', storedAt } });
    expect(results[1]).toMatchObject({ md5: samples.python.md5, error: { status: 502, code: 'CB_SERVER_ERROR' } });
    // The refresh and the miss arrived together: one failed binary search for both, or two when
    // the refresh, on an idle Signet, went alone before the miss reached the batcher.
    expect(requestCount(sim.stats)).toBeGreaterThanOrEqual(2);
    expect(requestCount(sim.stats)).toBeLessThanOrEqual(3);
  });
});

describe('stale-while-revalidate', () => {
  it('a just-expired verdict answers at once, marked stale, and one background refresh makes it fresh again', async () => {
    const clock = movableClock();
    const stack = await faultStack({
      env: { CACHE_TTL_SIGNED_SECONDS: String(TTL_S), CACHE_STALE_WHILE_REVALIDATE_SECONDS: '30' },
      // Latency makes the refresh observably slower than the stale answer.
      simulator: { latencyMs: 400 },
      deps: { now: clock.now },
    });
    const sim = stack.simulator.simulator;
    const storedAt = new Date(clock.now()).toISOString();
    await lookup(stack, GIT, GIT_NAME);
    expect(requestCount(sim.stats)).toBe(1);

    clock.advance((TTL_S + 10) * 1000);
    const stale = await lookup(stack, GIT, GIT_NAME);
    expect(stale.statusCode).toBe(200);
    expect(stale.headers['x-cache']).toBe('STALE');
    expect(stale.json<VerdictBody>()).toMatchObject({
      signed: true,
      cache: { hit: true, status: 'stale', storedAt, ageSeconds: TTL_S + 10 },
    });
    // Answered before the refresh finished: it is still running.
    expect(stack.app.signatures.lookupCached(GIT, GIT_NAME)).toBeUndefined();
    expect(requestCount(sim.stats)).toBe(1 + sim.stats.inFlight);

    // A second caller during the refresh also gets the stale verdict and joins the same refresh.
    expect((await lookup(stack, GIT, GIT_NAME)).json<VerdictBody>().cache.status).toBe('stale');

    await waitFor(() => stack.app.signatures.lookupCached(GIT, GIT_NAME) !== undefined, 'the background refresh');
    expect(requestCount(sim.stats)).toBe(2);
    const fresh = await lookup(stack, GIT, GIT_NAME);
    expect(fresh.headers['x-cache']).toBe('HIT');
    expect(fresh.json<VerdictBody>().cache).toMatchObject({ status: 'hit', storedAt: new Date(clock.now()).toISOString(), ageSeconds: 0 });
    expect(requestCount(sim.stats)).toBe(2);
  });

  it('past the revalidate window the caller waits for Carbon Black (a miss), not a stale answer', async () => {
    const clock = movableClock();
    const stack = await faultStack({
      env: { CACHE_TTL_SIGNED_SECONDS: String(TTL_S), CACHE_STALE_WHILE_REVALIDATE_SECONDS: '30' },
      deps: { now: clock.now },
    });
    await lookup(stack, GIT, GIT_NAME);
    clock.advance((TTL_S + 31) * 1000);
    const response = await lookup(stack, GIT, GIT_NAME);
    expect(response.headers['x-cache']).toBe('MISS');
    expect(response.json<VerdictBody>().cache).toMatchObject({ status: 'miss', storedAt: new Date(clock.now()).toISOString() });
    expect(requestCount(stack.simulator.simulator.stats)).toBe(2);
  });
});
