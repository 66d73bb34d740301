import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest, RouteShorthandOptionsWithHandler } from 'fastify';
import { sendCanned, type CannedResponse } from './canned-response.js';
import type { ErrorStatus, FaultDecision } from './faults.js';

/**
 * What every faulted route of both simulators (EDR's process search and
 * binary endpoints, Cloud's job creation and results reads) does around its
 * answer: in-flight bookkeeping, one fault draw per request, latency, and the
 * fault answers:
 *
 * - error: the simulator's own answer for the fault's status;
 * - hang: never answered until the client or the server closes;
 * - reset: the connection reset (TCP RST) without a response;
 * - malformed: 200 with the first half of the real body (never valid JSON);
 * - truncated: 200 promising the whole body, half of it sent, then the
 *   connection destroyed;
 * - slow body: headers at once, the body in 10 chunks over slowBodyMs.
 *
 * Malformed, truncated and slow bodies only alter what would have been a
 * 200: a bad request still gets its 400, an unknown md5 or job its 404.
 *
 * A request counts as in flight from its arrival (after auth) until its
 * response finishes or its connection closes, whichever comes first; that is
 * what makes peakInFlight the concurrency a client really produced.
 */

/** What delivery reads of a fault decision (the EDR simulator's blockJoins is its routes' business). */
export type DeliveryFate = Omit<FaultDecision, 'blockJoins'>;

/** One open faulted request. */
export interface OpenRequest {
  request: FastifyRequest;
  reply: FastifyReply;
  /** Aborted when the response closes, for any reason. */
  controller: AbortController;
}

/** The part of a simulator's stats this module keeps. */
export interface FlightCounters {
  inFlight: number;
  /** The highest inFlight since the last reset. */
  peakInFlight: number;
}

export interface FaultedRouteContext<Fate extends DeliveryFate> {
  /** Open requests, so closing the server can cut them (hung ones would never end). */
  open: Set<OpenRequest>;
  flight: FlightCounters;
  /** Draws one request's fate; called once per request, on arrival, so failNext is spent in arrival order. */
  decide: () => Fate;
  /** Fixed latency on top of the fate's, ms. */
  latencyMs: number;
  /** What an error fate answers with (each simulator's errors look like its upstream's). */
  errorResponse: (status: ErrorStatus, retryAfterSeconds: number | undefined) => CannedResponse;
}

export interface FaultedEndpoint<Fate extends DeliveryFate> {
  /** Runs on arrival, before the request counts as in flight (to count it by kind, say). */
  started?: () => void;
  /** Runs in the handler, before the fault draw (to record the query, say). */
  arrived?: (request: FastifyRequest) => void;
  /** The answer when no fault pre-empts it; malformed, truncated and slow-body faults then alter it if it is a 200. */
  answer: (request: FastifyRequest, fate: Fate) => CannedResponse;
}

const SLOW_BODY_CHUNKS = 10;

/** Route options (an onRequest hook and the handler) for one faulted endpoint. */
export function faultedRoute<Fate extends DeliveryFate>(
  context: FaultedRouteContext<Fate>,
  endpoint: FaultedEndpoint<Fate>,
): RouteShorthandOptionsWithHandler {
  const { flight, open } = context;
  const requests = new WeakMap<FastifyRequest, OpenRequest>();

  const onRequest = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const entry: OpenRequest = { request, reply, controller: new AbortController() };
    requests.set(request, entry);
    open.add(entry);
    endpoint.started?.();
    flight.inFlight += 1;
    if (flight.inFlight > flight.peakInFlight) flight.peakInFlight = flight.inFlight;
    reply.raw.once('close', () => {
      flight.inFlight -= 1;
      open.delete(entry);
      entry.controller.abort();
    });
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const entry = requests.get(request);
    if (entry === undefined) throw new Error('faulted request without its onRequest bookkeeping');
    endpoint.arrived?.(request);

    const fate = context.decide();
    if (fate.kind === 'hang') {
      // Never answered: the connection stays open until the client gives up or the server closes.
      reply.hijack();
      return undefined;
    }
    const delayMs = context.latencyMs + fate.delayMs;
    if (delayMs > 0 && !(await wait(delayMs, entry.controller.signal))) return abandon(reply);

    switch (fate.kind) {
      case 'error':
        return sendCanned(reply, context.errorResponse(fate.status, fate.retryAfterSeconds));
      case 'reset':
        reply.hijack();
        killConnection(entry, true);
        return undefined;
      default:
        break;
    }

    const answer = endpoint.answer(request, fate);
    // Malformed, truncated and slow bodies corrupt only what would have been a 200.
    if (answer.status !== 200) return sendCanned(reply, answer);
    return deliver(entry, answer, fate);
  };

  return { onRequest, handler };
}

async function deliver(entry: OpenRequest, answer: CannedResponse, fate: DeliveryFate): Promise<unknown> {
  const { reply } = entry;
  const full = Buffer.from(answer.body, 'utf8');
  if (fate.kind === 'truncated') {
    // Promise the whole body, send half, then drop the connection.
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { ...answer.headers, 'content-length': String(full.length) });
    res.write(full.subarray(0, Math.max(1, Math.floor(full.length / 2))), () => killConnection(entry, false));
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
    if (!(await wait(fate.slowBodyMs / chunks, entry.controller.signal))) return undefined;
    res.write(body.subarray(offset, offset + step));
  }
  res.end();
  return undefined;
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
 * Drops a request's connection without (the rest of) a response. `reset`
 * sends a TCP RST where there is a real socket. Under inject() there is none,
 * so the mock response is destroyed instead, which fails the inject() call.
 */
export function killConnection(entry: OpenRequest, reset: boolean): void {
  const socket = entry.request.raw.socket as { destroy?: () => void; resetAndDestroy?: () => void } | null;
  if (socket !== null && typeof socket.destroy === 'function') {
    if (reset && typeof socket.resetAndDestroy === 'function') socket.resetAndDestroy();
    else socket.destroy();
  } else {
    entry.reply.raw.destroy();
  }
}
