/*
 * @fastify/rate-limit's own stores, which it ships but does not type: the
 * fleet store (src/shared-tier/fleet-rate-limit-store.ts) composes them.
 */
declare module '@fastify/rate-limit/store/RedisStore.js' {
  import type { Redis } from 'ioredis';
  import type { RateLimitStore } from '../shared-tier/fleet-rate-limit-store.js';
  const RedisStore: new (continueExceeding: boolean, exponentialBackoff: boolean, redis: Redis, key?: string) => RateLimitStore;
  export default RedisStore;
}

declare module '@fastify/rate-limit/store/LocalStore.js' {
  import type { RateLimitStore } from '../shared-tier/fleet-rate-limit-store.js';
  const LocalStore: new (continueExceeding: boolean, exponentialBackoff: boolean, cache?: number) => RateLimitStore;
  export default LocalStore;
}
