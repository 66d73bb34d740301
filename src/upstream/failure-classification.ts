import { CarbonBlackError } from '../backends/errors.js';

/**
 * Which Carbon Black failures are worth another attempt, and which say that
 * Carbon Black itself is unusable (and so count towards opening the breaker).
 * Kept apart from the orchestration so the policy is readable in one place.
 */

/**
 * Retry what CarbonBlackError calls transient (connection failures, 429, 502,
 * 503, 504) and a timed-out attempt. The guard retries a timeout under
 * stricter terms (see isAttemptTimeout), so a hanging Carbon Black gets at
 * most two hung requests per lookup, not (retries + 1).
 */
export function isRetryable(error: unknown): error is CarbonBlackError {
  return error instanceof CarbonBlackError && (error.transient || error.code === 'CB_TIMEOUT');
}

/**
 * The client aborted an attempt at CB_TIMEOUT_MS. One hang in an otherwise
 * healthy Carbon Black (a lost packet, a slow shard) is worth one more try,
 * but only once per lookup and only when a whole attempt still fits before
 * the lookup's deadline: a retry that the deadline would cut short only turns
 * a clear CB_TIMEOUT into a later UPSTREAM_DEADLINE.
 */
export function isAttemptTimeout(error: unknown): error is CarbonBlackError {
  return error instanceof CarbonBlackError && error.code === 'CB_TIMEOUT';
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
