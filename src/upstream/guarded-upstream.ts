import { setMaxListeners } from 'node:events';
import { CarbonBlackError } from '../backends/errors.js';
import { backoffDelayMs, sleep, type BackoffOptions } from './backoff.js';
import { Breaker, type BreakerState, type LookupVerdict } from './circuit-breaker.js';
import { countsAsBreakerFailure, isAttemptTimeout, isQueryRejected, isRetryable } from './failure-classification.js';
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
 *   deadline    own timer (deadlineMs): settles run() at the deadline and aborts
 *               the signal every inner wait and the attempt listen to
 *   retry loop  own code (see backoff.ts)
 *     slot      own SlotQueue (see slot-queue.ts); taken per attempt, so a
 *               retry gives its slot up while it backs off
 *     breaker   gate (circuit-breaker.ts): closed passes, open refuses, after
 *               the cooldown the first lookup through becomes the one trial
 *     attempt   the call; its own time budget (CB_TIMEOUT_MS) is enforced by
 *               the Carbon Black client, which aborts the fetch -> CB_TIMEOUT.
 *               The guard does not time attempts: one place, one message.
 *
 * The breaker counts LOOKUPS, not attempts: when run() settles, the lookup's
 * end is recorded once (see verdictOf): success (Carbon Black answered, a 400
 * included), failure (a Carbon Black failure after retries, or the deadline
 * while retrying one), or neutral (nothing learnt about Carbon Black: refused,
 * queue full, cut short by our deadline before any answer, disposed, or an
 * error that is not a CarbonBlackError). Retries absorb flakiness; only
 * lookups that still fail move the breaker.
 *
 * Decisions worth knowing:
 *  - How a lookup ends when time runs out: at the deadline, UpstreamDeadlineError
 *    (the running attempt is aborted). A CB_TIMEOUT from the client is retried
 *    once per lookup, and only when a whole attempt (attemptTimeoutMs) still
 *    fits before the deadline after the backoff; otherwise the lookup ends
 *    with it even though deadline time remains.
 *  - A retry that cannot happen usefully ends the lookup at once with the last
 *    Carbon Black error: its backoff (or Retry-After) would pass the deadline,
 *    the breaker is open or half-open (unless this lookup is the trial), or
 *    the queue is full.
 *  - The breaker gate is checked on entry and again each time an attempt gets
 *    its slot, so lookups queued when the breaker opens fail fast (first
 *    attempt: UpstreamUnavailableError) instead of calling Carbon Black.
 */

/**
 * One Carbon Black attempt. `deadlineAt` (epoch ms) is when the lookup's
 * deadline aborts `signal`: a call that must wait (a request budget) can tell
 * at once whether the wait fits.
 */
export type UpstreamCall<T> = (signal: AbortSignal, deadlineAt: number) => Promise<T>;

export interface GuardOptions {
  /** CB_MAX_CONCURRENCY: most upstream requests executing at once. */
  maxConcurrency: number;
  /** CB_MAX_QUEUE: most lookups waiting for a slot; beyond it run() refuses at once. */
  maxQueue: number;
  /** CB_RETRIES: retries of a transient failure, so at most retries + 1 attempts. */
  retries: number;
  /** CB_DEADLINE_MS: one lookup's whole budget: queueing + attempts + backoff. */
  deadlineMs: number;
  /**
   * CB_TIMEOUT_MS: the client's budget for one attempt. A timed-out attempt is
   * retried (once) only if this much time remains after the backoff; when
   * absent, a timeout is never retried.
   */
  attemptTimeoutMs?: number;
  /** CB_BREAKER_THRESHOLD: consecutive failed lookups (after their retries) that open the breaker. */
  breakerThreshold: number;
  /** CB_BREAKER_COOLDOWN_MS: how long the open breaker refuses before one trial lookup. */
  breakerCooldownMs: number;
  /** CB_BREAKER_FAILURE_RATE / 100: share (0..1] of failed lookups in the window that opens the breaker. Default 0.5. */
  breakerFailureRate?: number;
  /** CB_BREAKER_WINDOW_MS: the sliding window of the failure rate. Default 30000. */
  breakerWindowMs?: number;
  /** CB_BREAKER_MIN_CALLS: lookups the window must hold before the rate may open the breaker. Default 20. */
  breakerMinCalls?: number;
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

export const DEFAULT_BREAKER_FAILURE_RATE = 0.5;
export const DEFAULT_BREAKER_WINDOW_MS = 30_000;
export const DEFAULT_BREAKER_MIN_CALLS = 20;

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
  /** Attempts that ended in CB_TIMEOUT. */
  timeouts: number;
  /** The last attempt's genuine failure (not a cancellation), for the deadline error's cause. */
  lastError: unknown;
  /** This lookup was admitted as the half-open trial; its end decides the breaker. */
  trial: boolean;
  /** The breaker has been told how this lookup ended. */
  recorded: boolean;
}

