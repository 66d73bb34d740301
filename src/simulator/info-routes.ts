import type { FastifyInstance } from 'fastify';

/**
 * The server facts a client (or the official SDK) asks for when it connects.
 * The binary endpoints are in binary-routes.ts.
 */

export const SIMULATED_VERSION = '7.7.0';

export function registerInfoRoutes(app: FastifyInstance): void {
  app.get('/api/info', async () => ({
    version: SIMULATED_VERSION,
    versionRelease: `${SIMULATED_VERSION}-1.el7`,
    maxSearchResultRows: 1000,
    timestampDeltaThreshold: 5,
    cblrEnabled: false,
    banningEnabled: true,
    processSearchSortField: 'last_update',
    // Not a Carbon Black field: lets a curious client tell it is talking to the simulator.
    simulator: true,
  }));

  app.get('/api/v1/storage/events/partition', async () => ({
    writer: { name: 'writer', status: 'writer', info: { isLegacy: false } },
    cbevents_2024_01_01_0000: { name: 'cbevents_2024_01_01_0000', status: 'hot', info: { isLegacy: false } },
  }));
}
