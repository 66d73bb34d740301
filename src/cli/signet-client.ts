/**
 * Signet's API over Node's global fetch, for the command-line client. Every
 * outcome is a value, never an exception: an answer (any status, with its
 * parsed body) or a failure described the way Signet describes its own
 * problems (status, code, title, detail, retryable, Retry-After), so that the
 * commands report a refused connection and a 503 in one format.
 *
 * The API key travels only in the Authorization header; nothing built here
 * (failure details included) ever contains it.
 */

export interface ClientOptions {
  /** Signet's base URL: http(s), no credentials, query or fragment; may carry a path prefix (a reverse proxy's). */
  baseUrl: URL;
  apiKey: string | undefined;
  /** Per request, body included. */
  timeoutMs: number;
  userAgent: string;
}

/** Why a request gave no usable answer: Signet's problem fields, or the client's own for a transport failure. */
export interface Failure {
  /** The HTTP status, or null when no answer arrived (unreachable, timed out). */
  status: number | null;
  code: string;
  title: string;
  detail: string;
  retryable: boolean;
  /** From Retry-After, when the answer had one. */
  retryAfterSeconds?: number;
}

export interface Answer {
  status: number;
  body: unknown;
  retryAfterSeconds: number | undefined;
}

export type Outcome = { ok: true; answer: Answer } | { ok: false; failure: Failure };

/** Statuses a proxy or load balancer answers for a backend that is down or busy: worth asking again. */
const TRANSIENT_STATUSES = new Set([429, 502, 503, 504]);

export class SignetClient {
  private readonly base: URL;

  constructor(private readonly options: ClientOptions) {
    // A trailing slash makes relative paths resolve under a path prefix instead of replacing its last segment.
    this.base = new URL(options.baseUrl.href.endsWith('/') ? options.baseUrl.href : `${options.baseUrl.href}/`);
  }

  /** The base URL as it may be shown to a user. */
  get origin(): string {
    return this.base.origin + this.base.pathname.replace(/\/$/, '');
  }

  /** GET /v1/signatures/{hash}?name=...: the verdict object, or why there is none. */
  async lookup(hash: string, name: string): Promise<{ ok: true; verdict: Record<string, unknown> } | { ok: false; failure: Failure }> {
    const path = `v1/signatures/${encodeURIComponent(hash)}?${new URLSearchParams({ name }).toString()}`;
    const outcome = await this.request('GET', path);
    if (!outcome.ok) return outcome;
    const { answer } = outcome;
    if (answer.status !== 200) return { ok: false, failure: failureFromAnswer(answer) };
    if (!isObject(answer.body)) return { ok: false, failure: unexpected(answer.status, 'the answer is not a JSON object') };
    return { ok: true, verdict: answer.body };
  }

  /** POST /v1/signatures/batch: one result per item, in order, or why the whole request failed. */
  async batch(items: readonly unknown[]): Promise<{ ok: true; results: unknown[] } | { ok: false; failure: Failure }> {
    const outcome = await this.request('POST', 'v1/signatures/batch', { items });
    if (!outcome.ok) return outcome;
    const { answer } = outcome;
    if (answer.status !== 200) return { ok: false, failure: failureFromAnswer(answer) };
    const results = isObject(answer.body) ? answer.body.results : undefined;
    if (!Array.isArray(results) || results.length !== items.length) {
      return { ok: false, failure: unexpected(answer.status, `the answer does not hold ${items.length} results`) };
    }
    return { ok: true, results };
  }

  /** A probe answers JSON on 200 and on 503 alike, so the caller gets the answer whatever its status. */
  probe(path: 'healthz' | 'readyz'): Promise<Outcome> {
    return this.request('GET', path);
  }

  private async request(method: 'GET' | 'POST', path: string, body?: unknown): Promise<Outcome> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json', 'user-agent': this.options.userAgent };
    if (this.options.apiKey !== undefined) headers.authorization = `Bearer ${this.options.apiKey}`;
    if (body !== undefined) headers['content-type'] = 'application/json';
    try {
      const response = await fetch(new URL(path, this.base), {
        method,
        headers,
        ...(body !== undefined && { body: JSON.stringify(body) }),
        signal: AbortSignal.timeout(this.options.timeoutMs),
      });
      const text = await response.text();
      return {
        ok: true,
        answer: { status: response.status, body: parseJson(text), retryAfterSeconds: parseRetryAfter(response.headers.get('retry-after')) },
      };
    } catch (error) {
      return { ok: false, failure: this.transportFailure(error) };
    }
  }

  private transportFailure(error: unknown): Failure {
    if (error instanceof Error && (error.name === 'TimeoutError' || error.name === 'AbortError')) {
      return {
        status: null,
        code: 'SIGNET_TIMEOUT',
        title: 'No answer in time',
        detail: `${this.origin} did not answer within ${this.options.timeoutMs} ms (--timeout)`,
        retryable: true,
      };
    }
    // fetch's TypeError says only "fetch failed"; the system error (ECONNREFUSED, ENOTFOUND, ...) is its cause.
    const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
    const reason = cause instanceof Error ? ((cause as NodeJS.ErrnoException).code ?? cause.message) : String(cause);
    return {
      status: null,
      code: 'SIGNET_UNREACHABLE',
      title: 'Signet is unreachable',
      detail: `cannot reach ${this.origin}: ${reason}`,
      retryable: true,
    };
  }
}

/** Signet's problem+json as a Failure; anything else (a proxy's HTML page) by its status alone. */
export function failureFromAnswer(answer: Answer): Failure {
  const { body, status } = answer;
  const retryAfter = answer.retryAfterSeconds !== undefined ? { retryAfterSeconds: answer.retryAfterSeconds } : {};
  if (isObject(body) && typeof body.title === 'string' && typeof body.retryable === 'boolean') {
    return {
      status,
      code: typeof body.code === 'string' ? body.code : `HTTP_${status}`,
      title: body.title,
      detail: typeof body.detail === 'string' ? body.detail : body.title,
      retryable: body.retryable,
      ...retryAfter,
    };
  }
  return {
    ...unexpected(status, `answered ${status} without a problem document`),
    retryable: TRANSIENT_STATUSES.has(status),
    ...retryAfter,
  };
}

function unexpected(status: number, detail: string): Failure {
  return { status, code: 'UNEXPECTED_RESPONSE', title: 'Unexpected answer', detail, retryable: false };
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

/** Retry-After as seconds: a delay (`5`) or an HTTP date (RFC 9110 allows both). */
export function parseRetryAfter(value: string | null, now: number = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Number(trimmed);
  const at = Date.parse(trimmed);
  return Number.isNaN(at) ? undefined : Math.max(0, Math.ceil((at - now) / 1000));
}

export function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
