import { setTimeout as delay } from 'node:timers/promises';
import type { InputEntry } from './batch-input.js';
import type { PendingItem } from './batch-chunks.js';
import { chunkItems } from './batch-chunks.js';
import { isVerdict } from './exit-codes.js';
import type { Failure, SignetClient } from './signet-client.js';
import { isObject } from './signet-client.js';

/**
 * Sends a batch input to Signet chunk by chunk, one request at a time (Signet
 * spreads each chunk's misses over its own Carbon Black bound; sending chunks
 * in parallel would only queue them there), and hands back one result per
 * input entry, in input order, as soon as it is known.
 *
 * Retries: a chunk is sent at most 1 + `retries` times. When the whole
 * request fails in a way Signet calls retryable (502, 503, 504, 429 with
 * `retryable: true`; or no answer at all), the chunk is sent again after
 * Retry-After (or 1, 2, 4... s without one); when it answers but some items
 * failed with `error.retryable`, only those items are sent again, after the
 * longest of their `retryAfterSeconds`. A wait longer than
 * MAX_RETRY_WAIT_SECONDS is not waited for: the error is reported instead.
 *
 * When a request fails for good (not retryable, or retries spent), the
 * remaining chunks are not sent: that failure is about the service or the
 * key, not the items, and every later item gets it too, marked as not sent.
 */

/** Longer than Signet's longest Retry-After (its Cloud request budget's 5-minute window) would not help. */
export const MAX_RETRY_WAIT_SECONDS = 300;

export interface BatchOptions {
  /** Items per request, 1..1000. */
  chunkSize: number;
  /** Further requests per chunk after the first. */
  retries: number;
  /** Every result line, in input order. */
  emit: (result: unknown) => void;
  /** Entries answered so far, after each chunk. */
  onProgress?: (done: number) => void;
  /** A retry about to wait, for the user to see why nothing moves. */
  onNotice?: (text: string) => void;
  /** How waits are waited (tests record them instead). */
  sleep?: (ms: number) => Promise<void>;
}

export interface BatchSummary {
  /** Non-blank input lines, malformed ones included. */
  entries: number;
  signed: number;
  unsigned: number;
  unknown: number;
  /** Entries without a verdict: item errors, request failures and malformed lines. */
  errors: number;
  malformed: number;
  requests: number;
  /** The failure that stopped the run (its chunk and every later item have it), if one did. */
  stoppedBy: Failure | undefined;
}

type BatchSender = Pick<SignetClient, 'batch'>;

export async function runBatch(entries: readonly InputEntry[], client: BatchSender, options: BatchOptions): Promise<BatchSummary> {
  const sleep = options.sleep ?? ((ms: number) => delay(ms));
  const summary: BatchSummary = {
    entries: entries.length,
    signed: 0,
    unsigned: 0,
    unknown: 0,
    errors: 0,
    malformed: 0,
    requests: 0,
    stoppedBy: undefined,
  };
  const results: unknown[] = new Array<unknown>(entries.length);
  let flushed = 0;
  const flush = () => {
    while (flushed < entries.length && results[flushed] !== undefined) {
      const result = results[flushed]!;
      count(summary, result);
      options.emit(result);
      // Written out: nothing needs it any more, so a long input does not keep every answer in memory.
      results[flushed] = null;
      flushed++;
    }
    options.onProgress?.(flushed);
  };

  const pending: PendingItem[] = [];
  for (const [index, entry] of entries.entries()) {
    if (entry.kind === 'item') pending.push({ index, item: entry.item });
    else {
      results[index] = malformedResult(entry.line, entry.detail);
      summary.malformed++;
    }
  }
  flush();

  for (const chunk of chunkItems(pending, options.chunkSize)) {
    const stopped = summary.stoppedBy;
    if (stopped === undefined) {
      summary.stoppedBy = await sendChunk(chunk, client, options, sleep, summary, results);
    } else {
      for (const { index, item } of chunk) results[index] = failedItem(item, notSent(stopped));
    }
    flush();
  }
  return summary;
}

