import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { CloudSimulatorControl } from './control.js';
import { cloudFaultUpdateSchema } from './faults.js';
import { snapshotCloudStats } from './stats.js';

/**
 * Run-time control, behind the same X-Auth-Token as the API but outside the
 * rate limit: fault settings and stats. The paths start with /__simulator,
 * which no Carbon Black path does, and match the EDR simulator's.
 */
export function registerCloudAdminRoutes(app: FastifyInstance, control: CloudSimulatorControl): void {
  app.get('/__simulator/faults', async () => control.faults);

  app.put('/__simulator/faults', async (request, reply) => {
    let update: unknown = {};
    const body = request.body;
    if (typeof body === 'string' && body.trim() !== '') {
      try {
        update = JSON.parse(body);
      } catch (error) {
        return reply.code(400).send({ reason: 'invalid_faults', message: `not JSON: ${(error as Error).message}`, issues: [] });
      }
    }
    const parsed = cloudFaultUpdateSchema.safeParse(update);
    if (!parsed.success) {
      return reply.code(400).send({
        reason: 'invalid_faults',
        message: z.prettifyError(parsed.error),
        issues: parsed.error.issues.map((issue) => ({ path: issue.path.join('.'), message: issue.message })),
      });
    }
    return control.setFaults(parsed.data);
  });

  app.delete('/__simulator/faults', async () => control.clearFaults());

  app.get('/__simulator/stats', async () => snapshotCloudStats(control.stats));

  app.post('/__simulator/stats/reset', async () => {
    control.resetStats();
    return snapshotCloudStats(control.stats);
  });
}
