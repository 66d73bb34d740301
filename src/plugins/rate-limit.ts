import rateLimit, { type FastifyRateLimitStoreCtor } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest, RouteOptions } from 'fastify';
import fp from 'fastify-plugin';
import { HttpProblem } from '../errors.js';
import { ANONYMOUS_CALLER } from './authentication.js';

/**
 * Per-caller rate limits with @fastify/rate-limit. Only routes that declare
 * `config.auth` are limited; probes, docs and other public routes are not,
 * and carry no rate-limit hook at all. The limit runs as a route `onRequest`
 * hook, after the authentication hook (which the authentication plugin puts
 * first) and before the body is read, so an over-limit batch is refused
 * without parsing it and counts once. Counters live in this process: with N
 * replicas a key may make N times the limit in all.
 */

export interface RateLimitOptions {
  /** Requests per caller per minute (RATE_LIMIT_PER_MINUTE). */
  perMinute: number;
  /** Where the counters live; default this process. */
  store?: FastifyRateLimitStoreCtor;
}

const WINDOW_MS = 60_000;

/**
 * The caller's key name; the client address when there is no named caller
 * (authentication disabled, or a limited route without `config.auth`).
 * Key names cannot hold ":", so "ip:" keeps the two apart.
 */
function keyOf(request: FastifyRequest): string {
  const caller = request.caller;
  return caller !== null && caller !== ANONYMOUS_CALLER ? caller.name : `ip:${request.ip}`;
}

export const rateLimiting = fp(
  async (app: FastifyInstance, options: RateLimitOptions) => {
    const { perMinute } = options;
    if (!Number.isInteger(perMinute) || perMinute < 1)
      throw new Error(`rate limit: perMinute must be a positive integer, got ${perMinute}`);

    // Runs before @fastify/rate-limit's own onRoute hook (added below), so public routes are left out.
    app.addHook('onRoute', (route: RouteOptions) => {
      const config = route.config;
      if (config?.auth === undefined && config?.rateLimit === undefined) {
        route.config = { ...config, rateLimit: false };
      }
    });

    await app.register(rateLimit, {
      global: true,
      max: perMinute,
      timeWindow: WINDOW_MS,
      hook: 'onRequest',
      keyGenerator: keyOf,
      ...(options.store && { store: options.store }),
      // RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset (and Retry-After on 429).
      enableDraftSpec: true,
      // The thrown HttpProblem reaches the problem-details error handler, which answers it as is.
      errorResponseBuilder: (request, context) => {
        const retryAfterSeconds = Math.max(1, Math.ceil(context.ttl / 1000));
        const who = request.caller !== null && request.caller !== ANONYMOUS_CALLER ? `API key "${request.caller.name}"` : 'This client';
        return new HttpProblem({
          status: 429,
          code: 'RATE_LIMITED',
          title: 'Too many requests',
          detail: `${who} may make ${context.max} requests a minute; try again in ${retryAfterSeconds} s.`,
          retryAfterSeconds,
        });
      },
    });
  },
  // Its 429 is an HttpProblem thrown to the problem-details error handler.
  { name: 'rate-limit', fastify: '5.x', dependencies: ['problem-details'] },
);
