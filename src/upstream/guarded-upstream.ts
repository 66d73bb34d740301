import { setMaxListeners } from 'node:events';
import { TaskCancelledError, TimeoutStrategy, timeout, type TimeoutPolicy } from 'cockatiel';
import { CarbonBlackError } from '../carbon-black/errors.js';
import { backoffDelayMs, sleep, type BackoffOptions } from './backoff.js';
import { Breaker, type BreakerState } from './circuit-breaker.js';
import { isRetryable } from './failure-classification.js';
import { SlotQueue } from './slot-queue.js';
import { UpstreamDeadlineError, UpstreamDisposedError, UpstreamOverloadedError, UpstreamUnavailableError } from './upstream-errors.js';
import type { UpstreamEvent } from './upstream-events.js';

export type { BreakerState } from './circuit-breaker.js';
export type { UpstreamEvent } from './upstream-events.js';
export * from './upstream-errors.js';

/**
 * Protects Carbon Black from Signet: every cache miss goes through `run()`,
 * which bounds concurrency and queueing, retries transient failures with
 * jittered backoff, fails fast while the circuit breaker is open, and bounds
 * the whole lookup by one deadline.
 *
 * Layering of one lookup, outermost first:
 *   breaker check + queue-full check (refuse at once, nothing queued)
 *   deadline    cockatiel timeout(deadlineMs, Aggressive): rejects at the deadline
 *               and aborts the signal every inner wait and the attempt listen to
 *   retry loop  own code (see backoff.ts for why not cockatiel's RetryPolicy)
 *     slot      own SlotQueue (see slot-queue.ts for why not cockatiel's bulkhead);
 *               taken per attempt, so a retry gives its slot up while it backs off
 *     breaker   cockatiel circuitBreaker + ConsecutiveBreaker, behind a fail-fast gate
 *     attempt   cockatiel timeout(attemptTimeoutMs, Aggressive): aborts the
 *               attempt's signal when its budget is spent -> CB_TIMEOUT
 *
 * Decisions worth knowing:
 *  - How a lookup ends when time runs out: at the deadline, UpstreamDeadlineError
 *    (the running attempt is aborted). If the attempt's own budget runs out
 *    first, CB_TIMEOUT, which is never retried, so the lookup ends with it even
 *    though deadline time remains. When both fall due at the same moment the
 *    deadline wins (its timer was set first).
 *  - A retry that cannot happen usefully ends the lookup at once with the last
 *    Carbon Black error: its backoff (or Retry-After) would pass the deadline,
 *    the breaker is open or half-open, or the queue is full.
 *  - The breaker gate is checked on entry and again each time an attempt gets
 *    its slot, so lookups queued when the breaker opens fail fast (first
 *    attempt: UpstreamUnavailableError) instead of calling Carbon Black.
 */

export type UpstreamCall<T> = (signal: AbortSignal) => Promise<T>;

export interface GuardOptions {
  /** CB_MAX_CONCURRENCY: most upstream requests executing at once. */
  maxConcurrency: number;
  /** CB_MAX_QUEUE: most lookups waiting for a slot; beyond it run() refuses at once. */
  maxQueue: number;
  /** CB_RETRIES: retries of a transient failure, so at most retries + 1 attempts. */
  retries: number;
  /** CB_DEADLINE_MS: one lookup's whole budget: queueing + attempts + backoff. */
  deadlineMs: number;
  /** CB_TIMEOUT_MS: one attempt's budget; its signal aborts when it is spent. */
  attemptTimeoutMs: number;
  /** CB_BREAKER_THRESHOLD: consecutive failed upstream requests that open the breaker. */
  breakerThreshold: number;
  /** CB_BREAKER_COOLDOWN_MS: how long the open breaker refuses before one trial request. */
  breakerCooldownMs: number;
  /** Full-jitter backoff base: retry n waits uniform [0, min(max, base * 2^(n-1))). Default 100. */
  baseBackoffMs?: number;
  /** Cap of the jittered backoff (a Retry-After may exceed it). Default 2000. */
  maxBackoffMs?: number;
  /** Uniform [0, 1) source for jitter; injectable for tests. Default Math.random. */
  random?: () => number;
  /** Logs/metrics hook. Called synchronously; exceptions it throws are swallowed. */
  onEvent?: (event: UpstreamEvent) => void;
}

