import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import { SHARED_OPERATIONS, type SharedOperation } from '../shared-tier/shared-tier.js';
import type { BreakerState } from '../upstream/circuit-breaker.js';
import type { UpstreamEvent } from '../upstream/upstream-events.js';

/** How one lookup ended: the response's cache status, `error` when it failed, `invalid` for a malformed batch item. */
export type LookupOutcome = 'hit' | 'miss' | 'stale' | 'coalesced' | 'error' | 'invalid';
export type UpstreamOutcome = 'success' | 'failure' | 'timeout' | 'cancelled';
export type RejectionReason = 'queue-full' | 'breaker-open';
export type AbandonReason = 'deadline' | 'breaker-open' | 'queue-full';

/**
 * Where the gauges read their values at scrape time. Functions, not numbers:
 * a scrape reads the live value, and the hot path never updates a gauge.
 */
export interface MetricsSources {
  cacheSize?: () => number;
  cacheCapacity?: () => number;
  upstreamInFlight?: () => number;
  upstreamQueued?: () => number;
  /** The guard's current state; without it the state follows `breaker-state` events. */
  breakerState?: () => BreakerState;
  /** Cloud: requests sent in the current window of the request budget, and its size. */
  budgetUsed?: () => number;
  budgetLimit?: () => number;
  /** With REDIS_URL: whether the shared tier is connected now. */
  sharedCacheUp?: () => boolean;
}

export interface MetricsOptions extends MetricsSources {
  /** Node process metrics (CPU, memory, event loop lag, GC). Default true. */
  defaultMetrics?: boolean;
}

const LOOKUP_OUTCOMES: readonly LookupOutcome[] = ['hit', 'miss', 'stale', 'coalesced', 'error', 'invalid'];
const UPSTREAM_OUTCOMES: readonly UpstreamOutcome[] = ['success', 'failure', 'timeout', 'cancelled'];
const REJECTION_REASONS: readonly RejectionReason[] = ['queue-full', 'breaker-open'];
const ABANDON_REASONS: readonly AbandonReason[] = ['deadline', 'breaker-open', 'queue-full'];
const BREAKER_STATES: readonly BreakerState[] = ['closed', 'half-open', 'open'];

/**
 * Carbon Black answers in tens of milliseconds when healthy and the attempt
 * budget (CB_TIMEOUT_MS) goes up to tens of seconds: 5 ms .. 30 s.
 */
export const UPSTREAM_DURATION_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
/** A cached answer takes well under a millisecond; a miss costs an upstream round trip. */
/** A Redis round trip on a healthy network takes a fraction of a millisecond; REDIS_TIMEOUT_MS bounds it at tens. */
export const SHARED_CACHE_LATENCY_BUCKETS = [0.0001, 0.00025, 0.0005, 0.001, 0.002, 0.005, 0.01, 0.025, 0.05, 0.1];
export const HTTP_DURATION_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 15, 30];

type CounterChild = ReturnType<Counter['labels']>;
type HistogramChild = ReturnType<Histogram['labels']>;

function bind<K extends string, C>(keys: readonly K[], make: (key: K) => C): Record<K, C> {
  const out = {} as Record<K, C>;
  for (const key of keys) out[key] = make(key);
  return out;
}

/**
 * One child per fixed label value, exported as 0 from the start: a series
 * that appears only on its first increment hides that increment from rate().
 */
function counterChildren<K extends string>(counter: Counter, keys: readonly K[], label: string): Record<K, CounterChild> {
  return bind(keys, (key) => {
    const child = counter.labels({ [label]: key });
    child.inc(0);
    return child;
  });
}

/**
 * Signet's Prometheus metrics, on a registry of their own (not prom-client's
 * global one) so that every app built in a test has a fresh set. The methods
 * are what the hot path calls: each is a property read and an increment,
 * because the label children for fixed label values are bound once here.
 */
export class Metrics {
  readonly registry: Registry;
  private sources: MetricsSources;
  /** The last state a `breaker-state` event announced, for when no `breakerState` source is bound. */
  private lastBreakerState: BreakerState = 'closed';

