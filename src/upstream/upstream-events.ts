import type { BreakerState } from './circuit-breaker.js';

/**
 * What the guard reports for logs and metrics. Attempts are numbered from 1
 * within one lookup. Codes are CarbonBlackError codes (or 'UNKNOWN' for an
 * error that is not one), never messages.
 */
export type UpstreamEvent =
  /** Every breaker transition: closed->open, open->half-open (trial starts), half-open->closed|open. */
  | { type: 'breaker-state'; from: BreakerState; to: BreakerState }
  /** One upstream request finished. `trial`: it was the half-open trial request. */
  | {
      type: 'attempt';
      attempt: number;
      durationMs: number;
      /** success; failure (Carbon Black error); timeout (attempt budget spent); cancelled (lookup deadline or dispose). */
      outcome: 'success' | 'failure' | 'timeout' | 'cancelled';
      code?: string;
      trial: boolean;
    }
  /** A transient failure will be retried after `delayMs` (`attempt` is the attempt about to be made). */
  | { type: 'retry'; attempt: number; delayMs: number; code: string; upstreamStatus?: number }
  /**
   * A retryable failure that will not be retried although retries remain: the
   * wait would pass the deadline, the breaker is open, or the queue is full.
   * The lookup fails with that last failure.
   */
  | { type: 'retry-abandoned'; attempt: number; reason: 'deadline' | 'breaker-open' | 'queue-full'; code: string }
  /** A lookup refused before any request was sent. */
  | { type: 'rejected'; reason: 'queue-full' | 'breaker-open'; retryAfterSeconds: number }
  /** A lookup hit its overall deadline after `attempts` requests. */
  | { type: 'deadline-exceeded'; attempts: number };
