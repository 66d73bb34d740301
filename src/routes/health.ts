import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { LifecycleState } from '../plugins/lifecycle.js';
import { healthSchema, readinessSchema } from './schemas.js';

export interface HealthSources {
  lifecycle: () => LifecycleState;
  upstream: () => { breakerState: 'closed' | 'open' | 'half-open'; inFlight: number; queued: number };
  /** The shared tier's state; `disabled` without REDIS_URL. */
  sharedCache: () => 'up' | 'down' | 'disabled';
}

export const healthRoutes: FastifyPluginAsyncZod<HealthSources> = async (app, { lifecycle, upstream, sharedCache }) => {
  app.get(
    '/healthz',
    {
      schema: {
        operationId: 'getHealth',
        tags: ['health'],
        summary: 'Liveness: the process is up',
        response: { 200: healthSchema },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      schema: {
        operationId: 'getReadiness',
        tags: ['health'],
        summary: 'Readiness: this instance takes lookups',
        description:
          'Ready (200) once started and until shutdown begins (then 503). Stays ready while Carbon Black or the shared cache is down, because the local cache still serves; the body tells their state.',
        response: { 200: readinessSchema, 503: readinessSchema.describe('Starting or stopping.') },
      },
    },
    async (_request, reply) => {
      const state = lifecycle();
      const { breakerState, inFlight, queued } = upstream();
      return reply
        .code(state === 'ready' ? 200 : 503)
        .send({ status: state, carbonBlack: { breaker: breakerState, inFlight, queued }, sharedCache: sharedCache() });
    },
  );
};
