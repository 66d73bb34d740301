import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Dataset } from './dataset.js';
import type { CannedResponse } from './canned-response.js';
import { joinBlockedResponse, queryErrorResponse } from './error-responses.js';
import { usesBinaryJoin } from './matcher.js';
import { formatTerm, parseQuery, queryTerms, QuerySyntaxError, type QueryNode } from './query-parser.js';
import { PROCESS_ROW_KEYS, type ProcessRow } from './records.js';
import { readSearchParams, SearchParamError } from './search-params.js';
import { recordQuery } from './stats.js';
import { upstreamRoute, type UpstreamContext } from './upstream-route.js';

/**
 * GET and POST /api/v1/process: the process search, with latency and faults
 * (upstream-route.ts). Under the blockJoins fault a search whose query reads
 * a binary (digsig_*) field is refused with 400 {"reason":"join_blocked"}.
 */

export interface ProcessSearchContext extends UpstreamContext {
  dataset: Dataset;
}

const JSON_TYPE = 'application/json; charset=utf-8';

export function registerProcessSearchRoutes(app: FastifyInstance, context: ProcessSearchContext): void {
  const raw = (request: FastifyRequest): unknown => (request.method === 'GET' ? request.query : request.body);
  const route = upstreamRoute(context, {
    kind: 'processSearch',
    arrived: (request) => recordQuery(context.stats, peekQuery(raw(request))),
    answer: (request, fate) => runSearch(context.dataset, raw(request), fate.blockJoins),
  });
  app.get('/api/v1/process', route);
  app.post('/api/v1/process', route);
}

/** The first `q` of a query string or JSON body, as text ('' when absent). */
export function peekQuery(raw: unknown): string {
  if (raw === null || typeof raw !== 'object') return '';
  const value: unknown = (raw as Record<string, unknown>)['q'];
  const first: unknown = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : first === undefined || first === null ? '' : String(first);
}

function runSearch(dataset: Dataset, raw: unknown, blockJoins: boolean): CannedResponse {
  let params;
  try {
    params = readSearchParams(raw, PROCESS_ROW_KEYS);
  } catch (error) {
    if (error instanceof SearchParamError) return queryErrorResponse('query_malformed_syntax', error.message);
    throw error;
  }
  let query: QueryNode | null = null;
  if (params.q.trim() !== '') {
    try {
      query = parseQuery(params.q);
    } catch (error) {
      if (error instanceof QuerySyntaxError) return queryErrorResponse('query_syntax_error', error.message);
      throw error;
    }
  }
  if (blockJoins && query !== null && usesBinaryJoin(query)) {
    return joinBlockedResponse('process searches that join on the binary (digsig_* terms) are blocked by the blockJoins fault');
  }
  const started = performance.now();
  const result = dataset.search(query, params);
  const results: ProcessRow[] = result.records.map((record) => record.toRow());
  const envelope = {
    terms: query === null ? [] : queryTerms(query).map(formatTerm),
    results,
    elapsed: (performance.now() - started) / 1000,
    total_results: result.total,
    highlights: [],
    facets: {},
    tagged_pids: {},
    start: params.start,
    filtered: {},
    comprehensive_search: true,
    all_segments: true,
    incomplete_results: false,
  };
  return { status: 200, headers: { 'content-type': JSON_TYPE }, body: JSON.stringify(envelope) };
}
