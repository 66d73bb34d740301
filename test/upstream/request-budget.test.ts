import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { createRequestBudget, FIVE_MINUTES_MS } from '../../src/upstream/request-budget.js';
import { UpstreamBudgetSpentError } from '../../src/upstream/upstream-errors.js';

/** The request budget: a sliding window of sends, and a pause after a 429. Fake clock throughout. */
describe('request budget', () => {
  beforeEach(() => {
    vi.useFakeTimers({ now: 1_000_000 });
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  const never = new AbortController().signal;
  const far = (): number => Date.now() + 10 * FIVE_MINUTES_MS;

  it('lets `limit` requests through at once, then none until the oldest leaves the window', async () => {
    const budget = createRequestBudget({ limit: 3, windowMs: 1000 });
    for (let i = 0; i < 3; i++) await budget.take(never, far());
    expect(budget.usage()).toMatchObject({ used: 3, limit: 3 });

    let fourth = false;
    void budget.take(never, far()).then(() => (fourth = true));
    await vi.advanceTimersByTimeAsync(999);
    expect(fourth).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(fourth).toBe(true);
  });

  it('slides: sends spread over the window free places one by one', async () => {
    const budget = createRequestBudget({ limit: 2, windowMs: 1000 });
    await budget.take(never, far());
    await vi.advanceTimersByTimeAsync(600);
    await budget.take(never, far());
    const taken: number[] = [];
    void budget.take(never, far()).then(() => taken.push(Date.now()));
    void budget.take(never, far()).then(() => taken.push(Date.now()));
    await vi.advanceTimersByTimeAsync(2000);
    // The first send leaves at 1000 ms, the second at 1600 ms.
    expect(taken).toEqual([1_000_000 + 1000, 1_000_000 + 1600]);
  });

  it('refuses at once, with the wait as Retry-After, when the wait would pass the deadline', async () => {
    const budget = createRequestBudget({ limit: 1, windowMs: 60_000 });
    await budget.take(never, far());
    const refused = await budget.take(never, Date.now() + 5000).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UpstreamBudgetSpentError);
    expect((refused as UpstreamBudgetSpentError).retryAfterSeconds).toBe(60);
    // A refusal takes no place: the next caller with time to wait still gets the first free one.
    let later = false;
    void budget.take(never, far()).then(() => (later = true));
    await vi.advanceTimersByTimeAsync(60_000);
    expect(later).toBe(true);
  });

  it('after a 429 sends nothing until its Retry-After has passed, even with room in the window', async () => {
    const budget = createRequestBudget({ limit: 100 });
    budget.pauseFor(3000);
    expect(budget.usage().pausedUntil).toBe(Date.now() + 3000);
    let sent = false;
    void budget.take(never, far()).then(() => (sent = true));
    await vi.advanceTimersByTimeAsync(2999);
    expect(sent).toBe(false);
    await vi.advanceTimersByTimeAsync(1);
    expect(sent).toBe(true);
  });

  it('a later pause wins over an earlier, shorter one; a shorter one never shortens it', async () => {
    const budget = createRequestBudget({ limit: 100 });
    budget.pauseFor(5000);
    budget.pauseFor(1000);
    expect(budget.usage().pausedUntil).toBe(Date.now() + 5000);
    const refused = await budget.take(never, Date.now() + 4000).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(UpstreamBudgetSpentError);
    expect((refused as UpstreamBudgetSpentError).retryAfterSeconds).toBe(5);
  });

  it('serves waiters in arrival order', async () => {
    const budget = createRequestBudget({ limit: 1, windowMs: 100 });
    await budget.take(never, far());
    const order: string[] = [];
    void budget.take(never, far()).then(() => order.push('a'));
    void budget.take(never, far()).then(() => order.push('b'));
    void budget.take(never, far()).then(() => order.push('c'));
    await vi.advanceTimersByTimeAsync(350);
    expect(order).toEqual(['a', 'b', 'c']);
  });

  it('a waiter whose signal aborts rejects with its reason and takes no place', async () => {
    const budget = createRequestBudget({ limit: 1, windowMs: 1000 });
    await budget.take(never, far());
    const controller = new AbortController();
    const waiting = budget.take(controller.signal, far()).catch((error: unknown) => error);
    const reason = new Error('deadline');
    controller.abort(reason);
    expect(await waiting).toBe(reason);
    await vi.advanceTimersByTimeAsync(1000);
    expect(budget.usage().used).toBe(0);
    await budget.take(never, far());
    expect(budget.usage().used).toBe(1);
  });

  it('refuses a limit below 1 or a non-positive window', () => {
    expect(() => createRequestBudget({ limit: 0 })).toThrow(RangeError);
    expect(() => createRequestBudget({ limit: 1, windowMs: 0 })).toThrow(RangeError);
  });
});
