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
import { checkBatchItem } from './batch-items.js';
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
  const nameTested = service.source.nameTested;
  const lookupDescription =
    service.source.basis === 'binary-record'
      ? "Answers from the cache when it can, otherwise reads the binary's record from Carbon Black (`digsig_result` decides; no record is `unknown`)."
      : 'Answers from the cache when it can, otherwise runs the joined Carbon Black search `process_md5:<md5> digsig_prog_name:<name>` (`CB_VERDICT_SOURCE=joined-search`).';

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
        description: `${lookupDescription} Send \`Cache-Control: no-cache\` to skip a fresh cached verdict. \`X-Cache\` tells HIT, MISS or STALE.`,
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
      return toSignatureView(lookup, now(), nameTested);
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
          'Looks up 1 to 1000 md5/name pairs concurrently and answers in request order. Repeated md5s share one Carbon Black read. ' +
          'An item that is invalid (status 400, `field` names what is wrong) or whose lookup failed carries `error` instead of a verdict; the request itself still answers 200. ' +
          'The request answers 400 only when the body is not a batch.',
        body: batchRequestSchema,
        response: {
          200: batchResponseSchema,
          400: problemSchema.describe('The body is not a batch (not JSON, no `items` array, 0 or more than 1000 items).'),
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
      let invalid = 0;
      // One log line per batch, not per failed item: a 1000-item batch during an outage would otherwise
      // write 1000 lines with stacks, faster than the log can drain them (measured: heap past 800 MiB).
      const failures: Record<string, number> = {};
      let firstFailure: { err: unknown; md5: string } | undefined;
      for (let i = 0; i < items.length; i++) {
        const item = checkBatchItem(items[i]);
        if ('error' in item) {
          invalid++;
          results[i] = item;
          continue;
        }
        const { md5, name } = item;
        const cached = fresh ? undefined : service.lookupCached(md5, name);
        if (cached) {
          hits++;
          results[i] = toSignatureView(cached, at, nameTested);
          continue;
        }
        pending.push(
          service.load(md5, name, fresh).then(
            (lookup: Lookup) => {
              metrics.lookup(lookup.status);
              results[i] = toSignatureView(lookup, now(), nameTested);
            },
            (error: unknown) => {
              metrics.lookup('error');
              const problem = problemFromError(error);
              if (problem.status >= 500) {
                failures[problem.code] = (failures[problem.code] ?? 0) + 1;
                // One example error per batch is enough to diagnose; the rest are counted below.
                firstFailure ??= { err: error, md5 };
              }
              results[i] = {
                md5,
                name,
                error: { status: problem.status, code: problem.code, title: problem.title, detail: problem.detail },
              };
            },
          ),
        );
      }
      metrics.lookup('hit', hits);
      if (invalid > 0) metrics.lookup('invalid', invalid);
      request.lookupInfo = { items: items.length, cached: hits, invalid };
      if (pending.length > 0) await Promise.all(pending);
      if (firstFailure !== undefined) request.log.warn({ ...firstFailure, failures }, 'batch items failed');
      return { results };
    },
  );
};
