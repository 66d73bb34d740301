import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { CarbonBlackError } from '../../src/backends/errors.js';
import { backoffDelayMs } from '../../src/upstream/backoff.js';
import { createGuardedUpstream, type GuardedUpstream } from '../../src/upstream/guarded-upstream.js';
import { FakeUpstream, cbError, flush, guardOptions, scripted, serverError, track } from './support/fake-upstream.js';

describe('retries and backoff', () => {
  let guard: GuardedUpstream | undefined;

  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    guard?.dispose();
    guard = undefined;
    vi.useRealTimers();
  });

  it('503 twice then success: 3 calls, resolves with the value', async () => {
    const options = guardOptions({ retries: 2 });
    guard = createGuardedUpstream(options);
    const fake = scripted([serverError(503), serverError(503), true]);
    const result = track(guard.run(fake.call));
    await vi.runAllTimersAsync();
    expect(result.value).toBe(true);
    expect(fake.signals).toHaveLength(3);
    expect(options.events.filter((e) => e.type === 'retry')).toEqual([
      { type: 'retry', attempt: 2, delayMs: 0, code: 'CB_SERVER_ERROR', upstreamStatus: 503 },
      { type: 'retry', attempt: 3, delayMs: 0, code: 'CB_SERVER_ERROR', upstreamStatus: 503 },
    ]);
  });

  it('gives up after `retries` retries and rejects with the last CarbonBlackError unchanged', async () => {
    guard = createGuardedUpstream(guardOptions({ retries: 2 }));
    const last = serverError(504);
    const fake = scripted([serverError(503), serverError(502), last, true]);
    const result = track(guard.run(fake.call));
    await vi.runAllTimersAsync();
    expect(fake.signals).toHaveLength(3);
    expect(result.error).toBe(last);
  });

  it('retries: 0 makes exactly one attempt', async () => {
    guard = createGuardedUpstream(guardOptions({ retries: 0 }));
    const fake = scripted([serverError(503), true]);
    const result = track(guard.run(fake.call));
    await vi.runAllTimersAsync();
    expect(fake.signals).toHaveLength(1);
    expect(result.error).toBeInstanceOf(CarbonBlackError);
  });

  it.each([
    ['CB_UNREACHABLE', undefined],
    ['CB_RATE_LIMITED', 429],
    ['CB_SERVER_ERROR', 502],
    ['CB_SERVER_ERROR', 503],
    ['CB_SERVER_ERROR', 504],
  ] as const)('retries a transient %s (%s)', async (code, status) => {
    guard = createGuardedUpstream(guardOptions());
    const fake = scripted([cbError(code, status), false]);
    const result = track(guard.run(fake.call));
    await vi.runAllTimersAsync();
    expect(fake.signals).toHaveLength(2);
    expect(result.value).toBe(false);
  });

  it.each([
    ['CB_TOKEN_REJECTED', 401],
    ['CB_TOKEN_REJECTED', 403],
    ['CB_QUERY_REJECTED', 400],
    ['CB_SERVER_ERROR', 500],
    ['CB_MALFORMED_RESPONSE', 200],
    ['CB_TIMEOUT', undefined],
    ['CB_TLS_UNTRUSTED', undefined],
    ['CB_UNEXPECTED_STATUS', 404],
  ] as const)('never retries %s (%s): one call, error passes through', async (code, status) => {
    guard = createGuardedUpstream(guardOptions());
    const error = cbError(code, status);
    const fake = scripted([error, true]);
    const result = track(guard.run(fake.call));
    await vi.runAllTimersAsync();
    expect(fake.signals).toHaveLength(1);
    expect(result.error).toBe(error);
  });

  it('never retries an error that is not a CarbonBlackError', async () => {
    guard = createGuardedUpstream(guardOptions());
    const bug = new TypeError('bug in the client');
    const fake = scripted([bug, true]);
    const result = track(guard.run(fake.call));
    await vi.runAllTimersAsync();
    expect(fake.signals).toHaveLength(1);
    expect(result.error).toBe(bug);
  });

  it('429 with Retry-After 3000 ms: the next attempt comes no earlier than 3000 ms later', async () => {
    guard = createGuardedUpstream(guardOptions({ random: () => 0.99 })); // jitter alone would be ~99 ms
    const upstream = new FakeUpstream();
    const result = track(guard.run(upstream.call()));
    await flush();
    upstream.at(0).reject(cbError('CB_RATE_LIMITED', 429, 3000));
    await flush();

    await vi.advanceTimersByTimeAsync(2999);
    expect(upstream.count).toBe(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(upstream.count).toBe(2);
    upstream.at(1).resolve(true);
    await flush();
    expect(result.value).toBe(true);
  });

  it('a Retry-After beyond the remaining deadline fails at once with that error instead of sleeping', async () => {
    const options = guardOptions({ deadlineMs: 5000 });
    guard = createGuardedUpstream(options);
    const upstream = new FakeUpstream();
    const result = track(guard.run(upstream.call()));
    await vi.advanceTimersByTimeAsync(1000);
    const rateLimited = cbError('CB_RATE_LIMITED', 429, 4500); // only 4000 ms left
    upstream.at(0).reject(rateLimited);
    await flush();

    expect(result.error).toBe(rateLimited);
    expect(upstream.count).toBe(1);
    expect(vi.getTimerCount()).toBe(0);
    expect(options.events).toContainEqual({ type: 'retry-abandoned', attempt: 1, reason: 'deadline', code: 'CB_RATE_LIMITED' });
  });

  it('waits full-jitter exponential delays drawn from the injected random source', async () => {
    const random = vi.fn(() => 0.5);
    const options = guardOptions({ retries: 3, baseBackoffMs: 100, maxBackoffMs: 2000, random });
    guard = createGuardedUpstream(options);
    const upstream = new FakeUpstream();
    const result = track(guard.run(upstream.call()));
    await flush();

    // Retry n waits floor(0.5 * 100 * 2^(n-1)) ms: 50, 100, 200.
    for (const [index, delay] of [50, 100, 200].entries()) {
      upstream.at(index).reject(serverError(503));
      await flush();
      await vi.advanceTimersByTimeAsync(delay - 1);
      expect(upstream.count).toBe(index + 1);
      await vi.advanceTimersByTimeAsync(1);
      expect(upstream.count).toBe(index + 2);
    }
    upstream.at(3).resolve(true);
    await flush();
    expect(result.value).toBe(true);
    expect(random).toHaveBeenCalledTimes(3);
    expect(options.events.filter((e) => e.type === 'retry').map((e) => e.type === 'retry' && e.delayMs)).toEqual([50, 100, 200]);
  });

  describe('backoffDelayMs', () => {
    const options = { baseMs: 100, maxMs: 2000 };

    it('is uniform in [0, base * 2^n), capped at maxMs', () => {
      expect(backoffDelayMs(0, undefined, { ...options, random: () => 0 })).toBe(0);
      expect(backoffDelayMs(0, undefined, { ...options, random: () => 0.999 })).toBe(99);
      expect(backoffDelayMs(3, undefined, { ...options, random: () => 0.999 })).toBe(799);
      expect(backoffDelayMs(10, undefined, { ...options, random: () => 0.999 })).toBe(1998);
    });

    it('never waits less than Retry-After, even beyond maxMs', () => {
      expect(backoffDelayMs(0, 3000, { ...options, random: () => 0.999 })).toBe(3000);
      expect(backoffDelayMs(4, 10, { ...options, random: () => 0.5 })).toBe(800);
    });
  });
});
