import type { FastifyReply, FastifyRequest } from 'fastify';
import { tokenMatches } from '../auth.js';
import { sendCanned } from '../canned-response.js';
import { forbiddenResponse, rateLimitedResponse, unauthorizedResponse } from './error-responses.js';
import type { SlidingWindowLimiter } from './rate-limit.js';
import type { CloudSimulatorStats, RequestKind } from './stats.js';

/**
 * What every request meets before any route, in this order:
 * 1. the X-Auth-Token check (401, counted as unauthorized, never rate
 *    limited: the gateway cannot tell whose request it is);
 * 2. for API paths (everything but /__simulator/*), the per-key rate limit,
 *    which counts the request whatever comes next (429);
 * 3. the org key in the path, which must be the key's org (403).
 */

export const CREATE_JOB_PATH = '/api/investigate/v2/orgs/:orgKey/processes/search_jobs';
export const RESULTS_PATH = '/api/investigate/v2/orgs/:orgKey/processes/search_jobs/:jobId/results';

export interface GateContext {
  token: string;
  orgKey: string;
  limiter: SlidingWindowLimiter;
  stats: CloudSimulatorStats;
}

function kindOf(request: FastifyRequest): RequestKind {
  const route = request.routeOptions.url;
  if (route === CREATE_JOB_PATH && request.method === 'POST') return 'createJob';
  if (route === RESULTS_PATH && request.method === 'GET') return 'readResults';
  return 'other';
}

export function gateHook(context: GateContext) {
  const { stats } = context;
  return async (request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> => {
    if (!tokenMatches(context.token, request.headers['x-auth-token'])) {
      stats.unauthorized += 1;
      return sendCanned(reply, unauthorizedResponse());
    }
    if (request.url.startsWith('/__simulator/')) return undefined;

    stats.requests += 1;
    stats.requestsByKind[kindOf(request)] += 1;
    const decision = context.limiter.hit();
    if (!decision.allowed) {
      stats.rateLimited += 1;
      return sendCanned(reply, rateLimitedResponse(decision.retryAfterSeconds));
    }
    const orgKey = (request.params as Record<string, string | undefined> | undefined)?.['orgKey'];
    if (orgKey !== undefined && orgKey !== context.orgKey) {
      stats.forbidden += 1;
      return sendCanned(reply, forbiddenResponse());
    }
    return undefined;
  };
}