type Step<T> = { kind: 'done'; value: T } | { kind: 'fail'; error: unknown } | { kind: 'retry'; delayMs: number };

/**
 * What a lookup's end says about Carbon Black (see the header). A 400
 * (CB_QUERY_REJECTED) is an answer. A deadline counts only when the lookup
 * was retrying a Carbon Black failure; a deadline spent queueing, or on an
 * attempt still waiting for its answer, is neutral, so Signet's own queueing
 * under a storm cannot open the breaker on a healthy Carbon Black.
 */
function verdictOf(error: unknown): LookupVerdict {
  if (isQueryRejected(error)) return 'success';
  if (countsAsBreakerFailure(error)) return 'failure';
  if (error instanceof UpstreamDeadlineError && countsAsBreakerFailure(error.cause)) return 'failure';
  return 'neutral';
}

/** `promise`, or the signal's reason as soon as it aborts (the promise's later rejection is swallowed). */
function untilAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) {
    promise.catch(() => undefined);
    return Promise.reject(signal.reason as Error);
  }
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(signal.reason as Error);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error as Error);
      },
    );
  });
}

class Guard implements GuardedUpstream {
  readonly #deadlineMs: number;
  readonly #retries: number;
  readonly #attemptTimeoutMs: number | undefined;
  readonly #backoff: BackoffOptions;
  readonly #onEvent: ((event: UpstreamEvent) => void) | undefined;
  readonly #slots: SlotQueue;
  readonly #breaker: Breaker;
  readonly #disposed = new AbortController();

