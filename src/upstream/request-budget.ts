import { sleep } from './backoff.js';
import { UpstreamBudgetSpentError } from './upstream-errors.js';

/**
 * How many requests Signet lets itself send to a rate-limited Carbon Black
 * (Cloud: per API key, a sliding window; the documented example is 1000
 * requests per 5 minutes). Every request a backend sends takes one place
 * first, job creation and polls included, so Signet stays inside the limit
 * instead of discovering it through 429s, and after a 429 nothing is sent
 * until its Retry-After has passed (a call made during that wait extends it).
 */
export interface RequestBudget {
  /**
   * Takes one place, waiting (on `signal`) until the window and any pause
   * allow it. Rejects at once with UpstreamBudgetSpentError when that wait
   * would pass `deadlineAt`: the lookup is refused and nothing is sent.
   */
  take(signal: AbortSignal, deadlineAt: number): Promise<void>;
  /** Carbon Black answered 429: send nothing for `ms` from now (a later end wins over an earlier one). */
  pauseFor(ms: number): void;
  /** Places used in the current window, and the end of a pause (epoch ms, 0 when none), for metrics and tests. */
  usage(): { used: number; limit: number; pausedUntil: number };
}

export interface RequestBudgetOptions {
  /** Requests allowed per window (CB_REQUESTS_PER_5_MINUTES). */
  limit: number;
  /** The sliding window, in milliseconds. Default five minutes. */
  windowMs?: number;
  /** Wall clock, epoch ms; injectable for tests. */
  now?: () => number;
}

export const FIVE_MINUTES_MS = 5 * 60 * 1000;

export function createRequestBudget(options: RequestBudgetOptions): RequestBudget {
  return new SlidingWindowBudget(options);
}

/**
 * A sliding window kept as a ring of the last `limit` send times: a place is
 * free when the oldest of them left the window. O(1) per request and
 * `limit` numbers of memory, whatever the traffic.
 */
class SlidingWindowBudget implements RequestBudget {
  readonly #limit: number;
  readonly #windowMs: number;
  readonly #now: () => number;
  readonly #sentAt: Float64Array;
  /** Next slot of the ring to overwrite: the oldest send once the ring is full. */
  #next = 0;
  #count = 0;
  #pausedUntil = 0;
  /** Waiters are served in arrival order, so a steady stream cannot starve an early one. */
  #queue: Promise<void> = Promise.resolve();

  constructor(options: RequestBudgetOptions) {
    if (!Number.isInteger(options.limit) || options.limit < 1) throw new RangeError('RequestBudget limit must be an integer >= 1');
    const windowMs = options.windowMs ?? FIVE_MINUTES_MS;
    if (!(windowMs > 0)) throw new RangeError('RequestBudget windowMs must be > 0');
    this.#limit = options.limit;
    this.#windowMs = windowMs;
    this.#now = options.now ?? Date.now;
    this.#sentAt = new Float64Array(options.limit);
  }

  take(signal: AbortSignal, deadlineAt: number): Promise<void> {
    const turn = this.#queue.then(() => this.#takeInTurn(signal, deadlineAt));
    // The next waiter goes after this one however it ends.
    this.#queue = turn.catch(() => undefined);
    return turn;
  }

  pauseFor(ms: number): void {
    if (!(ms > 0)) return;
    this.#pausedUntil = Math.max(this.#pausedUntil, this.#now() + ms);
  }

  usage(): { used: number; limit: number; pausedUntil: number } {
    const now = this.#now();
    let used = 0;
    for (let i = 0; i < this.#count; i++) {
      if (this.#sentAt[i]! > now - this.#windowMs) used++;
    }
    return { used, limit: this.#limit, pausedUntil: this.#pausedUntil > now ? this.#pausedUntil : 0 };
  }

  async #takeInTurn(signal: AbortSignal, deadlineAt: number): Promise<void> {
    for (;;) {
      signal.throwIfAborted();
      const now = this.#now();
      const freeAt = this.#freeAt(now);
      if (freeAt <= now) {
        this.#record(now);
        return;
      }
      if (freeAt >= deadlineAt) throw new UpstreamBudgetSpentError((freeAt - now) / 1000);
      await sleep(freeAt - now, signal);
    }
  }

  /** When the next request may go: the end of any pause, and the moment the oldest send leaves a full window. */
  #freeAt(now: number): number {
    const windowFree = this.#count < this.#limit ? now : this.#sentAt[this.#next]! + this.#windowMs;
    return Math.max(windowFree, this.#pausedUntil);
  }

  #record(now: number): void {
    this.#sentAt[this.#next] = now;
    this.#next = (this.#next + 1) % this.#limit;
    if (this.#count < this.#limit) this.#count++;
  }
}
