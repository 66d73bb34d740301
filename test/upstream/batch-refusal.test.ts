import { describe, expect, it, vi } from 'vitest';
import { UpstreamOverloadedError, UpstreamUnavailableError } from '../../src/upstream/guarded-upstream.js';
import { batchedGuardPerTest } from './support/batched-guard.js';
import { flush, serverError, track } from './support/fake-upstream.js';

/**
 * A guard refusal before the batch's call ever started (queue full, breaker
 * open) fails exactly that batch's waiters, every one of them, and no other
 * batch; the next miss opens a fresh batch.
 */
describe('miss batcher: a refused batch fails its own waiters only', () => {
  const newBatchedGuard = batchedGuardPerTest();

  it('queue full: the refused batch rejects all its keys, the running batch still answers', async () => {
    const { batcher, calls, sizes, answer } = newBatchedGuard({ maxBatch: 50, windowMs: 2 }, { maxConcurrency: 1, maxQueue: 0 });
    const running = ['a', 'b'].map((key) => track(batcher.load(key)));
    await vi.advanceTimersByTimeAsync(2);
    expect(calls).toHaveLength(1);

    const refused = ['c', 'd', 'd'].map((key) => track(batcher.load(key)));
    await vi.advanceTimersByTimeAsync(2);
    expect(refused.every((load) => load.error instanceof UpstreamOverloadedError)).toBe(true);
    expect(running.some((load) => load.settled)).toBe(false);

    answer(0);
    await flush();
    expect(running.map((load) => load.value)).toEqual(['v:a', 'v:b']);
    // Nothing of the refused batch was sent or counted; a later miss of the same key starts afresh.
    expect(calls).toHaveLength(1);
    expect(sizes).toEqual([2]);
    const again = track(batcher.load('c'));
    await vi.advanceTimersByTimeAsync(2);
    answer(1);
    await flush();
    expect(again.value).toBe('v:c');
  });

  it('breaker open while a batch queues: that batch, keys that joined it while queued included, is refused', async () => {
    const { batcher, calls } = newBatchedGuard({ maxBatch: 50, windowMs: 2 }, { maxConcurrency: 1, retries: 0, breakerThreshold: 1 });
    const failing = track(batcher.load('a'));
    await vi.advanceTimersByTimeAsync(2);
    const early = track(batcher.load('b'));
    await vi.advanceTimersByTimeAsync(2);
    const joined = track(batcher.load('c'));
    calls[0]!.reject(serverError(500));
    await flush();
    expect(failing.error).toMatchObject({ code: 'CB_SERVER_ERROR' });
    expect(early.error).toBeInstanceOf(UpstreamUnavailableError);
    expect(joined.error).toBeInstanceOf(UpstreamUnavailableError);
    expect(calls).toHaveLength(1);
  });
});
