import { describe, expect, it, vi } from 'vitest';
import { batchedGuardPerTest } from './support/batched-guard.js';
import { flush, serverError, track } from './support/fake-upstream.js';

/**
 * The guard retries a failed batch with the keys it sealed at its first
 * attempt: a miss arriving while the batch backs off goes to a new batch,
 * and no key of the batch is dropped or added between attempts.
 */
describe('miss batcher: retries reuse the sealed keys', () => {
  const newBatchedGuard = batchedGuardPerTest();

  it('a 503 then a success: both attempts ask the same keys, a miss during the backoff goes alone', async () => {
    // random 0.5: the first retry waits half of the 100 ms full-jitter base, 50 ms.
    const { batcher, calls, sizes, answer } = newBatchedGuard(
      { maxBatch: 50, windowMs: 2 },
      { maxConcurrency: 2, retries: 2, random: () => 0.5 },
    );
    const loads = ['a', 'b'].map((key) => track(batcher.load(key)));
    await vi.advanceTimersByTimeAsync(2);
    expect(calls.map((call) => call.keys)).toEqual([['a', 'b']]);

    calls[0]!.reject(serverError(503));
    await flush();
    // Backing off (50 ms): the failed batch is sealed, so this miss opens its own.
    const during = track(batcher.load('c'));
    await vi.advanceTimersByTimeAsync(2);
    expect(calls.map((call) => call.keys)).toEqual([['a', 'b'], ['c']]);

    await vi.advanceTimersByTimeAsync(100);
    expect(calls.map((call) => call.keys)).toEqual([['a', 'b'], ['c'], ['a', 'b']]);
    expect(calls[2]!.keys).toBe(calls[0]!.keys);
    answer(1);
    answer(2);
    await flush();
    expect(loads.map((load) => load.value)).toEqual(['v:a', 'v:b']);
    expect(during.value).toBe('v:c');
    // One batch reported per sealed key list, not per attempt.
    expect(sizes).toEqual([2, 1]);
  });
});
