import type { FastifyInstance } from 'fastify';
import { buildApp, type AppDependencies } from '../../src/app.js';
import type { CloudClient } from '../../src/backends/cloud/client.js';
import { cloudClientFromConfig } from '../../src/backends/cloud/client-from-config.js';
import { loadConfig, type Config } from '../../src/config.js';
import { createMetrics } from '../../src/observability/metrics.js';
import { buildCloudSimulator, type CloudSimulatorInstance, type CloudSimulatorOptions } from '../../src/simulator/cloud/app.js';
import { createRequestBudget, type RequestBudget } from '../../src/upstream/request-budget.js';

/**
 * Signet on the Cloud backend, wired to a real Cloud simulator over loopback:
 * the Cloud client makes real HTTP requests to 127.0.0.1. Polls are fast
 * (20 ms, then x1.5) and jobs short (60 ms) so suites run in seconds.
 */
export interface CloudStack {
  app: FastifyInstance;
  simulator: CloudSimulatorInstance;
  simulatorUrl: string;
  config: Config;
  client: CloudClient;
  budget: RequestBudget;
  close(): Promise<void>;
}

export interface CloudStackOptions {
  env?: Record<string, string>;
  simulator?: Partial<CloudSimulatorOptions>;
  deps?: Partial<AppDependencies>;
}

export async function startCloudStack(options: CloudStackOptions = {}): Promise<CloudStack> {
  const simulator = await buildCloudSimulator({ jobDurationMs: 60, ...options.simulator });
  const simulatorUrl = await simulator.listen({ host: '127.0.0.1', port: 0 });
  const { orgKey, apiId, apiSecret } = simulator.cloudSimulator.credentials;
  const config = loadConfig({
    CB_BACKEND: 'cloud',
    CB_URL: simulatorUrl,
    CB_ORG_KEY: orgKey,
    CB_API_ID: apiId,
    CB_API_SECRET: apiSecret,
    CB_POLL_INTERVAL_MS: '20',
    AUTH_DISABLED: 'true',
    ...options.env,
  });
  const cloud = config.carbonBlack.cloud!;
  const budget = createRequestBudget({ limit: cloud.requestsPer5Minutes });
  const client = cloudClientFromConfig(config.carbonBlack, cloud, budget);
  // Default process metrics start monitors that outlive an app; suites build many apps.
  const app = await buildApp(config, { cloud: client, budget, metrics: createMetrics({ defaultMetrics: false }), ...options.deps });
  await app.ready();
  return {
    app,
    simulator,
    simulatorUrl,
    config,
    client,
    budget,
    async close() {
      await app.close();
      await client.close();
      await simulator.close();
    },
  };
}
