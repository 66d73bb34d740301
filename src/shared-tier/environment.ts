import { z } from 'zod';
import { integerSetting } from '../environment-values.js';

/**
 * The environment variables of the shared tier (Redis or Valkey), as zod
 * fields to spread into config.ts's `environmentSchema`.
 */
export const sharedTierEnvironmentShape = {
  REDIS_URL: z
    .url({ protocol: /^rediss?$/, error: 'must be a redis:// or rediss:// URL' })
    .regex(/^rediss?:\/\/[^/]/, 'must be a redis:// or rediss:// URL')
    .optional()
    .describe(
      'Redis 6+ or Valkey shared by the fleet (`redis://host:6379`, `rediss://` for TLS; a database number may follow as `/2`): shared verdicts, fleet-wide single flight, rate limits and Cloud budget. Unset: each replica on its own. A password goes in `REDIS_PASSWORD`, not the URL.',
    ),
  REDIS_PASSWORD: z.string().min(1).optional().describe('The Redis password (`AUTH`); never logged. Or `REDIS_PASSWORD_FILE`.'),
  REDIS_PASSWORD_FILE: z
    .string()
    .min(1)
    .optional()
    .describe('Path of a file holding the Redis password (a mounted Kubernetes secret); surrounding whitespace is ignored.'),
  REDIS_KEY_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:._-]{1,64}$/, 'must be 1 to 64 letters, digits or `:._-`')
    .default('signet:')
    .describe('Prefix of every Redis key and channel Signet uses, so fleets (or environments) can share one Redis.'),
  REDIS_TIMEOUT_MS: integerSetting(1, 10_000)
    .default(50)
    .describe(
      'Longest wait for one Redis command, in milliseconds; past it (or while Redis is down) a lookup carries on with the local cache and local single flight.',
    ),
  REDIS_FLIGHT_LEASE_MS: integerSetting(100, 60_000)
    .default(2000)
    .describe(
      'Lease of a fleet-wide single flight, renewed while its Carbon Black request runs: a replica that dies holding one delays the others by at most this much.',
    ),
  CB_FLEET_MAX_CONCURRENCY: integerSetting(1, 100_000)
    .optional()
    .describe(
      'With `REDIS_URL`: most Carbon Black requests in flight across the whole fleet (each replica also keeps `CB_MAX_CONCURRENCY`). Unset: no fleet-wide bound.',
    ),
};

/** The shared tier's settings, present only when `REDIS_URL` is set. */
export interface SharedTierSettings {
  url: string;
  password: string | undefined;
  keyPrefix: string;
  timeoutMs: number;
  flightLeaseMs: number;
  fleetMaxConcurrency: number | undefined;
}
