import { describe, expect, it, vi } from 'vitest';
import { batchedGuardPerTest } from './support/batched-guard.js';
import { flush, track } from './support/fake-upstream.js';

/**
 * On an idle service a lone miss waits for company at most the window; not at
 * all with batching off, nor with the idle check EDR uses (nothing in flight
 * or queued), which still batches what follows while a request is out.
 */
describe('miss batcher: a lone miss waits at most the window', () => {
  const newBatchedGuard = batchedGuardPerTest();

  it('with a 2 ms window the request starts at 2 ms, not before', async () => {
    const { batcher, calls, answer } = newBatchedGuard({ maxBatch: 50, windowMs: 2 }, { maxConcurrency: 8 });
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
    const { batcher, calls } = newBatchedGuard({ maxBatch: 1, windowMs: 20 }, { maxConcurrency: 8 });
    track(batcher.load('a'));
    track(batcher.load('b'));
    await flush();
    expect(calls.map((call) => call.keys)).toEqual([['a'], ['b']]);
    expect(vi.getTimerCount()).toBe(2); // the two lookups' deadline timers, no window
  });

  it('with the idle check a lone miss on an idle guard starts at once; misses while it is out wait the window and share a batch', async () => {
    const { batcher, calls, answer } = newBatchedGuard({ maxBatch: 50, windowMs: 2, idleFastPath: true }, { maxConcurrency: 8 });
    const lone = track(batcher.load('a'));
    await flush();
    expect(calls.map((call) => call.keys)).toEqual([['a']]);

    // A request is out: the guard is not idle, so the next misses collect for the window.
    const next = ['b', 'c'].map((key) => track(batcher.load(key)));
    await vi.advanceTimersByTimeAsync(1);
    expect(calls).toHaveLength(1);
    await vi.advanceTimersByTimeAsync(1);
    expect(calls.map((call) => call.keys)).toEqual([['a'], ['b', 'c']]);
    answer(0);
    answer(1);
    await flush();
    expect([lone, ...next].map((load) => load.value)).toEqual(['v:a', 'v:b', 'v:c']);
  });
});
