import { CircuitState, ConsecutiveBreaker, circuitBreaker, handleWhen, type CircuitBreakerPolicy, type IDisposable } from 'cockatiel';
import { countsAsBreakerFailure, isQueryRejected } from './failure-classification.js';

export type BreakerState = 'closed' | 'open' | 'half-open';

export interface BreakerOptions {
  threshold: number;
  cooldownMs: number;
  onStateChange: (from: BreakerState, to: BreakerState) => void;
}

/** Why a request may not go now, and when to come back. */
export interface BreakerRefusal {
  retryAfterSeconds: number;
}

/**
 * Thrown through cockatiel when the half-open trial ended without a verdict
 * (aborted by the lookup's deadline, or an error that is not Carbon Black's).
 * cockatiel closes the breaker on any error its filter does not handle, which
 * would let a storm through on no evidence; handling this one reopens it.
 */
class InconclusiveTrialError extends Error {
  override name = 'InconclusiveTrialError';
  constructor(readonly original: unknown) {
    super('half-open trial ended without a verdict');
  }
}

/** Carries a 400 through cockatiel as a success (Carbon Black answered), to be rethrown outside. */
type Answered<T> = { answered: 'ok'; value: T } | { answered: 'query-rejected'; error: unknown };

/**
 * Consecutive-failure circuit breaker: cockatiel's CircuitBreakerPolicy with a
 * ConsecutiveBreaker does the counting, the open/half-open/closed state
 * machine and the state-change events. Around it, own code for what it can't
 * express:
 *  - Fail fast while half-open. cockatiel makes every caller that arrives
 *    during the trial *wait* for it and then run too (a storm right after a
 *    successful trial); `refusal()` refuses them instead, so exactly one trial
 *    request is in flight and nobody queues behind it.
 *  - Retry-After: cockatiel keeps `openedAt` private; we note it on the
 *    open transition to report the remaining cooldown.
 *  - Outcome mapping: a 400 counts as a success, a trial cut short by the
 *    deadline reopens (see InconclusiveTrialError), and outside a trial an
 *    attempt cancelled by the lookup's own deadline is neutral — cockatiel
 *    ignores unhandled errors in the closed state — so our queueing under a
 *    storm cannot open the breaker on a healthy Carbon Black.
 *
 * cockatiel moves open -> half-open lazily, when the first request after the
 * cooldown arrives; so `state` reads 'open' until that trial starts.
 *
 * Usage contract: call `refusal()` and, if it returned undefined, `execute()`
 * in the same synchronous step. cockatiel switches to half-open synchronously
 * inside execute, so the next caller's `refusal()` already sees it.
 */
export class Breaker {
  readonly #policy: CircuitBreakerPolicy;
  readonly #cooldownMs: number;
  readonly #subscription: IDisposable;
  #state: BreakerState = 'closed';
  #openedAt = 0;

  constructor(options: BreakerOptions) {
    this.#cooldownMs = options.cooldownMs;
    this.#policy = circuitBreaker(
      handleWhen((error) => countsAsBreakerFailure(error) || error instanceof InconclusiveTrialError),
      { halfOpenAfter: options.cooldownMs, breaker: new ConsecutiveBreaker(options.threshold) },
    );
    this.#subscription = this.#policy.onStateChange((next) => {
      const to = toBreakerState(next);
      if (to === 'open') {
        // cockatiel stamps its own openedAt with Date.now() just before emitting, in the same tick.
        this.#openedAt = Date.now();
      }
      const from = this.#state;
      this.#state = to;
      if (from !== to) {
        options.onStateChange(from, to);
      }
    });
  }

  get state(): BreakerState {
    return this.#state;
  }

  /** Undefined if a request may be sent now (in the open state after cooldown: as the trial). */
  refusal(): BreakerRefusal | undefined {
    switch (this.#policy.state) {
      case CircuitState.Closed:
        return undefined;
      case CircuitState.Open: {
        const remainingMs = this.#openedAt + this.#cooldownMs - Date.now();
        return remainingMs > 0 ? { retryAfterSeconds: Math.max(1, Math.ceil(remainingMs / 1000)) } : undefined;
      }
      default:
        // Half-open: the single trial is running; its verdict comes within one attempt's budget.
        return { retryAfterSeconds: 1 };
    }
  }

  /** Runs one upstream request through the breaker. Call only right after `refusal()` returned undefined. */
  async execute<T>(request: (signal: AbortSignal) => Promise<T>, signal: AbortSignal): Promise<T> {
    const trial = this.#policy.state === CircuitState.Open;
    let outcome: Answered<T>;
    try {
      outcome = await this.#policy.execute(async ({ signal: inner }): Promise<Answered<T>> => {
        try {
          return { answered: 'ok', value: await request(inner) };
        } catch (error) {
          if (isQueryRejected(error)) {
            return { answered: 'query-rejected', error };
          }
          if (trial && !countsAsBreakerFailure(error)) {
            throw new InconclusiveTrialError(error);
          }
          throw error;
        }
      }, signal);
    } catch (error) {
      throw error instanceof InconclusiveTrialError ? error.original : error;
    }
    if (outcome.answered === 'query-rejected') {
      throw outcome.error;
    }
    return outcome.value;
  }

  dispose(): void {
    this.#subscription.dispose();
  }
}

function toBreakerState(state: CircuitState): BreakerState {
  switch (state) {
    case CircuitState.Closed:
      return 'closed';
    case CircuitState.HalfOpen:
      return 'half-open';
    default:
      // Open, or Isolated (never used here): either way nothing goes through.
      return 'open';
  }
}