  constructor(options: GuardOptions) {
    validate(options);
    this.#deadlineMs = options.deadlineMs;
    this.#retries = options.retries;
    this.#attemptTimeoutMs = options.attemptTimeoutMs;
    this.#backoff = {
      baseMs: options.baseBackoffMs ?? 100,
      maxMs: options.maxBackoffMs ?? 2000,
      random: options.random ?? Math.random,
    };
    this.#onEvent = options.onEvent;
    // Each pending lookup listens to this one; up to maxConcurrency + maxQueue
    // of them at once is expected, not a leak.
    setMaxListeners(0, this.#disposed.signal);
    this.#slots = new SlotQueue(options.maxConcurrency, options.maxQueue);
    this.#breaker = new Breaker({
      threshold: options.breakerThreshold,
      cooldownMs: options.breakerCooldownMs,
      failureRate: options.breakerFailureRate ?? DEFAULT_BREAKER_FAILURE_RATE,
      windowMs: options.breakerWindowMs ?? DEFAULT_BREAKER_WINDOW_MS,
      minCalls: options.breakerMinCalls ?? DEFAULT_BREAKER_MIN_CALLS,
      onStateChange: (from, to) => this.#emit({ type: 'breaker-state', from, to }),
    });
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
    // Aborts exactly at the deadline or on dispose: the outcome mapping relies on it.
    const controller = new AbortController();
    const lookup: Lookup = {
      signal: controller.signal,
      startedAt: Date.now(),
      attempts: 0,
      timeouts: 0,
      lastError: undefined,
      trial: false,
      recorded: false,
    };
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const settle = (verdict: LookupVerdict, error: unknown, value?: T): void => {
        settled = true;
        clearTimeout(timer);
        this.#disposed.signal.removeEventListener('abort', onDispose);
        // One lookup, one verdict for the breaker, whatever its attempts did.
        this.#record(lookup, verdict);
        if (error === undefined) resolve(value as T);
        else reject(error);
      };
      // The deadline settles run() at once, even if the running call ignores its signal.
      const timer = setTimeout(() => {
        if (settled) return;
        const error = this.#deadlineExceeded(lookup);
        controller.abort(error);
        settle(verdictOf(error), error);
      }, this.#deadlineMs);
      const onDispose = (): void => {
        if (settled) return;
        const error = new UpstreamDisposedError();
        controller.abort(error);
        settle('neutral', error);
      };
      this.#disposed.signal.addEventListener('abort', onDispose, { once: true });
      this.#lookup(call, lookup).then(
        (value) => {
          if (!settled) settle('success', undefined, value);
        },
        (error: unknown) => {
          if (!settled) settle(verdictOf(error), error);
        },
      );
    });
  }

  dispose(): void {
    if (this.#disposed.signal.aborted) {
      return;
    }
    // Every pending lookup listens to this signal: aborting it rejects each
    // with UpstreamDisposedError, clears its deadline timer, pulls waiters out
    // of the queue, cancels backoff sleeps, and aborts running attempts.
    this.#disposed.abort();
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

      let step: Step<T>;
      try {
        step = this.#next(await this.#attemptInSlot(call, lookup, attempt), lookup, attempt);
        // Recorded while still holding the slot, so a lookup queued behind this
        // one already meets the breaker this verdict may have opened.
        if (step.kind === 'done') this.#record(lookup, 'success');
        if (step.kind === 'fail') this.#record(lookup, verdictOf(step.error));
      } finally {
        this.#slots.release();
      }
      if (step.kind === 'done') return step.value;
      if (step.kind === 'fail') throw step.error;
      await sleep(step.delayMs, signal);
    }
  }

  /** After an attempt: the lookup's result, its final error, or the wait before the next attempt. Synchronous. */
  #next<T>(outcome: AttemptOutcome<T>, lookup: Lookup, attempt: number): Step<T> {
    if (outcome.kind === 'ok') {
      return { kind: 'done', value: outcome.value };
    }
    if (outcome.kind === 'expired') {
      return { kind: 'fail', error: this.#deadlineExceeded(lookup) };
    }
    if (outcome.kind === 'refused') {
      // The breaker opened while this lookup waited for a slot or backed off.
      if (attempt === 1) {
        return { kind: 'fail', error: this.#breakerOpen(outcome.retryAfterSeconds) };
      }
      this.#emitAbandoned(attempt - 1, 'breaker-open', lookup.lastError);
      return { kind: 'fail', error: lookup.lastError };
    }
    const error = outcome.error;
    if (lookup.signal.aborted) {
      // Deadline or dispose: run() has already settled.
      return { kind: 'fail', error };
    }
    if (!isRetryable(error) || attempt > this.#retries) {
      return { kind: 'fail', error };
    }
    const delayMs = backoffDelayMs(attempt - 1, error.retryAfterMs, this.#backoff);
    const remainingMs = lookup.startedAt + this.#deadlineMs - Date.now();
    if (isAttemptTimeout(error)) {
      lookup.timeouts++;
      if (lookup.timeouts > 1 || this.#attemptTimeoutMs === undefined) {
        return { kind: 'fail', error };
      }
      if (delayMs + this.#attemptTimeoutMs > remainingMs) {
        this.#emitAbandoned(attempt, 'deadline', error);
        return { kind: 'fail', error };
      }
    }
    if (delayMs >= remainingMs) {
      // Sleeping past the deadline only to report "deadline" would hide the
      // real cause (e.g. a 429 asking for more time than we have left).
      this.#emitAbandoned(attempt, 'deadline', error);
      return { kind: 'fail', error };
    }
    // The trial may retry (its lookup is the verdict); anyone else stops once the breaker is not closed.
    if (!lookup.trial && this.#breaker.refusal() !== undefined) {
      this.#emitAbandoned(attempt, 'breaker-open', error);
      return { kind: 'fail', error };
    }
    this.#emit({
      type: 'retry',
      attempt: attempt + 1,
      delayMs,
      code: error.code,
      ...(error.upstreamStatus === undefined ? {} : { upstreamStatus: error.upstreamStatus }),
    });
    return { kind: 'retry', delayMs };
  }

  /** Tells the breaker how the lookup ended; only the first call per lookup counts. */
  #record(lookup: Lookup, verdict: LookupVerdict): void {
    if (lookup.recorded) return;
    lookup.recorded = true;
    this.#breaker.record(verdict, lookup.trial);
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
    // slip between this gate and the switch to half-open (one trial only).
    const admission = this.#breaker.admit(lookup.trial);
    if (!admission.admitted) {
      return { kind: 'refused', retryAfterSeconds: admission.refusal.retryAfterSeconds };
    }
    lookup.trial = admission.trial;
    lookup.attempts++;
    try {
      return { kind: 'ok', value: await this.#request(call, lookup, attempt) };
    } catch (error) {
      return { kind: 'failed', error };
    }
  }

  /**
   * One upstream request; classifies how it ended. Its time budget
   * (CB_TIMEOUT_MS) is the Carbon Black client's: it aborts the fetch, body
   * included, and throws CB_TIMEOUT. Here only the lookup's deadline (or
   * dispose) cuts it short; the request's signal is also aborted once it has
   * returned, so leftovers of a finished call stop too.
   */
  async #request<T>(call: UpstreamCall<T>, lookup: Lookup, attempt: number): Promise<T> {
    const started = performance.now();
    const trial = lookup.trial;
    const report = (outcome: 'success' | 'failure' | 'timeout' | 'cancelled', code?: string): void =>
      this.#emit({
        type: 'attempt',
        attempt,
        durationMs: performance.now() - started,
        outcome,
        ...(code === undefined ? {} : { code }),
        trial,
      });
    const attemptController = new AbortController();
    const onAbort = (): void => attemptController.abort(lookup.signal.reason);
    lookup.signal.addEventListener('abort', onAbort, { once: true });
    try {
      const value = await untilAborted(
        new Promise<T>((resolve) => resolve(call(attemptController.signal, lookup.startedAt + this.#deadlineMs))),
        lookup.signal,
      );
      report('success');
      return value;
    } catch (error) {
      if (lookup.signal.aborted) {
        // Our deadline (or dispose) cut it short: whatever the call threw in
        // response is not Carbon Black's failure.
        report('cancelled');
        throw lookup.signal.reason;
      }
      lookup.lastError = error;
      const code = error instanceof CarbonBlackError ? error.code : 'UNKNOWN';
      report(code === 'CB_TIMEOUT' ? 'timeout' : 'failure', code);
      throw error;
    } finally {
      lookup.signal.removeEventListener('abort', onAbort);
      attemptController.abort(new Error('attempt finished'));
    }
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
  atLeast('breakerWindowMs', 1, options.breakerWindowMs);
  atLeast('breakerMinCalls', 1, options.breakerMinCalls);
  if (options.breakerFailureRate !== undefined && !(options.breakerFailureRate > 0 && options.breakerFailureRate <= 1)) {
    throw new RangeError(`GuardOptions.breakerFailureRate must be in (0, 1], got ${String(options.breakerFailureRate)}`);
  }
  atLeast('baseBackoffMs', 0, options.baseBackoffMs);
  atLeast('maxBackoffMs', 0, options.maxBackoffMs);
}