  private readonly lookups: Record<LookupOutcome, CounterChild>;
  private readonly evictions: Counter;
  private readonly rateLimitedCounter: Counter;
  private readonly upstreamRequests: Counter<'outcome' | 'code'>;
  private readonly upstreamRequestsNoCode: Record<UpstreamOutcome, CounterChild>;
  private readonly upstreamRequestsByCode = new Map<string, CounterChild>();
  private readonly upstreamDuration: Record<UpstreamOutcome, HistogramChild>;
  private readonly retries: Counter<'code'>;
  private readonly retriesByCode = new Map<string, CounterChild>();
  private readonly abandoned: Record<AbandonReason, CounterChild>;
  private readonly rejections: Record<RejectionReason, CounterChild>;
  private readonly deadlines: Counter;
  private readonly transitions: Record<BreakerState, CounterChild>;
  private readonly httpDuration: Histogram<'method' | 'route' | 'status_code'>;
  private readonly httpByKey = new Map<string, HistogramChild>();
  private readonly batchHashes: Histogram;
  private readonly buildInfo: Gauge<'version' | 'revision' | 'node' | 'backend'>;
  private readonly sharedHits: Counter;
  private readonly sharedMisses: Counter;
  private readonly sharedRejected: Counter;
  private readonly sharedErrors: Record<SharedOperation, CounterChild>;
  private readonly sharedLatency: Record<SharedOperation, HistogramChild>;

