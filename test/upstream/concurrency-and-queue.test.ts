import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { UpstreamOverloadedError, createGuardedUpstream, type GuardedUpstream } from '../../src/upstream/guarded-upstream.js';
import { SlotQueue } from '../../src/upstream/slot-queue.js';
import { FakeUpstream, flush, guardOptions, serverError, track } from './support/fake-upstream.js';

describe('concurrency and queue', () => {
  let guard: GuardedUpstream | undefined;

  beforeEach(() => {
    vi.useFakeTimers();
  });

  afterEach(() => {
    guard?.dispose();
    guard = undefined;
    vi.useRealTimers();
  });

  it('runs 1000 concurrent lookups never more than 8 at a time, and all complete', async () => {
    guard = createGuardedUpstream(guardOptions({ maxConcurrency: 8, maxQueue: 1000 }));
    const upstream = new FakeUpstream();
    const results = Array.from({ length: 1000 }, (_, i) => track(guard!.run(upstream.call(String(i)))));
    await flush();

    expect(upstream.count).toBe(8);
    expect(guard.inFlight).toBe(8);
    expect(guard.queued).toBe(992);

    // Finish whatever is executing, in rounds, until every lookup is done.
    let settledCalls = 0;
    while (settledCalls < upstream.count) {
      for (const invocation of upstream.invocations.slice(settledCalls)) invocation.resolve(true);
      settledCalls = upstream.count;
      await flush();
      expect(upstream.executing).toBeLessThanOrEqual(8);
    }

    expect(upstream.count).toBe(1000);
    expect(upstream.maxExecuting).toBe(8);
    expect(results.every((r) => r.settled && r.value === true)).toBe(true);
    expect(guard.inFlight).toBe(0);
    expect(guard.queued).toBe(0);
  });

  it('starts queued lookups in arrival order (FIFO)', async () => {
    guard = createGuardedUpstream(guardOptions({ maxConcurrency: 1 }));
    const upstream = new FakeUpstream();
    const runs = ['a', 'b', 'c', 'd'].map((label) => track(guard!.run(upstream.call(label))));
    await flush();
    for (let i = 0; i < 4; i++) {
      upstream.at(i).resolve(true);
      await flush();
    }
    expect(upstream.labels()).toEqual(['a', 'b', 'c', 'd']);
    expect(runs.every((r) => r.value === true)).toBe(true);
  });

  it('refuses at once with UpstreamOverloadedError when the queue is full, without calling', async () => {
    const options = guardOptions({ maxConcurrency: 2, maxQueue: 3 });
    guard = createGuardedUpstream(options);
    const upstream = new FakeUpstream();
    const admitted = Array.from({ length: 5 }, () => track(guard!.run(upstream.call())));
    await flush();
    expect(guard.inFlight).toBe(2);
    expect(guard.queued).toBe(3);

    const refused = track(guard.run(upstream.call('refused')));
    await flush(); // no time passes: the refusal does not wait for anything

    expect(refused.settled).toBe(true);
    expect(refused.error).toBeInstanceOf(UpstreamOverloadedError);
    expect(refused.error).toMatchObject({ code: 'UPSTREAM_QUEUE_FULL', retryAfterSeconds: 1 });
    expect(upstream.labels()).not.toContain('refused');
    expect(guard.queued).toBe(3);
    expect(options.events).toContainEqual({ type: 'rejected', reason: 'queue-full', retryAfterSeconds: 1 });
    expect(admitted.some((r) => r.settled)).toBe(false);
  });

  it('with maxQueue 0 refuses as soon as every slot is busy', async () => {
    guard = createGuardedUpstream(guardOptions({ maxConcurrency: 1, maxQueue: 0 }));
    const upstream = new FakeUpstream();
    const first = track(guard.run(upstream.call()));
    const second = track(guard.run(upstream.call()));
    await flush();
    expect(second.error).toBeInstanceOf(UpstreamOverloadedError);
    upstream.at(0).resolve(true);
    await flush();
    expect(first.value).toBe(true);
    // A free slot admits again.
    const third = track(guard.run(upstream.call()));
    await flush();
    expect(upstream.count).toBe(2);
    upstream.at(1).resolve(false);
    await flush();
    expect(third.value).toBe(false);
  });

  it('admits again as soon as a queue place frees', async () => {
    guard = createGuardedUpstream(guardOptions({ maxConcurrency: 1, maxQueue: 1 }));
    const upstream = new FakeUpstream();
    track(guard.run(upstream.call('a')));
    track(guard.run(upstream.call('b')));
    await flush();
    await expect(guard.run(upstream.call('x'))).rejects.toBeInstanceOf(UpstreamOverloadedError);

    upstream.at(0).resolve(true); // b moves from the queue into the slot
    await flush();
    expect(guard.queued).toBe(0);
    const c = track(guard.run(upstream.call('c')));
    await flush();
    expect(guard.queued).toBe(1);
    upstream.at(1).resolve(true);
    await flush();
    upstream.at(2).resolve(true);
    await flush();
    expect(c.value).toBe(true);
    expect(upstream.labels()).toEqual(['a', 'b', 'c']);
  });

  it('a waiter that aborts leaves the queue at once, and a freed slot goes to the next live waiter', async () => {
    // The slot queue on its own, with arbitrary abort timing. Regression guard
    // for cockatiel's bulkhead, where an aborted waiter keeps its queue place
    // and, once dequeued, strands the live waiters behind it.
    const slots = new SlotQueue(1, 2);
    const never = new AbortController().signal;
    await slots.acquire(never);
    const staleAbort = new AbortController();
    const stale = track(slots.acquire(staleAbort.signal)!);
    const fresh = track(slots.acquire(never)!);
    expect(slots.acquire(never)).toBeUndefined(); // queue full
    expect(slots.queued).toBe(2);

    staleAbort.abort(new Error('deadline'));
    await flush();
    expect(stale.error).toEqual(new Error('deadline'));
    expect(slots.queued).toBe(1);
    const late = track(slots.acquire(never)!); // the freed place is usable at once
    expect(slots.queued).toBe(2);

    slots.release();
    await flush();
    expect(fresh.settled).toBe(true);
    expect(late.settled).toBe(false);
    expect(slots.active).toBe(1);
    slots.release();
    await flush();
    expect(late.settled).toBe(true);
    slots.release();
    expect(slots.active).toBe(0);
    expect(slots.queued).toBe(0);
  });

  it('when a holder and the head waiter hit their deadlines in the same tick, nothing is stranded', async () => {
    guard = createGuardedUpstream(guardOptions({ maxConcurrency: 1, maxQueue: 2, deadlineMs: 1000 }));
    const upstream = new FakeUpstream();
    const holder = track(guard.run(upstream.call('holder')));
    const head = track(guard.run(upstream.call('head')));
    await vi.advanceTimersByTimeAsync(500);
    const tail = track(guard.run(upstream.call('tail')));
    await vi.advanceTimersByTimeAsync(500); // holder and head expire; the slot passes to head as it expires

    expect(holder.error).toMatchObject({ code: 'UPSTREAM_DEADLINE' });
    expect(head.error).toMatchObject({ code: 'UPSTREAM_DEADLINE' });
    expect(upstream.labels()).toEqual(['holder', 'tail']); // head never called; tail not stranded
    expect(guard.inFlight).toBe(1);
    expect(guard.queued).toBe(0);
    upstream.at(1).resolve(true);
    await flush();
    expect(tail.value).toBe(true);
    expect(guard.inFlight).toBe(0);
  });

  it('a retried lookup gives its slot up during backoff and re-queues behind waiting lookups', async () => {
    guard = createGuardedUpstream(guardOptions({ maxConcurrency: 1, retries: 1, baseBackoffMs: 100, random: () => 0.5 }));
    const upstream = new FakeUpstream();
    const a = track(guard.run(upstream.call('a')));
    const b = track(guard.run(upstream.call('b')));
    await flush();
    expect(upstream.labels()).toEqual(['a']);

    upstream.at(0).reject(serverError(503)); // a backs off 50 ms, without its slot
    await flush();
    expect(upstream.labels()).toEqual(['a', 'b']); // b took the slot
    expect(guard.inFlight).toBe(1);
    expect(guard.queued).toBe(0);

    await vi.advanceTimersByTimeAsync(50); // a's retry queues for the slot b holds
    expect(guard.queued).toBe(1);
    expect(upstream.count).toBe(2);

    upstream.at(1).resolve(true);
    await flush();
    expect(b.value).toBe(true);
    expect(upstream.labels()).toEqual(['a', 'b', 'a']);
    upstream.at(2).resolve(false);
    await flush();
    expect(a.value).toBe(false);
  });

  it('a retry that finds the queue full gives up with its last error instead of overflowing the queue', async () => {
    const options = guardOptions({ maxConcurrency: 1, maxQueue: 1, retries: 2, baseBackoffMs: 100, random: () => 0.5 });
    guard = createGuardedUpstream(options);
    const upstream = new FakeUpstream();
    const a = track(guard.run(upstream.call('a')));
    track(guard.run(upstream.call('b')));
    await flush();
    const lastError = serverError(502);
    upstream.at(0).reject(lastError); // a backs off; b takes the slot
    await flush();
    track(guard.run(upstream.call('c'))); // c fills the queue
    await flush();
    expect(guard.queued).toBe(1);

    await vi.advanceTimersByTimeAsync(50);
    expect(a.error).toBe(lastError);
    expect(upstream.labels()).toEqual(['a', 'b']);
    expect(guard.queued).toBe(1);
    expect(options.events).toContainEqual({ type: 'retry-abandoned', attempt: 1, reason: 'queue-full', code: 'CB_SERVER_ERROR' });
  });
});
