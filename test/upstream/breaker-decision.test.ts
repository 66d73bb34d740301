import { describe, expect, it } from 'vitest';
import { Breaker, type BreakerOptions, type BreakerState } from '../../src/upstream/circuit-breaker.js';

/** The breaker's decision alone, on a clock the test moves by hand. */
function make(overrides: Partial<BreakerOptions> = {}): { breaker: Breaker; transitions: string[]; advance: (ms: number) => void } {
  let clock = 1_000_000;
  const transitions: string[] = [];
  const breaker = new Breaker({
    threshold: 5,
    failureRate: 0.5,
    windowMs: 30_000,
    minCalls: 20,
    cooldownMs: 10_000,
    now: () => clock,
    onStateChange: (from: BreakerState, to: BreakerState) => transitions.push(`${from}->${to}`),
    ...overrides,
  });
  return { breaker, transitions, advance: (ms) => (clock += ms) };
}

/** One closed-state lookup: admitted, then recorded. */
function lookup(breaker: Breaker, verdict: 'success' | 'failure' | 'neutral'): void {
  const admission = breaker.admit(false);
  expect(admission).toEqual({ admitted: true, trial: false });
  breaker.record(verdict, false);
}

describe('breaker decision', () => {
  it('opens on `threshold` consecutive failed lookups; a success resets the streak', () => {
    const { breaker, transitions } = make();
    for (let i = 0; i < 4; i++) lookup(breaker, 'failure');
    lookup(breaker, 'success');
    for (let i = 0; i < 4; i++) lookup(breaker, 'failure');
    expect(breaker.state).toBe('closed');
    lookup(breaker, 'failure');
    expect(breaker.state).toBe('open');
    expect(transitions).toEqual(['closed->open']);
  });

  it('neutral lookups (cancelled, refused, not Carbon Black) neither count nor break a streak', () => {
    const { breaker } = make({ threshold: 3 });
    lookup(breaker, 'failure');
    for (let i = 0; i < 50; i++) lookup(breaker, 'neutral');
    lookup(breaker, 'failure');
    expect(breaker.window()).toEqual({ calls: 2, failures: 2 });
    expect(breaker.state).toBe('closed');
    lookup(breaker, 'failure');
    expect(breaker.state).toBe('open');
  });

  it('opens on the failure rate only once the window holds min calls', () => {
    const { breaker } = make({ threshold: 1000, minCalls: 20, failureRate: 0.5 });
    // alternate: 50 % failed, never two in a row
    for (let i = 0; i < 19; i++) lookup(breaker, i % 2 === 0 ? 'failure' : 'success');
    expect(breaker.window()).toEqual({ calls: 19, failures: 10 });
    expect(breaker.state).toBe('closed');
    lookup(breaker, 'success'); // 20 calls, 10 failed: 50 %, but a success never opens it
    expect(breaker.state).toBe('closed');
    lookup(breaker, 'failure'); // 21 calls, 11 failed
    expect(breaker.state).toBe('open');
  });

  it('stays closed under a failure rate below the limit, however many lookups', () => {
    const { breaker, advance } = make({ threshold: 5 });
    for (let i = 0; i < 10_000; i++) {
      lookup(breaker, i % 3 === 0 ? 'failure' : 'success'); // 33 %
      advance(7);
    }
    expect(breaker.state).toBe('closed');
  });

  it('the window slides: failures older than windowMs are forgotten', () => {
    const { breaker, advance } = make({ threshold: 1000, minCalls: 10, windowMs: 30_000 });
    for (let i = 0; i < 9; i++) lookup(breaker, 'failure');
    advance(30_000 + 3000); // buckets are windowMs / 10 wide
    expect(breaker.window()).toEqual({ calls: 0, failures: 0 });
    for (let i = 0; i < 9; i++) lookup(breaker, 'success');
    lookup(breaker, 'failure'); // 10 calls, 1 failed
    expect(breaker.state).toBe('closed');
    advance(10_000);
    for (let i = 0; i < 7; i++) lookup(breaker, 'failure'); // 17 calls in window, 8 failed
    expect(breaker.state).toBe('closed');
    lookup(breaker, 'failure'); // 18 calls, 9 failed: 50 %
    expect(breaker.state).toBe('open');
  });

  it('open: refuses with the remaining cooldown; after it, admits exactly one trial; success closes with a clean slate', () => {
    const { breaker, transitions, advance } = make({ threshold: 2 });
    lookup(breaker, 'failure');
    lookup(breaker, 'failure');
    expect(breaker.admit(false)).toEqual({ admitted: false, refusal: { retryAfterSeconds: 10 } });
    advance(2500);
    expect(breaker.refusal()).toEqual({ retryAfterSeconds: 8 });
    advance(7499);
    expect(breaker.admit(false)).toEqual({ admitted: false, refusal: { retryAfterSeconds: 1 } });
    advance(1);
    expect(breaker.refusal()).toBeUndefined();
    expect(breaker.admit(false)).toEqual({ admitted: true, trial: true });
    expect(breaker.state).toBe('half-open');
    expect(breaker.admit(false)).toEqual({ admitted: false, refusal: { retryAfterSeconds: 1 } });
    // The trial's own retry is admitted.
    expect(breaker.admit(true)).toEqual({ admitted: true, trial: true });
    // A lookup that started before the trial and ends now is ignored.
    breaker.record('failure', false);
    expect(breaker.state).toBe('half-open');
    breaker.record('success', true);
    expect(breaker.state).toBe('closed');
    expect(transitions).toEqual(['closed->open', 'open->half-open', 'half-open->closed']);
    lookup(breaker, 'failure'); // the streak before opening is gone
    expect(breaker.state).toBe('closed');
  });

  it.each(['failure', 'neutral'] as const)('a trial ending %s reopens it for a full cooldown', (verdict) => {
    const { breaker, transitions, advance } = make({ threshold: 1 });
    lookup(breaker, 'failure');
    advance(10_000);
    expect(breaker.admit(false)).toEqual({ admitted: true, trial: true });
    advance(300);
    breaker.record(verdict, true);
    expect(breaker.state).toBe('open');
    expect(transitions).toEqual(['closed->open', 'open->half-open', 'half-open->open']);
    expect(breaker.refusal()).toEqual({ retryAfterSeconds: 10 });
    advance(9999);
    expect(breaker.admit(false).admitted).toBe(false);
    advance(1);
    expect(breaker.admit(false)).toEqual({ admitted: true, trial: true });
  });

  it('ignores lookups that end while open', () => {
    const { breaker, transitions } = make({ threshold: 1 });
    lookup(breaker, 'failure');
    for (let i = 0; i < 5; i++) breaker.record('success', false);
    expect(breaker.state).toBe('open');
    expect(transitions).toEqual(['closed->open']);
  });

  it('rejects nonsense settings', () => {
    expect(() => make({ failureRate: 0 })).toThrow(RangeError);
    expect(() => make({ failureRate: 1.5 })).toThrow(RangeError);
    expect(() => make({ minCalls: 0 })).toThrow(RangeError);
    expect(() => make({ threshold: Number.NaN })).toThrow(RangeError);
  });
});