  constructor(options: MetricsOptions = {}) {
    const { defaultMetrics = true, ...sources } = options;
    this.sources = sources;
    const registry = new Registry();
    this.registry = registry;
    const registers = [registry];
    if (defaultMetrics) collectDefaultMetrics({ register: registry });
    // prom-client calls `collect` with `this` bound to the gauge, so sources are read through arrow functions.
    const gauge = (name: string, help: string, read: () => number): void => {
      new Gauge({
        name,
        help,
        registers,
        collect() {
          this.set(read());
        },
      });
    };

    const lookups = new Counter({
      name: 'signet_lookups_total',
      help: 'Verdict lookups by how they were answered: hit, miss (asked Carbon Black), stale (expired entry served), coalesced (joined a running search), error.',
      labelNames: ['outcome'],
      registers,
    });
    this.lookups = counterChildren(lookups, LOOKUP_OUTCOMES, 'outcome');

    gauge(
      'signet_cache_entries',
      'Verdicts in the cache, fresh or expired (expired ones are the stale-if-error reserve).',
      () => this.sources.cacheSize?.() ?? 0,
    );
    gauge('signet_cache_capacity', 'Most verdicts the cache holds (CACHE_MAX_ENTRIES).', () => this.sources.cacheCapacity?.() ?? 0);
    this.evictions = new Counter({
      name: 'signet_cache_evictions_total',
      help: 'Verdicts pushed out of the full cache to make room (least recently used first).',
      registers,
    });

    this.upstreamRequests = new Counter({
      name: 'signet_upstream_requests_total',
      help: 'Carbon Black requests by outcome (success, failure, timeout, cancelled) and error code.',
      labelNames: ['outcome', 'code'],
      registers,
    });
    // Success and cancellation carry no code: bind them without the label (the same series as code="").
    // Only those two are exported from the start; failures and timeouts always have a code.
    this.upstreamRequestsNoCode = bind(UPSTREAM_OUTCOMES, (outcome) => this.upstreamRequests.labels({ outcome }));
    this.upstreamRequestsNoCode.success.inc(0);
    this.upstreamRequestsNoCode.cancelled.inc(0);
    const duration = new Histogram({
      name: 'signet_upstream_request_duration_seconds',
      help: 'Duration of one Carbon Black request (one attempt; retries are separate requests), by outcome.',
      labelNames: ['outcome'],
      buckets: UPSTREAM_DURATION_BUCKETS,
      registers,
    });
    this.upstreamDuration = bind(UPSTREAM_OUTCOMES, (outcome) => {
      duration.zero({ outcome });
      return duration.labels(outcome);
    });
    this.retries = new Counter({
      name: 'signet_upstream_retries_total',
      help: 'Carbon Black requests retried after a transient failure, by the code of that failure.',
      labelNames: ['code'],
      registers,
    });
    const abandoned = new Counter({
      name: 'signet_upstream_retries_abandoned_total',
      help: 'Retryable failures not retried although retries remained: the wait would pass the deadline, the breaker opened, or the queue was full.',
      labelNames: ['reason'],
      registers,
    });
    this.abandoned = counterChildren(abandoned, ABANDON_REASONS, 'reason');
    const rejections = new Counter({
      name: 'signet_upstream_rejections_total',
      help: 'Lookups refused before any Carbon Black request: queue-full (CB_MAX_QUEUE) or breaker-open.',
      labelNames: ['reason'],
      registers,
    });
    this.rejections = counterChildren(rejections, REJECTION_REASONS, 'reason');
    this.deadlines = new Counter({
      name: 'signet_upstream_deadline_exceeded_total',
      help: 'Lookups that ran out of their overall budget (CB_DEADLINE_MS).',
      registers,
    });
    gauge(
      'signet_upstream_in_flight',
      'Carbon Black requests executing now (at most CB_MAX_CONCURRENCY).',
      () => this.sources.upstreamInFlight?.() ?? 0,
    );
    gauge(
      'signet_upstream_queued',
      'Lookups waiting for a Carbon Black slot now (at most CB_MAX_QUEUE).',
      () => this.sources.upstreamQueued?.() ?? 0,
    );

    const breakerState = (): BreakerState => this.sources.breakerState?.() ?? this.lastBreakerState;
    new Gauge({
      name: 'signet_circuit_breaker_state',
      help: 'Circuit breaker state towards Carbon Black: 1 for the current state (closed, half-open, open), 0 for the others.',
      labelNames: ['state'],
      registers,
      collect() {
        const current = breakerState();
        for (const state of BREAKER_STATES) this.labels(state).set(state === current ? 1 : 0);
      },
    });
    const transitions = new Counter({
      name: 'signet_circuit_breaker_transitions_total',
      help: 'Circuit breaker transitions, by the state entered.',
      labelNames: ['to'],
      registers,
    });
    this.transitions = counterChildren(transitions, BREAKER_STATES, 'to');

    gauge(
      'signet_upstream_budget_used',
      'Carbon Black Cloud: requests sent in the last 5 minutes, out of signet_upstream_budget_limit (0 on EDR, which has no budget).',
      () => this.sources.budgetUsed?.() ?? 0,
    );
    gauge(
      'signet_upstream_budget_limit',
      'Carbon Black Cloud: CB_REQUESTS_PER_5_MINUTES (0 on EDR).',
      () => this.sources.budgetLimit?.() ?? 0,
    );
    this.batchHashes = new Histogram({
      name: 'signet_upstream_batch_hashes',
      help: 'Hashes asked by each batched request: a Cloud search job or an EDR binary search (misses that arrived together share one).',
      buckets: [1, 2, 5, 10, 20, 50, 100],
      registers,
    });

    this.buildInfo = new Gauge({
      name: 'signet_build_info',
      help: 'Always 1; the labels tell the version, git revision, Node.js version and Carbon Black backend of this instance.',
      labelNames: ['version', 'revision', 'node', 'backend'],
      registers,
    });

    this.sharedHits = new Counter({
      name: 'signet_shared_cache_hits_total',
      help: "Local cache misses answered by the fleet's shared tier (REDIS_URL) without asking Carbon Black.",
      registers,
    });
    this.sharedMisses = new Counter({
      name: 'signet_shared_cache_misses_total',
      help: 'Local cache misses the shared tier had no usable verdict for (this replica or another then asked Carbon Black).',
      registers,
    });
    this.sharedRejected = new Counter({
      name: 'signet_shared_cache_rejected_total',
      help: 'Values read from the shared tier and ignored: corrupt, from another version or backend, or not a verdict.',
      registers,
    });
    const sharedErrors = new Counter({
      name: 'signet_shared_cache_errors_total',
      help: 'Shared tier commands that failed (Redis down, slower than REDIS_TIMEOUT_MS, or an error reply), by operation; each fell back to this replica alone.',
      labelNames: ['operation'],
      registers,
    });
    this.sharedErrors = counterChildren(sharedErrors, SHARED_OPERATIONS, 'operation');
    const sharedLatency = new Histogram({
      name: 'signet_shared_cache_latency_seconds',
      help: 'Duration of one shared tier command (or script) that answered, by operation.',
      labelNames: ['operation'],
      buckets: SHARED_CACHE_LATENCY_BUCKETS,
      registers,
    });
    this.sharedLatency = bind(SHARED_OPERATIONS, (operation) => {
      sharedLatency.zero({ operation });
      return sharedLatency.labels(operation);
    });

    this.rateLimitedCounter = new Counter({
      name: 'signet_rate_limited_total',
      help: 'Requests refused with 429 by the per-caller rate limit.',
      registers,
    });

    this.httpDuration = new Histogram({
      name: 'signet_http_request_duration_seconds',
      help: 'HTTP requests served, by method, route template and status code (duration until the response was sent).',
      labelNames: ['method', 'route', 'status_code'],
      buckets: HTTP_DURATION_BUCKETS,
      registers,
    });
  }

  /**
   * Binds (or replaces) gauge sources after creation: the guard needs the
   * metrics for its `onEvent` before it exists to be read from.
   */
  bindSources(sources: MetricsSources): void {
    this.sources = { ...this.sources, ...sources };
    // Exported only with a shared tier: a 0 without REDIS_URL would read as "down" to an alert.
    if (sources.sharedCacheUp !== undefined && this.registry.getSingleMetric('signet_shared_cache_up') === undefined) {
      const up = (): number => (this.sources.sharedCacheUp?.() === true ? 1 : 0);
      new Gauge({
        name: 'signet_shared_cache_up',
        help: 'With REDIS_URL: 1 while the shared tier is connected and answering, 0 while it is down (lookups then use this instance alone). Absent without REDIS_URL.',
        registers: [this.registry],
        collect() {
          this.set(up());
        },
      });
    }
  }

