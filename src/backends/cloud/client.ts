import type { Dispatcher } from 'undici';
import { CarbonBlackError } from '../errors.js';
import { createExchanger } from '../http/exchange.js';
import type { RequestBudget } from '../../upstream/request-budget.js';
import type { CloudBinarySigning } from './binary-signing.js';
import { cloudEndpoints } from './endpoints.js';
import { searchJobHashes } from './hash-query.js';
import { searchAllHashes } from './hash-search.js';
import type { SearchJobContext } from './search-job.js';

export type { CloudBinarySigning } from './binary-signing.js';
export { MAX_HASHES_PER_JOB } from './hash-query.js';

export interface CloudClientOptions {
  /** The Cloud host, e.g. `https://defense.conferdeploy.net`; a trailing slash is fine, http only to a loopback address. */
  baseUrl: string;
  /** The org key, in every path. */
  orgKey: string;
  /** Sent as `X-Auth-Token: <apiSecret>/<apiId>`. Neither ever appears in an error. */
  apiId: string;
  apiSecret: string;
  /** Time allowed for one HTTP request, headers and body, in milliseconds. */
  timeoutMs: number;
  /** Taken before every request (job creation, every poll, every results page); paused after a 429. */
  budget: RequestBudget;
  /** Wait before the first poll, in milliseconds; x1.5 per poll up to maxPollIntervalMs. Default 500. */
  pollIntervalMs?: number;
  /** Longest wait between polls. Default 2000 (or pollIntervalMs when that is longer). */
  maxPollIntervalMs?: number;
  /** Rows asked per results read. Default 500. */
  rowsPerPage?: number;
  /** Results pages one job may read (the poll's complete answer is the first) before a follow-up job. Default 4. */
  maxPagesPerJob?: number;
  /**
   * undici Dispatcher the requests go through. Default:
   * `createCarbonBlackDispatcher({})`. Either way the client owns it: `close()` closes it.
   */
  dispatcher?: Dispatcher;
}

/**
 * Every failure rejects with a CarbonBlackError (or the budget's
 * UpstreamBudgetSpentError when a wait it imposes would pass the deadline),
 * because a failure is never an answer. One exception: when `signal` aborts,
 * the promise rejects with `signal.reason` unchanged, so callers can tell
 * their own cancellation from a failure.
 */
export interface CloudClient {
  /**
   * One search job for 1..MAX_HASHES_PER_JOB distinct hashes (each 32 or 64
   * hex digits, any mix; else TypeError before anything is sent), plus the
   * follow-up jobs paging calls for (hash-search.ts). Resolves a Map keyed by
   * each asked hash (lower case) -> its signing; an asked hash absent from
   * the map has no process in Cloud (unknown). `deadlineAt` (epoch ms) is
   * passed to budget.take; `signal` aborts everything.
   */
  searchHashes(hashes: readonly string[], signal: AbortSignal, deadlineAt: number): Promise<Map<string, CloudBinarySigning>>;
  /** Closes the dispatcher, letting in-flight requests finish. Later searches reject (CB_UNREACHABLE). */
  close(): Promise<void>;
}

/** Cloud's largest page. */
const MAX_ROWS_PER_PAGE = 10_000;

/** An API secret or id: printable ASCII without spaces or `/`, which separates them in the header. */
const credentialPart = /^[\x21-\x2e\x30-\x7e]+$/;

export function createCloudClient(options: CloudClientOptions): CloudClient {
  const endpoints = cloudEndpoints(options.baseUrl, options.orgKey);
  const { apiId, apiSecret } = options;
  // Checked apart so that a bad value fails here, naming neither, rather than inside a header later.
  if (typeof apiSecret !== 'string' || !credentialPart.test(apiSecret)) {
    throw new TypeError('Carbon Black Cloud API secret must be non-empty printable ASCII without spaces or "/"');
  }
  if (typeof apiId !== 'string' || !credentialPart.test(apiId)) {
    throw new TypeError('Carbon Black Cloud API ID must be non-empty printable ASCII without spaces or "/"');
  }
  const pollIntervalMs = options.pollIntervalMs ?? 500;
  if (!Number.isFinite(pollIntervalMs) || pollIntervalMs <= 0)
    throw new TypeError('Carbon Black Cloud pollIntervalMs must be a positive number');
  const maxPollIntervalMs = options.maxPollIntervalMs ?? Math.max(2000, pollIntervalMs);
  if (!Number.isFinite(maxPollIntervalMs) || maxPollIntervalMs < pollIntervalMs) {
    throw new TypeError('Carbon Black Cloud maxPollIntervalMs must be a number >= pollIntervalMs');
  }
  const rowsPerPage = options.rowsPerPage ?? 500;
  if (!Number.isInteger(rowsPerPage) || rowsPerPage < 1 || rowsPerPage > MAX_ROWS_PER_PAGE) {
    throw new TypeError(`Carbon Black Cloud rowsPerPage must be an integer from 1 to ${MAX_ROWS_PER_PAGE}`);
  }
  const maxPagesPerJob = options.maxPagesPerJob ?? 4;
  if (!Number.isInteger(maxPagesPerJob) || maxPagesPerJob < 1)
    throw new TypeError('Carbon Black Cloud maxPagesPerJob must be an integer >= 1');

  const secrets = [apiSecret, apiId];
  // Last: it creates the default dispatcher, which a failed check above would leave open.
  const exchanger = createExchanger({
    token: `${apiSecret}/${apiId}`,
    secrets,
    timeoutMs: options.timeoutMs,
    host: endpoints.host,
    dispatcher: options.dispatcher,
  });
  const shared: Omit<SearchJobContext, 'signal' | 'deadlineAt'> = {
    exchanger,
    endpoints,
    budget: options.budget,
    secrets,
    rowsPerPage,
    maxPagesPerJob,
    pollIntervalMs,
    maxPollIntervalMs,
  };
  let closed = false;

  /** Async so that a bad argument (TypeError) rejects like every other failure instead of throwing. */
  async function searchHashes(
    hashes: readonly string[],
    signal: AbortSignal,
    deadlineAt: number,
  ): Promise<Map<string, CloudBinarySigning>> {
    const wanted = searchJobHashes(hashes);
    // Before the budget: a closed client must not spend a place on a request it cannot send.
    if (closed) throw new CarbonBlackError('CB_UNREACHABLE', 'the Carbon Black client is closed');
    try {
      signal.throwIfAborted();
      return await searchAllHashes({ ...shared, signal, deadlineAt }, wanted);
    } catch (error) {
      // The caller's own cancellation wins over whatever it interrupted (a budget wait, a poll's sleep, a request).
      if (signal.aborted) throw signal.reason;
      throw error;
    }
  }

  function close(): Promise<void> {
    closed = true;
    return exchanger.close();
  }

  return { searchHashes, close };
}
