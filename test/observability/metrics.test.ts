import swagger from '@fastify/swagger';
import Fastify from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { createMetrics, recordUpstreamEvent } from '../../src/observability/metrics.js';
import type { Metrics } from '../../src/observability/metrics.js';
import { metricsRoutes } from '../../src/plugins/metrics.js';
import type { UpstreamEvent } from '../../src/upstream/upstream-events.js';

/** The value of one series in the text exposition, or undefined when absent. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

async function scrape(metrics: Metrics): Promise<string> {
  return metrics.registry.metrics();
}

describe('createMetrics', () => {
  it('uses a registry of its own, so many can exist side by side, with the process metrics', async () => {
    const a = createMetrics();
    const b = createMetrics();
    a.lookup('hit');
    const textA = await scrape(a);
    const textB = await scrape(b);
    expect(sample(textA, 'signet_lookups_total{outcome="hit"}')).toBe(1);
    expect(sample(textB, 'signet_lookups_total{outcome="hit"}')).toBe(0);
    expect(textA).toContain('process_cpu_user_seconds_total');
    expect(textA).toContain('nodejs_eventloop_lag_seconds');
    expect(await scrape(createMetrics({ defaultMetrics: false }))).not.toContain('process_cpu_user_seconds_total');
  });

  it('counts lookups by outcome, every outcome exported from the start', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.lookup('hit');
    metrics.lookup('hit');
    metrics.lookup('miss');
    metrics.lookup('error');
    const text = await scrape(metrics);
    expect(sample(text, 'signet_lookups_total{outcome="hit"}')).toBe(2);
    expect(sample(text, 'signet_lookups_total{outcome="miss"}')).toBe(1);
    expect(sample(text, 'signet_lookups_total{outcome="stale"}')).toBe(0);
    expect(sample(text, 'signet_lookups_total{outcome="coalesced"}')).toBe(0);
    expect(sample(text, 'signet_lookups_total{outcome="error"}')).toBe(1);
  });

  it('reads the gauges from their sources at scrape time', async () => {
    let size = 3;
    const metrics = createMetrics({ defaultMetrics: false, cacheSize: () => size, cacheCapacity: () => 100 });
    expect(sample(await scrape(metrics), 'signet_cache_entries')).toBe(3);
    size = 7;
    const text = await scrape(metrics);
    expect(sample(text, 'signet_cache_entries')).toBe(7);
    expect(sample(text, 'signet_cache_capacity')).toBe(100);
    // Sources not bound yet read as 0.
    expect(sample(text, 'signet_upstream_in_flight')).toBe(0);
    metrics.bindSources({ upstreamInFlight: () => 4, upstreamQueued: () => 9 });
    const later = await scrape(metrics);
    expect(sample(later, 'signet_upstream_in_flight')).toBe(4);
    expect(sample(later, 'signet_upstream_queued')).toBe(9);
    expect(sample(later, 'signet_cache_entries')).toBe(7);
  });

  it('counts evictions and rate-limited requests', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    metrics.cacheEvicted();
    metrics.cacheEvicted();
    metrics.rateLimited();
    const text = await scrape(metrics);
    expect(sample(text, 'signet_cache_evictions_total')).toBe(2);
    expect(sample(text, 'signet_rate_limited_total')).toBe(1);
  });
});

describe('recordUpstreamEvent', () => {
  const events: UpstreamEvent[] = [
    { type: 'attempt', attempt: 1, durationMs: 30, outcome: 'success', trial: false },
    { type: 'attempt', attempt: 1, durationMs: 120, outcome: 'failure', code: 'CB_SERVER_ERROR', trial: false },
    { type: 'retry', attempt: 2, delayMs: 80, code: 'CB_SERVER_ERROR', upstreamStatus: 503 },
    { type: 'attempt', attempt: 2, durationMs: 10_000, outcome: 'timeout', code: 'CB_TIMEOUT', trial: false },
    { type: 'attempt', attempt: 3, durationMs: 2, outcome: 'cancelled', trial: false },
    { type: 'retry-abandoned', attempt: 3, reason: 'deadline', code: 'CB_RATE_LIMITED' },
    { type: 'rejected', reason: 'queue-full', retryAfterSeconds: 1 },
    { type: 'rejected', reason: 'breaker-open', retryAfterSeconds: 7 },
    { type: 'rejected', reason: 'breaker-open', retryAfterSeconds: 6 },
    { type: 'deadline-exceeded', attempts: 3 },
    { type: 'breaker-state', from: 'closed', to: 'open' },
  ];

  it('turns every event type into its metric', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    for (const event of events) recordUpstreamEvent(metrics, event);
    const text = await scrape(metrics);
    expect(sample(text, 'signet_upstream_requests_total{outcome="success"}')).toBe(1);
    expect(sample(text, 'signet_upstream_requests_total{outcome="failure",code="CB_SERVER_ERROR"}')).toBe(1);
    expect(sample(text, 'signet_upstream_requests_total{outcome="timeout",code="CB_TIMEOUT"}')).toBe(1);
    expect(sample(text, 'signet_upstream_requests_total{outcome="cancelled"}')).toBe(1);
    expect(sample(text, 'signet_upstream_retries_total{code="CB_SERVER_ERROR"}')).toBe(1);
    expect(sample(text, 'signet_upstream_retries_abandoned_total{reason="deadline"}')).toBe(1);
    expect(sample(text, 'signet_upstream_rejections_total{reason="queue-full"}')).toBe(1);
    expect(sample(text, 'signet_upstream_rejections_total{reason="breaker-open"}')).toBe(2);
    expect(sample(text, 'signet_upstream_deadline_exceeded_total')).toBe(1);
    expect(sample(text, 'signet_circuit_breaker_transitions_total{to="open"}')).toBe(1);
  });

  it('observes request durations in seconds, in buckets from 5 ms to 30 s', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    for (const event of events) recordUpstreamEvent(metrics, event);
    const text = await scrape(metrics);
    expect(sample(text, 'signet_upstream_request_duration_seconds_bucket{le="0.005",outcome="cancelled"}')).toBe(1);
    expect(sample(text, 'signet_upstream_request_duration_seconds_bucket{le="0.05",outcome="success"}')).toBe(1);
    expect(sample(text, 'signet_upstream_request_duration_seconds_bucket{le="0.1",outcome="failure"}')).toBe(0);
    expect(sample(text, 'signet_upstream_request_duration_seconds_bucket{le="0.25",outcome="failure"}')).toBe(1);
    expect(sample(text, 'signet_upstream_request_duration_seconds_bucket{le="5",outcome="timeout"}')).toBe(0);
    expect(sample(text, 'signet_upstream_request_duration_seconds_bucket{le="10",outcome="timeout"}')).toBe(1);
    expect(sample(text, 'signet_upstream_request_duration_seconds_bucket{le="30",outcome="timeout"}')).toBe(1);
    expect(sample(text, 'signet_upstream_request_duration_seconds_sum{outcome="timeout"}')).toBe(10);
  });

  it('shows the breaker state as one series per state, 1 for the current one', async () => {
    const metrics = createMetrics({ defaultMetrics: false });
    const states = async () => {
      const text = await scrape(metrics);
      return ['closed', 'half-open', 'open'].map((s) => sample(text, `signet_circuit_breaker_state{state="${s}"}`));
    };
    expect(await states()).toEqual([1, 0, 0]);
    recordUpstreamEvent(metrics, { type: 'breaker-state', from: 'closed', to: 'open' });
    expect(await states()).toEqual([0, 0, 1]);
    recordUpstreamEvent(metrics, { type: 'breaker-state', from: 'open', to: 'half-open' });
    expect(await states()).toEqual([0, 1, 0]);
    // A bound source (the guard itself) wins over the events.
    metrics.bindSources({ breakerState: () => 'closed' });
    expect(await states()).toEqual([1, 0, 0]);
  });
});

describe('the /metrics route', () => {
  const apps: Array<{ close(): Promise<unknown> }> = [];
  afterEach(async () => {
    await Promise.all(apps.splice(0).map((app) => app.close()));
  });

  async function build(metricsPublic: boolean) {
    const metrics = createMetrics({ defaultMetrics: false, cacheSize: () => 12 });
    const app = Fastify({ logger: false });
    apps.push(app);
    const configs = new Map<string, unknown>();
    app.addHook('onRoute', (route) => {
      configs.set(route.url, route.config);
    });
    await app.register(swagger, { openapi: { info: { title: 't', version: '1' } } });
    await app.register(metricsRoutes, { metrics, metricsPublic });
    app.get('/v1/things/:id', async () => ({ ok: true }));
    app.get('/limited', async (_request, reply) => reply.code(429).send({ title: 'Too many requests' }));
    await app.ready();
    return { app, metrics, configs };
  }

  it('serves the Prometheus text format with the registry content type', async () => {
    const { app, metrics } = await build(true);
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe(metrics.registry.contentType);
    expect(response.body).toContain('# TYPE signet_lookups_total counter');
    expect(sample(response.body, 'signet_cache_entries')).toBe(12);
  });

  it('is hidden from the OpenAPI document', async () => {
    const { app } = await build(true);
    const document = app.swagger() as { paths?: Record<string, unknown> };
    expect(Object.keys(document.paths ?? {})).toContain('/v1/things/{id}');
    expect(Object.keys(document.paths ?? {})).not.toContain('/metrics');
  });

  it('asks for an admin caller unless public', async () => {
    expect((await build(false)).configs.get('/metrics')).toMatchObject({ auth: 'admin' });
    const publicConfig = (await build(true)).configs.get('/metrics') as { auth?: unknown } | undefined;
    expect(publicConfig?.auth).toBeUndefined();
  });

  it('times HTTP requests by route template, not raw URL', async () => {
    const { app } = await build(true);
    await app.inject({ method: 'GET', url: '/v1/things/abc' });
    await app.inject({ method: 'GET', url: '/v1/things/def' });
    await app.inject({ method: 'GET', url: '/nowhere/at/all' });
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(sample(text, 'signet_http_request_duration_seconds_count{method="GET",route="/v1/things/:id",status_code="200"}')).toBe(2);
    expect(sample(text, 'signet_http_request_duration_seconds_count{method="GET",route="(unmatched)",status_code="404"}')).toBe(1);
    expect(text).not.toContain('abc');
    expect(text).not.toContain('/nowhere');
  });

  it('counts 429 answers (the rate limit) as rate limited', async () => {
    const { app } = await build(true);
    await app.inject({ method: 'GET', url: '/limited' });
    await app.inject({ method: 'GET', url: '/limited' });
    await app.inject({ method: 'GET', url: '/v1/things/x' });
    const text = (await app.inject({ method: 'GET', url: '/metrics' })).body;
    expect(sample(text, 'signet_rate_limited_total')).toBe(2);
  });
});
