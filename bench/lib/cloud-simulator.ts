import { randomInt } from 'node:crypto';
import type { CloudSimulatorStats } from '../../src/simulator/cloud/stats.js';
import type { Child } from './children.js';
import { baseEnv, freePort, startChild, waitFor200 } from './children.js';
import { getJson, postJson } from './http.js';
import { SIMULATOR_ENTRY } from './paths.js';

/**
 * The Carbon Black Cloud simulator as `SIMULATOR_BACKEND=cloud npm run
 * simulator` runs it, from the same compiled entry as the EDR one (see
 * paths.ts), in its own process on 127.0.0.1, with credentials chosen here so
 * that Signet can be given them.
 */

export interface CloudCredentials {
  orgKey: string;
  apiId: string;
  apiSecret: string;
}

/** What the bench reads of `/__simulator/stats`: the counters, not the per-job lists (up to 10,000 query texts). */
export type CloudStatsView = Pick<
  CloudSimulatorStats,
  | 'requests'
  | 'requestsByKind'
  | 'jobsCreated'
  | 'maxHashesPerJob'
  | 'totalHashes'
  | 'rateLimited'
  | 'unauthorized'
  | 'forbidden'
  | 'inFlight'
  | 'peakInFlight'
  | 'rateWindowRequests'
>;

export interface CloudSimulator {
  url: string;
  credentials: CloudCredentials;
  child: Child;
  stats(): Promise<CloudStatsView>;
  resetStats(): Promise<void>;
}

export interface CloudSimulatorOptions {
  /** SIMULATOR_POPULATION: binaries 0..population-1 exist (computed from the index, nothing stored). */
  population: number;
  /** SIMULATOR_CLOUD_JOB_MS: how long a search job takes to complete. */
  jobMs: number;
  /** SIMULATOR_CLOUD_RATE_LIMIT: requests per sliding 5 minutes, Cloud's documented window, before it answers 429. */
  rateLimit: number;
}

const FIVE_MINUTES_MS = 5 * 60 * 1000;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

/** The simulator accepts only credentials shaped like a real tenant's: upper-case letters and digits of fixed lengths. */
function credential(length: number): string {
  let text = '';
  for (let i = 0; i < length; i++) text += ALPHABET[randomInt(ALPHABET.length)];
  return text;
}

export async function startCloudSimulator(options: CloudSimulatorOptions): Promise<CloudSimulator> {
  const port = await freePort();
  const credentials: CloudCredentials = { orgKey: credential(8), apiId: credential(10), apiSecret: credential(24) };
  const child = startChild({
    name: 'cloud simulator',
    args: [SIMULATOR_ENTRY],
    env: {
      ...baseEnv(),
      SIMULATOR_BACKEND: 'cloud',
      SIMULATOR_HOST: '127.0.0.1',
      SIMULATOR_PORT: String(port),
      SIMULATOR_CLOUD_ORG_KEY: credentials.orgKey,
      SIMULATOR_CLOUD_API_ID: credentials.apiId,
      SIMULATOR_CLOUD_API_SECRET: credentials.apiSecret,
      SIMULATOR_CLOUD_JOB_MS: String(options.jobMs),
      SIMULATOR_CLOUD_RATE_LIMIT: String(options.rateLimit),
      // Stated rather than left to the default: it must be the window of Signet's CB_REQUESTS_PER_5_MINUTES.
      SIMULATOR_CLOUD_RATE_WINDOW_MS: String(FIVE_MINUTES_MS),
      SIMULATOR_POPULATION: String(options.population),
    },
  });
  const url = `http://127.0.0.1:${port}`;
  // The admin routes need the same X-Auth-Token as the API but sit outside the rate limit, so polling them costs no budget.
  const headers = { 'x-auth-token': `${credentials.apiSecret}/${credentials.apiId}` };
  await waitFor200(child, `${url}/__simulator/stats`, { intervalMs: 20, headers });
  return {
    url,
    credentials,
    child,
    async stats() {
      const response = await getJson<CloudSimulatorStats>(`${url}/__simulator/stats`, headers);
      if (response.status !== 200) throw new Error(`cloud simulator stats answered ${response.status}`);
      const s = response.body;
      return {
        requests: s.requests,
        requestsByKind: { ...s.requestsByKind },
        jobsCreated: s.jobsCreated,
        maxHashesPerJob: s.maxHashesPerJob,
        totalHashes: s.totalHashes,
        rateLimited: s.rateLimited,
        unauthorized: s.unauthorized,
        forbidden: s.forbidden,
        inFlight: s.inFlight,
        peakInFlight: s.peakInFlight,
        rateWindowRequests: s.rateWindowRequests,
      };
    },
    async resetStats() {
      const response = await postJson(`${url}/__simulator/stats/reset`, undefined, headers);
      if (response.status !== 200) throw new Error(`cloud simulator stats reset answered ${response.status}`);
    },
  };
}

/** The environment that points a Signet at this simulator with CB_BACKEND=cloud. */
export function cloudSignetEnv(simulator: CloudSimulator): Record<string, string> {
  return {
    CB_BACKEND: 'cloud',
    CB_ORG_KEY: simulator.credentials.orgKey,
    CB_API_ID: simulator.credentials.apiId,
    CB_API_SECRET: simulator.credentials.apiSecret,
  };
}
