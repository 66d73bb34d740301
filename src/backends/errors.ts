/**
 * Typed failures of a Carbon Black call. Each has a stable code so callers
 * (the retry policy, the problem+json mapping, metrics) switch on the code,
 * never on message text. Messages never carry the API token.
 */
export type CarbonBlackErrorCode =
  /** Connection refused, reset, DNS failure: nothing usable came back. */
  | 'CB_UNREACHABLE'
  /** One request exceeded its time budget and was aborted. */
  | 'CB_TIMEOUT'
  /** 401 or 403: the API token was rejected. */
  | 'CB_TOKEN_REJECTED'
  /** 400 to any call: the server refused the query or request (query_syntax_error and the like). */
  | 'CB_QUERY_REJECTED'
  /** 429: the server asked us to slow down. */
  | 'CB_RATE_LIMITED'
  /** 5xx from the server or its proxy; also a 200 process search with incomplete results and no row (not a verdict). */
  | 'CB_SERVER_ERROR'
  /**
   * Any other non-2xx status, redirects included (never followed). A 404 is one
   * too, except from the binary summary, where it means "no record" and is an answer.
   */
  | 'CB_UNEXPECTED_STATUS'
  /**
   * 2xx whose body is not the expected answer: the process-search envelope, a
   * binary record, or the binary-search envelope. Bad JSON, truncated, too big,
   * wrong shape; a row or record for an md5 that was not asked about; a record
   * with no digsig_result (nor signed); binary-search rows that contradict each
   * other, or fewer rows than total_results.
   */
  | 'CB_MALFORMED_RESPONSE'
  /** The server's TLS certificate is not trusted. */
  | 'CB_TLS_UNTRUSTED';

const transientCodes: ReadonlySet<CarbonBlackErrorCode> = new Set(['CB_UNREACHABLE', 'CB_RATE_LIMITED']);
const transientStatuses: ReadonlySet<number> = new Set([429, 502, 503, 504]);

export class CarbonBlackError extends Error {
  override name = 'CarbonBlackError';
  readonly code: CarbonBlackErrorCode;
  /** The HTTP status Carbon Black answered with, when it answered. */
  readonly upstreamStatus: number | undefined;
  /** Parsed Retry-After, in milliseconds, when the server sent one. */
  readonly retryAfterMs: number | undefined;

  constructor(
    code: CarbonBlackErrorCode,
    message: string,
    options: { upstreamStatus?: number; retryAfterMs?: number; cause?: unknown } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.upstreamStatus = options.upstreamStatus;
    this.retryAfterMs = options.retryAfterMs;
  }

  /** Worth another attempt: connection failures and 429/502/503/504. Never 400, 401 or 403. */
  get transient(): boolean {
    return transientCodes.has(this.code) || (this.upstreamStatus !== undefined && transientStatuses.has(this.upstreamStatus));
  }
}
