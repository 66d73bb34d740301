import type { FastifyInstance } from 'fastify';
import { registerControlRoutes, type BodyReading } from '../control-routes.js';
import type { CloudSimulatorControl } from './control.js';
import { cloudFaultUpdateSchema } from './faults.js';
import { snapshotCloudStats } from './stats.js';

/**
 * Run-time control, behind the same X-Auth-Token as the API but outside the
 * rate limit: fault settings and stats, on the same paths as the EDR
 * simulator's (../control-routes.ts).
 */
export function registerCloudAdminRoutes(app: FastifyInstance, control: CloudSimulatorControl): void {
  registerControlRoutes(app, { control, schema: cloudFaultUpdateSchema, snapshot: snapshotCloudStats, readBody: readJsonBody });
}

/** Bodies reach the routes as text (app.ts keeps them so for Cloud's own 400s), so the PUT parses its own. */
function readJsonBody(body: unknown): BodyReading {
  if (typeof body !== 'string' || body.trim() === '') return { update: {} };
  try {
    return { update: JSON.parse(body) as unknown };
  } catch (error) {
    return { unreadable: `not JSON: ${(error as Error).message}` };
  }
}
