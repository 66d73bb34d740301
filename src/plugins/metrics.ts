import type { FastifyInstance, FastifyPluginAsync } from 'fastify';
import fp from 'fastify-plugin';
import type { Metrics } from '../observability/metrics.js';

export interface MetricsPluginOptions {
  metrics: Metrics;
  /**
   * METRICS_PUBLIC: true serves /metrics to anyone (a Prometheus scraper
   * inside the cluster); false asks the auth plugin for an admin caller.
   */
  metricsPublic: boolean;
}

/** The label for requests no route matched (404s): raw URLs would make one series per probe. */
const UNMATCHED_ROUTE = '(unmatched)';

/** Signet answers 429 only from its per-caller rate limit (Carbon Black's 429 becomes a 503). */
const TOO_MANY_REQUESTS = 429;

/**
 * GET /metrics in the Prometheus text format, the HTTP request duration
 * histogram, and `signet_rate_limited_total`, all fed from one onResponse hook.
 * Registered with fastify-plugin so the hook covers the routes registered
 * after it; register it after the authentication plugin so that plugin sees
 * the /metrics route's `config.auth`.
 */
const metricsPlugin: FastifyPluginAsync<MetricsPluginOptions> = async (app: FastifyInstance, { metrics, metricsPublic }) => {
  // Callback style: an async hook costs a promise per request.
  app.addHook('onResponse', (request, reply, done) => {
    const status = reply.statusCode;
    metrics.httpRequest(request.method, request.routeOptions.url ?? UNMATCHED_ROUTE, status, reply.elapsedTime);
    // Counted here rather than in @fastify/rate-limit's onExceeded so that no other plugin needs the metrics.
    if (status === TOO_MANY_REQUESTS) metrics.rateLimited();
    done();
  });

  app.get(
    '/metrics',
    {
      schema: { hide: true },
      // Read by the authentication plugin; a route without `auth` is public.
      ...(metricsPublic ? {} : { config: { auth: 'admin' as const } }),
    },
    async (_request, reply) => {
      const body = await metrics.registry.metrics();
      return reply.type(metrics.registry.contentType).send(body);
    },
  );
};

export const metricsRoutes = fp(metricsPlugin, { name: 'signet-metrics', fastify: '5.x' });
