import { Pool } from 'undici';
import { percentileOfSorted } from './stats.js';

/**
 * Request drivers for the upstream scenarios, where autocannon does not fit:
 * each connection of autocannon replays the same request list from its
 * start, so it cannot ask 2000 distinct md5s once each, and it does not read
 * bodies. These use one undici Pool with a fixed number of connections.
 */

export interface DriveResult {
  requests: number;
  elapsedMs: number;
  statuses: Record<string, number>;
  /** `cache.status` of each 200 answer (Signet only). */
  cacheStatuses: Record<string, number>;
  p50Ms: number;
  p99Ms: number;
  maxMs: number;
}

interface One {
  status: number;
  cacheStatus?: string;
  ms: number;
  /** The body, only when the caller keeps them (driveEachKeepingBodies). */
  body?: string;
}

async function one(pool: Pool, path: string, headers: Record<string, string>, keepBody = false): Promise<One> {
  const started = performance.now();
  try {
    const response = await pool.request({ method: 'GET', path, headers });
    const text = await response.body.text();
    let cacheStatus: string | undefined;
    if (response.statusCode === 200) {
      try {
        cacheStatus = (JSON.parse(text) as { cache?: { status?: string } }).cache?.status;
      } catch {
        // Not Signet's JSON (the simulator's answer): no cache status.
      }
    }
    return {
      status: response.statusCode,
      ...(cacheStatus !== undefined && { cacheStatus }),
      ms: performance.now() - started,
      ...(keepBody && { body: text }),
    };
  } catch {
    return { status: 0, ms: performance.now() - started, ...(keepBody && { body: '' }) };
  }
}

function summarise(results: One[], elapsedMs: number): DriveResult {
  const statuses: Record<string, number> = {};
  const cacheStatuses: Record<string, number> = {};
  for (const r of results) {
    statuses[r.status] = (statuses[r.status] ?? 0) + 1;
    if (r.cacheStatus !== undefined) cacheStatuses[r.cacheStatus] = (cacheStatuses[r.cacheStatus] ?? 0) + 1;
  }
  const sorted = Float64Array.from(results.map((r) => r.ms)).sort();
  return {
    requests: results.length,
    elapsedMs,
    statuses,
    cacheStatuses,
    p50Ms: percentileOfSorted(sorted, 50),
    p99Ms: percentileOfSorted(sorted, 99),
    maxMs: sorted.length > 0 ? sorted[sorted.length - 1]! : Number.NaN,
  };
}

/** Every path once, `concurrency` at a time (a closed loop: each connection asks the next path as soon as it has an answer). */
export async function driveEach(
  origin: string,
  paths: readonly string[],
  headers: Record<string, string>,
  concurrency: number,
): Promise<DriveResult> {
  return (await drive(origin, paths, headers, concurrency, false)).result;
}

/**
 * driveEach, also keeping every answer's status and body (in the order of `paths`), for
 * a scenario that checks what was answered, not only how fast. Kept apart from
 * DriveResult so that the bodies never reach the results file.
 */
export async function driveEachKeepingBodies(
  origin: string,
  paths: readonly string[],
  headers: Record<string, string>,
  concurrency: number,
): Promise<{ result: DriveResult; answers: KeptAnswer[] }> {
  return drive(origin, paths, headers, concurrency, true);
}

/** One answer of driveEachKeepingBodies: status 0 when the connection failed. */
export interface KeptAnswer {
  status: number;
  body: string;
}

async function drive(
  origin: string,
  paths: readonly string[],
  headers: Record<string, string>,
  concurrency: number,
  keepBodies: boolean,
): Promise<{ result: DriveResult; answers: KeptAnswer[] }> {
  // Lookups may wait seconds for Carbon Black: undici's default timeouts (300 s) are far above any deadline Signet applies.
  const pool = new Pool(origin, { connections: concurrency, pipelining: 1 });
  try {
    const results: One[] = new Array(paths.length);
    let next = 0;
    const started = performance.now();
    const worker = async (): Promise<void> => {
      for (let i = next++; i < paths.length; i = next++) results[i] = await one(pool, paths[i]!, headers, keepBodies);
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, paths.length) }, worker));
    const elapsedMs = performance.now() - started;
    return {
      result: summarise(results, elapsedMs),
      answers: keepBodies ? results.map((r) => ({ status: r.status, body: r.body ?? '' })) : [],
    };
  } finally {
    await pool.close();
  }
}

