import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyReply, FastifyRequest, RouteShorthandOptionsWithHandler } from 'fastify';
import { killConnection, type OpenSearch } from '../upstream-route.js';
import { faultErrorResponse, type CannedResponse } from './error-responses.js';
import type { CloudFaultDecision, CloudFaultState } from './faults.js';
import { sendCanned } from './gate.js';
import type { CloudSimulatorStats } from './stats.js';

/**
 * What both API routes (job creation and results reads) share once a
 * request is through the gate: in-flight bookkeeping, one fault draw per
 * request, latency, and the fault answers. The same behaviours as the EDR
 * simulator's upstream-route.ts, with Cloud's error bodies:
 *
 * - error: the answer for the fault's status (error-responses.ts);
 * - hang: never answered until the client or the server closes;
 * - reset: the connection reset (TCP RST) without a response;
 * - malformed: 200 with the first half of the real body (never valid JSON);
 * - truncated: 200 promising the whole body, half of it sent, then the
 *   connection destroyed;
 * - slow body: headers at once, the body in 10 chunks over slowBodyMs.
 *
 * Malformed, truncated and slow bodies only alter what would have been a
 * 200: a bad request still gets its 400, an unknown job its 404. The fate is
 * drawn on arrival, before the body is looked at.
 */

export interface DeliveryContext {
  faults: CloudFaultState;
  stats: CloudSimulatorStats;
  /** Open requests, so closing the server can cut hung ones. */
  open: Set<OpenSearch>;
}

const SLOW_BODY_CHUNKS = 10;

/** Route options (an onRequest hook and the handler) for one API endpoint whose answer is `answer`. */
export function apiRoute(
  context: DeliveryContext,
  answer: (request: FastifyRequest, fate: CloudFaultDecision) => CannedResponse,
): RouteShorthandOptionsWithHandler {
  const { stats, open } = context;
  const entries = new WeakMap<FastifyRequest, OpenSearch>();

  const onRequest = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const entry: OpenSearch = { request, reply, controller: new AbortController() };
    entries.set(request, entry);
    open.add(entry);
    stats.inFlight += 1;
    if (stats.inFlight > stats.peakInFlight) stats.peakInFlight = stats.inFlight;
    reply.raw.once('close', () => {
      stats.inFlight -= 1;
      open.delete(entry);
      entry.controller.abort();
    });
  };

  const handler = async (request: FastifyRequest, reply: FastifyReply): Promise<unknown> => {
    const entry = entries.get(request);
    if (entry === undefined) throw new Error('API request without its onRequest bookkeeping');
    const fate = context.faults.decide();
    if (fate.kind !== 'none') stats.faultsInjected[fate.kind] += 1;
    if (fate.kind === 'hang') {
      reply.hijack();
      return undefined;
    }
    if (fate.delayMs > 0 && !(await wait(fate.delayMs, entry.controller.signal))) return abandon(reply);
    if (fate.kind === 'error') return sendCanned(reply, faultErrorResponse(fate.status, fate.retryAfterSeconds));
    if (fate.kind === 'reset') {
      reply.hijack();
      killConnection(entry, true);
      return undefined;
    }
    const canned = answer(request, fate);
    if (canned.status !== 200) return sendCanned(reply, canned);
    return deliver(entry, canned, fate);
  };

  return { onRequest, handler };
}

async function deliver(entry: OpenSearch, answer: CannedResponse, fate: CloudFaultDecision): Promise<unknown> {
  const { reply } = entry;
  const full = Buffer.from(answer.body, 'utf8');
  if (fate.kind === 'truncated') {
    reply.hijack();
    const res = reply.raw;
    res.writeHead(200, { ...answer.headers, 'content-length': String(full.length) });
    res.write(full.subarray(0, Math.max(1, Math.floor(full.length / 2))), () => killConnection(entry, false));
    return undefined;
  }
  // A prefix of a JSON object never closes its outer brace, so it is never valid JSON.
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

/** True after ms, or false as soon as the response closes (the client left or the server is closing). */
async function wait(ms: number, signal: AbortSignal): Promise<boolean> {
  try {
    await sleep(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

function abandon(reply: FastifyReply): undefined {
  if (!reply.sent) reply.hijack();
  return undefined;
}
