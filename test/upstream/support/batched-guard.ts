import { afterEach, beforeEach, vi } from 'vitest';
import { createGuardedUpstream, type GuardedUpstream, type GuardOptions } from '../../../src/upstream/guarded-upstream.js';
import { MissBatcher } from '../../../src/upstream/miss-batcher.js';
import { deferred, guardOptions, type Deferred } from './fake-upstream.js';

/** One request the guard let through: the keys it sealed and the handle that settles it. */
export interface BatchCall extends Deferred<ReadonlyMap<string, string>> {
  keys: readonly string[];
}

export interface BatchedGuard {
  guard: GuardedUpstream;
  batcher: MissBatcher<string>;
  /** Every request actually started, in order. */
  calls: BatchCall[];
  /** Sizes the batcher reported (onBatch). */
  sizes: number[];
  /** Answers call `index` with `v:<key>` for each of its keys. */
  answer(index: number): void;
}

/**
 * A MissBatcher over a real guard, wired as the backends wire it: the guarded
 * call seals its batch when it starts. Each started call stays pending until
 * the test settles it, so a test decides when slots free. Fake timers.
 */
export function batchedGuard(
  batch: { maxBatch: number; windowMs: number; idleFastPath?: boolean },
  guardOverrides: Partial<GuardOptions> = {},
): BatchedGuard {
  const guard = createGuardedUpstream(guardOptions({ maxConcurrency: 1, ...guardOverrides }));
  const calls: BatchCall[] = [];
  const sizes: number[] = [];
  const batcher = new MissBatcher<string>({
    maxBatch: batch.maxBatch,
    windowMs: batch.windowMs,
    // As the EDR backend wires it: idle when the guard has nothing in flight or queued.
    ...(batch.idleFastPath === true && { idle: () => guard.inFlight === 0 && guard.queued === 0 }),
    run: (seal) =>
      guard.run(() => {
        const call: BatchCall = { ...deferred<ReadonlyMap<string, string>>(), keys: seal() };
        calls.push(call);
        return call.promise;
      }),
    onBatch: (size) => sizes.push(size),
  });
  const answer = (index: number): void => {
    const call = calls[index];
    if (call === undefined) throw new Error(`expected call #${index}, only ${calls.length} started`);
    call.resolve(new Map(call.keys.map((key) => [key, `v:${key}`])));
  };
  return { guard, batcher, calls, sizes, answer };
}

/**
 * The setup every batch-* test file shares: fake timers for each test, and a
 * `batchedGuard` maker whose guard is disposed after the test. Call it in the
 * describe block; call what it returns inside a test.
 */
export function batchedGuardPerTest(): typeof batchedGuard {
  let current: BatchedGuard | undefined;
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    current?.guard.dispose();
    current = undefined;
    vi.useRealTimers();
  });
  return (batch, guardOverrides) => (current = batchedGuard(batch, guardOverrides));
}
