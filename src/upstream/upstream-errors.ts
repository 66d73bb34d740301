/**
 * Failures the upstream protection layer adds on top of CarbonBlackError. Each
 * has a stable `code` so the HTTP layer maps it to a status (503 + Retry-After
 * for the first two, 504 for the deadline) and metrics label it, never by
 * message text. Errors from Carbon Black itself are not wrapped: they reach
 * the caller unchanged.
 */
export type UpstreamErrorCode =
  'UPSTREAM_QUEUE_FULL' | 'UPSTREAM_BREAKER_OPEN' | 'UPSTREAM_BUDGET_SPENT' | 'UPSTREAM_DEADLINE' | 'UPSTREAM_DISPOSED';

/** The wait queue for a Carbon Black slot is full: refused at once, nothing was sent. */
export class UpstreamOverloadedError extends Error {
  override name = 'UpstreamOverloadedError';
  readonly code = 'UPSTREAM_QUEUE_FULL' as const;
  /** A suggestion for the client's Retry-After; queue space frees as soon as any request ends. */
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super('Too many Carbon Black lookups are waiting; try again shortly');
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/** The circuit breaker is open (or a half-open trial is running): failed fast, nothing was sent. */
export class UpstreamUnavailableError extends Error {
  override name = 'UpstreamUnavailableError';
  readonly code = 'UPSTREAM_BREAKER_OPEN' as const;
  /** Seconds until the breaker lets a trial request through, rounded up, at least 1. */
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super('Carbon Black is failing; lookups are refused until the circuit breaker cools down');
    this.retryAfterSeconds = retryAfterSeconds;
  }
}

/**
 * The request budget (CB_REQUESTS_PER_5_MINUTES, or a 429's Retry-After) has
 * no room before the lookup's deadline: refused, nothing was sent.
 */
export class UpstreamBudgetSpentError extends Error {
  override name = 'UpstreamBudgetSpentError';
  readonly code = 'UPSTREAM_BUDGET_SPENT' as const;
  /** Seconds until the budget has room again, rounded up, at least 1. */
  readonly retryAfterSeconds: number;

  constructor(retryAfterSeconds: number) {
    super('Signet has spent its Carbon Black request budget for now; try again later');
    this.retryAfterSeconds = Math.max(1, Math.ceil(retryAfterSeconds));
  }
}

/**
 * The lookup's overall deadline (queueing + attempts + backoff) passed. The
 * attempt that was running, if any, has been aborted. `cause` is the last
 * attempt's failure when there was one (for logs only).
 */
export class UpstreamDeadlineError extends Error {
  override name = 'UpstreamDeadlineError';
  readonly code = 'UPSTREAM_DEADLINE' as const;
  readonly deadlineMs: number;

  constructor(deadlineMs: number, cause?: unknown) {
    super(`Carbon Black lookup did not finish within ${deadlineMs} ms`, cause === undefined ? undefined : { cause });
    this.deadlineMs = deadlineMs;
  }
}

/** The guard was disposed (shutdown) while the lookup was pending, or before it started. */
export class UpstreamDisposedError extends Error {
  override name = 'UpstreamDisposedError';
  readonly code = 'UPSTREAM_DISPOSED' as const;

  constructor() {
    super('The Carbon Black upstream guard is shut down');
  }
}

export type UpstreamError =
  UpstreamOverloadedError | UpstreamUnavailableError | UpstreamBudgetSpentError | UpstreamDeadlineError | UpstreamDisposedError;

export function isUpstreamError(error: unknown): error is UpstreamError {
  return (
    error instanceof UpstreamOverloadedError ||
    error instanceof UpstreamUnavailableError ||
    error instanceof UpstreamBudgetSpentError ||
    error instanceof UpstreamDeadlineError ||
    error instanceof UpstreamDisposedError
  );
}
