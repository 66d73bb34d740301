import type { Dispatcher } from 'undici';
import { createCarbonBlackDispatcher } from './dispatcher.js';
import { CarbonBlackError } from './errors.js';
import { buildSigningQuery, type JoinField } from './query.js';
import { parseRetryAfter } from './retry-after.js';
import { processSearchResponseSchema } from './search-response.js';
import { classifyTransportError } from './transport-errors.js';

export interface CarbonBlackClientOptions {
  /** Server base URL, http or https, optionally with a path prefix (`https://cb.example/edr`); a trailing slash is fine. */
  baseUrl: string;
  /** API token, sent as `X-Auth-Token`. Never appears in an error. */
  token: string;
  joinField: JoinField;
  /** Time allowed for one request, headers and body, in milliseconds. */
  timeoutMs: number;
  /**
   * undici Dispatcher (Agent, MockAgent) the requests go through. Default:
   * `createCarbonBlackDispatcher({})`. Either way the client owns it: `close()` closes it.
   */
  dispatcher?: Dispatcher;
}

export interface CarbonBlackClient {
  /**
   * One process search. Resolves true (signed) or false (unsigned); rejects
   * with a CarbonBlackError for every failure, because a failure is never a
   * verdict. One exception: when the caller's `signal` aborts, the promise
   * rejects with `signal.reason` unchanged (by default a DOMException named
   * `AbortError`), so callers can tell their own cancellation from a failure.
   * An md5 that is not 32 hex digits is a programming error: TypeError.
   */
  isSigned(md5: string, name: string, signal?: AbortSignal): Promise<boolean>;
  /** Closes the dispatcher, letting in-flight requests finish. Later calls to isSigned reject (CB_UNREACHABLE). */
  close(): Promise<void>;
}

/** Enough for any error page Carbon Black or a proxy sends; beyond it the connection is dropped, not drained. */
const errorBodyLimit = 64 * 1024;
/** A rows=1 search answer is a few KiB even with facets; far more means we are not talking to Carbon Black. */
const successBodyLimit = 8 * 1024 * 1024;
/** Header values fetch accepts unchanged; checked once so a bad token fails at startup, not in a fetch error. */
const headerValue = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;
/** Carbon Black's 400 `reason` is a short identifier (query_syntax_error); anything else is not echoed. */
const safeReason = /^[A-Za-z0-9_.-]{1,64}$/;

export function createCarbonBlackClient(options: CarbonBlackClientOptions): CarbonBlackClient {
  const { endpoint, host } = processSearchEndpoint(options.baseUrl);
  if (!headerValue.test(options.token)) {
    throw new TypeError('Carbon Black API token must be non-empty printable ASCII without surrounding whitespace');
  }
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
    throw new TypeError('Carbon Black timeoutMs must be a positive number');
  }
  const { joinField, timeoutMs } = options;
  // Built once: the hot path only adds the query string.
  const headers: Readonly<Record<string, string>> = Object.freeze({
    'X-Auth-Token': options.token,
    Accept: 'application/json',
  });
  const dispatcher: Dispatcher = options.dispatcher ?? createCarbonBlackDispatcher({});
  let closing: Promise<void> | undefined;

  async function isSigned(md5: string, name: string, signal?: AbortSignal): Promise<boolean> {
    const q = buildSigningQuery(md5, name, joinField);
    signal?.throwIfAborted();
    if (closing !== undefined) throw new CarbonBlackError('CB_UNREACHABLE', 'the Carbon Black client is closed');
    const url = endpoint + new URLSearchParams({ q, rows: '1', start: '0', sort: '' }).toString();
    const timeout = AbortSignal.timeout(timeoutMs);
    // The combined signal also covers reading the body, so a server that stalls mid-answer is cut off too.
    const combined = signal === undefined ? timeout : AbortSignal.any([signal, timeout]);
    const init = {
      method: 'GET',
      headers,
      signal: combined,
      // Never follow: a redirect would carry X-Auth-Token (fetch strips only Authorization) to wherever it points.
      redirect: 'manual',
      // Node's fetch is undici 6 inside; it takes undici 7's Agent as a dispatcher, but the types differ.
      dispatcher,
    } as unknown as RequestInit;

    let status: number | undefined;
    try {
      const response = await fetch(url, init);
      status = response.status;
      return await settle(response, md5.toLowerCase(), host, options.token);
    } catch (error) {
      if (signal?.aborted === true) throw signal.reason;
      if (error instanceof CarbonBlackError) throw error;
      if (timeout.aborted) {
        throw new CarbonBlackError('CB_TIMEOUT', `Carbon Black at ${host} did not answer within ${timeoutMs} ms`, {
          cause: error,
          ...(status === undefined ? {} : { upstreamStatus: status }),
        });
      }
      if (status !== undefined) {
        // Headers arrived, then the body failed: the answer was cut short.
        throw new CarbonBlackError('CB_MALFORMED_RESPONSE', `Carbon Black at ${host} answered ${status} but the body was cut short`, {
          upstreamStatus: status,
          cause: error,
        });
      }
      throw classifyTransportError(error, host);
    }
  }

  function close(): Promise<void> {
    closing ??= dispatcher.close();
    return closing;
  }

  return { isSigned, close };
}

