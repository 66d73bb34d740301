import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { SignatureService } from '../signing/signature-service.js';
import { cacheStatsSchema, problemSchema, signatureParamsSchema } from './schemas.js';

const noQuerySchema = z.strictObject({});

export const cacheRoutes: FastifyPluginAsyncZod<{ service: SignatureService }> = async (app, { service }) => {
  app.get(
    '/v1/cache',
    {
      config: { auth: 'admin' },
      schema: {
        operationId: 'getCacheStats',
        tags: ['cache'],
        summary: 'Cache size and hit ratio',
        description: 'Counters since this instance started. Each replica has its own cache.',
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
          'Drops every cached verdict of this instance (fresh or expired), so that every next lookup asks Carbon Black, and answers how many entries went. Each replica has its own cache.',
        querystring: noQuerySchema,
        response: {
          200: z.object({ removed: z.number().int().meta({ description: 'Entries dropped.', example: 1523 }) }),
          400: problemSchema.describe('An unknown query parameter.'),
        },
      },
    },
    async () => ({ removed: service.forgetAll() }),
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
          "Drops the cached verdict for this hash (fresh or expired), and for the binary's other hash when Carbon Black Cloud named both, so that the next lookup asks Carbon Black. Answers 204 whether or not it was cached.",
        params: signatureParamsSchema,
        querystring: noQuerySchema,
        response: {
          204: z.null().describe('Forgotten.'),
          400: problemSchema.describe('The hash is invalid, or a query parameter is unknown.'),
        },
      },
    },
    async (request, reply) => {
      service.forget(request.params.hash.toLowerCase());
      return reply.code(204).send(null);
    },
  );
};
