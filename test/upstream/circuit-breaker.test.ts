import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  UpstreamUnavailableError,
  createGuardedUpstream,
  type GuardOptions,
  type GuardedUpstream,
  type UpstreamEvent,
} from '../../src/upstream/guarded-upstream.js';
import { FakeUpstream, cbError, flush, guardOptions, serverError, track } from './support/fake-upstream.js';

const breakerEvents = (events: UpstreamEvent[]): string[] =>
  events.flatMap((e) => (e.type === 'breaker-state' ? [`${e.from}->${e.to}`] : []));

describe('circuit breaker', () => {
  let guard: GuardedUpstream;
  let upstream: FakeUpstream;
  let options: GuardOptions & { events: UpstreamEvent[] };

  /** One lookup whose single attempt fails with `error`; waits until it has settled. */
  async function failOnce(error: unknown = serverError(503)): Promise<void> {
    const before = upstream.count;
    const result = track(guard.run(upstream.call()));
    await flush();
    upstream.at(before).reject(error);
    await flush();
    expect(result.error).toBe(error);
  }

  async function succeedOnce(): Promise<void> {
    const before = upstream.count;
    const result = track(guard.run(upstream.call()));
    await flush();
    upstream.at(before).resolve(true);
    await flush();
    expect(result.value).toBe(true);
  }

  function setup(overrides: Partial<GuardOptions> = {}): void {
    options = guardOptions({ retries: 0, breakerThreshold: 3, breakerCooldownMs: 10_000, ...overrides });
    guard = createGuardedUpstream(options);
    upstream = new FakeUpstream();
  }

  beforeEach(() => {
    vi.useFakeTimers();
    setup();
  });

  afterEach(() => {
    guard.dispose();
    vi.useRealTimers();
  });

  it('opens after `breakerThreshold` consecutive failed lookups, then fails fast with no call and no queueing', async () => {
    await failOnce();
    await failOnce();
    expect(guard.breakerState).toBe('closed');
    await failOnce();
    expect(guard.breakerState).toBe('open');
    expect(breakerEvents(options.events)).toEqual(['closed->open']);

    const refused = track(guard.run(upstream.call('refused')));
    expect(guard.queued).toBe(0);
    expect(guard.inFlight).toBe(0);
    expect(vi.getTimerCount()).toBe(0); // refused before even a deadline timer exists
    await flush();
    expect(refused.error).toBeInstanceOf(UpstreamUnavailableError);
    expect(refused.error).toMatchObject({ code: 'UPSTREAM_BREAKER_OPEN', retryAfterSeconds: 10 });
    expect(upstream.count).toBe(3);
    expect(options.events).toContainEqual({ type: 'rejected', reason: 'breaker-open', retryAfterSeconds: 10 });
  });

  it('reports the remaining cooldown, rounded up, at least 1 second', async () => {
    for (let i = 0; i < 3; i++) await failOnce();
    await vi.advanceTimersByTimeAsync(2500);
    await expect(guard.run(upstream.call())).rejects.toMatchObject({ retryAfterSeconds: 8 });
    await vi.advanceTimersByTimeAsync(7499);
    await expect(guard.run(upstream.call())).rejects.toMatchObject({ retryAfterSeconds: 1 });
    expect(upstream.count).toBe(3);
  });

  it('counts lookups, not attempts: a lookup whose retries all fail counts once', async () => {
    setup({ retries: 2 });
    for (let lookup = 0; lookup < 2; lookup++) {
      const before = upstream.count;
      const result = track(guard.run(upstream.call()));
      for (let i = 0; i < 3; i++) {
        await flush();
        upstream.at(before + i).reject(serverError(502));
        await vi.advanceTimersByTimeAsync(0);
      }
      await vi.runAllTimersAsync();
      expect(result.error).toMatchObject({ code: 'CB_SERVER_ERROR' });
    }
    // 6 failed attempts, 2 failed lookups: under the threshold of 3.
    expect(upstream.count).toBe(6);
    expect(guard.breakerState).toBe('closed');
  });

  it('a lookup that succeeds on a retry is a success: failed attempts alone never open it', async () => {
    setup({ retries: 2 });
    for (let lookup = 0; lookup < 10; lookup++) {
      const before = upstream.count;
      const result = track(guard.run(upstream.call()));
      await flush();
      upstream.at(before).reject(serverError(503));
      await vi.advanceTimersByTimeAsync(0);
      await flush();
      upstream.at(before + 1).reject(serverError(503));
      await vi.advanceTimersByTimeAsync(0);
      await flush();
      upstream.at(before + 2).resolve(true);
      await flush();
      expect(result.value).toBe(true);
    }
    expect(upstream.count).toBe(30); // 20 failed attempts in all, in pairs
    expect(guard.breakerState).toBe('closed');
    expect(breakerEvents(options.events)).toEqual([]);
  });

  it('opens on the failure rate over the window once it holds min calls, though no streak reaches the threshold', async () => {
    setup({ breakerThreshold: 3, breakerFailureRate: 0.5, breakerWindowMs: 30_000, breakerMinCalls: 8 });
    // fail, fail, succeed, repeated: a 2/3 failure rate, streaks of 2.
    for (let i = 0; i < 2; i++) {
      await failOnce();
      await failOnce();
      await succeedOnce();
    }
    expect(guard.breakerState).toBe('closed'); // 6 lookups < min calls
    await failOnce();
    expect(guard.breakerState).toBe('closed'); // 7 lookups
    await failOnce(); // 8 lookups, 6 failed: 75 %
    expect(guard.breakerState).toBe('open');
  });

  it('a success resets the streak', async () => {
    await failOnce();
    await failOnce();
    await succeedOnce();
    await failOnce();
    await failOnce();
    expect(guard.breakerState).toBe('closed');
  });

  it('does not count CB_QUERY_REJECTED (a 400 means Carbon Black answered)', async () => {
    for (let i = 0; i < 5; i++) await failOnce(cbError('CB_QUERY_REJECTED', 400));
    expect(guard.breakerState).toBe('closed');
    // It even ends a streak, like any answer from Carbon Black.
    await failOnce();
    await failOnce();
    await failOnce(cbError('CB_QUERY_REJECTED', 400));
    await failOnce();
    expect(guard.breakerState).toBe('closed');
  });

  it.each([
    ['a non-Carbon Black error (a bug in the call)', new TypeError('boom')],
    ['an AbortError of the call', new DOMException('aborted', 'AbortError')],
  ])('does not count %s', async (_what, error) => {
    setup({ breakerThreshold: 1 });
    for (let i = 0; i < 3; i++) await failOnce(error);
    expect(guard.breakerState).toBe('closed');
  });

  it('does not count lookups refused for a full queue, nor ones disposed', async () => {
    setup({ breakerThreshold: 1, maxConcurrency: 1, maxQueue: 0 });
    const holder = track(guard.run(upstream.call('holder')));
    for (let i = 0; i < 3; i++) {
      await expect(guard.run(upstream.call('refused'))).rejects.toMatchObject({ code: 'UPSTREAM_QUEUE_FULL' });
    }
    expect(guard.breakerState).toBe('closed');
    guard.dispose();
    await flush();
    expect(holder.error).toMatchObject({ code: 'UPSTREAM_DISPOSED' });
    expect(guard.breakerState).toBe('closed');
  });

  it.each([
    ['CB_TOKEN_REJECTED', 401],
    ['CB_TOKEN_REJECTED', 403],
    ['CB_TIMEOUT', undefined],
    ['CB_MALFORMED_RESPONSE', 200],
    ['CB_UNREACHABLE', undefined],
    ['CB_RATE_LIMITED', 429],
  ] as const)('counts %s (%s)', async (code, status) => {
    for (let i = 0; i < 3; i++) await failOnce(cbError(code, status));
    expect(guard.breakerState).toBe('open');
  });

  it('after the cooldown lets exactly one trial through; others fail fast meanwhile; success closes it', async () => {
    for (let i = 0; i < 3; i++) await failOnce();
    await vi.advanceTimersByTimeAsync(10_000);

    const trial = track(guard.run(upstream.call('trial')));
    const during = Array.from({ length: 5 }, () => track(guard.run(upstream.call('other'))));
    await flush();
    expect(upstream.labels().slice(3)).toEqual(['trial']);
    expect(guard.breakerState).toBe('half-open');
    expect(guard.queued).toBe(0);
    for (const other of during) {
      expect(other.error).toBeInstanceOf(UpstreamUnavailableError);
      expect(other.error).toMatchObject({ retryAfterSeconds: 1 });
    }

    upstream.at(3).resolve(true);
    await flush();
    expect(trial.value).toBe(true);
    expect(guard.breakerState).toBe('closed');
    expect(breakerEvents(options.events)).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
    expect(options.events).toContainEqual(expect.objectContaining({ type: 'attempt', outcome: 'success', trial: true }));

    // Closed again: concurrent lookups all go through.
    const after = Array.from({ length: 4 }, () => track(guard.run(upstream.call('after'))));
    await flush();
    expect(upstream.labels().filter((l) => l === 'after')).toHaveLength(4);
    for (const invocation of upstream.invocations.slice(4)) invocation.resolve(false);
    await flush();
    expect(after.every((r) => r.value === false)).toBe(true);
  });

  it('a failed trial reopens it for another full cooldown', async () => {
    for (let i = 0; i < 3; i++) await failOnce();
    await vi.advanceTimersByTimeAsync(10_000);
    await failOnce(cbError('CB_UNREACHABLE'));
    expect(guard.breakerState).toBe('open');
    expect(breakerEvents(options.events)).toEqual(['closed->open', 'open->half-open', 'half-open->open']);

    await expect(guard.run(upstream.call())).rejects.toMatchObject({ code: 'UPSTREAM_BREAKER_OPEN', retryAfterSeconds: 10 });
    await vi.advanceTimersByTimeAsync(9999);
    await expect(guard.run(upstream.call())).rejects.toBeInstanceOf(UpstreamUnavailableError);
    expect(upstream.count).toBe(4);
    await vi.advanceTimersByTimeAsync(1);
    await succeedOnce();
    expect(guard.breakerState).toBe('closed');
  });

  it('a trial answered with a 400 closes it (Carbon Black is answering)', async () => {
    for (let i = 0; i < 3; i++) await failOnce();
    await vi.advanceTimersByTimeAsync(10_000);
    await failOnce(cbError('CB_QUERY_REJECTED', 400));
    expect(guard.breakerState).toBe('closed');
  });

  it('a trial cut short by the lookup deadline is inconclusive: the breaker reopens', async () => {
    setup({ deadlineMs: 1000 });
    for (let i = 0; i < 3; i++) await failOnce();
    await vi.advanceTimersByTimeAsync(10_000);
    const trial = track(guard.run(upstream.call('trial')));
    await vi.advanceTimersByTimeAsync(1000);
    expect(trial.error).toMatchObject({ code: 'UPSTREAM_DEADLINE' });
    expect(upstream.at(3).signal.aborted).toBe(true);
    expect(guard.breakerState).toBe('open');
    expect(breakerEvents(options.events)).toEqual(['closed->open', 'open->half-open', 'half-open->open']);
  });

  it('outside a trial, attempts cut short by our own deadline do not count', async () => {
    setup({ deadlineMs: 1000, breakerThreshold: 1 });
    for (let i = 0; i < 3; i++) {
      const result = track(guard.run(upstream.call()));
      await vi.advanceTimersByTimeAsync(1000);
      expect(result.error).toMatchObject({ code: 'UPSTREAM_DEADLINE' });
    }
    expect(guard.breakerState).toBe('closed');
  });

  it('lookups queued when it opens fail fast when they reach a slot, without calling', async () => {
    setup({ maxConcurrency: 3 });
    const running = [0, 1, 2].map(() => track(guard.run(upstream.call('running'))));
    const queued = [0, 1].map(() => track(guard.run(upstream.call('queued'))));
    await flush();
    expect(guard.queued).toBe(2);
    for (let i = 0; i < 3; i++) upstream.at(i).reject(serverError(503));
    await flush();

    expect(guard.breakerState).toBe('open');
    expect(running.every((r) => r.error instanceof Error && 'code' in r.error && r.error.code === 'CB_SERVER_ERROR')).toBe(true);
    for (const q of queued) expect(q.error).toBeInstanceOf(UpstreamUnavailableError);
    expect(upstream.labels()).not.toContain('queued');
    expect(guard.queued).toBe(0);
  });

  it('a retry is abandoned, with its last error, when the breaker opened during its backoff', async () => {
    setup({ retries: 2, baseBackoffMs: 1000, random: () => 0.5 });
    const retrying = track(guard.run(upstream.call('retrying')));
    await flush();
    const transient = serverError(503);
    upstream.at(0).reject(transient); // backs off 500 ms
    await flush();
    await failOnce(cbError('CB_TOKEN_REJECTED', 401));
    await failOnce(cbError('CB_TOKEN_REJECTED', 401));
    await failOnce(cbError('CB_TOKEN_REJECTED', 401));
    expect(guard.breakerState).toBe('open');

    await vi.advanceTimersByTimeAsync(500);
    expect(retrying.error).toBe(transient);
    expect(upstream.labels().filter((l) => l === 'retrying')).toHaveLength(1);
    expect(options.events).toContainEqual({ type: 'retry-abandoned', attempt: 1, reason: 'breaker-open', code: 'CB_SERVER_ERROR' });
  });
});
