import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import { backendClientsFromConfig, type BackendClients } from '../../src/backends/backend-clients.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createMetrics, type Metrics } from '../../src/observability/metrics.js';
import { SharedTier } from '../../src/shared-tier/shared-tier.js';
import { buildSimulator, type SimulatorInstance, type SimulatorOptions } from '../../src/simulator/app.js';
import { buildCloudSimulator, type CloudSimulatorInstance, type CloudSimulatorOptions } from '../../src/simulator/cloud/app.js';
import { startRedis, type RedisServer } from './redis-server.js';
import { requestCount } from './stack.js';

/**
 * A fleet in one test process: N Signet apps, each with its own cache,
 * guard and Redis connections (as N pods have), one simulator they all ask
 * over loopback, and one real Redis (Debian's redis-server) they share.
 * Each fleet gets a key prefix of its own, so fleets never see each other's keys.
 */
export interface Replica {
  app: FastifyInstance;
  tier: SharedTier;
  metrics: Metrics;
  config: Config;
  backend: BackendClients;
}

export interface Fleet {
  replicas: Replica[];
  redis: RedisServer;
  prefix: string;
  /** EDR: the simulator; undefined on Cloud. */
  simulator: SimulatorInstance | undefined;
  /** Cloud: the simulator; undefined on EDR. */
  cloudSimulator: CloudSimulatorInstance | undefined;
  /** EDR: every request the simulator answered. Cloud: search jobs created. */
  upstreamRequests(): number;
  /** The replica's shared tier is connected (or, after `up: false`, lost). */
  waitForTier(up: boolean): Promise<void>;
  /** A metric's value (summed over its series) on one replica. */
  metric(replica: Replica, name: string, labels?: string): Promise<number>;
  close(): Promise<void>;
}

export interface FleetOptions {
  replicas?: number;
  backend?: 'edr' | 'cloud';
  /** Signet settings for every replica. */
  env?: Record<string, string>;
  simulator?: Partial<SimulatorOptions>;
  cloudSimulator?: Partial<CloudSimulatorOptions>;
  /** A Redis of the caller's (for a test that also needs it after the fleet); default a new one, stopped at close. */
  redis?: RedisServer;
  /** A REDIS_URL other than the Redis's (a closed port: "Redis down at start"). */
  redisUrl?: string;
}

export async function metricValue(app: FastifyInstance, name: string, labels = ''): Promise<number> {
  const text = (await app.inject({ url: '/metrics' })).body;
  let sum = 0;
  for (const line of text.split('\n')) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (!(rest.startsWith(' ') || rest.startsWith('{'))) continue;
    if (labels !== '' && !rest.includes(labels)) continue;
    sum += Number(line.slice(line.lastIndexOf(' ') + 1));
  }
  return sum;
}

async function until(check: () => boolean, what: string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

export async function startFleet(options: FleetOptions = {}): Promise<Fleet> {
  const count = options.replicas ?? 3;
  const ownRedis = options.redis === undefined;
  const redis = options.redis ?? (await startRedis());
  const prefix = `fleet-${randomBytes(4).toString('hex')}:`;
  let env: Record<string, string>;
  let simulator: SimulatorInstance | undefined;
  let cloudSimulator: CloudSimulatorInstance | undefined;
  if (options.backend === 'cloud') {
    cloudSimulator = await buildCloudSimulator({ jobDurationMs: 60, ...options.cloudSimulator });
    const url = await cloudSimulator.listen({ host: '127.0.0.1', port: 0 });
    const { orgKey, apiId, apiSecret } = cloudSimulator.cloudSimulator.credentials;
    env = { CB_BACKEND: 'cloud', CB_URL: url, CB_ORG_KEY: orgKey, CB_API_ID: apiId, CB_API_SECRET: apiSecret, CB_POLL_INTERVAL_MS: '20' };
  } else {
    const token = `sim-${randomBytes(12).toString('hex')}`;
    simulator = await buildSimulator({ token, ...options.simulator });
    env = { CB_URL: await simulator.listen({ host: '127.0.0.1', port: 0 }), CB_API_TOKEN: token };
  }
  const replicas: Replica[] = [];
  for (let i = 0; i < count; i++) {
    const config = loadConfig({
      AUTH_DISABLED: 'true',
      ...env,
      REDIS_URL: options.redisUrl ?? redis.url,
      REDIS_KEY_PREFIX: prefix,
      // A whole fleet shares this process's event loop: its lag, not Redis, would trip 50 ms and the
      // counts below would measure the machine's load. Tests of the timeout itself set their own.
      REDIS_TIMEOUT_MS: '2000',
      ...(redis.password !== undefined && { REDIS_PASSWORD: redis.password }),
      ...options.env,
    });
    const tier = new SharedTier(config.sharedTier!);
    const backend = backendClientsFromConfig(config.carbonBlack, tier);
    const metrics = createMetrics({ defaultMetrics: false });
    const app = await buildApp(config, {
      ...(backend.backend === 'edr' ? { carbonBlack: backend.edr } : { cloud: backend.cloud, budget: backend.budget! }),
      metrics,
      sharedTier: tier,
    });
    await app.ready();
    replicas.push({ app, tier, metrics, config, backend });
  }
  const fleet: Fleet = {
    replicas,
    redis,
    prefix,
    simulator,
    cloudSimulator,
    upstreamRequests: () =>
      simulator !== undefined ? requestCount(simulator.simulator.stats) : cloudSimulator!.cloudSimulator.stats.jobsCreated,
    waitForTier: (up) =>
      until(() => replicas.every((replica) => replica.tier.up === up), `every replica's shared tier ${up ? 'up' : 'down'}`),
    metric: (replica, name, labels) => metricValue(replica.app, name, labels),
    async close() {
      for (const replica of replicas) {
        await replica.app.close();
        await replica.backend.close();
        await replica.tier.close();
      }
      await simulator?.close();
      await cloudSimulator?.close();
      if (ownRedis) await redis.stop();
    },
  };
  if (options.redisUrl === undefined) await fleet.waitForTier(true);
  return fleet;
}
