import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { sendCanned } from '../canned-response.js';
import { killConnection, type OpenRequest } from '../fault-delivery.js';
import { registerCloudAdminRoutes } from './admin-routes.js';
import type { CloudSimulatorControl } from './control.js';
import { authToken, resolveCredentials, type CloudCredentials } from './credentials.js';
import { CloudDataset } from './dataset.js';
import { notFoundResponse, serviceError } from './error-responses.js';
import { CloudFaultState, MAX_JOB_DURATION_MS, type CloudFaultSettings } from './faults.js';
import { gateHook } from './gate.js';
import { DEFAULT_JOB_DURATION_MS, JobStore } from './jobs.js';
import { DEFAULT_RATE_LIMIT, SlidingWindowLimiter, type RateLimitSettings } from './rate-limit.js';
import { registerApiRoutes } from './routes.js';
import { createCloudStats, resetCloudStats } from './stats.js';

/**
 * The Carbon Black Cloud simulator as a Fastify instance (not listening): the
 * asynchronous process search (create a job, poll it, page its results),
 * Cloud's auth header, org keys, per-key rate limit, and the EDR
 * simulator's fault injection. Like the EDR simulator it shares no code with
 * Signet's client (src/backends/): it is the independent reading of the API
 * that catches the client's mistakes. See README.md.
 */

export type { CloudSimulatorControl } from './control.js';
export type { CloudCredentials } from './credentials.js';
export type { CloudFaultSettings, CloudFaultUpdate } from './faults.js';
export type { RateLimitSettings } from './rate-limit.js';
export type { CloudSimulatorStats } from './stats.js';

export { DEFAULT_JOB_DURATION_MS } from './jobs.js';

export interface CloudSimulatorOptions {
  /** 10 upper-case letters or digits; generated when absent. */
  apiId?: string;
  /** 24 upper-case letters or digits; generated when absent. */
  apiSecret?: string;
  /** 8 upper-case letters or digits; generated when absent. */
  orgKey?: string;
  /** Size of the generated population (default 0: the fixtures only). */
  population?: number;
  /** How long a search job takes to complete, ms (default 1500). */
  jobDurationMs?: number;
  /** The per-key sliding window (default 1000 requests per 300,000 ms). */
  rateLimit?: Partial<RateLimitSettings>;
  /** Initial fault settings. */
  faults?: Partial<CloudFaultSettings>;
  /** Fastify logger option (default false). */
  logger?: boolean | object;
  /** Random source for fault draws and jitter (default Math.random). */
  random?: () => number;
  /** The clock, ms since the epoch (default Date.now): job progress, the rate window, row dates. Tests may drive it. */
  now?: () => number;
}

export type CloudSimulatorInstance = FastifyInstance & { cloudSimulator: CloudSimulatorControl };

export async function buildCloudSimulator(options: CloudSimulatorOptions = {}): Promise<CloudSimulatorInstance> {
  const credentials = resolveCredentials({ orgKey: options.orgKey, apiId: options.apiId, apiSecret: options.apiSecret });
  const jobDurationMs = options.jobDurationMs ?? DEFAULT_JOB_DURATION_MS;
  if (!Number.isInteger(jobDurationMs) || jobDurationMs < 0 || jobDurationMs > MAX_JOB_DURATION_MS) {
    throw new RangeError(`cloud simulator jobDurationMs must be an integer from 0 to ${MAX_JOB_DURATION_MS}`);
  }
  const now = options.now ?? Date.now;
  const rateLimit: RateLimitSettings = { ...DEFAULT_RATE_LIMIT, ...options.rateLimit };
  const limiter = new SlidingWindowLimiter(rateLimit, now);
  const dataset = new CloudDataset(options.population ?? 0);
  const faults = new CloudFaultState(options.faults, options.random);
  const stats = createCloudStats(() => limiter.inWindow());
  const jobs = new JobStore(now);
  const open = new Set<OpenRequest>();
  const token = authToken(credentials);
  // Rows are dated back from the simulator's start, so a time_range window finds the recent ones.
  const rows = { orgKey: credentials.orgKey, anchorMs: Math.floor(now() / 1000) * 1000 };

  const app = Fastify({
    logger: (options.logger ?? false) as FastifyServerOptions['logger'],
    // Hung and slow answers must not hold close() up.
    forceCloseConnections: true,
  });

  const control: CloudSimulatorControl = {
    stats,
    resetStats: () => resetCloudStats(stats),
    get faults() {
      return faults.settings;
    },
    setFaults: (update) => faults.set(update),
    clearFaults: () => faults.clear(),
    credentials: Object.freeze({ ...credentials }) as Readonly<CloudCredentials>,
    authToken: token,
    jobDurationMs,
    rateLimit: Object.freeze({ ...rateLimit }),
    get jobCount() {
      return jobs.size;
    },
    completeJob: (jobId) => jobs.complete(jobId),
    expireJob: (jobId) => jobs.expire(jobId),
  };
  app.decorate('cloudSimulator', control);

  // Bodies stay strings: the routes parse them, so that a bad body gets Cloud's 400 (after the fault draw), not Fastify's.
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string' }, (_request, body, done) => done(null, body));

  app.addHook('onRequest', gateHook({ token, orgKey: credentials.orgKey, limiter, stats }));
  // Under inject() there are no sockets for forceCloseConnections to cut, so end open requests here too.
  app.addHook('preClose', async () => {
    for (const entry of open) killConnection(entry, false);
  });

  registerApiRoutes(app, { dataset, jobs, rows, now, jobDurationMs, faults, stats, open });
  registerCloudAdminRoutes(app, control);

  app.setNotFoundHandler((_request, reply) => sendCanned(reply, notFoundResponse('No such endpoint')));
  // What Fastify itself refuses (a body over the size limit, say) still answers in Cloud's shape.
  app.setErrorHandler((error: FastifyError, _request, reply) => {
    const status = typeof error.statusCode === 'number' && error.statusCode >= 400 ? error.statusCode : 500;
    const code = status === 413 ? 'PAYLOAD_TOO_LARGE' : status >= 500 ? 'INTERNAL_SERVER_ERROR' : 'BAD_REQUEST';
    return sendCanned(reply, serviceError(status, code, status >= 500 ? 'An unexpected error occurred' : error.message));
  });

  return app as unknown as CloudSimulatorInstance;
}