export interface GuardedUpstream {
  /**
   * Runs `call` (one Carbon Black request; it must honour the signal) under the
   * protections. Rejects with UpstreamOverloadedError, UpstreamUnavailableError,
   * UpstreamDeadlineError, UpstreamDisposedError, or the call's own error
   * (a CarbonBlackError) once retries are exhausted or not allowed.
   */
  run<T>(call: UpstreamCall<T>): Promise<T>;
  readonly breakerState: BreakerState;
  /** Upstream requests executing now (slots held). */
  readonly inFlight: number;
  /** Lookups waiting for a slot now. */
  readonly queued: number;
  /** Rejects pending lookups with UpstreamDisposedError, aborts their attempts, clears every timer. */
  dispose(): void;
}

/**
 * When the queue is full, retrying after a second is reasonable: space frees
 * as soon as any in-flight request ends, and a refusal costs Carbon Black nothing.
 */
const OVERLOAD_RETRY_AFTER_SECONDS = 1;

export function createGuardedUpstream(options: GuardOptions): GuardedUpstream {
  return new Guard(options);
}

type AttemptOutcome<T> =
  | { kind: 'ok'; value: T }
  | { kind: 'failed'; error: unknown }
  /** The breaker refused before anything was sent. */
  | { kind: 'refused'; retryAfterSeconds: number }
  /** The slot came only as the deadline ran out; nothing was sent. */
  | { kind: 'expired' };

/** Per-lookup bookkeeping shared between the retry loop and the outcome mapping. */
interface Lookup {
  /** The deadline's signal: aborts at the deadline or on dispose. Set synchronously when the lookup starts. */
  signal: AbortSignal;
  startedAt: number;
  /** Requests actually sent. */
  attempts: number;
  /** The last attempt's genuine failure (not a cancellation), for the deadline error's cause. */
  lastError: unknown;
}

class Guard implements GuardedUpstream {
  readonly #deadlineMs: number;
  readonly #attemptTimeoutMs: number;
  readonly #retries: number;
  readonly #backoff: BackoffOptions;
  readonly #onEvent: ((event: UpstreamEvent) => void) | undefined;
  readonly #slots: SlotQueue;
  readonly #breaker: Breaker;
  readonly #deadline: TimeoutPolicy;
  readonly #attemptTimeout: TimeoutPolicy;
  readonly #disposed = new AbortController();