  /** `count` lets a batch report its cache hits once rather than item by item. */
  lookup(outcome: LookupOutcome, count = 1): void {
    if (count > 0) this.lookups[outcome].inc(count);
  }

  /** `signet_build_info{version, revision, node, backend} 1`: which build answers, for dashboards and alerts. */
  setBuildInfo(info: { version: string; revision: string; node: string; backend: string }): void {
    this.buildInfo.reset();
    this.buildInfo.labels(info.version, info.revision, info.node, info.backend).set(1);
  }

  /** One search job sent for `size` hashes (the miss batcher's onBatch). */
  upstreamBatch(size: number): void {
    this.batchHashes.observe(size);
  }

  /** A local miss looked in the shared tier: `hit`, `miss`, or a value `rejected` as not a verdict. */
  sharedCacheRead(outcome: 'hit' | 'miss' | 'rejected'): void {
    (outcome === 'hit' ? this.sharedHits : outcome === 'miss' ? this.sharedMisses : this.sharedRejected).inc();
  }

  sharedCacheLatency(operation: SharedOperation, ms: number): void {
    this.sharedLatency[operation].observe(ms / 1000);
  }

  sharedCacheError(operation: SharedOperation): void {
    this.sharedErrors[operation].inc();
  }

  /** For VerdictCache's / SignatureService's `onEvict`. */
  cacheEvicted(): void {
    this.evictions.inc();
  }

  /** For @fastify/rate-limit's `onExceeded`. */
  rateLimited(): void {
    this.rateLimitedCounter.inc();
  }

  upstreamRequest(outcome: UpstreamOutcome, durationMs: number, code?: string): void {
    this.upstreamDuration[outcome].observe(durationMs / 1000);
    if (code === undefined) {
      this.upstreamRequestsNoCode[outcome].inc();
      return;
    }
    // Codes are CarbonBlackError codes or UNKNOWN: a small fixed set, so one child each is kept.
    const key = `${outcome}\u0000${code}`;
    let child = this.upstreamRequestsByCode.get(key);
    if (child === undefined) {
      child = this.upstreamRequests.labels(outcome, code);
      this.upstreamRequestsByCode.set(key, child);
    }
    child.inc();
  }

  upstreamRetry(code: string): void {
    let child = this.retriesByCode.get(code);
    if (child === undefined) {
      child = this.retries.labels(code);
      this.retriesByCode.set(code, child);
    }
    child.inc();
  }

  upstreamRetryAbandoned(reason: AbandonReason): void {
    this.abandoned[reason].inc();
  }

  upstreamRejected(reason: RejectionReason): void {
    this.rejections[reason].inc();
  }

  upstreamDeadlineExceeded(): void {
    this.deadlines.inc();
  }

  breakerTransition(to: BreakerState): void {
    this.lastBreakerState = to;
    this.transitions[to].inc();
  }

  /** One HTTP response; `route` is the route template (`/v1/signatures/:md5`), never the raw URL. */
  httpRequest(method: string, route: string, statusCode: number, durationMs: number): void {
    const key = `${method} ${route} ${statusCode}`;
    let child = this.httpByKey.get(key);
    if (child === undefined) {
      child = this.httpDuration.labels(method, route, String(statusCode));
      this.httpByKey.set(key, child);
    }
    child.observe(durationMs / 1000);
  }
}

export function createMetrics(options: MetricsOptions = {}): Metrics {
  return new Metrics(options);
}

/**
 * Feeds one guard event into the metrics; pass it as (part of) the guard's
 * `onEvent`. The switch is exhaustive: a new event type fails type-checking here.
 */
export function recordUpstreamEvent(metrics: Metrics, event: UpstreamEvent): void {
  switch (event.type) {
    case 'attempt':
      metrics.upstreamRequest(event.outcome, event.durationMs, event.code);
      return;
    case 'retry':
      metrics.upstreamRetry(event.code);
      return;
    case 'retry-abandoned':
      metrics.upstreamRetryAbandoned(event.reason);
      return;
    case 'rejected':
      metrics.upstreamRejected(event.reason);
      return;
    case 'deadline-exceeded':
      metrics.upstreamDeadlineExceeded();
      return;
    case 'breaker-state':
      metrics.breakerTransition(event.to);
      return;
    default: {
      const unhandled: never = event;
      return unhandled;
    }
  }
}
