import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { problemFromError } from '../errors.js';
import type { Metrics } from '../observability/metrics.js';
import { HttpProblem } from '../errors.js';
import type { Lookup, SignatureService } from '../signing/signature-service.js';
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
import { X_CACHE_OPERATION_ID, xCacheHeader } from './signature-view.js';
import { batchBody, errorResultJson, verdictJson } from './verdict-json.js';

/** What Fastify's serializer would have sent: both routes hand over JSON text they wrote themselves. */
const JSON_TYPE = 'application/json; charset=utf-8';

/**
 * `Cache-Control: no-cache` (or `max-age=0`) from a caller asks for a verdict
 * fresh from Carbon Black; so does HTTP/1.0's `Pragma: no-cache`, which some
 * SOAR HTTP steps and proxies still send instead.
 */
function wantsFresh(headers: { 'cache-control'?: string | undefined; pragma?: string | undefined }): boolean {
  const cacheControl = headers['cache-control'];
  if (cacheControl !== undefined) return /(?:^|,)\s*(?:no-cache|max-age\s*=\s*0)\s*(?:,|$)/i.test(cacheControl);
  const pragma = headers.pragma;
  return pragma !== undefined && /(?:^|,)\s*no-cache\s*(?:,|$)/i.test(pragma);
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

const lookupDescriptions = {
  'binary-record':
    "Answers from the cache when it can, otherwise reads the binary's record from Carbon Black EDR (`digsig_result` decides; no record is `unknown`).",
  'joined-search':
    'Answers from the cache when it can, otherwise runs the joined Carbon Black EDR search `process_md5:<md5> digsig_prog_name:<name>` (`CB_VERDICT_SOURCE=joined-search`).',
  'cloud-process-search':
    'Answers from the cache when it can, otherwise runs a Carbon Black Cloud process search job for the hash (`process_publisher_state` decides; no process is `unknown`). Look up by md5 or sha256; both are cached once Cloud names them.',
} as const;

export const signatureRoutes: FastifyPluginAsyncZod<{ service: SignatureService; metrics: Metrics }> = async (
  app,
  { service, metrics },
) => {
  const now = service.cache.now;
  const { hashKinds, indexNote } = service.source;
  const lookupDescription = lookupDescriptions[service.source.basis];
  const unindexedSha256 = new HttpProblem({
    status: 400,
    code: 'INVALID_REQUEST',
    title: 'Invalid request',
    detail: `path parameter "hash" is a sha256, but ${indexNote}: send the binary's md5`,
    errors: [{ location: 'path', field: 'hash', message: `is a sha256, but ${indexNote}` }],
  });

  app.get(
    '/v1/signatures/:hash',
    {
      config: { auth: 'lookup' },
      // Before the schema: a name whose escapes do not decode is refused, never searched or cached.
      preValidation: (request, _reply, done) => {
        const field = malformedQueryParameter(request.url);
        done(field === undefined ? undefined : malformedQueryProblem(field));
      },
      schema: {
        operationId: X_CACHE_OPERATION_ID,
        tags: ['signatures'],
        summary: 'Is this binary signed?',
        description: `${lookupDescription} Send \`Cache-Control: no-cache\` (or \`Pragma: no-cache\`) to skip a fresh cached verdict. \`X-Cache\` tells HIT, MISS or STALE.`,
        params: signatureParamsSchema,
        querystring: signatureQuerySchema,
        response: {
          200: signatureSchema,
          400: problemSchema.describe(
            'The hash or the name is invalid, or the backend does not index this kind of hash; `errors` names each field.',
          ),
          ...upstreamErrors,
        },
      },
    },
    async (request, reply) => {
      const hash = request.params.hash.toLowerCase();
      if (hash.length === 64 && !hashKinds.has('sha256')) throw unindexedSha256;
      const { name } = request.query;
      const fresh = wantsFresh(request.headers);
      let lookup = fresh ? undefined : service.lookupCached(hash, name);
      if (lookup) {
        request.lookupInfo = { hash, cacheStatus: 'hit' };
      } else {
        const started = performance.now();
        try {
          lookup = await service.load(hash, name, fresh);
        } catch (error) {
          metrics.lookup('error');
          request.lookupInfo = { hash, upstreamMs: performance.now() - started };
          throw error;
        }
        request.lookupInfo = { hash, cacheStatus: lookup.status, upstreamMs: performance.now() - started };
      }
      metrics.lookup(lookup.status);
      // The batch's writer (verdict-json.ts): the same text as this route's serializer, with a signature's part
      // written once per distinct signature instead of per answer.
      return (reply as FastifyReply)
        .header('x-cache', xCacheHeader[lookup.status])
        .type(JSON_TYPE)
        .send(verdictJson(lookup, now(), service));
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
          'Looks up 1 to 1000 items (`{md5, name}`, or `{sha256, name}` on Carbon Black Cloud) concurrently and answers in request order. Repeated hashes share one Carbon Black read. ' +
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
    async (request, reply) => {
      const fresh = wantsFresh(request.headers);
      const { items } = request.body;
      // Each result's JSON text, in request order (verdict-json.ts says why not objects).
      const results: string[] = new Array(items.length);
      const pending: Promise<void>[] = [];
      const at = now();
      let hits = 0;
      let invalid = 0;
      // One log line per batch, not per failed item: a 1000-item batch during an outage would otherwise
      // write 1000 lines with stacks, faster than the log can drain them (measured: heap past 800 MiB).
      const failures: Record<string, number> = {};
      let firstFailure: { err: unknown; hash: string } | undefined;
      for (let i = 0; i < items.length; i++) {
        const item = checkBatchItem(items[i], hashKinds, indexNote);
        if ('error' in item) {
          invalid++;
          results[i] = errorResultJson(item);
          continue;
        }
        const { hash, kind, name } = item;
        const cached = fresh ? undefined : service.lookupCached(hash, name);
        if (cached) {
          hits++;
          results[i] = verdictJson(cached, at, service);
          continue;
        }
        pending.push(
          service.load(hash, name, fresh).then(
            (lookup: Lookup) => {
              metrics.lookup(lookup.status);
              results[i] = verdictJson(lookup, now(), service);
            },
            (error: unknown) => {
              metrics.lookup('error');
              const problem = problemFromError(error);
              if (problem.status >= 500) {
                failures[problem.code] = (failures[problem.code] ?? 0) + 1;
                // One example error per batch is enough to diagnose; the rest are counted below.
                firstFailure ??= { err: error, hash };
              }
              results[i] = errorResultJson({
                md5: kind === 'md5' ? hash : null,
                ...(kind === 'sha256' && { sha256: hash }),
                name,
                error: {
                  status: problem.status,
                  code: problem.code,
                  title: problem.title,
                  detail: problem.detail,
                  retryable: problem.retryable,
                  ...(problem.retryAfterSeconds !== undefined && { retryAfterSeconds: problem.retryAfterSeconds }),
                },
              });
            },
          ),
        );
      }
      metrics.lookup('hit', hits);
      if (invalid > 0) metrics.lookup('invalid', invalid);
      request.lookupInfo = { items: items.length, cached: hits, invalid };
      if (pending.length > 0) await Promise.all(pending);
      if (firstFailure !== undefined) request.log.warn({ ...firstFailure, failures }, 'batch items failed');
      // Already JSON text: Fastify sends a string or Buffer body whose Content-Type says JSON as it is, past the
      // route's serializer. The plain reply type, since the type provider's send takes only the schema's object.
      return (reply as FastifyReply).type(JSON_TYPE).send(batchBody(results));
    },
  );
};
