/**
 * What the simulator saw, for tests and benchmarks: how many process
 * searches, binary summary reads and binary searches arrived, how many
 * upstream requests of any kind were open at once (the real upstream
 * concurrency a client produced), and the raw query text of each search.
 */

export const MAX_RECORDED_QUERIES = 10_000;

export interface SimulatorStats {
  /** Authenticated process searches received since the last reset. */
  processSearches: number;
  /** Authenticated GET /api/v1/binary/<md5>/summary requests received since the last reset. */
  binaryReads: number;
  /** Authenticated binary searches (GET or POST /api/v1/binary) received since the last reset. */
  binarySearches: number;
  /** Upstream requests (process searches and binary requests) whose response has not finished and whose connection is open. */
  inFlight: number;
  /** The highest inFlight since the last reset. */
  peakInFlight: number;
  /** The raw `q` of each process search, in arrival order, the last MAX_RECORDED_QUERIES only. */
  queries: string[];
  /** The raw `q` of each binary search, in arrival order, the last MAX_RECORDED_QUERIES only. */
  binaryQueries: string[];
}

/** The kinds of upstream request, each counted apart; a download counts in inFlight only. */
export type UpstreamKind = 'processSearch' | 'binaryRead' | 'binarySearch' | 'binaryDownload';

export function createStats(): SimulatorStats {
  return { processSearches: 0, binaryReads: 0, binarySearches: 0, inFlight: 0, peakInFlight: 0, queries: [], binaryQueries: [] };
}

/** Mutates in place so a reference a test holds stays current. inFlight is live, so it survives a reset. */
export function resetStats(stats: SimulatorStats): void {
  stats.processSearches = 0;
  stats.binaryReads = 0;
  stats.binarySearches = 0;
  stats.peakInFlight = stats.inFlight;
  stats.queries.length = 0;
  stats.binaryQueries.length = 0;
}

/** Counts an upstream request by its kind; fault-delivery.ts keeps inFlight and peakInFlight. */
export function countRequest(stats: SimulatorStats, kind: UpstreamKind): void {
  if (kind === 'processSearch') stats.processSearches += 1;
  else if (kind === 'binaryRead') stats.binaryReads += 1;
  else if (kind === 'binarySearch') stats.binarySearches += 1;
}

function remember(list: string[], q: string): void {
  list.push(q);
  if (list.length > MAX_RECORDED_QUERIES) list.shift();
}

/** Records a process search's q. */
export function recordQuery(stats: SimulatorStats, q: string): void {
  remember(stats.queries, q);
}

export function recordBinaryQuery(stats: SimulatorStats, q: string): void {
  remember(stats.binaryQueries, q);
}

export function snapshotStats(stats: SimulatorStats): SimulatorStats {
  return { ...stats, queries: [...stats.queries], binaryQueries: [...stats.binaryQueries] };
}
