import type { FastifyRequest, RouteShorthandOptionsWithHandler } from 'fastify';
import type { CannedResponse } from '../canned-response.js';
import { faultedRoute, type OpenRequest } from '../fault-delivery.js';
import { faultErrorResponse } from './error-responses.js';
import type { CloudFaultDecision, CloudFaultState } from './faults.js';
import type { CloudSimulatorStats } from './stats.js';

/**
 * Both API routes (job creation and results reads) once a request is through
 * the gate: the EDR simulator's faulted route (../fault-delivery.ts: in-flight
 * bookkeeping, one fault draw per request, latency, hang, reset, malformed,
 * truncated and slow bodies), with Cloud's error bodies and each injected
 * fault counted in stats.faultsInjected. The fate is drawn on arrival, before
 * the body is looked at, so a malformed answer to a job creation still
 * creates the job.
 */

export interface DeliveryContext {
  faults: CloudFaultState;
  stats: CloudSimulatorStats;
  /** Open requests, so closing the server can cut hung ones. */
  open: Set<OpenRequest>;
}

/** Route options (an onRequest hook and the handler) for one API endpoint whose answer is `answer`. */
export function apiRoute(
  context: DeliveryContext,
  answer: (request: FastifyRequest, fate: CloudFaultDecision) => CannedResponse,
): RouteShorthandOptionsWithHandler {
  const { faults, stats } = context;
  const decide = (): CloudFaultDecision => {
    const fate = faults.decide();
    if (fate.kind !== 'none') stats.faultsInjected[fate.kind] += 1;
    return fate;
  };
  // Cloud has no latency of its own: SIMULATOR_LATENCY_MS is the EDR simulator's, refused here (environment.ts).
  return faultedRoute({ open: context.open, flight: stats, decide, latencyMs: 0, errorResponse: faultErrorResponse }, { answer });
}
