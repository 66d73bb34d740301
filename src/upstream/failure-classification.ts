import { CarbonBlackError } from '../carbon-black/errors.js';

/**
 * Which Carbon Black failures are worth another attempt, and which say that
 * Carbon Black itself is unusable (and so count towards opening the breaker).
 * Kept apart from the orchestration so the policy is readable in one place.
 */

/**
 * Retry only what CarbonBlackError calls transient (connection failures, 429,
 * 502, 503, 504). A timed-out attempt is never retried even if it somehow
 * carried a transient status: a hanging Carbon Black would otherwise get
 * (retries + 1) hung requests per lookup instead of one.
 */
export function isRetryable(error: unknown): error is CarbonBlackError {
  return error instanceof CarbonBlackError && error.transient && error.code !== 'CB_TIMEOUT';
}

/**
 * A failed upstream request for the breaker: every CarbonBlackError except
 * CB_QUERY_REJECTED (a 400 means Carbon Black is up and answering; the query
 * was bad). CB_TOKEN_REJECTED does count: with a rejected token every request
 * fails, so hammering Carbon Black with it only adds load and auth-failure
 * noise on a shared server; the breaker turns that into fast 503s.
 * CB_TIMEOUT, CB_MALFORMED_RESPONSE, CB_TLS_UNTRUSTED and CB_UNEXPECTED_STATUS
 * count too: each means the upstream is not usable right now.
 */
export function countsAsBreakerFailure(error: unknown): error is CarbonBlackError {
  return error instanceof CarbonBlackError && error.code !== 'CB_QUERY_REJECTED';
}

/** A 400: proof that Carbon Black answered, so the breaker treats it as a healthy response. */
export function isQueryRejected(error: unknown): error is CarbonBlackError {
  return error instanceof CarbonBlackError && error.code === 'CB_QUERY_REJECTED';
}
