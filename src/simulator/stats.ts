/**
 * What the simulator saw, for tests and benchmarks: how many process searches
 * arrived, how many were open at once (the real upstream concurrency a client
 * produced), and the raw query text of each.
 */

export const MAX_RECORDED_QUERIES = 10_000;

export interface SimulatorStats {
  /** Authenticated process searches received since the last reset. */
  processSearches: number;
  /** Process searches whose response has not finished and whose connection is open. */
  inFlight: number;
  /** The highest inFlight since the last reset. */
  peakInFlight: number;
  /** The raw `q` of each process search, in arrival order, the last MAX_RECORDED_QUERIES only. */
  queries: string[];
}

export function createStats(): SimulatorStats {
  return { processSearches: 0, inFlight: 0, peakInFlight: 0, queries: [] };
}

/** Mutates in place so a reference a test holds stays current. inFlight is live, so it survives a reset. */
export function resetStats(stats: SimulatorStats): void {
  stats.processSearches = 0;
  stats.peakInFlight = stats.inFlight;
  stats.queries.length = 0;
}

export function searchStarted(stats: SimulatorStats): void {
  stats.processSearches += 1;
  stats.inFlight += 1;
  if (stats.inFlight > stats.peakInFlight) stats.peakInFlight = stats.inFlight;
}

export function searchEnded(stats: SimulatorStats): void {
  stats.inFlight -= 1;
}

export function recordQuery(stats: SimulatorStats, q: string): void {
  stats.queries.push(q);
  if (stats.queries.length > MAX_RECORDED_QUERIES) stats.queries.shift();
}

export function snapshotStats(stats: SimulatorStats): SimulatorStats {
  return { ...stats, queries: [...stats.queries] };
}