/** Sends one chunk until every item has its final result; returns the failure that should stop the run, if any. */
async function sendChunk(
  chunk: PendingItem[],
  client: BatchSender,
  options: BatchOptions,
  sleep: (ms: number) => Promise<void>,
  summary: BatchSummary,
  results: unknown[],
): Promise<Failure | undefined> {
  let remaining = chunk;
  for (let attempt = 0; ; attempt++) {
    summary.requests++;
    const answer = await client.batch(remaining.map(({ item }) => item));
    const retriesLeft = attempt < options.retries;
    if (!answer.ok) {
      const { failure } = answer;
      const waitSeconds = failure.retryAfterSeconds ?? 2 ** attempt;
      if (failure.retryable && retriesLeft && waitSeconds <= MAX_RETRY_WAIT_SECONDS) {
        options.onNotice?.(
          `the request for ${remaining.length} items failed for now (${failureLabel(failure)}); retry ${attempt + 1} of ${options.retries} in ${waitSeconds} s`,
        );
        await sleep(waitSeconds * 1000);
        continue;
      }
      for (const { index, item } of remaining) results[index] = failedItem(item, failure);
      return failure;
    }

    const again: { pending: PendingItem; result: unknown }[] = [];
    let waitSeconds = 0;
    for (const [position, result] of answer.results.entries()) {
      const pending = remaining[position]!;
      const retryAfter = retryableAfter(result);
      if (retryAfter !== undefined && retriesLeft) {
        again.push({ pending, result });
        waitSeconds = Math.max(waitSeconds, retryAfter);
      } else {
        results[pending.index] = result;
      }
    }
    if (again.length === 0) return undefined;
    if (waitSeconds > MAX_RETRY_WAIT_SECONDS) {
      // Not worth waiting for: these items keep the errors Signet gave them.
      for (const { pending, result } of again) results[pending.index] = result;
      return undefined;
    }
    options.onNotice?.(
      `${again.length} of ${remaining.length} items failed for now; retry ${attempt + 1} of ${options.retries} in ${waitSeconds} s`,
    );
    await sleep(waitSeconds * 1000);
    remaining = again.map(({ pending }) => pending);
  }
}

/** For an item error Signet calls retryable: the seconds to wait (1 when it names none); otherwise undefined. */
function retryableAfter(result: unknown): number | undefined {
  if (!isObject(result) || !isObject(result.error) || result.error.retryable !== true) return undefined;
  const seconds = result.error.retryAfterSeconds;
  return typeof seconds === 'number' && Number.isFinite(seconds) && seconds >= 0 ? seconds : 1;
}

function count(summary: BatchSummary, result: unknown): void {
  if (isObject(result) && !('error' in result) && isVerdict(result.verdict)) summary[result.verdict]++;
  else summary.errors++;
}

/** The error object of a result line: Signet's batch error fields. */
function errorFields(failure: Failure): Record<string, unknown> {
  const { status, code, title, detail, retryable, retryAfterSeconds } = failure;
  return { status, code, title, detail, retryable, ...(retryAfterSeconds !== undefined && { retryAfterSeconds }) };
}

/** An item without an answer, shaped like Signet's own batch error (its md5, sha256 and name echoed when they were strings). */
function failedItem(item: unknown, failure: Failure): Record<string, unknown> {
  const fields = isObject(item) ? item : {};
  const text = (value: unknown) => (typeof value === 'string' ? value : null);
  return {
    md5: text(fields.md5),
    ...('sha256' in fields && { sha256: text(fields.sha256) }),
    name: text(fields.name),
    error: errorFields(failure),
  };
}

function malformedResult(line: number, detail: string): Record<string, unknown> {
  return {
    md5: null,
    name: null,
    line,
    error: { status: 400, code: 'INVALID_INPUT_LINE', title: 'Malformed input line', detail: `line ${line}: ${detail}`, retryable: false },
  };
}

function notSent(failure: Failure): Failure {
  return { ...failure, detail: `not sent, since an earlier request failed: ${failure.detail}` };
}

export function failureLabel(failure: Failure): string {
  return failure.status !== null ? `${failure.status} ${failure.code}` : failure.code;
}
