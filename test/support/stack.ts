import { randomBytes } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { buildApp } from '../../src/app.js';
import type { AppDependencies } from '../../src/app.js';
import { carbonBlackClientFromConfig } from '../../src/backends/edr/client-from-config.js';
import { loadConfig } from '../../src/config.js';
import { createMetrics } from '../../src/observability/metrics.js';
import type { Config } from '../../src/config.js';
import type { SimulatorInstance, SimulatorOptions, SimulatorStats } from '../../src/simulator/app.js';
import { buildSimulator } from '../../src/simulator/app.js';

export interface Stack {
  app: FastifyInstance;
  simulator: SimulatorInstance;
  simulatorUrl: string;
  config: Config;
  /** Requests the simulator has answered (or failed) so far: process searches, binary reads and binary searches. */
  upstreamRequests(): number;
  close(): Promise<void>;
}

/** Every Carbon Black request in a simulator's stats, whatever its kind (both verdict sources count alike). */
export function requestCount(stats: SimulatorStats): number {
  return stats.processSearches + stats.binaryReads + stats.binarySearches;
}

export function upstreamRequests(simulator: SimulatorInstance): number {
  return requestCount(simulator.simulator.stats);
}

export interface StackOptions {
  /** Signet settings, as environment variables. */
  env?: Record<string, string>;
  simulator?: Partial<SimulatorOptions>;
  deps?: Partial<AppDependencies>;
}

/**
 * Signet wired to a real simulator over loopback: the app's Carbon Black
 * client makes real HTTP requests to 127.0.0.1. Requests to Signet itself go
 * through `app.inject()` unless a test needs a socket.
 */
export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const token = `sim-${randomBytes(12).toString('hex')}`;
  const simulator = await buildSimulator({ token, ...options.simulator });
  const simulatorUrl = await simulator.listen({ host: '127.0.0.1', port: 0 });
  const config = loadConfig({ CB_URL: simulatorUrl, CB_API_TOKEN: token, AUTH_DISABLED: 'true', ...options.env });
  const carbonBlack = carbonBlackClientFromConfig(config.carbonBlack);
  // Default process metrics start monitors that outlive an app; suites build many apps.
  const app = await buildApp(config, { carbonBlack, metrics: createMetrics({ defaultMetrics: false }), ...options.deps });
  await app.ready();
  return {
    app,
    simulator,
    simulatorUrl,
    config,
    upstreamRequests: () => upstreamRequests(simulator),
    async close() {
      await app.close();
      await carbonBlack.close();
      await simulator.close();
    },
  };
}
