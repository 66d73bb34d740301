import { describe, expect, it, vi } from 'vitest';
import { batchedGuardPerTest } from './support/batched-guard.js';
import { flush, track } from './support/fake-upstream.js';

/**
 * A batch is sealed when the guard grants it a slot, not when its window
 * closes: while it waits in the queue it keeps taking misses, up to maxBatch;
 * a full batch takes no more and the next miss opens a new one. One slot
 * (maxConcurrency 1), held by the first call until the test answers it.
 */
describe('miss batcher: a batch seals when its slot is granted', () => {
  const newBatchedGuard = batchedGuardPerTest();

  it('misses that arrive while the batch waits for a slot join it; one arriving after the seal opens the next batch', async () => {
    const { batcher, calls, sizes, answer } = newBatchedGuard({ maxBatch: 50, windowMs: 2 });
    const first = track(batcher.load('a'));
    await vi.advanceTimersByTimeAsync(2);
    expect(calls.map((call) => call.keys)).toEqual([['a']]);

    // The slot is busy: this batch's window ends, it queues, and keeps taking keys.
    const queued = ['b', 'c'].map((key) => track(batcher.load(key)));
    await vi.advanceTimersByTimeAsync(10);
    const late = ['d', 'e'].map((key) => track(batcher.load(key)));
    await vi.advanceTimersByTimeAsync(10);
    expect(calls).toHaveLength(1);

    answer(0);
    await flush();
    // The slot went to the waiting batch: every key that reached it before then, in arrival order.
    expect(calls.map((call) => call.keys)).toEqual([['a'], ['b', 'c', 'd', 'e']]);
    expect(first.value).toBe('v:a');

    // Sealed: a new miss does not join the running call.
    const after = track(batcher.load('f'));
    await vi.advanceTimersByTimeAsync(2);
    answer(1);
    await flush();
    expect(calls.map((call) => call.keys)).toEqual([['a'], ['b', 'c', 'd', 'e'], ['f']]);
    answer(2);
    await flush();
    expect([...queued, ...late, after].map((load) => load.value)).toEqual(['v:b', 'v:c', 'v:d', 'v:e', 'v:f']);
    expect(sizes).toEqual([1, 4, 1]);
  });

  it('a full batch takes no more keys: under a busy slot 8 misses make batches of 3, 3 and 2, each asked once', async () => {
    const { guard, batcher, calls, answer } = newBatchedGuard({ maxBatch: 3, windowMs: 2 }, { maxConcurrency: 1 });
    const blocker = track(batcher.load('busy'));
    await vi.advanceTimersByTimeAsync(2);
    expect(calls).toHaveLength(1);

    const keys = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h'];
    const loads = keys.map((key) => track(batcher.load(key)));
    await vi.advanceTimersByTimeAsync(50);
    // Two full batches queued at once, without their window; the third queued after its window.
    expect(guard.queued).toBe(3);

    for (let index = 0; index < 4; index++) {
      answer(index);
      await flush();
    }
    expect(calls.map((call) => call.keys)).toEqual([['busy'], ['a', 'b', 'c'], ['d', 'e', 'f'], ['g', 'h']]);
    expect(calls.every((call) => call.keys.length <= 3)).toBe(true);
    expect(blocker.value).toBe('v:busy');
    expect(loads.map((load) => load.value)).toEqual(keys.map((key) => `v:${key}`));
  });

  it('the same key twice while the batch queues is asked once and answers both', async () => {
    const { batcher, calls, answer } = newBatchedGuard({ maxBatch: 50, windowMs: 2 });
    track(batcher.load('busy'));
    await vi.advanceTimersByTimeAsync(2);
    const one = track(batcher.load('a'));
    await vi.advanceTimersByTimeAsync(5);
    const two = track(batcher.load('a'));
    answer(0);
    await flush();
    expect(calls[1]?.keys).toEqual(['a']);
    answer(1);
    await flush();
    expect([one.value, two.value]).toEqual(['v:a', 'v:a']);
  });
});
