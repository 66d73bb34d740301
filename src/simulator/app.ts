import Fastify, { type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { registerAdminRoutes } from './admin-routes.js';
import { authHook } from './auth.js';
import { registerBinaryRoutes } from './binary-routes.js';
import { sendCanned } from './canned-response.js';
import type { SimulatorControl } from './control.js';
import { Dataset } from './dataset.js';
import { notFoundResponse } from './error-responses.js';
import { killConnection, type OpenRequest } from './fault-delivery.js';
import { FaultState, type FaultSettings } from './faults.js';
import { registerInfoRoutes } from './info-routes.js';
import { MAX_POPULATION } from './population.js';
import { registerProcessSearchRoutes } from './process-search-route.js';
import { createStats, resetStats } from './stats.js';

/**
 * The Carbon Black EDR simulator as a Fastify instance (not listening). It
 * shares no code with Signet's Carbon Black client on purpose: it is the
 * independent reading of the API that catches the client's mistakes.
 */

export type { SimulatorControl } from './control.js';
export type { ErrorStatus, FaultSettings, FaultUpdate } from './faults.js';
export type { SimulatorStats } from './stats.js';

export interface SimulatorOptions {
  /** The X-Auth-Token every request must carry. */
  token: string;
  /** Size of the generated population (default 0: the fixture only). */
  population?: number;
  /** Fixed latency added to every upstream request (process searches and binary endpoints), ms (default 0). */
  latencyMs?: number;
  /** Initial fault settings. */
  faults?: Partial<FaultSettings>;
  /** Fastify logger option (default false). */
  logger?: boolean | object;
  /** Random source for fault draws and jitter (default Math.random); tests may pin it. */
  random?: () => number;
}

export type SimulatorInstance = FastifyInstance & { simulator: SimulatorControl };

export async function buildSimulator(options: SimulatorOptions): Promise<SimulatorInstance> {
  if (typeof options.token !== 'string' || options.token === '') throw new TypeError('simulator token must be a non-empty string');
  const population = options.population ?? 0;
  if (!Number.isInteger(population) || population < 0 || population > MAX_POPULATION) {
    throw new RangeError(`simulator population must be an integer from 0 to ${MAX_POPULATION}`);
  }
  const latencyMs = options.latencyMs ?? 0;
  if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new RangeError('simulator latencyMs must be >= 0');

  const app = Fastify({
    logger: (options.logger ?? false) as FastifyServerOptions['logger'],
    // Hung and slow searches must not hold close() up: cut every connection when closing.
    forceCloseConnections: true,
  });

  const dataset = new Dataset(population);
  const faults = new FaultState(options.faults, options.random);
  const stats = createStats();
  const open = new Set<OpenRequest>();

  const control: SimulatorControl = {
    stats,
    resetStats: () => resetStats(stats),
    get faults() {
      return faults.settings;
    },
    setFaults: (update) => faults.set(update),
    clearFaults: () => faults.clear(),
    token: options.token,
  };
  app.decorate('simulator', control);

  app.addHook('onRequest', authHook(options.token));
  // Under inject() there are no sockets for forceCloseConnections to cut, so end open searches here too.
  app.addHook('preClose', async () => {
    for (const search of open) killConnection(search, false);
  });

  registerInfoRoutes(app);
  registerProcessSearchRoutes(app, { dataset, faults, stats, latencyMs, open });
  registerBinaryRoutes(app, { dataset, faults, stats, latencyMs, open });
  registerAdminRoutes(app, control);
  // Any other path gets the web framework's HTML 404, as on the real server (not Fastify's JSON one).
  app.setNotFoundHandler((_request, reply) => sendCanned(reply, notFoundResponse()));

  return app as unknown as SimulatorInstance;
}