/**
 * `count` requests for the same path, all sent at once on `count` connections;
 * elapsed runs to the last answer. With `warmPath`, the connections are opened
 * first with one request each to it, so that the burst measures the server,
 * not `count` TCP handshakes (which would spread the burst over seconds).
 */
export async function driveBurst(
  origin: string,
  path: string,
  headers: Record<string, string>,
  count: number,
  warmPath?: string,
): Promise<DriveResult> {
  const pool = new Pool(origin, { connections: count, pipelining: 1, keepAliveTimeout: 60_000 });
  try {
    if (warmPath !== undefined) {
      const warm = await Promise.all(Array.from({ length: count }, () => one(pool, warmPath, {})));
      const failed = warm.filter((w) => w.status !== 200).length;
      if (failed > 0) throw new Error(`${failed} of ${count} warm-up requests to ${warmPath} failed`);
    }
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: count }, () => one(pool, path, headers)));
    return summarise(results, performance.now() - started);
  } finally {
    await pool.close();
  }
}

/** One answer of driveForDuration, body read. */
export interface TimedAnswer {
  /** 0 when the connection failed. */
  status: number;
  contentType: string | undefined;
  /** Retry-After in seconds, when the answer carried one. */
  retryAfterSeconds: number | undefined;
  body: string;
  /** When the request was sent and answered, ms since the drive started. */
  sentMs: number;
  answeredMs: number;
}

export interface TimedDriveResult {
  /** Requests sent; each was answered (or failed) before the drive resolved. */
  requests: number;
  /** The issuing window: no request was sent after it. */
  issueMs: number;
  /** From the first request to the last answer, the drain after the window included. */
  elapsedMs: number;
}

/**
 * `callers` closed-loop callers, each sending the path `next()` gives (undefined:
 * that caller stops) as soon as it has its previous answer, for `durationMs`;
 * then every request still out is waited for, so that no answer is lost and
 * the next drive starts on an idle server. `onAnswer` sees every answer and may
 * return a pause in ms before that caller's next request (a Retry-After to
 * honour, as a polite client would); a pause never runs past the window.
 */
export async function driveForDuration(
  origin: string,
  headers: Record<string, string>,
  options: {
    callers: number;
    durationMs: number;
    next: () => string | undefined;
    onAnswer: (path: string, answer: TimedAnswer) => number | undefined;
  },
): Promise<TimedDriveResult> {
  // Lookups may wait seconds for Carbon Black: undici's default timeouts (300 s) are far above any deadline Signet applies.
  const pool = new Pool(origin, { connections: options.callers, pipelining: 1 });
  let requests = 0;
  let lastAnswerMs = 0;
  const started = performance.now();
  const end = started + options.durationMs;
  const caller = async (): Promise<void> => {
    while (performance.now() < end) {
      const path = options.next();
      if (path === undefined) return;
      requests++;
      const sentMs = performance.now() - started;
      let answer: TimedAnswer;
      try {
        const response = await pool.request({ method: 'GET', path, headers });
        const body = await response.body.text();
        const contentType = response.headers['content-type'];
        const retryAfter = Number(response.headers['retry-after']);
        answer = {
          status: response.statusCode,
          contentType: typeof contentType === 'string' ? contentType : undefined,
          retryAfterSeconds: Number.isFinite(retryAfter) ? retryAfter : undefined,
          body,
          sentMs,
          answeredMs: performance.now() - started,
        };
      } catch {
        answer = {
          status: 0,
          contentType: undefined,
          retryAfterSeconds: undefined,
          body: '',
          sentMs,
          answeredMs: performance.now() - started,
        };
      }
      lastAnswerMs = Math.max(lastAnswerMs, answer.answeredMs);
      const pauseMs = Math.min(options.onAnswer(path, answer) ?? 0, end - performance.now());
      if (pauseMs > 0) await new Promise((resolve) => setTimeout(resolve, pauseMs));
    }
  };
  try {
    await Promise.all(Array.from({ length: options.callers }, caller));
    return { requests, issueMs: options.durationMs, elapsedMs: lastAnswerMs };
  } finally {
    await pool.close();
  }
}