  constructor(options: GuardOptions) {
    validate(options);
    this.#deadlineMs = options.deadlineMs;
    this.#attemptTimeoutMs = options.attemptTimeoutMs;
    this.#retries = options.retries;
    this.#backoff = {
      baseMs: options.baseBackoffMs ?? 100,
      maxMs: options.maxBackoffMs ?? 2000,
      random: options.random ?? Math.random,
    };
    this.#onEvent = options.onEvent;
    // Each pending lookup's deadline signal listens to this one; up to
    // maxConcurrency + maxQueue of them at once is expected, not a leak.
    setMaxListeners(0, this.#disposed.signal);
    this.#slots = new SlotQueue(options.maxConcurrency, options.maxQueue);
    this.#breaker = new Breaker({
      threshold: options.breakerThreshold,
      cooldownMs: options.breakerCooldownMs,
      onStateChange: (from, to) => this.#emit({ type: 'breaker-state', from, to }),
    });
    // abortOnReturn: false, because an aborted lookup signal must mean exactly
    // "deadline passed or disposed": the outcome mapping in run() relies on it.
    this.#deadline = timeout(options.deadlineMs, { strategy: TimeoutStrategy.Aggressive, abortOnReturn: false });
    // Aggressive: the attempt ends at its budget even if the call ignores its
    // signal; the default abortOnReturn also aborts leftovers of a finished call.
    this.#attemptTimeout = timeout(options.attemptTimeoutMs, TimeoutStrategy.Aggressive);
  }

  get breakerState(): BreakerState {
    return this.#breaker.state;
  }

  get inFlight(): number {
    return this.#slots.active;
  }

  get queued(): number {
    return this.#slots.queued;
  }

  run<T>(call: UpstreamCall<T>): Promise<T> {
    if (this.#disposed.signal.aborted) {
      return Promise.reject(new UpstreamDisposedError());
    }
    // Both refusals happen before a deadline timer exists: a storm against an
    // open breaker or a full queue costs no timers and no queue places.
    const refusal = this.#breaker.refusal();
    if (refusal !== undefined) {
      return Promise.reject(this.#breakerOpen(refusal.retryAfterSeconds));
    }
    if (this.#slots.full) {
      return Promise.reject(this.#overloaded());
    }
    // `signal` is a placeholder: cockatiel calls the function below synchronously,
    // which swaps in the deadline's own signal before the lookup does anything.
    const lookup: Lookup = { signal: this.#disposed.signal, startedAt: Date.now(), attempts: 0, lastError: undefined };
    return this.#deadline
      .execute(({ signal }) => {
        lookup.signal = signal;
        return this.#lookup(call, lookup);
      }, this.#disposed.signal)
      .catch((error: unknown) => {
        throw this.#finalError(error, lookup);
      });
  }

  dispose(): void {
    if (this.#disposed.signal.aborted) {
      return;
    }
    // Every lookup's deadline signal derives from this one: aborting it makes
    // cockatiel reject and clear each deadline timer, pulls waiters out of the
    // queue, cancels backoff sleeps, and aborts (and clears the timers of) running attempts.
    this.#disposed.abort();
    this.#breaker.dispose();
  }

  /** The retry loop. Runs inside the deadline; every wait in it listens to lookup.signal. */
  async #lookup<T>(call: UpstreamCall<T>, lookup: Lookup): Promise<T> {
    const signal = lookup.signal;
    for (let attempt = 1; ; attempt++) {
      const slot = this.#slots.acquire(signal);
      if (slot === undefined) {
        // The first acquire runs in the same synchronous step as run()'s room
        // check, so only a retry re-entering a full queue gets here. It gives
        // up rather than overflow maxQueue: admitted work never exceeds the bound.
        if (attempt === 1) {
          throw this.#overloaded();
        }
        this.#emitAbandoned(attempt - 1, 'queue-full', lookup.lastError);
        throw lookup.lastError;
      }
      await slot;

      let outcome: AttemptOutcome<T>;
      try {
        outcome = await this.#attemptInSlot(call, lookup, attempt);
      } finally {
        this.#slots.release();
      }
      if (outcome.kind === 'ok') {
        return outcome.value;
      }
      if (outcome.kind === 'expired') {
        throw this.#deadlineExceeded(lookup);
      }
      if (outcome.kind === 'refused') {
        // The breaker opened while this lookup waited for a slot or backed off.
        if (attempt === 1) {
          throw this.#breakerOpen(outcome.retryAfterSeconds);
        }
        this.#emitAbandoned(attempt - 1, 'breaker-open', lookup.lastError);
        throw lookup.lastError;
      }

      const error = outcome.error;
      if (signal.aborted) {
        // Deadline or dispose: the deadline race has already settled run().
        throw error;
      }
      if (!isRetryable(error) || attempt > this.#retries) {
        throw error;
      }
      const delayMs = backoffDelayMs(attempt - 1, error.retryAfterMs, this.#backoff);
      const remainingMs = lookup.startedAt + this.#deadlineMs - Date.now();
      if (delayMs >= remainingMs) {
        // Sleeping past the deadline only to report "deadline" would hide the
        // real cause (e.g. a 429 asking for more time than we have left).
        this.#emitAbandoned(attempt, 'deadline', error);
        throw error;
      }
      if (this.#breaker.refusal() !== undefined) {
        this.#emitAbandoned(attempt, 'breaker-open', error);
        throw error;
      }
      this.#emit({
        type: 'retry',
        attempt: attempt + 1,
        delayMs,
        code: error.code,
        ...(error.upstreamStatus === undefined ? {} : { upstreamStatus: error.upstreamStatus }),
      });
      await sleep(delayMs, signal);
    }
  }

  /** Holding a slot: pass the breaker gate, then send one request. Never rejects. */
  async #attemptInSlot<T>(call: UpstreamCall<T>, lookup: Lookup, attempt: number): Promise<AttemptOutcome<T>> {
    const signal = lookup.signal;
    if (signal.aborted) {
      // The slot was handed over in the same tick the deadline fired.
      return { kind: 'failed', error: signal.reason };
    }
    if (lookup.startedAt + this.#deadlineMs - Date.now() <= 0) {
      // The deadline timer is due but has not fired yet (another timer due at
      // the same moment freed this slot). A request now would be aborted at
      // once, after Carbon Black had already been asked.
      return { kind: 'expired' };
    }
    // From here to the call everything is synchronous, so no other lookup can
    // slip between this gate and cockatiel's switch to half-open (one trial only).
    const refusal = this.#breaker.refusal();
    if (refusal !== undefined) {
      return { kind: 'refused', retryAfterSeconds: refusal.retryAfterSeconds };
    }
    const trial = this.#breaker.state === 'open';
    lookup.attempts++;
    try {
      return { kind: 'ok', value: await this.#breaker.execute(() => this.#request(call, lookup, attempt, trial), signal) };
    } catch (error) {
      return { kind: 'failed', error };
    }
  }

  /** One upstream request within its own budget; classifies how it ended. */
  async #request<T>(call: UpstreamCall<T>, lookup: Lookup, attempt: number, trial: boolean): Promise<T> {
    const started = performance.now();
    const report = (outcome: 'success' | 'failure' | 'timeout' | 'cancelled', code?: string): void =>
      this.#emit({
        type: 'attempt',
        attempt,
        durationMs: performance.now() - started,
        outcome,
        ...(code === undefined ? {} : { code }),
        trial,
      });
    try {
      const value = await this.#attemptTimeout.execute(({ signal }) => call(signal), lookup.signal);
      report('success');
      return value;
    } catch (error) {
      if (lookup.signal.aborted) {
        // Our deadline (or dispose) cut it short. Whatever the call threw in
        // response (AbortError, even a CB_TIMEOUT) is not Carbon Black's
        // failure: rethrow a non-CarbonBlackError so the breaker does not
        // count it (and treats a cut-short trial as inconclusive).
        report('cancelled');
        throw lookup.signal.reason;
      }
      // instanceof, not cockatiel's isTaskCancelledError: in 3.2.1 that helper
      // tests for 'isBulkheadRejectedError' and never matches a timeout.
      const failure =
        error instanceof TaskCancelledError
          ? new CarbonBlackError('CB_TIMEOUT', `Carbon Black request exceeded ${this.#attemptTimeoutMs} ms`, { cause: error })
          : error;
      lookup.lastError = failure;
      const code = failure instanceof CarbonBlackError ? failure.code : 'UNKNOWN';
      report(code === 'CB_TIMEOUT' ? 'timeout' : 'failure', code);
      throw failure;
    }
  }

  /** What run() rejects with. Once the lookup's signal aborted, the deadline (or dispose) is the outcome. */
  #finalError(error: unknown, lookup: Lookup): unknown {
    if (!lookup.signal.aborted) {
      return error;
    }
    if (this.#disposed.signal.aborted) {
      return new UpstreamDisposedError();
    }
    return this.#deadlineExceeded(lookup);
  }

  #deadlineExceeded(lookup: Lookup): UpstreamDeadlineError {
    this.#emit({ type: 'deadline-exceeded', attempts: lookup.attempts });
    return new UpstreamDeadlineError(this.#deadlineMs, lookup.lastError);
  }

  #overloaded(): UpstreamOverloadedError {
    this.#emit({ type: 'rejected', reason: 'queue-full', retryAfterSeconds: OVERLOAD_RETRY_AFTER_SECONDS });
    return new UpstreamOverloadedError(OVERLOAD_RETRY_AFTER_SECONDS);
  }

  #breakerOpen(retryAfterSeconds: number): UpstreamUnavailableError {
    this.#emit({ type: 'rejected', reason: 'breaker-open', retryAfterSeconds });
    return new UpstreamUnavailableError(retryAfterSeconds);
  }

  #emitAbandoned(attempt: number, reason: 'deadline' | 'breaker-open' | 'queue-full', error: unknown): void {
    this.#emit({ type: 'retry-abandoned', attempt, reason, code: error instanceof CarbonBlackError ? error.code : 'UNKNOWN' });
  }

  #emit(event: UpstreamEvent): void {
    try {
      this.#onEvent?.(event);
    } catch {
      // A broken logger or metric must never fail a lookup.
    }
  }
}

function validate(options: GuardOptions): void {
  const atLeast = (name: keyof GuardOptions, min: number, value: number | undefined): void => {
    if (value !== undefined && !(Number.isFinite(value) && value >= min)) {
      throw new RangeError(`GuardOptions.${name} must be a finite number >= ${min}, got ${String(value)}`);
    }
  };
  atLeast('maxConcurrency', 1, options.maxConcurrency);
  atLeast('maxQueue', 0, options.maxQueue);
  atLeast('retries', 0, options.retries);
  atLeast('deadlineMs', 1, options.deadlineMs);
  atLeast('attemptTimeoutMs', 1, options.attemptTimeoutMs);
  atLeast('breakerThreshold', 1, options.breakerThreshold);
  atLeast('breakerCooldownMs', 1, options.breakerCooldownMs);
  atLeast('baseBackoffMs', 0, options.baseBackoffMs);
  atLeast('maxBackoffMs', 0, options.maxBackoffMs);
}
