import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest, RouteShorthandOptionsWithHandler } from 'fastify';
import { faultErrorResponse, type CannedResponse } from './error-responses.js';
import type { FaultDecision, FaultState } from './faults.js';
import { requestEnded, requestStarted, type SimulatorStats, type UpstreamKind } from './stats.js';

/**
 * What every upstream route (process search, binary summary, binary search,
 * binary download) shares: in-flight bookkeeping, one fault draw per request,
 * latency, and the fault answers (error, hang, reset, malformed, truncated,
 * slow body).
 *
 * A request counts as in flight from its arrival (after auth) until its
 * response finishes or its connection closes, whichever comes first; that is
 * what makes peakInFlight the concurrency a client really produced.
 */

export interface UpstreamContext {
  faults: FaultState;
  stats: SimulatorStats;
  /** Fixed latency added to every upstream request, on top of fault latency. */
  latencyMs: number;
  /** Open requests, so closing the server can cut them (hung ones would never end). */
  open: Set<OpenSearch>;
}

/** One open upstream request (the name is from when only searches had faults). */
export interface OpenSearch {
  request: FastifyRequest;
  reply: FastifyReply;
  /** Aborted when the response closes, for any reason. */
  controller: AbortController;
}

export interface UpstreamHandler {
  kind: UpstreamKind;
  /** Runs on arrival, before the fault draw (to record the query, say). */
  arrived?: (request: FastifyRequest) => void;
  /** The answer when no fault pre-empts it; malformed, truncated and slow-body faults then alter it if it is a 200. */
  answer: (request: FastifyRequest, fate: FaultDecision) => CannedResponse;
}

const SLOW_BODY_CHUNKS = 10;

/** Route options (an onRequest hook and the handler) for one upstream endpoint. */
export function upstreamRoute(context: UpstreamContext, handler: UpstreamHandler): RouteShorthandOptionsWithHandler {
  const { stats, open } = context;
  const requests = new WeakMap<FastifyRequest, OpenSearch>();

  const onRequest = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const entry: OpenSearch = { request, reply, controller: new AbortController() };
    requests.set(request, entry);
    open.add(entry);
    requestStarted(stats, handler.kind);
    reply.raw.once('close', () => {
      requestEnded(stats);
      open.delete(entry);
      entry.controller.abort();
    });
  };

  const handle = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const entry = requests.get(request);
    if (entry === undefined) throw new Error('upstream request without its onRequest bookkeeping');
    handler.arrived?.(request);

    // The fate is drawn on arrival so failNext is spent in arrival order.
    const fate = context.faults.decide();
    if (fate.kind === 'hang') {
      // Never answered: the connection stays open until the client gives up or the server closes.
      reply.hijack();
      return undefined;
    }
    const delayMs = context.latencyMs + fate.delayMs;
    if (delayMs > 0 && !(await wait(delayMs, entry.controller.signal))) return abandon(reply);

    switch (fate.kind) {
      case 'error':
        return sendCanned(reply, faultErrorResponse(fate.status, fate.retryAfterSeconds));
      case 'reset':
        reply.hijack();
        killConnection(entry, true);
        return undefined;
      default:
        break;
    }

    const answer = handler.answer(request, fate);
    // Malformed, truncated and slow bodies corrupt only what would have been a 200.
    if (answer.status !== 200) return sendCanned(reply, answer);
    return deliver(entry, answer, fate);
  };

  return { onRequest, handler: handle };
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
