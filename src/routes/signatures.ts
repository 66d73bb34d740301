import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { problemFromError } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import type { Lookup, SignatureService } from '../signing/signature-service.js';
import type { batchResultSchema } from './schemas.js';
import {
  batchRequestSchema,
  batchResponseSchema,
  problemSchema,
  signatureParamsSchema,
  signatureQuerySchema,
  signatureSchema,
} from './schemas.js';
import { malformedQueryParameter, malformedQueryProblem } from './query-encoding.js';
import { toSignatureView, xCacheHeader } from './signature-view.js';

/** `Cache-Control: no-cache` (or `max-age=0`) from a caller asks for a verdict fresh from Carbon Black. */
function wantsFresh(cacheControl: string | undefined): boolean {
  return cacheControl !== undefined && /(?:^|,)\s*(?:no-cache|max-age\s*=\s*0)\s*(?:,|$)/i.test(cacheControl);
}

const upstreamErrors = {
  502: problemSchema.describe(
    'Carbon Black failed (error status, unreadable answer, unreachable, rejected token or untrusted certificate).',
  ),
  503: problemSchema.describe(
    'Carbon Black is unavailable (circuit open), rate limiting, or too many lookups are waiting; see Retry-After.',
  ),
  504: problemSchema.describe('Carbon Black did not answer within the deadline.'),
};

export const signatureRoutes: FastifyPluginAsyncZod<{ service: SignatureService; metrics: Metrics }> = async (
  app,
  { service, metrics },
) => {
  const now = service.cache.now;

  app.get(
    '/v1/signatures/:md5',
    {
      config: { auth: 'lookup' },
      // Before the schema: a name whose escapes do not decode is refused, never searched or cached.
      preValidation: (request, _reply, done) => {
        const field = malformedQueryParameter(request.url);
        done(field === undefined ? undefined : malformedQueryProblem(field));
      },
      schema: {
        operationId: 'getSignature',
        tags: ['signatures'],
        summary: 'Is this binary signed?',
        description:
          'Answers from the cache when it can, otherwise runs the joined Carbon Black search `process_md5:<md5> digsig_prog_name:<name>`. ' +
          'Send `Cache-Control: no-cache` to skip a fresh cached verdict. `X-Cache` tells HIT, MISS or STALE.',
        params: signatureParamsSchema,
        querystring: signatureQuerySchema,
        response: {
          200: signatureSchema,
          400: problemSchema.describe('The md5 or the name is invalid; `errors` names each field.'),
          ...upstreamErrors,
        },
      },
    },
    async (request, reply) => {
      const md5 = request.params.md5.toLowerCase();
      const { name } = request.query;
      const fresh = wantsFresh(request.headers['cache-control']);
      let lookup = fresh ? undefined : service.lookupCached(md5, name);
      if (lookup) {
        request.lookupInfo = { md5, cacheStatus: 'hit' };
      } else {
        const started = performance.now();
        try {
          lookup = await service.load(md5, name, fresh);
        } catch (error) {
          metrics.lookup('error');
          request.lookupInfo = { md5, upstreamMs: performance.now() - started };
          throw error;
        }
        request.lookupInfo = { md5, cacheStatus: lookup.status, upstreamMs: performance.now() - started };
      }
      metrics.lookup(lookup.status);
      reply.header('x-cache', xCacheHeader[lookup.status]);
      return toSignatureView(lookup, now());
    },
  );

  app.post(
    '/v1/signatures/batch',
    {
      config: { auth: 'lookup' },
      schema: {
        operationId: 'getSignatures',
        tags: ['signatures'],
        summary: 'Many verdicts in one request',
        description:
          'Looks up 1 to 1000 md5/name pairs concurrently and answers in request order. Repeated md5s share one Carbon Black search. ' +
          'An item whose lookup failed carries `error` instead of a verdict; the request itself still answers 200.',
        body: batchRequestSchema,
        response: {
          200: batchResponseSchema,
          400: problemSchema.describe('The body is malformed; `errors` names each bad field (`items/3/md5`).'),
          413: problemSchema.describe('The body is larger than 1 MiB.'),
          415: problemSchema.describe('The body is not application/json.'),
        },
      },
    },
    async (request) => {
      const fresh = wantsFresh(request.headers['cache-control']);
      const { items } = request.body;
      const results: z.input<typeof batchResultSchema>[] = new Array(items.length);
      const pending: Promise<void>[] = [];
      const at = now();
      let hits = 0;
      for (let i = 0; i < items.length; i++) {
        const item = items[i]!;
        const md5 = item.md5.toLowerCase();
        const cached = fresh ? undefined : service.lookupCached(md5, item.name);
        if (cached) {
          hits++;
          results[i] = toSignatureView(cached, at);
          continue;
        }
        pending.push(
          service.load(md5, item.name, fresh).then(
            (lookup: Lookup) => {
              metrics.lookup(lookup.status);
              results[i] = toSignatureView(lookup, now());
            },
            (error: unknown) => {
              metrics.lookup('error');
              const problem = problemFromError(error);
              if (problem.status >= 500) request.log.warn({ err: error, md5, code: problem.code }, 'batch item failed');
              results[i] = {
                md5,
                name: item.name,
                error: { status: problem.status, title: problem.title, detail: problem.detail, code: problem.code },
              };
            },
          ),
        );
      }
      metrics.lookup('hit', hits);
      request.lookupInfo = { items: items.length, cached: hits };
      if (pending.length > 0) await Promise.all(pending);
      return { results };
    },
  );
};
