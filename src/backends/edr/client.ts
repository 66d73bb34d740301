import type { Dispatcher } from 'undici';
import { readBinarySearch, readBinarySummary } from './binary-answers.js';
import type { BinaryRecord } from './binary-record.js';
import { carbonBlackEndpoints } from './endpoints.js';
import { createExchanger } from '../http/exchange.js';
import { processSearchVerdict } from './process-search.js';
import { binaryRecordMd5, binarySearchMd5s, buildBinarySearchQuery, buildSigningQuery, type JoinField } from './query.js';

export type { BinaryRecord } from './binary-record.js';
export { MAX_BINARY_SEARCH_MD5S } from './query.js';

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

/**
 * Every call rejects with a CarbonBlackError for every failure, because a
 * failure is never an answer. One exception: when the caller's `signal`
 * aborts, the promise rejects with `signal.reason` unchanged (by default a
 * DOMException named `AbortError`), so callers can tell their own
 * cancellation from a failure. An md5 that is not 32 hex digits is a
 * programming error: TypeError, and nothing is sent.
 */
export interface CarbonBlackClient {
  /** One process search (the seed's join). Resolves true (signed) or false (unsigned). */
  isSigned(md5: string, name: string, signal?: AbortSignal): Promise<boolean>;
  /**
   * `GET {base}/api/v1/binary/{MD5}/summary` (md5 upper case in the path).
   * Resolves the record, or undefined when Carbon Black has none (it answers 404, typically with an HTML page).
   */
  binarySummary(md5: string, signal?: AbortSignal): Promise<BinaryRecord | undefined>;
  /**
   * `GET {base}/api/v1/binary?q=md5:A OR md5:B ...&rows=<count>&start=0`, for
   * 1 to MAX_BINARY_SEARCH_MD5S distinct md5s (else TypeError); when that URL
   * would be longer than MAX_GET_URL_LENGTH, the same search as
   * `POST {base}/api/v1/binary` with `{"q": ["..."], "rows": <count>, "start": 0}`.
   * Resolves a Map keyed by lower-case md5 holding the record of every md5
   * the server has; an md5 missing from the map has no record.
   */
  searchBinaries(md5s: readonly string[], signal?: AbortSignal): Promise<Map<string, BinaryRecord>>;
  /** Closes the dispatcher, letting in-flight requests finish. Later calls reject (CB_UNREACHABLE). */
  close(): Promise<void>;
}

/**
 * The longest binary-search URL sent as a GET; a longer one goes as a POST.
 * Each md5 term costs about 42 bytes of form-encoded query, so a batch of a
 * few dozen md5s passes 2 KiB. Servers and the proxies in front of them cap
 * the request line (commonly 4-8 KiB, some less) and may log it whole; 2048
 * bytes stays under every common cap while single lookups and small batches
 * keep the documented, cache-friendly GET.
 */
export const MAX_GET_URL_LENGTH = 2048;

/** The calls are async so that a bad argument (TypeError) rejects like every other failure instead of throwing. */
export function createCarbonBlackClient(options: CarbonBlackClientOptions): CarbonBlackClient {
  const endpoints = carbonBlackEndpoints(options.baseUrl);
  const { host } = endpoints;
  const { joinField } = options;
  const exchanger = createExchanger({
    token: options.token,
    timeoutMs: options.timeoutMs,
    host,
    dispatcher: options.dispatcher,
  });

  async function isSigned(md5: string, name: string, signal?: AbortSignal): Promise<boolean> {
    const q = buildSigningQuery(md5, name, joinField);
    const lower = md5.toLowerCase();
    return await exchanger.send({ url: endpoints.processSearch(q), signal, read: (answer) => processSearchVerdict(answer, lower, host) });
  }

  async function binarySummary(md5: string, signal?: AbortSignal): Promise<BinaryRecord | undefined> {
    const upper = binaryRecordMd5(md5);
    return await exchanger.send<BinaryRecord | undefined>({
      url: endpoints.binarySummary(upper),
      signal,
      // Only here is 404 an answer: the summary URL names one binary, and Carbon Black has no record of it.
      notFound: () => undefined,
      read: (answer) => readBinarySummary(answer, upper),
    });
  }

  async function searchBinaries(md5s: readonly string[], signal?: AbortSignal): Promise<Map<string, BinaryRecord>> {
    const wanted = binarySearchMd5s(md5s);
    const q = buildBinarySearchQuery(wanted);
    const url = endpoints.binarySearch(q, wanted.length);
    // Too long for a URL: the same parameters as JSON, `q` as the one-element list integrations send.
    const post = url.length > MAX_GET_URL_LENGTH;
    return await exchanger.send({
      url: post ? endpoints.binarySearchPost : url,
      ...(post && { json: { q: [q], rows: wanted.length, start: 0 } }),
      signal,
      // No `notFound`: a search answers an unknown md5 with no row, so a 404 here means a wrong URL
      // (a bad base path, a proxy, not Carbon Black) and stays CB_UNEXPECTED_STATUS.
      read: (answer) => readBinarySearch(answer, wanted),
    });
  }

  return { isSigned, binarySummary, searchBinaries, close: () => exchanger.close() };
}
