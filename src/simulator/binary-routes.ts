import type { FastifyInstance, FastifyRequest } from 'fastify';
import { buildBinaryRecord } from './binary-record.js';
import type { Dataset } from './dataset.js';
import type { CannedResponse } from './canned-response.js';
import { notFoundResponse, queryErrorResponse } from './error-responses.js';
import { BINARY_FIELDS } from './fields.js';
import { peekQuery } from './process-search-route.js';
import { formatTerm, parseQuery, queryTerms, QuerySyntaxError, type QueryNode } from './query-parser.js';
import { readBinarySearchParams, SearchParamError } from './search-params.js';
import { recordBinaryQuery } from './stats.js';
import { upstreamRoute, type UpstreamContext } from './upstream-route.js';

/**
 * The binary endpoints, where the signing data lives (process rows never
 * carry it):
 * - GET /api/v1/binary/<md5>/summary: one binary's record (binary-record.ts),
 *   the md5 in any case; 404 with the framework's HTML page for an md5 the
 *   server never saw, or for anything that is not 32 hex digits.
 * - GET /api/v1/binary/<md5>: the file itself. Records outlive files, and
 *   the simulator keeps none, so this is always that 404 page.
 * - GET and POST /api/v1/binary: the binary search over records, with the
 *   fields of BINARY_FIELDS (md5 and digsig_* on the record itself, no join).
 *   A query of md5 terms is answered from the md5 index.
 * Faults and latency apply as to process searches (upstream-route.ts).
 */

export interface BinaryRoutesContext extends UpstreamContext {
  dataset: Dataset;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const MD5 = /^[0-9a-f]{32}$/iu;
// A real server's binary searches take 14-21 ms; the simulator reports at least the low end.
const BASE_ELAPSED_S = 0.014;

type Md5Request = FastifyRequest<{ Params: { md5: string } }>;

export function registerBinaryRoutes(app: FastifyInstance, context: BinaryRoutesContext): void {
  const { dataset, stats } = context;

  app.get(
    '/api/v1/binary/:md5/summary',
    upstreamRoute(context, {
      kind: 'binaryRead',
      answer: (request) => summary(dataset, (request as Md5Request).params.md5),
    }),
  );

  app.get('/api/v1/binary/:md5', upstreamRoute(context, { kind: 'binaryDownload', answer: () => notFoundResponse() }));

  const raw = (request: FastifyRequest): unknown => (request.method === 'GET' ? request.query : request.body);
  const search = upstreamRoute(context, {
    kind: 'binarySearch',
    arrived: (request) => recordBinaryQuery(stats, peekQuery(raw(request))),
    answer: (request) => runBinarySearch(dataset, raw(request)),
  });
  app.get('/api/v1/binary', search);
  app.post('/api/v1/binary', search);
}

function summary(dataset: Dataset, md5: string): CannedResponse {
  const binary = MD5.test(md5) ? dataset.binary(md5) : undefined;
  if (binary === undefined) return notFoundResponse();
  return { status: 200, headers: { 'content-type': JSON_TYPE }, body: JSON.stringify(buildBinaryRecord(binary)) };
}

function runBinarySearch(dataset: Dataset, raw: unknown): CannedResponse {
  let params;
  try {
    params = readBinarySearchParams(raw);
  } catch (error) {
    if (error instanceof SearchParamError) return queryErrorResponse('query_malformed_syntax', error.message);
    throw error;
  }
  let query: QueryNode | null = null;
  if (params.q.trim() !== '') {
    try {
      query = parseQuery(params.q, BINARY_FIELDS);
    } catch (error) {
      if (error instanceof QuerySyntaxError) return queryErrorResponse('query_syntax_error', error.message);
      throw error;
    }
  }
  const started = performance.now();
  const result = dataset.searchBinaries(query, params);
  const results = result.binaries.map(buildBinaryRecord);
  const envelope = {
    terms: query === null ? [] : queryTerms(query).map(formatTerm),
    total_results: result.total,
    highlights: [],
    facets: {},
    results,
    elapsed: BASE_ELAPSED_S + (performance.now() - started) / 1000,
    start: params.start,
  };
  return { status: 200, headers: { 'content-type': JSON_TYPE }, body: JSON.stringify(envelope) };
}
