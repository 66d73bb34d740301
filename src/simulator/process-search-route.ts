import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Dataset } from './dataset.js';
import { faultErrorResponse, queryErrorResponse, type CannedResponse } from './error-responses.js';
import type { FaultDecision, FaultState } from './faults.js';
import { formatTerm, parseQuery, queryTerms, QuerySyntaxError, type QueryNode } from './query-parser.js';
import { PROCESS_ROW_KEYS, type ProcessRow } from './records.js';
import { readSearchParams, SearchParamError } from './search-params.js';
import { recordQuery, searchEnded, searchStarted, type SimulatorStats } from './stats.js';

/**
 * GET and POST /api/v1/process: the process search, with latency and faults.
 *
 * A search counts as in flight from its arrival (after auth) until its
 * response finishes or its connection closes, whichever comes first; that is
 * what makes peakInFlight the concurrency a client really produced.
 */

export interface ProcessSearchContext {
  dataset: Dataset;
  faults: FaultState;
  stats: SimulatorStats;
  /** Fixed latency added to every search, on top of fault latency. */
  latencyMs: number;
  /** Open searches, so closing the server can cut them (hung ones would never end). */
  open: Set<OpenSearch>;
}

export interface OpenSearch {
  request: FastifyRequest;
  reply: FastifyReply;
  /** Aborted when the response closes, for any reason. */
  controller: AbortController;
}

const JSON_TYPE = 'application/json; charset=utf-8';
const SLOW_BODY_CHUNKS = 10;

export function registerProcessSearchRoutes(app: FastifyInstance, context: ProcessSearchContext): void {
  const { stats, open } = context;
  const searches = new WeakMap<FastifyRequest, OpenSearch>();

  const onRequest = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const search: OpenSearch = { request, reply, controller: new AbortController() };
    searches.set(request, search);
    open.add(search);
    searchStarted(stats);
    reply.raw.once('close', () => {
      searchEnded(stats);
      open.delete(search);
      search.controller.abort();
    });
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const search = searches.get(request);
    if (search === undefined) throw new Error('process search without its onRequest bookkeeping');
    const raw: unknown = request.method === 'GET' ? request.query : request.body;
    recordQuery(stats, peekQuery(raw));

    // The fate is drawn on arrival so failNext is spent in arrival order.
    const fate = context.faults.decide();
    if (fate.kind === 'hang') {
      // Never answered: the connection stays open until the client gives up or the server closes.
      reply.hijack();
      return undefined;
    }
    const delayMs = context.latencyMs + fate.delayMs;
    if (delayMs > 0 && !(await wait(delayMs, search.controller.signal))) return abandon(reply);

    switch (fate.kind) {
      case 'error':
        return sendCanned(reply, faultErrorResponse(fate.status, fate.retryAfterSeconds));
      case 'reset':
        reply.hijack();
        killConnection(search, true);
        return undefined;
      default:
        break;
    }

    const answer = runSearch(context.dataset, raw);
    // Malformed, truncated and slow bodies corrupt only what would have been a 200.
    if (answer.status !== 200) return sendCanned(reply, answer);
    return deliver(search, answer, fate);
  };

  const route = { onRequest, handler };
  app.get('/api/v1/process', route);
  app.post('/api/v1/process', route);
}

function peekQuery(raw: unknown): string {
  if (raw === null || typeof raw !== 'object') return '';
  const value: unknown = (raw as Record<string, unknown>)['q'];
  const first: unknown = Array.isArray(value) ? value[0] : value;
  return typeof first === 'string' ? first : first === undefined || first === null ? '' : String(first);
}

function runSearch(dataset: Dataset, raw: unknown): CannedResponse {
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

async function deliver(search: OpenSearch, answer: CannedResponse, fate: FaultDecision): Promise<unknown> {
  const { reply } = search;
  const full = Buffer.from(answer.body, 'utf8');
  if (fate.kind === 'truncated') {
    // Promise the whole body, send half, then drop the connection.
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { ...answer.headers, 'content-length': String(full.length) });
    res.write(full.subarray(0, Math.max(1, Math.floor(full.length / 2))), () => killConnection(search, false));
    return undefined;
  }
  // A prefix of a JSON object never closes its outer brace, so this is never valid JSON.
  const body = fate.kind === 'malformed' ? full.subarray(0, Math.floor(full.length / 2)) : full;
  if (fate.slowBodyMs <= 0) return reply.code(200).headers(answer.headers).send(body);

  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, { ...answer.headers, 'content-length': String(body.length) });
  res.flushHeaders();
  const chunks = Math.max(1, Math.min(SLOW_BODY_CHUNKS, body.length));
  const step = Math.ceil(body.length / chunks);
  for (let offset = 0; offset < body.length; offset += step) {
    if (!(await wait(fate.slowBodyMs / chunks, search.controller.signal))) return undefined;
    res.write(body.subarray(offset, offset + step));
  }
  res.end();
  return undefined;
}

function sendCanned(reply: FastifyReply, answer: CannedResponse): FastifyReply {
  return reply.code(answer.status).headers(answer.headers).send(answer.body);
}

/** Resolves true after ms, or false as soon as the response closes (the client left or the server is closing). */
async function wait(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

function abandon(reply: FastifyReply): undefined {
  // The connection is gone; tell fastify not to answer it.
  if (!reply.sent) reply.hijack();
  return undefined;
}

/**
 * Drops a search's connection without (the rest of) a response. `reset` sends
 * a TCP RST where there is a real socket. Under inject() there is none, so the
 * mock response is destroyed instead, which fails the inject() call.
 */
export function killConnection(search: OpenSearch, reset: boolean): void {
  const socket = search.request.raw.socket as { destroy?: () => void; resetAndDestroy?: () => void } | null;
  if (socket !== null && typeof socket.destroy === 'function') {
    if (reset && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
    else socket.destroy();
  } else {
    search.reply.raw.destroy();
  }
}
