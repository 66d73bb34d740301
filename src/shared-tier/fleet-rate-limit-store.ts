import type { FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import LocalStore from '@fastify/rate-limit/store/LocalStore.js';
import RedisStore from '@fastify/rate-limit/store/RedisStore.js';
import type { SharedTier } from './shared-tier.js';

/**
 * RATE_LIMIT_PER_MINUTE counted across the fleet: @fastify/rate-limit's own
 * Redis store, with its own in-process store beside it for whenever Redis is
 * down, slow or failing (its `skipOnError` would instead stop limiting
 * altogether). While Redis is away each replica counts on its own, as
 * without a shared tier.
 */

type Counted = { current: number; ttl: number };
type Callback = (error: Error | null, result: Counted | null) => void;

/** The store interface @fastify/rate-limit calls. */
export interface RateLimitStore {
  incr(key: string, callback: Callback, timeWindow: number, max: number): void;
  read?(key: string, callback: Callback, timeWindow: number, max: number): void;
  child(routeOptions: RouteRateLimitOptions): RateLimitStore;
}

interface RouteRateLimitOptions {
  continueExceeding?: boolean;
  exponentialBackoff?: boolean;
  routeInfo: { method: string; url: string };
}

class FleetStore implements RateLimitStore {
  constructor(
    private readonly tier: SharedTier,
    private readonly fleet: RateLimitStore,
    private readonly local: RateLimitStore,
  ) {}

  incr(key: string, callback: Callback, timeWindow: number, max: number): void {
    this.counted('incr', key, callback, timeWindow, max);
  }

  read(key: string, callback: Callback, timeWindow: number, max: number): void {
    this.counted('read', key, callback, timeWindow, max);
  }

  child(routeOptions: RouteRateLimitOptions): RateLimitStore {
    return new FleetStore(this.tier, this.fleet.child(routeOptions), this.local.child(routeOptions));
  }

  private counted(method: 'incr' | 'read', key: string, callback: Callback, timeWindow: number, max: number): void {
    const local = (): void => this.local[method]!(key, callback, timeWindow, max);
    if (!this.tier.up) return local();
    this.tier
      .run(
        'rate-limit',
        () =>
          new Promise<Counted>((resolve, reject) =>
            this.fleet[method]!(
              key,
              (error, result) => (error || !result ? reject(error ?? new Error('no count')) : resolve(result)),
              timeWindow,
              max,
            ),
          ),
      )
      .then(
        (result) => {
          // Kept in step, so a fall-back mid-window starts from this replica's share rather than from zero.
          if (method === 'incr') this.local.incr(key, () => undefined, timeWindow, max);
          callback(null, result);
        },
        () => local(),
      );
  }
}

/** The store class @fastify/rate-limit's `store` option takes, bound to this fleet's Redis. */
export function fleetRateLimitStore(tier: SharedTier): FastifyRateLimitStoreCtor {
  return class {
    // The plugin constructs its store with its global parameters (continueExceeding and the like, untyped there).
    constructor(params: { continueExceeding?: boolean; exponentialBackoff?: boolean }) {
      const continueExceeding = params.continueExceeding === true;
      const exponentialBackoff = params.exponentialBackoff === true;
      const fleet = new RedisStore(continueExceeding, exponentialBackoff, tier.connection, tier.key('rate', ''));
      const local = new LocalStore(continueExceeding, exponentialBackoff);
      return new FleetStore(tier, fleet, local);
    }
  } as unknown as FastifyRateLimitStoreCtor;
}
