import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createGuardedUpstream, type GuardedUpstream } from '../../src/upstream/guarded-upstream.js';
import { FakeUpstream, cbError, flush, guardOptions, scripted, serverError, track } from './support/fake-upstream.js';

/**
 * A timed-out attempt (CB_TIMEOUT from the client) is retried once per lookup,
 * and only when a whole attempt still fits before the deadline: one hang in a
 * healthy Carbon Black costs no verdict, and a hanging Carbon Black gets at
 * most two hung requests per lookup.
 */
describe('retrying a timed-out attempt', () => {
  let guard: GuardedUpstream | undefined;

  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    guard?.dispose();
    guard = undefined;
    vi.useRealTimers();
  });

  it('one timeout then an answer: 2 requests, the lookup succeeds, the timeout is reported as one', async () => {
    const options = guardOptions({ deadlineMs: 2000, attemptTimeoutMs: 500 });
    guard = createGuardedUpstream(options);
    const fake = scripted([cbError('CB_TIMEOUT'), true]);
    const result = track(guard.run(fake.call));
    await vi.runAllTimersAsync();
    expect(result.value).toBe(true);
    expect(fake.signals).toHaveLength(2);
    expect(options.events).toContainEqual(expect.objectContaining({ type: 'attempt', attempt: 1, outcome: 'timeout', code: 'CB_TIMEOUT' }));
    expect(options.events).toContainEqual(expect.objectContaining({ type: 'retry', attempt: 2, code: 'CB_TIMEOUT' }));
  });

  it('a second timeout in the same lookup is final, although retries remain', async () => {
    const options = guardOptions({ retries: 5, deadlineMs: 10_000, attemptTimeoutMs: 500 });
    guard = createGuardedUpstream(options);
    const second = cbError('CB_TIMEOUT');
    const fake = scripted([cbError('CB_TIMEOUT'), second, true]);
    const result = track(guard.run(fake.call));
    await vi.runAllTimersAsync();
    expect(result.error).toBe(second);
    expect(fake.signals).toHaveLength(2);
  });

  it('a timeout after a 503 retry still gets its one retry', async () => {
    guard = createGuardedUpstream(guardOptions({ retries: 2, deadlineMs: 5000, attemptTimeoutMs: 500 }));
    const fake = scripted([serverError(503), cbError('CB_TIMEOUT'), true]);
    const result = track(guard.run(fake.call));
    await vi.runAllTimersAsync();
    expect(result.value).toBe(true);
    expect(fake.signals).toHaveLength(3);
  });

  it('counts against CB_RETRIES like any retry: with retries 1, a 503 then a timeout ends the lookup', async () => {
    guard = createGuardedUpstream(guardOptions({ retries: 1, deadlineMs: 5000, attemptTimeoutMs: 500 }));
    const timedOut = cbError('CB_TIMEOUT');
    const fake = scripted([serverError(503), timedOut, true]);
    const result = track(guard.run(fake.call));
    await vi.runAllTimersAsync();
    expect(result.error).toBe(timedOut);
    expect(fake.signals).toHaveLength(2);
  });

  it('not retried when a whole attempt no longer fits before the deadline: ends with CB_TIMEOUT, reported as abandoned', async () => {
    const options = guardOptions({ deadlineMs: 1500, attemptTimeoutMs: 1000 });
    guard = createGuardedUpstream(options);
    const upstream = new FakeUpstream();
    const result = track(guard.run(upstream.call()));
    await flush();
    // The attempt ran its whole budget: 500 ms of the deadline remain, less than an attempt.
    await vi.advanceTimersByTimeAsync(1000);
    const timedOut = cbError('CB_TIMEOUT');
    upstream.at(0).reject(timedOut);
    await flush();
    expect(result.error).toBe(timedOut);
    expect(upstream.count).toBe(1);
    expect(options.events).toContainEqual({ type: 'retry-abandoned', attempt: 1, reason: 'deadline', code: 'CB_TIMEOUT' });
  });

  it('retried when exactly a whole attempt fits after the timeout', async () => {
    guard = createGuardedUpstream(guardOptions({ deadlineMs: 2000, attemptTimeoutMs: 1000 }));
    const upstream = new FakeUpstream();
    const result = track(guard.run(upstream.call()));
    await flush();
    await vi.advanceTimersByTimeAsync(1000);
    upstream.at(0).reject(cbError('CB_TIMEOUT'));
    await flush();
    expect(upstream.count).toBe(2);
    upstream.at(1).resolve(true);
    await flush();
    expect(result.value).toBe(true);
  });

  it('without an attempt budget to plan by, a timeout is never retried', async () => {
    const options = guardOptions({ deadlineMs: 15_000 });
    guard = createGuardedUpstream(options);
    const timedOut = cbError('CB_TIMEOUT');
    const fake = scripted([timedOut, true]);
    const result = track(guard.run(fake.call));
    await vi.runAllTimersAsync();
    expect(result.error).toBe(timedOut);
    expect(fake.signals).toHaveLength(1);
  });

  it('refuses an attempt budget below 1 ms', () => {
    expect(() => createGuardedUpstream(guardOptions({ attemptTimeoutMs: 0 }))).toThrow(RangeError);
  });
});
