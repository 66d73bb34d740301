import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { batchedGuard, type BatchedGuard } from './support/batched-guard.js';
import { flush, track } from './support/fake-upstream.js';

/** On an idle service a lone miss waits for company at most the window, and not at all with batching off. */
describe('miss batcher: a lone miss waits at most the window', () => {
  let setup: BatchedGuard | undefined;
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    setup?.guard.dispose();
    setup = undefined;
    vi.useRealTimers();
  });

  it('with a 2 ms window the request starts at 2 ms, not before', async () => {
    setup = batchedGuard({ maxBatch: 50, windowMs: 2 }, { maxConcurrency: 8 });
    const { batcher, calls, answer } = setup;
    const lone = track(batcher.load('a'));
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.map((call) => call.keys)).toEqual([['a']]);
    answer(0);
    await flush();
    expect(lone.value).toBe('v:a');
  });

  it('with maxBatch 1 (batching off) the request starts at once, no timer at all', async () => {
    setup = batchedGuard({ maxBatch: 1, windowMs: 20 }, { maxConcurrency: 8 });
    const { batcher, calls } = setup;
    track(batcher.load('a'));
    track(batcher.load('b'));
    await flush();
    expect(calls.map((call) => call.keys)).toEqual([['a'], ['b']]);
    expect(vi.getTimerCount()).toBe(2); // the two lookups' deadline timers, no window
  });
});
