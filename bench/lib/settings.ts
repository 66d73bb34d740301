/**
 * Every knob of a bench run. `npm run bench` uses FULL; `npm run bench:smoke`
 * (BENCH_SMOKE=1 or --smoke) uses SMOKE: about a second per scenario, one
 * round, smaller fills. It only proves that the bench still runs.
 */

export interface BenchSettings {
  mode: 'full' | 'smoke';
  /** Alternating throughput rounds (A, B, A, B...) per figure in scenarios 1 and 2. */
  rounds: number;
  roundSeconds: number;
  /** Rounds of the half-rate latency run (scenario 1). */
  latencyRounds: number;
  /** Unmeasured load on each target before its rounds (JIT, connection set-up). */
  warmupSeconds: number;
  /** Distinct md5s, cached before measuring, that scenario 1 and 2 cycle through. */
  cachedMd5s: number;
  singleConnections: number;
  batchConnections: number;
  batchSizes: readonly number[];
  /** Scenario 3. */
  missMd5s: number;
  missRounds: number;
  missConcurrency: number;
  cbMaxConcurrency: number;
  cbLatencyMs: number;
  /** Scenario 7: alternating rounds (A B, B A, ...), each side on a fresh simulator and Signet. */
  cloudRounds: number;
  /** How long each side's callers keep asking; the answers still out are then waited for. */
  cloudRoundSeconds: number;
  cloudCallers: number;
  /** SIMULATOR_CLOUD_JOB_MS: how long a search job takes to complete on the simulator. */
  cloudJobMs: number;
  /** CB_REQUESTS_PER_5_MINUTES, and the simulator's rate limit over the same window. */
  cloudBudget: number;
  /** CB_BATCH_MAX_HASHES and CB_BATCH_WINDOW_MS of the batched side (the defaults). */
  cloudBatchMaxHashes: number;
  cloudBatchWindowMs: number;
  /** Distinct population hashes one side may ask in one round (caps a caller that is refused fast). */
  cloudMaxLookupsPerRound: number;
  /** Scenario 8: distinct md5s per cold-fleet round, each asked once on every replica. */
  fleetMd5s: number;
  /** Alternating rounds (Redis fleet, fleet without Redis; then the other way round), fresh md5s each round. */
  fleetRounds: number;
  /** md5s in flight at once in a cold-fleet round (each as one lookup per replica). */
  fleetConcurrency: number;
  /** Sequential shared-tier hits measured (each followed by a local-cache hit of the same md5). */
  fleetHitRequests: number;
  /** md5s of the unmeasured cold round each fleet gets first, and unmeasured hit pairs before the measured ones. */
  fleetWarmup: number;
  /** Scenario 9: distinct never-cached md5s per round, asked once each by `batchedCallers` callers at once. */
  batchedMd5s: number;
  batchedRounds: number;
  /** Enough callers to fill batches of CB_BATCH_MAX_HASHES on every one of the CB_MAX_CONCURRENCY slots. */
  batchedCallers: number;
  /** Lone misses on an idle Signet, one at a time (after a few unmeasured ones). */
  loneMisses: number;
  /** Scenario 4. */
  coalesceRequests: number;
  coalesceRounds: number;
  /** Scenario 5. */
  memoryEntries: number;
  memoryRounds: number;
  /** Scenario 6. */
  startupRounds: number;
  snapshotEntries: number;
  startupPollMs: number;
}

export const FULL: BenchSettings = {
  mode: 'full',
  rounds: 5,
  roundSeconds: 5,
  latencyRounds: 3,
  warmupSeconds: 3,
  cachedMd5s: 1000,
  singleConnections: 50,
  batchConnections: 8,
  batchSizes: [100, 1000],
  missMd5s: 2000,
  missRounds: 3,
  missConcurrency: 64,
  cbMaxConcurrency: 8,
  cbLatencyMs: 50,
  cloudRounds: 3,
  cloudRoundSeconds: 15,
  cloudCallers: 64,
  cloudJobMs: 1500,
  cloudBudget: 1000,
  cloudBatchMaxHashes: 50,
  cloudBatchWindowMs: 20,
  cloudMaxLookupsPerRound: 100_000,
  fleetMd5s: 2000,
  fleetRounds: 3,
  fleetConcurrency: 16,
  fleetHitRequests: 2000,
  fleetWarmup: 200,
  batchedMd5s: 4000,
  batchedRounds: 3,
  batchedCallers: 512,
  loneMisses: 60,
  coalesceRequests: 1000,
  coalesceRounds: 3,
  memoryEntries: 1_000_000,
  memoryRounds: 3,
  startupRounds: 3,
  snapshotEntries: 1_000_000,
  startupPollMs: 10,
};

export const SMOKE: BenchSettings = {
  ...FULL,
  mode: 'smoke',
  rounds: 1,
  roundSeconds: 1,
  latencyRounds: 1,
  warmupSeconds: 1,
  missMd5s: 200,
  missRounds: 1,
  cloudRounds: 1,
  cloudRoundSeconds: 2,
  // Shorter than the first poll (CB_POLL_INTERVAL_MS, 500 ms): each job is done at its first poll.
  cloudJobMs: 200,
  fleetMd5s: 300,
  fleetRounds: 1,
  fleetHitRequests: 300,
  fleetWarmup: 100,
  batchedMd5s: 1000,
  batchedRounds: 1,
  loneMisses: 10,
  coalesceRounds: 1,
  memoryEntries: 100_000,
  memoryRounds: 1,
  startupRounds: 1,
  snapshotEntries: 100_000,
};

export function settingsFromEnvironment(argv: readonly string[], env: NodeJS.ProcessEnv): BenchSettings {
  const smoke = argv.includes('--smoke') || env.BENCH_SMOKE === '1' || env.BENCH_SMOKE === 'true';
  return smoke ? SMOKE : FULL;
}
