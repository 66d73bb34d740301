import { CarbonBlackError } from './backends/errors.js';
import type { UpstreamError } from './upstream/upstream-errors.js';
import { isUpstreamError } from './upstream/upstream-errors.js';

/**
 * The service's error vocabulary: every failure a caller can see, as an
 * RFC 9457 problem with a stable `type` and `code`. Details are written for
 * the caller and never carry secrets, upstream bodies or stack traces.
 */

export interface FieldError {
  location: 'path' | 'query' | 'body' | 'header';
  field: string;
  message: string;
}

export interface ProblemInit {
  status: number;
  code: string;
  title: string;
  detail: string;
  errors?: FieldError[];
  /** Seconds, sent as the Retry-After header. */
  retryAfterSeconds?: number;
}

/** Statuses that say "later" by themselves; a 502 depends on what failed. */
const RETRYABLE_STATUSES: ReadonlySet<number> = new Set([408, 429, 503, 504]);

/** The 502s whose Carbon Black failure may heal by itself; the other 502s need an operator. */
const TRANSIENT_502: ReadonlySet<string> = new Set(['CB_UNREACHABLE', 'CB_SERVER_ERROR', 'CB_MALFORMED_RESPONSE']);

/** Whether a problem of this status and code may go away if the same request is sent later: the one rule for `retryable`. */
export function isRetryableProblem(status: number, code: string): boolean {
  return RETRYABLE_STATUSES.has(status) || (status === 502 && TRANSIENT_502.has(code));
}

export class HttpProblem extends Error {
  override name = 'HttpProblem';
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly errors: FieldError[] | undefined;
  readonly retryAfterSeconds: number | undefined;
  /**
   * The field a SOAR playbook branches on: true when sending the same request
   * later may succeed (Carbon Black or Signet is busy or failing for now),
   * false when something must be fixed first (the input, a key, a token, a
   * certificate, a bug).
   */
  readonly retryable: boolean;

  constructor(init: ProblemInit) {
    super(init.detail);
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    this.detail = init.detail;
    this.errors = init.errors;
    this.retryAfterSeconds = init.retryAfterSeconds;
    this.retryable = isRetryableProblem(init.status, init.code);
  }

  /** `urn:signet:problem:<code in kebab case>`: stable, and no promise of a web page. */
  get type(): string {
    return `urn:signet:problem:${this.code.toLowerCase().replaceAll('_', '-')}`;
  }
}

/** One specific title per Carbon Black failure, so a reader knows what failed without the code. */
const upstreamTitles: Record<CarbonBlackError['code'], string> = {
  CB_UNREACHABLE: 'Carbon Black is unreachable',
  CB_TIMEOUT: 'Carbon Black timed out',
  CB_TOKEN_REJECTED: 'Carbon Black rejected the API token',
  CB_QUERY_REJECTED: 'Carbon Black rejected the search',
  CB_RATE_LIMITED: 'Carbon Black is rate limiting Signet',
  CB_SERVER_ERROR: 'Carbon Black answered with a server error',
  CB_UNEXPECTED_STATUS: 'Carbon Black answered an unexpected status',
  CB_MALFORMED_RESPONSE: 'Carbon Black sent an answer Signet cannot read',
  CB_TLS_UNTRUSTED: "Carbon Black's TLS certificate is not trusted",
};

const upstreamDetails: Partial<Record<CarbonBlackError['code'], string>> = {
  CB_TOKEN_REJECTED:
    "Carbon Black refused Signet's credentials; an operator must check CB_API_TOKEN (EDR) or CB_API_ID and CB_API_SECRET (Cloud). Retrying will not help.",
  CB_TLS_UNTRUSTED:
    "Carbon Black's TLS certificate was not trusted; an operator must set CB_CA_FILE to its CA or fix the certificate. Retrying will not help.",
  CB_UNREACHABLE: 'Carbon Black could not be reached; try again later.',
  CB_TIMEOUT: 'Carbon Black did not answer in time; try again later.',
  CB_MALFORMED_RESPONSE: 'Carbon Black sent a response Signet could not read; try again later.',
  CB_QUERY_REJECTED: "Carbon Black rejected the search Signet sent; an operator must look at Signet's log. Retrying will not help.",
  CB_RATE_LIMITED: 'Carbon Black asked Signet to slow down; try again after Retry-After.',
  CB_UNEXPECTED_STATUS:
    'Carbon Black answered a status Signet does not expect (a proxy or a wrong CB_URL path); an operator must check CB_URL. Retrying will not help.',
};

