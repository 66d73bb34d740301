/**
 * Carbon Black Cloud's per-key rate limit, as a sliding window log: the
 * documented example is 1000 requests per 5 minutes, a 429 carries
 * Retry-After, and a call made during that wait extends it.
 *
 * The exact rule:
 * - Every request counts, the refused ones included: each is logged with
 *   its arrival time.
 * - A request is refused when the window before it (the last windowMs)
 *   already holds `limit` or more logged requests.
 * - Retry-After is the time until enough of the logged requests have aged
 *   out of the window for the next request to pass (fewer than `limit`
 *   left, the refused request itself included), rounded up to whole
 *   seconds: a client that waits exactly that long and sends nothing
 *   meanwhile gets through.
 * - A request made during the wait is refused and logged too, so the
 *   window must shed one more request before the next one passes: the wait
 *   grows to when the next-oldest logged request ages out. A client that
 *   keeps calling while limited stays limited until it stops for a while.
 */

export interface RateLimitSettings {
  /** Requests allowed per window (default 1000). */
  limit: number;
  /** The window's length, ms (default 300,000: 5 minutes). */
  windowMs: number;
}

export const DEFAULT_RATE_LIMIT: Readonly<RateLimitSettings> = Object.freeze({ limit: 1000, windowMs: 300_000 });
export const MAX_RATE_LIMIT = 10_000_000;
export const MAX_RATE_WINDOW_MS = 86_400_000;

export type RateDecision = { allowed: true } | { allowed: false; retryAfterSeconds: number; retryAfterMs: number };

export class SlidingWindowLimiter {
  // Arrival times in order; entries before `head` have aged out (compacted now and then rather than shifted each time).
  private times: number[] = [];
  private head = 0;

  constructor(
    readonly settings: Readonly<RateLimitSettings>,
    private readonly now: () => number,
  ) {
    const { limit, windowMs } = settings;
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_RATE_LIMIT) {
      throw new RangeError(`rate limit must be an integer from 1 to ${MAX_RATE_LIMIT}`);
    }
    if (!Number.isInteger(windowMs) || windowMs < 1 || windowMs > MAX_RATE_WINDOW_MS) {
      throw new RangeError(`rate window must be an integer from 1 to ${MAX_RATE_WINDOW_MS} ms`);
    }
  }

  private expire(at: number): void {
    const cutoff = at - this.settings.windowMs;
    while (this.head < this.times.length && (this.times[this.head] as number) <= cutoff) this.head += 1;
    if (this.head > 1024 && this.head * 2 > this.times.length) {
      this.times = this.times.slice(this.head);
      this.head = 0;
    }
  }

  /** Logs one request and says whether it may proceed. */
  hit(): RateDecision {
    const at = this.now();
    this.expire(at);
    const before = this.times.length - this.head;
    // A clock that steps back must not reorder the log: a request never predates the one before it.
    this.times.push(Math.max(at, this.times[this.times.length - 1] ?? at));
    if (before < this.settings.limit) return { allowed: true };
    // The window holds `before + 1` requests now; the next one passes once only limit - 1 are left,
    // that is when the entry at (count - limit) ages out.
    const count = before + 1;
    const oldestToShed = this.times[this.head + count - this.settings.limit] as number;
    const retryAfterMs = oldestToShed + this.settings.windowMs - at;
    return { allowed: false, retryAfterMs, retryAfterSeconds: Math.max(1, Math.ceil(retryAfterMs / 1000)) };
  }

  /** Requests logged in the current window. */
  inWindow(): number {
    this.expire(this.now());
    return this.times.length - this.head;
  }
}
