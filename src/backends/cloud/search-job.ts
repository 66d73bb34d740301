import { CarbonBlackError } from '../errors.js';
import type { Exchange, Exchanger } from '../http/exchange.js';
import { sleep } from '../../upstream/backoff.js';
import type { RequestBudget } from '../../upstream/request-budget.js';
import type { SigningCollector } from './binary-signing.js';
import type { CloudEndpoints } from './endpoints.js';
import { buildHashQuery } from './hash-query.js';
import { readJobId, readJobProgress, readResultsPage, type ResultsPage } from './search-job-answers.js';

/**
 * One Cloud process-search job, from creation to the last page it needs:
 *   1. `POST .../search_jobs` with the hash query    -> job id
 *   2. `GET .../results?start=0&rows=<rowsPerPage>`  -> polled until complete;
 *      the complete answer is the first page, so no separate first read
 *   3. `GET .../results?start=<n>&rows=<rowsPerPage>` -> further pages, only
 *      while an asked hash has no row yet, rows remain, and pages are left
 * Whether the unresolved hashes are absent or need another job is decided by
 * the caller (hash-search.ts) from the outcome.
 *
 * Every request takes a place in the request budget first. A 429 pauses the
 * budget for its Retry-After (1 s without one). On job creation the 429 ends
 * the search (the guard above retries the whole lookup); on a poll or a page
 * read the job is not lost: after a poll interval the same request is sent
 * again, once the budget's pause lets it (or budget.take refuses because the
 * pause passes the deadline). Every other failure ends the search.
 */

export interface SearchJobContext {
  exchanger: Exchanger;
  endpoints: CloudEndpoints;
  budget: RequestBudget;
  /** The API secret and id, which a job id must not echo. */
  secrets: readonly string[];
  rowsPerPage: number;
  maxPagesPerJob: number;
  pollIntervalMs: number;
  maxPollIntervalMs: number;
  signal: AbortSignal;
  deadlineAt: number;
}

export interface SearchJobOutcome {
  /** The job's hashes for which no row has been read (by this job or an earlier one). */
  unresolved: string[];
  /**
   * Every row the query matched has been read: all available rows, and no
   * more found than available. An unresolved hash then has no process.
   */
  allRead: boolean;
  /** The last answer's status, for an error concluded from this outcome. */
  status: number;
}

/** The fields each row needs: the hashes to match it, the signature data, and the name for anyone reading a capture. */
const FIELDS = ['process_hash', 'process_sha256', 'process_name', 'process_publisher', 'process_publisher_state'] as const;

const POLL_GROWTH = 1.5;

/** What a job is created to collect: Cloud's largest page, as the official SDK asks. */
const JOB_ROWS = 10_000;

/** A 429's pause when it names none: long enough not to hammer, short next to any lookup deadline. */
const DEFAULT_RATE_LIMIT_PAUSE_MS = 1000;

export async function runSearchJob(
  context: SearchJobContext,
  hashes: readonly string[],
  collector: SigningCollector,
): Promise<SearchJobOutcome> {
  const asked: ReadonlySet<string> = new Set(hashes);
  const jobId = await send(context, {
    url: context.endpoints.searchJobs,
    // The SDK creates every job with rows 10000 "due to event aggregation": the rows given here may cap what the
    // job collects (num_available). Pages are still read rowsPerPage at a time.
    json: { query: buildHashQuery(hashes), fields: FIELDS, rows: JOB_ROWS, start: 0 },
    read: (answer) => readJobId(answer, context.secrets),
  });

  let page = await awaitCompletion(context, jobId, asked);
  let start = 0;
  for (let pages = 1; ; pages++) {
    for (const row of page.rows) collector.add(row, asked);
    const unresolved = hashes.filter((hash) => !collector.resolved(hash));
    const next = start + page.rows.length;
    const rowsRemain = next < page.numAvailable;
    if (unresolved.length === 0 || !rowsRemain || pages >= context.maxPagesPerJob) {
      return { unresolved, allRead: !rowsRemain && page.numFound <= page.numAvailable, status: page.status };
    }
    start = next;
    page = await readPage(context, jobId, asked, start);
  }
}

/** Polls until the job is complete, waiting pollIntervalMs before the first poll and x1.5 (capped) before each next one. */
async function awaitCompletion(context: SearchJobContext, jobId: string, asked: ReadonlySet<string>): Promise<ResultsPage> {
  const url = context.endpoints.jobResults(jobId, 0, context.rowsPerPage);
  let waitMs = Math.min(context.pollIntervalMs, context.maxPollIntervalMs);
  for (;;) {
    // A job needs some time on Cloud's side; polling at once would only spend a request. Whole ms, as timers count them.
    await sleep(Math.round(waitMs), context.signal);
    waitMs = Math.min(waitMs * POLL_GROWTH, context.maxPollIntervalMs);
    const page = await unlessRateLimited(send(context, { url, read: (answer) => readJobProgress(answer, asked) }));
    // Still running, or rate limited: the next poll is the same request, after the wait (and the budget's pause).
    if (page !== undefined) return page;
  }
}

async function readPage(context: SearchJobContext, jobId: string, asked: ReadonlySet<string>, start: number): Promise<ResultsPage> {
  const url = context.endpoints.jobResults(jobId, start, context.rowsPerPage);
  for (;;) {
    const page = await unlessRateLimited(send(context, { url, read: (answer) => readResultsPage(answer, asked, start) }));
    if (page !== undefined) return page;
    // The budget already holds the 429's pause; this wait keeps a server that answers 429 with Retry-After: 0 from being hammered.
    await sleep(context.pollIntervalMs, context.signal);
  }
}

/** One request: a budget place first, then the exchange; a 429 pauses the budget before it propagates. */
async function send<T>(context: SearchJobContext, exchange: Omit<Exchange<T>, 'signal'>): Promise<T> {
  await context.budget.take(context.signal, context.deadlineAt);
  try {
    return await context.exchanger.send({ ...exchange, signal: context.signal });
  } catch (error) {
    if (isRateLimited(error)) context.budget.pauseFor(error.retryAfterMs ?? DEFAULT_RATE_LIMIT_PAUSE_MS);
    throw error;
  }
}

/** The request's value, or undefined when Cloud answered 429 (already paused for by `send`). */
async function unlessRateLimited<T>(request: Promise<T>): Promise<T | undefined> {
  try {
    return await request;
  } catch (error) {
    if (isRateLimited(error)) return undefined;
    throw error;
  }
}

function isRateLimited(error: unknown): error is CarbonBlackError {
  return error instanceof CarbonBlackError && error.code === 'CB_RATE_LIMITED';
}
