import { setTimeout as setRequestTimer, clearTimeout as clearRequestTimer } from 'node:timers';
import type { Dispatcher } from 'undici';
import { malformedAnswer, type Answer } from './answer.js';
import { drain, readText, successBodyLimit } from './body.js';
import { createCarbonBlackDispatcher } from './dispatcher.js';
import { CarbonBlackError } from '../errors.js';
import { statusError, type StatusResponse } from './status-errors.js';
import { classifyTransportError } from './transport-errors.js';

/**
 * The one request path every Carbon Black call goes through: headers, the
 * per-request timeout, the caller's abort, redirect refusal, body limits,
 * status mapping and transport-error classification live here and only here.
 * A call supplies its URL and what a parsed 2xx body means to it.
 */

export interface ExchangeOptions {
  /**
   * The `X-Auth-Token` value: EDR's API token, or Cloud's `<secret>/<id>`.
   * Never appears in an error, nor does any of `secrets`.
   */
  token: string;
  /** Parts of the token that must not be echoed either (Cloud's secret and id apart). Default: none beyond the token. */
  secrets?: readonly string[];
  /** Time allowed for one request, headers and body, in milliseconds. */
  timeoutMs: number;
  /** `host:port`, named in error messages. */
  host: string;
  /** Default: `createCarbonBlackDispatcher({})`, created once the other options are known good. Closed by `close()`. */
  dispatcher?: Dispatcher | undefined;
}

export interface Exchange<T> {
  url: string;
  /** A JSON body: the request becomes a POST with `Content-Type: application/json`. Default: a GET. */
  json?: unknown;
  signal?: AbortSignal | undefined;
  /**
   * For a call where 404 is an answer (the binary summary: no record), the
   * value it resolves; the body is drained and never read. Without it, 404 is
   * CB_UNEXPECTED_STATUS like any other unexpected status.
   */
  notFound?: () => T;
  /** What a 2xx JSON body means; throws `answer.malformed(...)` (or another CarbonBlackError) when it is not an answer. */
  read: (answer: Answer) => T;
}

export interface Exchanger {
  send<T>(exchange: Exchange<T>): Promise<T>;
  /** Closes the dispatcher, letting in-flight requests finish. Later sends reject (CB_UNREACHABLE). */
  close(): Promise<void>;
}

/** Header values undici sends unchanged; checked once so a bad token fails at startup, not in a request error. */
const headerValue = /^[\x21-\x7e](?:[\x20-\x7e]*[\x21-\x7e])?$/;

export function createExchanger(options: ExchangeOptions): Exchanger {
  if (!headerValue.test(options.token)) {
    throw new TypeError('Carbon Black API token must be non-empty printable ASCII without surrounding whitespace');
  }
  if (!Number.isFinite(options.timeoutMs) || options.timeoutMs <= 0) {
    throw new TypeError('Carbon Black timeoutMs must be a positive number');
  }
  const { token, timeoutMs, host } = options;
  const secrets = [token, ...(options.secrets ?? [])].filter((secret) => secret.length > 0);
  const dispatcher: Dispatcher = options.dispatcher ?? createCarbonBlackDispatcher({});
  // Built once: the hot path only builds the URL.
  const headers: Readonly<Record<string, string>> = Object.freeze({
    'X-Auth-Token': token,
    Accept: 'application/json',
  });
  const jsonHeaders: Readonly<Record<string, string>> = Object.freeze({ ...headers, 'Content-Type': 'application/json' });
  let closing: Promise<void> | undefined;

  async function send<T>({ url, json, signal, notFound, read }: Exchange<T>): Promise<T> {
    signal?.throwIfAborted();
    if (closing !== undefined) throw new CarbonBlackError('CB_UNREACHABLE', 'the Carbon Black client is closed');
    // One controller and one timer per request, both released when it ends: AbortSignal.timeout's timer is never
    // cleared and fired timeoutMs later for every request sent (a DOMException and an abort event each, about 5 %
    // of a one-md5 miss's profile). The signal also covers reading the body, so a server that stalls mid-answer
    // is cut off too. The timer is node:timers', bound at import: like AbortSignal.timeout's it keeps the real
    // clock under a test's fake timers, which drive Signet's own waits (polls, backoff), not the network's.
    const controller = new AbortController();
    const timer = setRequestTimer(() => controller.abort(new DOMException(`no answer within ${timeoutMs} ms`, 'TimeoutError')), timeoutMs);
    const onCallerAbort = (): void => controller.abort(signal?.reason);
    signal?.addEventListener('abort', onCallerAbort, { once: true });
    let status: number | undefined;
    try {
      const target = new URL(url);
      // undici's request() straight on the Agent, not fetch: 0.3 ms less CPU per one-md5 miss (measured), and it
      // never follows a redirect, which would carry X-Auth-Token to wherever it points. No Accept-Encoding is sent,
      // so the answer comes uncompressed.
      const response = await dispatcher.request({
        origin: target.origin,
        path: target.pathname + target.search,
        method: json === undefined ? 'GET' : 'POST',
        headers: json === undefined ? headers : jsonHeaders,
        ...(json !== undefined && { body: JSON.stringify(json) }),
        signal: controller.signal,
      });
      status = response.statusCode;
      if (status === 404 && notFound !== undefined) {
        // Typically an HTML "404 Not Found" page: drained to free the connection, never read or echoed.
        await drain(response.body);
        signal?.throwIfAborted();
        return notFound();
      }
      return read(await settle(response, host, secrets));
    } catch (error) {
      // The caller's own cancellation wins over whatever it interrupted.
      if (signal?.aborted === true) throw signal.reason;
      if (error instanceof CarbonBlackError) throw error;
      // The caller's abort was ruled out above: an aborted controller means the timer fired.
      if (controller.signal.aborted) {
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
    } finally {
      clearRequestTimer(timer);
      signal?.removeEventListener('abort', onCallerAbort);
    }
  }

  function close(): Promise<void> {
    closing ??= dispatcher.close();
    return closing;
  }

  return { send, close };
}

/** A 2xx response as parsed JSON, or the CarbonBlackError it amounts to; the body is always consumed or destroyed. */
async function settle(response: StatusResponse, host: string, secrets: readonly string[]): Promise<Answer> {
  const status = response.statusCode;
  if (status < 200 || status > 299) throw await statusError(response, host, secrets);
  const malformed = (what: string) => malformedAnswer(host, status, what);
  const text = await readText(response.body, successBodyLimit);
  if (text === undefined) throw malformed(`with a body over ${successBodyLimit} bytes`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw malformed('with a body that is not JSON');
  }
  return { status, json, malformed };
}
