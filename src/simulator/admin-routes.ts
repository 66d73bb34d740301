import type { FastifyInstance } from 'fastify';
import type { SimulatorControl } from './control.js';
import { registerControlRoutes } from './control-routes.js';
import { faultUpdateSchema } from './faults.js';
import { snapshotStats } from './stats.js';

/**
 * Run-time control of the simulator, behind the same token as the API:
 * fault settings and stats (control-routes.ts). Fastify has parsed the JSON
 * body already, so the routes validate it as it is.
 */
export function registerAdminRoutes(app: FastifyInstance, control: SimulatorControl): void {
  registerControlRoutes(app, { control, schema: faultUpdateSchema, snapshot: snapshotStats });
}
