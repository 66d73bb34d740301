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

export class HttpProblem extends Error {
  override name = 'HttpProblem';
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string;
  readonly errors: FieldError[] | undefined;
  readonly retryAfterSeconds: number | undefined;

  constructor(init: ProblemInit) {
    super(init.detail);
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    this.detail = init.detail;
    this.errors = init.errors;
    this.retryAfterSeconds = init.retryAfterSeconds;
  }

  /** `urn:signet:problem:<code in kebab case>`: stable, and no promise of a web page. */
  get type(): string {
    return `urn:signet:problem:${this.code.toLowerCase().replaceAll('_', '-')}`;
  }
}

const upstreamTitles: Record<string, string> = {
  CB_TOKEN_REJECTED: 'Carbon Black rejected the API token',
  CB_TLS_UNTRUSTED: "Carbon Black's TLS certificate is not trusted",
  CB_TIMEOUT: 'Carbon Black timed out',
  CB_RATE_LIMITED: 'Carbon Black is rate limiting Signet',
};

const upstreamDetails: Record<string, string> = {
  CB_TOKEN_REJECTED: "Carbon Black refused Signet's API token; an operator must check CB_API_TOKEN.",
  CB_TLS_UNTRUSTED: "Carbon Black's TLS certificate was not trusted; an operator must set CB_CA_FILE to its CA.",
  CB_UNREACHABLE: 'Carbon Black could not be reached.',
  CB_TIMEOUT: 'Carbon Black did not answer in time.',
  CB_MALFORMED_RESPONSE: 'Carbon Black sent a response Signet could not read.',
  CB_QUERY_REJECTED: 'Carbon Black rejected the search.',
  CB_RATE_LIMITED: 'Carbon Black asked Signet to slow down; try again later.',
};

/** Maps an upstream failure to what the caller is told. Unknown errors become a bare 500. */
export function problemFromError(error: unknown): HttpProblem {
  if (error instanceof HttpProblem) return error;
  if (error instanceof CarbonBlackError) return fromCarbonBlack(error);
  if (isUpstreamError(error)) return fromGuard(error);
  return internalError();
}

function fromCarbonBlack(error: CarbonBlackError): HttpProblem {
  const { code } = error;
  return new HttpProblem({
    code,
    status: code === 'CB_TIMEOUT' ? 504 : code === 'CB_RATE_LIMITED' ? 503 : 502,
    title: upstreamTitles[code] ?? 'Carbon Black error',
    detail: upstreamDetails[code] ?? `Carbon Black answered ${error.upstreamStatus ?? 'with an error'}.`,
    ...(code === 'CB_RATE_LIMITED' && { retryAfterSeconds: Math.max(1, Math.ceil((error.retryAfterMs ?? 1000) / 1000)) }),
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
        detail: 'Carbon Black did not give a verdict within the lookup deadline.',
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
