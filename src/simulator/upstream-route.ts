import type { FastifyRequest, RouteShorthandOptionsWithHandler } from 'fastify';
import type { CannedResponse } from './canned-response.js';
import { faultErrorResponse } from './error-responses.js';
import { faultedRoute, type OpenRequest } from './fault-delivery.js';
import type { FaultDecision, FaultState } from './faults.js';
import { countRequest, type SimulatorStats, type UpstreamKind } from './stats.js';

/**
 * The EDR simulator's upstream routes (process search, binary summary, binary
 * search, binary download) on the faulted route both simulators share
 * (fault-delivery.ts): each request counted by kind, the simulator's fixed
 * latency on top of the fault's, and Carbon Black EDR's error answers.
 */

export interface UpstreamContext {
  faults: FaultState;
  stats: SimulatorStats;
  /** Fixed latency added to every upstream request, on top of fault latency. */
  latencyMs: number;
  /** Open requests, so closing the server can cut them (hung ones would never end). */
  open: Set<OpenRequest>;
}

export interface UpstreamHandler {
  kind: UpstreamKind;
  /** Runs on arrival, before the fault draw (to record the query, say). */
  arrived?: (request: FastifyRequest) => void;
  /** The answer when no fault pre-empts it; malformed, truncated and slow-body faults then alter it if it is a 200. */
  answer: (request: FastifyRequest, fate: FaultDecision) => CannedResponse;
}

/** Route options (an onRequest hook and the handler) for one upstream endpoint. */
export function upstreamRoute(context: UpstreamContext, handler: UpstreamHandler): RouteShorthandOptionsWithHandler {
  const { faults, stats } = context;
  return faultedRoute(
    { open: context.open, flight: stats, decide: () => faults.decide(), latencyMs: context.latencyMs, errorResponse: faultErrorResponse },
    { started: () => countRequest(stats, handler.kind), arrived: handler.arrived, answer: handler.answer },
  );
}
