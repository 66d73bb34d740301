import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { faultUpdateSchema } from './faults.js';
import type { SimulatorControl } from './control.js';
import { snapshotStats } from './stats.js';

/**
 * Run-time control of the simulator, behind the same token as the API:
 * fault settings and stats. The paths start with /__simulator so they can
 * never clash with a Carbon Black path.
 */
export function registerAdminRoutes(app: FastifyInstance, control: SimulatorControl): void {
  app.get('/__simulator/faults', async () => control.faults);

  app.put('/__simulator/faults', async (request, reply) => {
    const parsed = faultUpdateSchema.safeParse(request.body ?? {});
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

  app.get('/__simulator/stats', async () => snapshotStats(control.stats));

  app.post('/__simulator/stats/reset', async () => {
    control.resetStats();
    return snapshotStats(control.stats);
  });
}
