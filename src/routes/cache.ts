import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { HttpProblem } from '../errors.js';
import type { SignatureService } from '../signing/signature-service.js';
import { cacheStatsSchema, problemSchema, signatureParamsSchema } from './schemas.js';

const noQuerySchema = z.strictObject({});

/**
 * This replica forgot, but the shared tier could not be told (Redis down or
 * slow): the other replicas and Redis may still answer the old verdict until
 * its lifetime ends, so the caller must know and send the request again.
 */
function fleetNotTold(what: string): HttpProblem {
  return new HttpProblem({
    status: 503,
    code: 'SHARED_CACHE_UNAVAILABLE',
    title: 'The fleet could not be told',
    detail: `This instance forgot ${what}, but the shared cache (REDIS_URL) did not answer, so other instances may still serve it; send the request again.`,
    retryAfterSeconds: 1,
  });
}
const fleetUnavailable = problemSchema.describe(
  'With a shared cache (REDIS_URL) that did not answer: this instance forgot, the rest of the fleet may not have (`SHARED_CACHE_UNAVAILABLE`, retryable).',
);

export const cacheRoutes: FastifyPluginAsyncZod<{ service: SignatureService }> = async (app, { service }) => {
  app.get(
    '/v1/cache',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'getCacheStats',
        tags: ['cache'],
        summary: 'Cache size and hit ratio',
        description:
          "Counters since this instance started, for this instance's own (in-process) cache; with a shared cache (REDIS_URL) its hits and misses are in `/metrics`.",
        // No query parameters, refused like the lookups refuse unknown ones.
        querystring: noQuerySchema,
        response: { 200: cacheStatsSchema, 400: problemSchema.describe('An unknown query parameter.') },
      },
    },
    async () => service.stats(),
  );

  app.delete(
    '/v1/cache',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'forgetAllSignatures',
        tags: ['cache'],
        summary: 'Empty the cache',
        description:
          "Drops every cached verdict (fresh or expired), so that every next lookup asks Carbon Black, and answers how many entries went from this instance. With a shared cache (REDIS_URL) it empties Redis and every replica's cache too.",
        querystring: noQuerySchema,
        response: {
          200: z.object({ removed: z.number().int().meta({ description: 'Entries dropped from this instance.', example: 1523 }) }),
          400: problemSchema.describe('An unknown query parameter.'),
          503: fleetUnavailable,
        },
      },
    },
    async () => {
      try {
        return { removed: await service.forgetAll() };
      } catch {
        throw fleetNotTold('every verdict');
      }
    },
  );

  app.delete(
    '/v1/cache/:hash',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'forgetSignature',
        tags: ['cache'],
        summary: 'Forget one binary',
        description:
          "Drops the cached verdict for this hash (fresh or expired), and for the binary's other hash when Carbon Black Cloud named both, so that the next lookup asks Carbon Black; with a shared cache (REDIS_URL), in Redis and on every replica too. Answers 204 whether or not it was cached.",
        params: signatureParamsSchema,
        querystring: noQuerySchema,
        response: {
          204: z.null().describe('Forgotten.'),
          400: problemSchema.describe('The hash is invalid, or a query parameter is unknown.'),
          503: fleetUnavailable,
        },
      },
    },
    async (request, reply) => {
      try {
        await service.forget(request.params.hash.toLowerCase());
      } catch {
        throw fleetNotTold('this binary');
      }
      return reply.code(204).send(null);
    },
  );
};