/** `{base}/api/v1/process?`, with any path prefix kept and trailing slashes dropped. */
function processSearchEndpoint(baseUrl: string): { endpoint: string; host: string } {
  // The URL itself is never echoed: it is configuration an operator may have pasted credentials into.
  let url: URL;
  try {
    url = new URL(baseUrl);
  } catch {
    throw new TypeError('Carbon Black base URL is not a valid URL');
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new TypeError('Carbon Black base URL must be http or https');
  }
  if (url.username !== '' || url.password !== '') {
    throw new TypeError('Carbon Black base URL must not carry credentials; the token goes in X-Auth-Token');
  }
  if (url.search !== '' || url.hash !== '') {
    throw new TypeError('Carbon Black base URL must not carry a query or fragment');
  }
  const prefix = url.pathname.replace(/\/+$/, '');
  return { endpoint: `${url.origin}${prefix}/api/v1/process?`, host: url.host };
}

/** Turns a response into a verdict or a CarbonBlackError, always consuming or cancelling the body. */
async function settle(response: Response, md5: string, host: string, token: string): Promise<boolean> {
  const status = response.status;
  if (status < 200 || status > 299) throw await statusError(response, host, token);

  const text = await readText(response.body, successBodyLimit);
  const malformed = (what: string) =>
    new CarbonBlackError('CB_MALFORMED_RESPONSE', `Carbon Black at ${host} answered ${status} ${what}`, {
      upstreamStatus: status,
    });
  if (text === undefined) throw malformed(`with a body over ${successBodyLimit} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw malformed('with a body that is not JSON');
  }
  const parsed = processSearchResponseSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    const where = issue === undefined || issue.path.length === 0 ? 'body' : issue.path.join('.');
    throw malformed(`with a body that is not a process search result (${where}: ${issue?.code ?? 'invalid'})`);
  }
  const { results, total_results: total, incomplete_results: incomplete } = parsed.data;
  // A row about another binary means the server did not apply our query (or is not Carbon Black):
  // calling that "signed" would be a wrong verdict, which is worse than no verdict.
  for (const row of results) {
    if (row.process_md5 !== undefined && row.process_md5.toLowerCase() !== md5) {
      throw malformed('with a row for a different process_md5');
    }
  }
  if (results.length > 0 || total > 0) return true;
  if (incomplete === true) {
    // Some index cores did not answer, so "no row" does not prove "unsigned".
    throw new CarbonBlackError(
      'CB_SERVER_ERROR',
      `Carbon Black at ${host} answered ${status} with incomplete results and no row; not a verdict`,
      { upstreamStatus: status },
    );
  }
  return false;
}

async function statusError(response: Response, host: string, token: string): Promise<CarbonBlackError> {
  const status = response.status;
  const base = { upstreamStatus: status };
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  const withRetry = retryAfterMs === undefined ? base : { ...base, retryAfterMs };

  if (status === 400) {
    const reason = queryRejectionReason(await drain(response.body), token);
    return new CarbonBlackError(
      'CB_QUERY_REJECTED',
      `Carbon Black at ${host} rejected the query (400${reason === undefined ? '' : `: ${reason}`})`,
      base,
    );
  }
  // Error pages are often HTML: read (to free the pooled connection) and discard, never echo.
  await drain(response.body);
  if (status === 401 || status === 403) {
    return new CarbonBlackError('CB_TOKEN_REJECTED', `Carbon Black at ${host} rejected the API token (${status})`, base);
  }
  if (status === 429) {
    return new CarbonBlackError('CB_RATE_LIMITED', `Carbon Black at ${host} is rate limiting requests (429)`, withRetry);
  }
  if (status >= 500 && status <= 599) {
    return new CarbonBlackError('CB_SERVER_ERROR', `Carbon Black at ${host} answered ${status} (server error)`, withRetry);
  }
  return new CarbonBlackError('CB_UNEXPECTED_STATUS', `Carbon Black at ${host} answered an unexpected status (${status})`, base);
}

/** Carbon Black's short `reason`, only when it is an identifier and has nothing to do with the token. */
function queryRejectionReason(body: string | undefined, token: string): string | undefined {
  if (body === undefined) return undefined;
  try {
    const json: unknown = JSON.parse(body);
    if (typeof json === 'object' && json !== null && 'reason' in json) {
      const { reason } = json;
      if (typeof reason === 'string' && safeReason.test(reason) && !reason.includes(token) && !token.includes(reason)) {
        return reason;
      }
    }
  } catch {
    // Not JSON: say nothing more than the status.
  }
  return undefined;
}

/** Reads an error body up to the limit; never throws (the status is the answer). */
async function drain(body: ReadableStream<Uint8Array> | null): Promise<string | undefined> {
  try {
    return await readText(body, errorBodyLimit);
  } catch {
    return undefined;
  }
}

/**
 * The body as UTF-8 text, or undefined (after cancelling the stream) once it
 * exceeds `limit` bytes. Throws what the stream throws (abort, truncation).
 */
async function readText(body: ReadableStream<Uint8Array> | null, limit: number): Promise<string | undefined> {
  if (body === null) return '';
  const reader = body.getReader();
  const chunks: Uint8Array[] = [];
  let size = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    size += value.byteLength;
    if (size > limit) {
      // Cancelling drops the connection instead of returning it to the pool; fine for an abnormal answer.
      await reader.cancel().catch(() => undefined);
      return undefined;
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks, size).toString('utf8');
}
