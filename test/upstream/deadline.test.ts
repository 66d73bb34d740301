import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  UpstreamDeadlineError,
  UpstreamDisposedError,
  createGuardedUpstream,
  type GuardedUpstream,
} from '../../src/upstream/guarded-upstream.js';
import { FakeUpstream, flush, guardOptions, serverError, track } from './support/fake-upstream.js';

describe('deadline', () => {
  let guard: GuardedUpstream | undefined;
  const unhandled: unknown[] = [];
  const onUnhandled = (reason: unknown): void => {
    unhandled.push(reason);
  };

  beforeEach(() => {
    vi.useFakeTimers();
    unhandled.length = 0;
    process.on('unhandledRejection', onUnhandled);
  });

  afterEach(async () => {
    guard?.dispose();
    guard = undefined;
    vi.useRealTimers();
    // Let any stray rejection surface (on a real macrotask) before checking.
    await new Promise((resolve) => setImmediate(resolve));
    process.off('unhandledRejection', onUnhandled);
    expect(unhandled).toEqual([]);
  });

  it('aborts the running attempt and rejects with UpstreamDeadlineError, even if the call ignores its signal', async () => {
    const options = guardOptions({ deadlineMs: 3000 });
    guard = createGuardedUpstream(options);
    const upstream = new FakeUpstream(); // never settles, ignores the signal
    const result = track(guard.run(upstream.call()));
    await vi.advanceTimersByTimeAsync(2999);
    expect(result.settled).toBe(false);
    expect(upstream.at(0).signal.aborted).toBe(false);

    await vi.advanceTimersByTimeAsync(1);
    expect(upstream.at(0).signal.aborted).toBe(true);
    expect(result.error).toBeInstanceOf(UpstreamDeadlineError);
    expect(result.error).toMatchObject({ code: 'UPSTREAM_DEADLINE', deadlineMs: 3000 });
    expect(guard.inFlight).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    expect(options.events).toContainEqual(expect.objectContaining({ type: 'attempt', outcome: 'cancelled' }));
    expect(options.events).toContainEqual({ type: 'deadline-exceeded', attempts: 1 });
  });

  it('does not time attempts itself (CB_TIMEOUT_MS belongs to the Carbon Black client): only the deadline ends a hung call', async () => {
    guard = createGuardedUpstream(guardOptions({ deadlineMs: 15_000 }));
    const upstream = new FakeUpstream();
    const result = track(guard.run(upstream.call()));
    await vi.advanceTimersByTimeAsync(14_999);
    expect(upstream.at(0).signal.aborted).toBe(false);
    expect(result.settled).toBe(false);
    expect(vi.getTimerCount()).toBe(1); // the deadline, nothing else
    await vi.advanceTimersByTimeAsync(1);
    expect(upstream.at(0).signal.aborted).toBe(true);
    expect(result.error).toBeInstanceOf(UpstreamDeadlineError);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('counts time spent queueing: a lookup that waits past its deadline is never called', async () => {
    guard = createGuardedUpstream(guardOptions({ maxConcurrency: 1, deadlineMs: 1000 }));
    const upstream = new FakeUpstream();
    track(guard.run(upstream.call('holder')));
    await vi.advanceTimersByTimeAsync(100);
    const waiting = track(guard.run(upstream.call('waiting'))); // deadline at 1100
    await vi.advanceTimersByTimeAsync(500);
    expect(guard.queued).toBe(1);
    upstream.at(0).resolve(true); // at 600 waiting starts, with 500 ms of its budget already spent queueing
    await flush();
    expect(upstream.labels()).toEqual(['holder', 'waiting']);
    await vi.advanceTimersByTimeAsync(499);
    expect(waiting.settled).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(waiting.error).toBeInstanceOf(UpstreamDeadlineError);

    // And one that never gets a slot at all:
    const holder2 = track(guard.run(upstream.call('holder2')));
    await vi.advanceTimersByTimeAsync(10);
    const starved = track(guard.run(upstream.call('starved')));
    await vi.advanceTimersByTimeAsync(990); // holder2 expires; starved gets the slot with 10 ms left
    expect(holder2.error).toBeInstanceOf(UpstreamDeadlineError);
    expect(upstream.labels()).toEqual(['holder', 'waiting', 'holder2', 'starved']);
    await vi.advanceTimersByTimeAsync(10);
    expect(starved.error).toBeInstanceOf(UpstreamDeadlineError);
    expect(upstream.at(3).signal.aborted).toBe(true);
    expect(guard.queued).toBe(0);
    expect(guard.inFlight).toBe(0);
  });

  it('bounds queueing + attempts + backoff together, and cancels a pending backoff', async () => {
    guard = createGuardedUpstream(
      guardOptions({ deadlineMs: 1000, retries: 5, baseBackoffMs: 400, maxBackoffMs: 400, random: () => 0.75 }),
    );
    const upstream = new FakeUpstream();
    const result = track(guard.run(upstream.call()));
    await vi.advanceTimersByTimeAsync(300);
    const first = serverError(503);
    upstream.at(0).reject(first); // at 300: backoff 300 ms (0.75 * 400)
    await vi.advanceTimersByTimeAsync(300);
    expect(upstream.count).toBe(2); // at 600: second attempt
    const second = serverError(502);
    upstream.at(1).reject(second); // backoff would end at 900
    await vi.advanceTimersByTimeAsync(300);
    expect(upstream.count).toBe(3); // at 900: third attempt, 100 ms left
    await vi.advanceTimersByTimeAsync(100);

    expect(result.error).toBeInstanceOf(UpstreamDeadlineError);
    expect((result.error as UpstreamDeadlineError).cause).toBe(second);
    expect(upstream.at(2).signal.aborted).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('a deadline during backoff cancels the sleep and makes no further attempt', async () => {
    guard = createGuardedUpstream(
      guardOptions({ deadlineMs: 1000, retries: 3, baseBackoffMs: 2000, maxBackoffMs: 2000, random: () => 0.45 }),
    );
    const upstream = new FakeUpstream();
    const result = track(guard.run(upstream.call()));
    await flush();
    upstream.at(0).reject(serverError(503)); // backoff 900 ms, deadline at 1000: fits
    await vi.advanceTimersByTimeAsync(900);
    expect(upstream.count).toBe(2);
    upstream.at(1).reject(serverError(503)); // next backoff 1800 ms > 100 ms left: give up now
    await flush();
    expect(result.error).toMatchObject({ code: 'CB_SERVER_ERROR' });
    expect(vi.getTimerCount()).toBe(0);
  });

  it('leaves no timer behind after a successful lookup', async () => {
    guard = createGuardedUpstream(guardOptions());
    const upstream = new FakeUpstream();
    const result = track(guard.run(upstream.call()));
    await flush();
    expect(vi.getTimerCount()).toBe(1); // the deadline (attempts are timed by the client); was: the deadline and the attempt budget
    upstream.at(0).resolve(true);
    await flush();
    expect(result.value).toBe(true);
    expect(vi.getTimerCount()).toBe(0);
  });

  it('dispose rejects running, queued and backing-off lookups, aborts attempts and clears every timer', async () => {
    const options = guardOptions({ maxConcurrency: 2, retries: 2, baseBackoffMs: 1000, random: () => 0.5 });
    guard = createGuardedUpstream(options);
    const upstream = new FakeUpstream();
    const backingOff = track(guard.run(upstream.call('backing-off')));
    const running = track(guard.run(upstream.call('running')));
    await flush();
    upstream.at(0).reject(serverError(503)); // backs off 500 ms
    await flush();
    const replacing = track(guard.run(upstream.call('replacing'))); // takes the freed slot
    const queued = track(guard.run(upstream.call('queued')));
    await flush();
    expect(guard.inFlight).toBe(2);
    expect(guard.queued).toBe(1);

    guard.dispose();
    await flush();

    for (const r of [backingOff, running, replacing, queued]) expect(r.error).toBeInstanceOf(UpstreamDisposedError);
    expect(upstream.invocations.every((i) => i.signal.aborted)).toBe(true);
    expect(upstream.labels()).not.toContain('queued');
    expect(guard.inFlight).toBe(0);
    expect(guard.queued).toBe(0);
    expect(vi.getTimerCount()).toBe(0);
    await expect(guard.run(upstream.call())).rejects.toBeInstanceOf(UpstreamDisposedError);
    await vi.runAllTimersAsync();
    expect(upstream.labels()).toEqual(['backing-off', 'running', 'replacing']);
  });
});
