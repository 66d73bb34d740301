import { randomUUID } from 'node:crypto';
import Fastify, { LogController } from 'fastify';
import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import type { BackendReads, CloudReads, EdrReads } from './backends/backend-clients.js';
import { verdictSourceFromConfig } from './backends/verdict-source-from-config.js';
import type { Config } from './config.js';
import { HttpProblem } from './errors.js';
import type { Metrics } from './observability/metrics.js';
import { createMetrics, recordUpstreamEvent } from './observability/metrics.js';
import { accessLog } from './plugins/access-log.js';
import { authentication } from './plugins/authentication.js';
import { clientErrorHandler } from './plugins/client-errors.js';
import { jsonBody } from './plugins/json-body.js';
import { cacheSnapshots } from './plugins/cache-snapshots.js';
import { drainConnections } from './plugins/drain-connections.js';
import { lifecycle } from './plugins/lifecycle.js';
import { metricsRoutes } from './plugins/metrics.js';
import { problemDetails, sendProblem } from './plugins/problem-details.js';
import { rateLimiting } from './plugins/rate-limit.js';
import { schemaCompilers } from './plugins/schema-compilers.js';
import { API_HEADERS, securityHeaders } from './plugins/security-headers.js';
import { openApi } from './plugins/swagger.js';
import { cacheRoutes } from './routes/cache.js';
import { healthRoutes } from './routes/health.js';
import { versionRoutes } from './routes/version.js';
import { buildInfo } from './build-info.js';
import { signatureRoutes } from './routes/signatures.js';
import { SignatureService } from './signing/signature-service.js';
import { SignatureInterner } from './signing/signature-interner.js';
import { FleetSlots } from './shared-tier/fleet-slots.js';
import { fleetRateLimitStore } from './shared-tier/fleet-rate-limit-store.js';
import { sharedVerdictSource } from './shared-tier/shared-verdict-source.js';
import type { SharedTier } from './shared-tier/shared-tier.js';
import { SharedVerdicts } from './shared-tier/shared-verdicts.js';
import type { GuardedUpstream } from './upstream/guarded-upstream.js';
import type { RequestBudget } from './upstream/request-budget.js';
import { createGuardedUpstream } from './upstream/guarded-upstream.js';

/** The EDR calls a verdict can come from (the client without its lifecycle). */
export type CarbonBlackReads = EdrReads;

export interface AppDependencies {
  /**
   * The client of the backend `CB_BACKEND` names: `carbonBlack` for EDR,
   * `cloud` for Cloud. server.ts builds it with its TLS-aware dispatcher
   * (backend-clients.ts), tests with theirs.
   */
  carbonBlack?: EdrReads;
  cloud?: CloudReads;
  /** Cloud: the request budget its client spends, for metrics. */
  budget?: RequestBudget;
  /** A pino logger; none means silent. */
  logger?: FastifyBaseLogger;
  /** Wall clock in epoch ms, for tests that move time. */
  now?: () => number;
  /** Prometheus metrics; tests that build many apps pass one without the default process metrics. */
  metrics?: Metrics;
  /**
   * The fleet's Redis or Valkey (REDIS_URL), connected by whoever built it
   * (server.ts, or a test), who also closes it after the app.
   */
  sharedTier?: SharedTier;
}

declare module 'fastify' {
  interface FastifyInstance {
    signatures: SignatureService;
    upstream: GuardedUpstream;
    metrics: Metrics;
  }
}

/** The configured backend's reads, from the dependencies; a missing one is a wiring mistake. */
function backendReads(config: Config, deps: AppDependencies): BackendReads {
  if (config.carbonBlack.backend === 'cloud') {
    if (deps.cloud === undefined) throw new TypeError('CB_BACKEND=cloud: buildApp needs deps.cloud');
    return { backend: 'cloud', cloud: deps.cloud };
  }
  if (deps.carbonBlack === undefined) throw new TypeError('CB_BACKEND=edr: buildApp needs deps.carbonBlack');
  return { backend: 'edr', edr: deps.carbonBlack };
}

const REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const hashTooLong = new HttpProblem({
  status: 400,
  code: 'INVALID_REQUEST',
  title: 'Invalid request',
  detail: 'path parameter "hash" must be an md5 (32 hexadecimal digits) or a sha256 (64 hexadecimal digits)',
  errors: [{ location: 'path', field: 'hash', message: 'must be an md5 (32 hexadecimal digits) or a sha256 (64 hexadecimal digits)' }],
});
const badUrl = new HttpProblem({
  status: 400,
  code: 'INVALID_URL',
  title: 'Invalid URL',
  detail: 'The request URL is not validly percent-encoded.',
});

/** A batch of 1000 items with 260-character names fits well inside this. */
const BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * Builds the Signet app: every plugin and route, wired to its upstream. It
 * never listens and never touches `process`; server.ts does that.
 */
export async function buildApp(config: Config, deps: AppDependencies): Promise<FastifyInstance> {
  const app = Fastify({
    ...(deps.logger ? { loggerInstance: deps.logger } : { logger: false }),
    bodyLimit: BODY_LIMIT_BYTES,
    // An over-long hash must answer 400 like any bad hash; past this length frameworkErrors says so.
    routerOptions: { maxParamLength: 2048 },
    // A caller's X-Request-Id is kept when it is a sane token; anything else (huge, odd characters)
    // would be logged on every line, so it is replaced.
    requestIdHeader: false,
    genReqId: (request) => {
      const given = request.headers['x-request-id'];
      return typeof given === 'string' && REQUEST_ID.test(given) ? given : randomUUID();
    },
    // Errors Fastify raises before routing (a badly percent-encoded path, an over-long parameter)
    // skip the hooks, so they get the problem format and the API headers here.
    frameworkErrors: (error, request, reply) => {
      reply.headers(API_HEADERS);
      return sendProblem(reply, request, error.code === 'FST_ERR_MAX_PARAM_LENGTH' ? hashTooLong : badUrl);
    },
    // Parser errors, stalled requests and oversized headers get the problem format too.
    clientErrorHandler,
    // A request must arrive whole in time; a stalled one is answered 408 and its socket closed.
    requestTimeout: config.server.requestTimeoutMs,
    keepAliveTimeout: config.server.keepAliveTimeoutMs,
    http: {
      headersTimeout: config.server.headersTimeoutMs,
      requestTimeout: config.server.requestTimeoutMs,
      // How often Node looks for requests past their timeouts (its default, 30 s, would let a stall last that much longer).
      connectionsCheckingInterval: 1000,
    },
    // One access line per request comes from the access-log plugin instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
  }).withTypeProvider<ZodTypeProvider>();

  const metrics = deps.metrics ?? createMetrics();
  const info = buildInfo(config);
  metrics.setBuildInfo(info);

  const upstream = createGuardedUpstream({
    maxConcurrency: config.carbonBlack.maxConcurrency,
    maxQueue: config.carbonBlack.maxQueue,
    retries: config.carbonBlack.retries,
    deadlineMs: config.carbonBlack.deadlineMs,
    attemptTimeoutMs: config.carbonBlack.timeoutMs,
    breakerFailureRate: config.carbonBlack.breakerFailureRate,
    breakerWindowMs: config.carbonBlack.breakerWindowMs,
    breakerMinCalls: config.carbonBlack.breakerMinCalls,
    breakerThreshold: config.carbonBlack.breakerThreshold,
    breakerCooldownMs: config.carbonBlack.breakerCooldownMs,
    onEvent: (event) => {
      recordUpstreamEvent(metrics, event);
      if (event.type === 'breaker-state') {
        app.log.warn({ breaker: event.to, from: event.from }, `Carbon Black circuit breaker ${event.to}`);
      }
    },
  });
  // One table of signatures for the live reads, the snapshot restore and the shared tier, so all share them.
  const interner = new SignatureInterner();
  const tier = deps.sharedTier;
  tier?.observe({
    latency: (operation, ms) => metrics.sharedCacheLatency(operation, ms),
    error: (operation) => metrics.sharedCacheError(operation),
    state: (up, reason) =>
      up
        ? app.log.info('shared cache (REDIS_URL) up')
        : app.log.warn({ reason }, 'shared cache (REDIS_URL) down: lookups carry on with this instance alone'),
    trouble: (message) =>
      app.log.warn({ reason: message }, 'shared cache (REDIS_URL) unreachable: lookups carry on with this instance alone'),
  });
  const backendSource = verdictSourceFromConfig(
    config.carbonBlack,
    backendReads(config, deps),
    upstream,
    interner,
    (size) => metrics.upstreamBatch(size),
    tier?.fleetMaxConcurrency === undefined ? undefined : new FleetSlots(tier, tier.fleetMaxConcurrency, config.carbonBlack.deadlineMs),
  );
  // The fleet's news reaches this replica's cache; messages arrive only once the service below exists.
  const sharedVerdicts =
    tier &&
    new SharedVerdicts(tier, {
      forget: (hashes) => hashes.forEach((hash) => service.cache.delete(hash)),
      clear: () => service.cache.clear(),
    });
  const service: SignatureService = new SignatureService({
    ...config.cache,
    source: sharedVerdicts
      ? sharedVerdictSource(backendSource, {
          shared: sharedVerdicts,
          interner,
          lifetimeMs: (verdict) => service.cache.ttlFor(verdict),
          waitLimitMs: config.carbonBlack.deadlineMs,
          ...(deps.now && { now: deps.now }),
          onRead: (outcome) => metrics.sharedCacheRead(outcome),
        })
      : backendSource,
    ...(deps.now && { now: deps.now }),
    onEvict: () => metrics.cacheEvicted(),
    ...(sharedVerdicts && { fleet: sharedVerdicts }),
  });
  metrics.bindSources({
    cacheSize: () => service.cache.size,
    cacheCapacity: () => service.cache.maxEntries,
    upstreamInFlight: () => upstream.inFlight,
    upstreamQueued: () => upstream.queued,
    breakerState: () => upstream.breakerState,
    ...(deps.budget && { budgetUsed: () => deps.budget!.usage().used, budgetLimit: () => deps.budget!.usage().limit }),
    ...(tier && { sharedCacheUp: () => tier.up }),
  });
  app.decorate('signatures', service);
  app.decorate('upstream', upstream);
  app.decorate('metrics', metrics);

  app.addHook('onClose', async () => upstream.dispose());

  await app.register(lifecycle);
  await app.register(drainConnections);
  if (config.snapshot.file !== undefined) {
    await app.register(cacheSnapshots, {
      cache: service.cache,
      basis: service.source.basis,
      interner,
      file: config.snapshot.file,
      intervalSeconds: config.snapshot.intervalSeconds,
      staleWindowMs: Math.max(config.cache.staleIfErrorSeconds, config.cache.staleWhileRevalidateSeconds) * 1000,
    });
  }
  // Signet reads JSON bodies only; anything else is a 415, not a string for validation to puzzle over.
  app.removeContentTypeParser('text/plain');
  await app.register(jsonBody);
  await app.register(schemaCompilers);
  await app.register(problemDetails);
  await app.register(securityHeaders);
  // Authentication and rate limiting attach to routes through onRoute hooks: every route comes after them.
  await app.register(authentication, { keys: config.auth.keys, disabled: config.auth.disabled });
  await app.register(rateLimiting, {
    perMinute: config.auth.rateLimitPerMinute,
    ...(tier && { store: fleetRateLimitStore(tier) }),
  });
  await app.register(accessLog, { quietRoutes: ['/healthz', '/readyz', '/metrics'] });
  await app.register(metricsRoutes, { metrics, metricsPublic: config.metricsPublic });
  await app.register(openApi);
  await app.register(signatureRoutes, { service, metrics });
  await app.register(cacheRoutes, { service });
  await app.register(healthRoutes, {
    lifecycle: () => app.lifecycle.state,
    upstream: () => upstream,
    sharedCache: () => (tier === undefined ? 'disabled' : tier.up ? 'up' : 'down'),
  });
  await app.register(versionRoutes, { info });
  return app;
}