/**
 * When to try a transient failure again, for a caller with no better idea:
 * Signet already retried it with backoff, so at once would likely fail the same way.
 */
const TRANSIENT_RETRY_AFTER_SECONDS = 5;

/** Maps an upstream failure to what the caller is told. Unknown errors become a bare 500. */
export function problemFromError(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof CarbonBlackError) return fromCarbonBlack(error);
  if (isUpstreamError(error)) return fromGuard(error);
  return internalError();
}

function fromCarbonBlack(error: CarbonBlackError): HttpProblem {
  const { code } = error;
  const status = code === 'CB_TIMEOUT' ? 504 : code === 'CB_RATE_LIMITED' ? 503 : 502;
  const retryable = isRetryableProblem(status, code);
  const retryAfterSeconds =
    code === 'CB_RATE_LIMITED' ? Math.max(1, Math.ceil((error.retryAfterMs ?? 1000) / 1000)) : TRANSIENT_RETRY_AFTER_SECONDS;
  return new HttpProblem({
    code,
    status,
    title: upstreamTitles[code],
    detail:
      upstreamDetails[code] ?? `Carbon Black answered ${error.upstreamStatus ?? 'with an error'}${retryable ? '; try again later.' : '.'}`,
    ...(retryable && { retryAfterSeconds }),
  });
}

function fromGuard(error: UpstreamError): HttpProblem {
  const retryAfterSeconds = Math.max(1, Math.ceil('retryAfterSeconds' in error ? error.retryAfterSeconds : 1));
  switch (error.code) {
    case 'UPSTREAM_QUEUE_FULL':
      return new HttpProblem({
        status: 503,
        code: error.code,
        title: 'Signet is at its Carbon Black capacity',
        detail: 'Too many lookups are waiting for Carbon Black; try again shortly.',
        retryAfterSeconds,
      });
    case 'UPSTREAM_BREAKER_OPEN':
      return new HttpProblem({
        status: 503,
        code: error.code,
        title: 'Carbon Black is unavailable',
        detail: 'Carbon Black has been failing, so Signet is not asking it for a while; cached verdicts are still served.',
        retryAfterSeconds,
      });
    case 'UPSTREAM_BUDGET_SPENT':
      return new HttpProblem({
        status: 503,
        code: error.code,
        title: 'Signet is at its Carbon Black request budget',
        detail:
          'Signet has used the Carbon Black requests it allows itself for now (CB_REQUESTS_PER_5_MINUTES, or a wait Carbon Black asked for); cached verdicts are still served.',
        retryAfterSeconds,
      });
    case 'UPSTREAM_DISPOSED':
      return new HttpProblem({
        status: 503,
        code: error.code,
        title: 'Signet is shutting down',
        detail: 'This instance is stopping; send the lookup again (another instance will take it).',
        retryAfterSeconds,
      });
    case 'UPSTREAM_DEADLINE':
      return new HttpProblem({
        status: 504,
        code: error.code,
        title: 'Carbon Black timed out',
        detail: 'Carbon Black did not give a verdict within the lookup deadline (CB_DEADLINE_MS); try again later.',
        retryAfterSeconds: TRANSIENT_RETRY_AFTER_SECONDS,
      });
  }
}

export function internalError(): HttpProblem {
  return new HttpProblem({
    status: 500,
    code: 'INTERNAL_ERROR',
    title: 'Internal server error',
    detail: 'Signet failed to handle this request; the failure has been logged.',
  });
}
