export type BreakerState = 'closed' | 'open' | 'half-open';

/**
 * How one guarded lookup ended, as evidence about Carbon Black:
 *  - success: Carbon Black answered (a verdict, "no record", or a 400 query rejection);
 *  - failure: the lookup ended, after its retries, with a Carbon Black failure;
 *  - neutral: no evidence either way (our own deadline or shutdown cut it short,
 *    it never reached Carbon Black, or the call failed with an error of its own).
 */
export type LookupVerdict = 'success' | 'failure' | 'neutral';

export interface BreakerOptions {
  /** Consecutive failed lookups that open the breaker. */
  threshold: number;
  /** Share (0..1] of failed lookups within the window that opens the breaker... */
  failureRate: number;
  /** ...over this sliding window, in ms... */
  windowMs: number;
  /** ...once the window holds at least this many lookups. */
  minCalls: number;
  /** How long the open breaker refuses before it lets one trial lookup through. */
  cooldownMs: number;
  onStateChange: (from: BreakerState, to: BreakerState) => void;
  /** Clock in ms; injectable for tests. Default Date.now. */
  now?: () => number;
}

/** Why a lookup may not go now, and when to come back. */
export interface BreakerRefusal {
  retryAfterSeconds: number;
}

export type Admission = { admitted: true; trial: boolean } | { admitted: false; refusal: BreakerRefusal };

/** The window is kept as this many buckets, so memory stays fixed whatever the traffic. */
const BUCKETS = 10;

/**
 * A circuit breaker over LOOKUPS (one guarded run, after its retries), not
 * over attempts: a flaky Carbon Black whose failures retries absorb never
 * opens it; an outage does. It opens on whichever comes first:
 *  - sustained failure: `threshold` consecutive failed lookups (catches an
 *    outage quickly even at low traffic);
 *  - failure rate: at least `failureRate` of the lookups that ended in the
 *    last `windowMs` failed, with at least `minCalls` of them (catches a
 *    partial outage under load, where successes keep breaking the streak).
 * Open: every lookup is refused for `cooldownMs`. Then the first lookup to
 * reach Carbon Black becomes the single trial (half-open); the others are
 * refused while it runs. The trial's success closes the breaker with a clean
 * slate; a failure, or an inconclusive end (neutral), reopens it for a full
 * cooldown. Lookup ends seen while open, or half-open but not from the
 * trial, are ignored: they started under the old regime.
 *
 * The state moves open -> half-open lazily, when the trial is admitted.
 */
export class Breaker {
  readonly #options: BreakerOptions;
  readonly #now: () => number;
  readonly #bucketMs: number;
  #state: BreakerState = 'closed';
  #openedAt = 0;
  #consecutive = 0;
  /** Ring of [bucket start, lookups, failures]. */
  readonly #buckets: Array<{ start: number; calls: number; failures: number }>;

  constructor(options: BreakerOptions) {
    for (const [name, min] of [
      ['threshold', 1],
      ['windowMs', 1],
      ['minCalls', 1],
      ['cooldownMs', 1],
    ] as const) {
      if (!(Number.isFinite(options[name]) && options[name] >= min)) {
        throw new RangeError(`breaker ${name} must be a finite number >= ${min}, got ${String(options[name])}`);
      }
    }
    if (!(options.failureRate > 0 && options.failureRate <= 1)) {
      throw new RangeError(`breaker failureRate must be in (0, 1], got ${String(options.failureRate)}`);
    }
    this.#options = options;
    this.#now = options.now ?? Date.now;
    this.#bucketMs = Math.max(1, Math.ceil(options.windowMs / BUCKETS));
    this.#buckets = Array.from({ length: BUCKETS }, () => ({ start: -Infinity, calls: 0, failures: 0 }));
  }

  get state(): BreakerState {
    return this.#state;
  }

  /**
   * Whether a new lookup (or a retry of a lookup that is not the trial) may
   * go ahead, without changing anything: undefined if it may.
   */
  refusal(): BreakerRefusal | undefined {
    switch (this.#state) {
      case 'closed':
        return undefined;
      case 'open': {
        const remainingMs = this.#openedAt + this.#options.cooldownMs - this.#now();
        return remainingMs > 0 ? { retryAfterSeconds: Math.max(1, Math.ceil(remainingMs / 1000)) } : undefined;
      }
      default:
        // Half-open: the trial is running; its verdict comes within one lookup's deadline.
        return { retryAfterSeconds: 1 };
    }
  }

  /**
   * Right before a request is sent. `holdsTrial`: this lookup is already the
   * trial (its retry). In the open state after the cooldown, admits this
   * lookup as the trial and moves to half-open.
   */
  admit(holdsTrial: boolean): Admission {
    if (holdsTrial && this.#state === 'half-open') {
      return { admitted: true, trial: true };
    }
    const refusal = this.refusal();
    if (refusal !== undefined) {
      return { admitted: false, refusal };
    }
    if (this.#state === 'open') {
      this.#transition('half-open');
      return { admitted: true, trial: true };
    }
    return { admitted: true, trial: false };
  }

  /** How a lookup ended. `trial`: it was admitted as the trial. */
  record(verdict: LookupVerdict, trial: boolean): void {
    if (trial) {
      if (this.#state !== 'half-open') return;
      if (verdict === 'success') {
        this.#reset();
        this.#transition('closed');
      } else {
        this.#open();
      }
      return;
    }
    if (this.#state !== 'closed' || verdict === 'neutral') {
      return;
    }
    const bucket = this.#bucket(this.#now());
    bucket.calls++;
    if (verdict === 'success') {
      this.#consecutive = 0;
      return;
    }
    bucket.failures++;
    this.#consecutive++;
    if (this.#consecutive >= this.#options.threshold || this.#rateExceeded()) {
      this.#open();
    }
  }

  /** Lookups and failures within the window now (for tests and diagnostics). */
  window(): { calls: number; failures: number } {
    const since = this.#now() - this.#options.windowMs;
    let calls = 0;
    let failures = 0;
    for (const bucket of this.#buckets) {
      // A bucket counts while any of it lies within the window (granularity: windowMs / 10).
      if (bucket.start + this.#bucketMs > since) {
        calls += bucket.calls;
        failures += bucket.failures;
      }
    }
    return { calls, failures };
  }

  #rateExceeded(): boolean {
    const { calls, failures } = this.window();
    return calls >= this.#options.minCalls && failures >= this.#options.failureRate * calls;
  }

  #bucket(now: number): { start: number; calls: number; failures: number } {
    const start = Math.floor(now / this.#bucketMs) * this.#bucketMs;
    const bucket = this.#buckets[Math.floor(now / this.#bucketMs) % BUCKETS]!;
    if (bucket.start !== start) {
      bucket.start = start;
      bucket.calls = 0;
      bucket.failures = 0;
    }
    return bucket;
  }

  #open(): void {
    this.#openedAt = this.#now();
    this.#reset();
    this.#transition('open');
  }

  #reset(): void {
    this.#consecutive = 0;
    for (const bucket of this.#buckets) {
      bucket.start = -Infinity;
      bucket.calls = 0;
      bucket.failures = 0;
    }
  }

  #transition(to: BreakerState): void {
    const from = this.#state;
    this.#state = to;
    if (from !== to) {
      this.#options.onStateChange(from, to);
    }
  }
}
