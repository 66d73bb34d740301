import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import type { Child } from './children.js';
import { baseEnv, freePort, startChild, waitFor200 } from './children.js';
import { getJson, postJson } from './http.js';
import { ROOT, SERVER_ENTRY, SIMULATOR_ENTRY, scratchDir } from './paths.js';

/** The three kinds of server the bench starts, each in its own process on 127.0.0.1 (the Cloud simulator: cloud-simulator.ts). */

export interface SimulatorStatsView {
  processSearches: number;
  binaryReads: number;
  binarySearches: number;
  /** Every Carbon Black request of any kind: what a miss costs, whichever CB_VERDICT_SOURCE. */
  upstreamRequests: number;
  /**
   * md5s Carbon Black was asked about: one per process search and summary
   * read, and one per `md5:` term of each binary search (a batched search asks
   * many). What "one Carbon Black question per md5" counts once misses are batched.
   */
  md5sAsked: number;
  inFlight: number;
  peakInFlight: number;
}

export interface Simulator {
  url: string;
  token: string;
  child: Child;
  stats(): Promise<SimulatorStatsView>;
  resetStats(): Promise<void>;
}

/** The Carbon Black simulator as `npm run simulator` runs it, compiled apart from the service (see paths.ts). */
export async function startSimulator(options: { population: number; latencyMs: number }): Promise<Simulator> {
  const port = await freePort();
  const token = `sim-${randomBytes(12).toString('hex')}`;
  const child = startChild({
    name: 'simulator',
    args: [SIMULATOR_ENTRY],
    env: {
      ...baseEnv(),
      SIMULATOR_HOST: '127.0.0.1',
      SIMULATOR_PORT: String(port),
      SIMULATOR_TOKEN: token,
      SIMULATOR_POPULATION: String(options.population),
      SIMULATOR_LATENCY_MS: String(options.latencyMs),
    },
  });
  const url = `http://127.0.0.1:${port}`;
  const headers = { 'x-auth-token': token };
  await waitFor200(child, `${url}/api/info`, { intervalMs: 20, headers });
  return {
    url,
    token,
    child,
    async stats() {
      const response = await getJson<SimulatorStatsView & { binaryQueries: string[] }>(`${url}/__simulator/stats`, headers);
      if (response.status !== 200) throw new Error(`simulator stats answered ${response.status}`);
      const { processSearches, binaryReads, binarySearches, binaryQueries, inFlight, peakInFlight } = response.body;
      // The simulator keeps the last 10,000 queries: past that the count would be short, so it is not a count.
      const md5Terms =
        binaryQueries.length === binarySearches
          ? binaryQueries.reduce((sum, q) => sum + (q.match(/\bmd5:/giu)?.length ?? 0), 0)
          : Number.NaN;
      return {
        processSearches,
        binaryReads,
        binarySearches,
        upstreamRequests: processSearches + binaryReads + binarySearches,
        md5sAsked: processSearches + binaryReads + md5Terms,
        inFlight,
        peakInFlight,
      };
    },
    async resetStats() {
      const response = await postJson(`${url}/__simulator/stats/reset`, undefined, headers);
      if (response.status !== 200) throw new Error(`simulator stats reset answered ${response.status}`);
    },
  };
}

export interface Signet {
  url: string;
  child: Child;
  /** Bearer header values of a lookup key and an admin key. */
  lookupAuth: string;
  adminAuth: string;
  /** Where its stdout (the access log) goes. */
  logFile: string;
  /** Spawn to first /readyz 200, ms. */
  startupMs: number;
}

export interface SignetOptions {
  cbUrl: string;
  /** EDR's API token; absent for CB_BACKEND=cloud, whose credentials come in `env` (see cloud-simulator.ts). */
  cbToken?: string;
  /** Extra or overriding environment (CB_MAX_CONCURRENCY, CACHE_*...). */
  env?: Record<string, string>;
  /** node flags before the entry (--cpu-prof ...). */
  nodeArgs?: string[];
  /** A label for the log file. */
  label?: string;
  /** How often to poll /readyz while it starts (ms). */
  pollMs?: number;
}

let signetCount = 0;

/**
 * Signet exactly as `npm start` runs it (node dist/server.js), with every
 * production feature on: API keys, validation, the rate limit (set high enough
 * never to refuse the bench, but still counting every request), metrics
 * (METRICS_PUBLIC as in k8s/configmap.yaml) and the access log at info,
 * written to a file as a container runtime would take it from stdout.
 */
