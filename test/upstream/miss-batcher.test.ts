import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { MissBatcher } from '../../src/upstream/miss-batcher.js';

/**
 * Misses close together share one upstream call; each key gets its own answer.
 * Here every call seals its batch as soon as it is made (a free slot); what a
 * batch does while it waits for a slot is in miss-batcher-sealing.test.ts. Fake timers.
 */
describe('miss batcher', () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  function recording(answer: (keys: readonly string[]) => Map<string, string> | Error = (keys) => new Map(keys.map((k) => [k, `v:${k}`]))) {
    const calls: string[][] = [];
    const batcher = new MissBatcher<string>({
      maxBatch: 3,
      windowMs: 20,
      run: async (seal) => {
        const keys = seal();
        calls.push([...keys]);
        const result = answer(keys);
        if (result instanceof Error) throw result;
        return result;
      },
    });
    return { calls, batcher };
  }

  it('misses within the window share one call, each resolved with its own answer', async () => {
    const { calls, batcher } = recording();
    const a = batcher.load('a');
    await vi.advanceTimersByTimeAsync(10);
    const b = batcher.load('b');
    expect(calls).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(10);
    expect(calls).toEqual([['a', 'b']]);
    expect(await a).toBe('v:a');
    expect(await b).toBe('v:b');
  });

  it('a full batch goes at once, without waiting for the window; the next key opens a new batch', async () => {
    const { calls, batcher } = recording();
    const loads = ['a', 'b', 'c', 'd'].map((key) => batcher.load(key));
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([['a', 'b', 'c']]);
    await vi.advanceTimersByTimeAsync(20);
    expect(calls).toEqual([['a', 'b', 'c'], ['d']]);
    expect(await Promise.all(loads)).toEqual(['v:a', 'v:b', 'v:c', 'v:d']);
  });

  it('the same key twice in one batch is asked once and answers both', async () => {
    const { calls, batcher } = recording();
    const first = batcher.load('a');
    const second = batcher.load('a');
    await vi.advanceTimersByTimeAsync(20);
    expect(calls).toEqual([['a']]);
    expect([await first, await second]).toEqual(['v:a', 'v:a']);
  });

  it('a key the call has no answer for resolves undefined', async () => {
    const { batcher } = recording(() => new Map([['a', 'found']]));
    const a = batcher.load('a');
    const b = batcher.load('b');
    await vi.advanceTimersByTimeAsync(20);
    expect(await a).toBe('found');
    expect(await b).toBeUndefined();
  });

  it('a failed call rejects every key of its batch, and only that batch', async () => {
    const failure = new Error('upstream down');
    let fail = true;
    const { batcher } = recording((keys) => (fail ? failure : new Map(keys.map((k) => [k, k]))));
    const a = batcher.load('a').catch((error: unknown) => error);
    const b = batcher.load('b').catch((error: unknown) => error);
    await vi.advanceTimersByTimeAsync(20);
    expect(await a).toBe(failure);
    expect(await b).toBe(failure);
    fail = false;
    const c = batcher.load('c');
    await vi.advanceTimersByTimeAsync(20);
    expect(await c).toBe('c');
  });

  it('a window of 0 still batches what arrives in the same tick, and a lone miss waits only one timer turn', async () => {
    const calls: string[][] = [];
    const batcher = new MissBatcher<string>({ maxBatch: 50, windowMs: 0, run: async (seal) => (calls.push([...seal()]), new Map()) });
    void batcher.load('a');
    void batcher.load('b');
    await vi.advanceTimersByTimeAsync(0);
    expect(calls).toEqual([['a', 'b']]);
  });

  it('reports each batch size', async () => {
    const sizes: number[] = [];
    const batcher = new MissBatcher<string>({
      maxBatch: 2,
      windowMs: 5,
      run: async (seal) => (seal(), new Map()),
      onBatch: (size) => sizes.push(size),
    });
    for (const key of ['a', 'b', 'c']) void batcher.load(key);
    await vi.advanceTimersByTimeAsync(5);
    expect(sizes).toEqual([2, 1]);
  });

  it('refuses a batch size below 1 or a negative window', () => {
    const run = async () => new Map<string, string>();
    expect(() => new MissBatcher({ maxBatch: 0, windowMs: 1, run })).toThrow(RangeError);
    expect(() => new MissBatcher({ maxBatch: 1, windowMs: -1, run })).toThrow(RangeError);
  });
});
