/**
 * What the Cloud simulator saw, for tests, soaks and benchmarks. The object
 * is mutated in place (a reference a test holds stays current);
 * `rateWindowRequests` is computed when read, since requests age out of the
 * window with time alone.
 */

export const MAX_RECORDED = 10_000;

export type RequestKind = 'createJob' | 'readResults' | 'other';
export type InjectedFault = 'error' | 'hang' | 'reset' | 'malformed' | 'truncated';

export interface CloudSimulatorStats {
  /** Authenticated API requests (everything but /__simulator/*): what the rate limiter counts, refused ones included. */
  requests: number;
  /** The same requests by route: job creations, results reads, and anything else (unknown paths). */
  requestsByKind: Record<RequestKind, number>;
  /** Jobs created (job creations answered 200 with a job_id). */
  jobsCreated: number;
  /** The distinct process_hash values in each created job's query, in creation order, the last MAX_RECORDED. */
  hashesPerJob: number[];
  /** The most hashes one job has named since the last reset. */
  maxHashesPerJob: number;
  /** Hashes named by all jobs since the last reset. */
  totalHashes: number;
  /** The query text of each created job, the last MAX_RECORDED. */
  queries: string[];
  /** 429s sent by the rate limiter (injected 429s count under faultsInjected.error). */
  rateLimited: number;
  /** Requests in the rate limiter's current window (live). */
  readonly rateWindowRequests: number;
  /** 401s for missing or wrong credentials (injected 401s count under faultsInjected.error). */
  unauthorized: number;
  /** 403s for a valid key used with another org key. */
  forbidden: number;
  /** Job creations and results reads whose response has not finished and whose connection is open. */
  inFlight: number;
  peakInFlight: number;
  /** Injected faults by kind (failNext errors included under error). */
  faultsInjected: Record<InjectedFault, number>;
}

export function createCloudStats(rateWindowRequests: () => number): CloudSimulatorStats {
  const stats = {
    requests: 0,
    requestsByKind: { createJob: 0, readResults: 0, other: 0 },
    jobsCreated: 0,
    hashesPerJob: [],
    maxHashesPerJob: 0,
    totalHashes: 0,
    queries: [],
    rateLimited: 0,
    unauthorized: 0,
    forbidden: 0,
    inFlight: 0,
    peakInFlight: 0,
    faultsInjected: { error: 0, hang: 0, reset: 0, malformed: 0, truncated: 0 },
  } as Omit<CloudSimulatorStats, 'rateWindowRequests'>;
  // Enumerable, so JSON.stringify and spreads include the live figure.
  Object.defineProperty(stats, 'rateWindowRequests', { get: rateWindowRequests, enumerable: true });
  return stats as CloudSimulatorStats;
}

/** Zeroes the counters; inFlight is live, so it stays, and peakInFlight restarts from it. */
export function resetCloudStats(stats: CloudSimulatorStats): void {
  stats.requests = 0;
  for (const kind of Object.keys(stats.requestsByKind) as RequestKind[]) stats.requestsByKind[kind] = 0;
  stats.jobsCreated = 0;
  stats.hashesPerJob.length = 0;
  stats.maxHashesPerJob = 0;
  stats.totalHashes = 0;
  stats.queries.length = 0;
  stats.rateLimited = 0;
  stats.unauthorized = 0;
  stats.forbidden = 0;
  stats.peakInFlight = stats.inFlight;
  for (const kind of Object.keys(stats.faultsInjected) as InjectedFault[]) stats.faultsInjected[kind] = 0;
}

function remember<T>(list: T[], value: T): void {
  list.push(value);
  if (list.length > MAX_RECORDED) list.shift();
}

export function recordJob(stats: CloudSimulatorStats, query: string, hashes: number): void {
  stats.jobsCreated += 1;
  remember(stats.queries, query);
  remember(stats.hashesPerJob, hashes);
  stats.totalHashes += hashes;
  if (hashes > stats.maxHashesPerJob) stats.maxHashesPerJob = hashes;
}

/** A plain copy, safe to keep or send. */
export function snapshotCloudStats(stats: CloudSimulatorStats): CloudSimulatorStats {
  return {
    ...stats,
    requestsByKind: { ...stats.requestsByKind },
    hashesPerJob: [...stats.hashesPerJob],
    queries: [...stats.queries],
    faultsInjected: { ...stats.faultsInjected },
  };
}