export async function startSignet(options: SignetOptions): Promise<Signet> {
  const port = await freePort();
  const lookupKey = `bench-${randomBytes(18).toString('hex')}`;
  const adminKey = `admin-${randomBytes(18).toString('hex')}`;
  signetCount++;
  const logFile = join(scratchDir(), `signet-${signetCount}-${options.label ?? 'run'}.log`);
  const child = startChild({
    name: `signet (${options.label ?? 'run'})`,
    args: [...(options.nodeArgs ?? []), SERVER_ENTRY],
    cwd: ROOT,
    stdout: logFile,
    env: {
      ...baseEnv(),
      HOST: '127.0.0.1',
      PORT: String(port),
      CB_URL: options.cbUrl,
      ...(options.cbToken !== undefined && { CB_API_TOKEN: options.cbToken }),
      API_KEYS: `bench:${lookupKey}:lookup,bench-admin:${adminKey}:admin`,
      LOG_LEVEL: 'info',
      RATE_LIMIT_PER_MINUTE: '10000000',
      METRICS_PUBLIC: 'true',
      SHUTDOWN_GRACE_MS: '5000',
      ...options.env,
    },
  });
  const url = `http://127.0.0.1:${port}`;
  const readyAt = await waitFor200(child, `${url}/readyz`, { intervalMs: options.pollMs ?? 20 });
  return {
    url,
    child,
    lookupAuth: `Bearer ${lookupKey}`,
    adminAuth: `Bearer ${adminKey}`,
    logFile,
    startupMs: readyAt - child.spawnedAt,
  };
}

export interface Bare {
  url: string;
  child: Child;
  startupMs: number;
}

/** The bare-Fastify baseline (bench/targets/bare-fastify.ts, compiled). */
export async function startBare(entry: string, body: string, pollMs = 20): Promise<Bare> {
  const port = await freePort();
  const child = startChild({ name: 'bare fastify', args: [entry], env: { ...baseEnv(), PORT: String(port), BARE_BODY: body } });
  const url = `http://127.0.0.1:${port}`;
  const readyAt = await waitFor200(child, `${url}/readyz`, { intervalMs: pollMs });
  return { url, child, startupMs: readyAt - child.spawnedAt };
}

export interface SignetFeatures {
  /** GET /metrics answered 200 with Prometheus text. */
  metrics: boolean;
  /** The log file holds access lines ("request completed"). */
  accessLog: boolean;
  /** Lookup answers carry RateLimit-* headers. */
  rateLimit: boolean;
  /** A lookup without a key is refused. */
  auth: boolean;
  /** A malformed md5 is refused with 400. */
  validation: boolean;
  accessLogLines: number;
}

/** Checks which production features the running Signet really has on (others are adding some right now). */
export async function probeFeatures(signet: Signet, md5: string, name: string): Promise<SignetFeatures> {
  const metricsResponse = await getJson<string>(`${signet.url}/metrics`);
  const lookup = await getJson(`${signet.url}/v1/signatures/${md5}?name=${encodeURIComponent(name)}`, { authorization: signet.lookupAuth });
  const anonymous = await getJson(`${signet.url}/v1/signatures/${md5}?name=${encodeURIComponent(name)}`);
  const invalid = await getJson(`${signet.url}/v1/signatures/not-an-md5?name=x`, { authorization: signet.lookupAuth });
  const lines = countAccessLines(signet.logFile);
  return {
    metrics: metricsResponse.status === 200 && typeof metricsResponse.body === 'string' && metricsResponse.body.includes('# TYPE'),
    accessLog: lines > 0,
    rateLimit: lookup.headers['ratelimit-limit'] !== undefined || lookup.headers['x-ratelimit-limit'] !== undefined,
    auth: anonymous.status === 401,
    validation: invalid.status === 400,
    accessLogLines: lines,
  };
}

/** Lines of Signet's stdout that are access-log lines. */
export function countAccessLines(logFile: string): number {
  try {
    if (statSync(logFile).size > 512 * 1024 * 1024) return -1;
    const text = readFileSync(logFile, 'utf8');
    let count = 0;
    for (let at = text.indexOf('request completed'); at !== -1; at = text.indexOf('request completed', at + 1)) count++;
    return count;
  } catch {
    return 0;
  }
}
