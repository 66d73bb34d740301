import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { ApiKey } from '../../src/auth/api-keys.js';
import { parseApiKeys } from '../../src/auth/api-keys.js';
import { securitySchemes } from '../../src/auth/openapi.js';
import { authentication } from '../../src/plugins/authentication.js';
import { problemDetails } from '../../src/plugins/problem-details.js';
import { rateLimiting } from '../../src/plugins/rate-limit.js';
import { schemaCompilers } from '../../src/plugins/schema-compilers.js';
import { securityHeaders } from '../../src/plugins/security-headers.js';
import { problemSchema } from '../../src/routes/schemas.js';

export const LOOKUP_KEY = 'lookup-key-0123456789';
export const OTHER_LOOKUP_KEY = 'other-key-ABCDEFGHIJ';
export const ADMIN_KEY = 'admin-key-#!$%&()*+-./;<=>?@[]^_`{|}~';

export const keysText = ['# test keys', `reader:${LOOKUP_KEY}`, `other:${OTHER_LOOKUP_KEY}:lookup`, '', `ops:${ADMIN_KEY}:admin`].join(
  '\n',
);

export const testKeys: ApiKey[] = parseApiKeys(keysText, 'API_KEYS_FILE');

export const bearer = (key: string) => ({ authorization: `Bearer ${key}` });

export interface TestAppOptions {
  keys?: ApiKey[];
  disabled?: boolean;
  /** Register the rate limit with this many requests a minute. */
  perMinute?: number;
  /** Register @fastify/swagger and Swagger UI at /docs, the way the service does. */
  docs?: boolean;
  headers?: boolean;
  logger?: FastifyBaseLogger;
}

/**
 * A small app with the service's own error handling and the auth plugins,
 * in the order app.ts is to register them, and a few routes standing for
 * the real ones.
 */
export async function buildTestApp(options: TestAppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({ ...(options.logger ? { loggerInstance: options.logger } : { logger: false }) }).withTypeProvider<ZodTypeProvider>();
  await app.register(schemaCompilers);
  await app.register(problemDetails);
  if (options.headers !== false) await app.register(securityHeaders);
  await app.register(authentication, { keys: options.keys ?? testKeys, disabled: options.disabled ?? false });
  if (options.perMinute !== undefined) await app.register(rateLimiting, { perMinute: options.perMinute });
  if (options.docs) {
    await app.register(swagger, {
      openapi: { openapi: '3.1.0', info: { title: 'test', version: '1' }, components: { securitySchemes } },
      transform: jsonSchemaTransform,
      transformObject: jsonSchemaTransformObject,
    });
    await app.register(swaggerUi, { routePrefix: '/docs' });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  }

  app.get(
    '/v1/things/:id',
    {
      config: { auth: 'lookup' },
      schema: {
        operationId: 'getThing',
        params: z.object({ id: z.string().regex(/^\d+$/) }),
        response: { 200: z.object({ id: z.string(), caller: z.string() }), 400: problemSchema.describe('Bad id.') },
      },
    },
    async (request) => ({ id: request.params.id, caller: request.caller?.name ?? 'none' }),
  );
  app.post(
    '/v1/things/batch',
    {
      config: { auth: 'lookup' },
      schema: {
        operationId: 'batchThings',
        body: z.object({ items: z.array(z.string()) }),
        response: { 200: z.object({ count: z.number() }) },
      },
    },
    async (request) => ({ count: request.body.items.length }),
  );
  app.delete('/v1/admin/things', { config: { auth: 'admin' }, schema: { operationId: 'forgetThings' } }, async (_request, reply) =>
    reply.code(204).send(),
  );
  app.get('/v1/cacheable', { config: { auth: 'lookup' } }, async (_request, reply) => {
    reply.header('cache-control', 'private, max-age=60');
    return { ok: true };
  });
  app.get('/healthz', { schema: { operationId: 'getHealth', response: { 200: z.object({ status: z.literal('ok') }) } } }, async () => ({
    status: 'ok' as const,
  }));
  app.get('/whoami', async (request) => ({ caller: request.caller }));
  await app.ready();
  return app;
}
