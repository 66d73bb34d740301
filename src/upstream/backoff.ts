/**
 * Delay before a retry, and an abortable wait.
 *
 * Not cockatiel's ExponentialBackoff/RetryPolicy: the delay has to honour the
 * failed attempt's Retry-After (its generators never see the error), has to
 * be known *before* sleeping so a Retry-After beyond the lookup's deadline can
 * fail at once, and has to use an injectable random source. RetryPolicy's
 * sleep also ignores the AbortSignal, so a deadline or dispose would leave its
 * timer pending and then start one more attempt after the lookup gave up.
 */

export interface BackoffOptions {
  baseMs: number;
  maxMs: number;
  /** Uniform in [0, 1), like Math.random. */
  random: () => number;
}

/**
 * Full jitter ("Exponential Backoff And Jitter", AWS): uniform in
 * [0, min(max, base * 2^retryIndex)), so a storm of failing lookups spreads its
 * retries instead of hitting Carbon Black again in lockstep. When Carbon Black
 * sent Retry-After, wait at least that long; it may exceed maxMs on purpose.
 *
 * @param retryIndex 0 for the first retry, 1 for the second, ...
 */
export function backoffDelayMs(retryIndex: number, retryAfterMs: number | undefined, options: BackoffOptions): number {
  const ceiling = Math.min(options.maxMs, options.baseMs * 2 ** retryIndex);
  const jittered = Math.floor(options.random() * ceiling);
  return Math.max(jittered, retryAfterMs ?? 0);
}

/**
 * Resolves after `ms`, or rejects with the signal's reason as soon as it
 * aborts; either way no timer or listener is left behind. Uses the global
 * setTimeout (not node:timers/promises) so vitest's fake timers control it.
 */
export function sleep(ms: number, signal: AbortSignal): Promise<void> {
  if (signal.aborted) {
    return Promise.reject(signal.reason);
  }
  return new Promise<void>((resolve, reject) => {
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}
