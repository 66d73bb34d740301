import { sleep } from '../upstream/backoff.js';
import type { Script, SharedTier } from './shared-tier.js';

/**
 * CB_FLEET_MAX_CONCURRENCY: a counting semaphore in Redis (one sorted set of
 * holders, each scored with the end of its lease), so the whole fleet never
 * has more Carbon Black requests in flight than the bound. Each replica's own
 * CB_MAX_CONCURRENCY still applies first.
 *
 * A holder's lease outlives any request it can make (the lookup deadline plus
 * a margin), so it is never renewed; a replica that dies holding slots gives
 * them back when their leases end. Redis down or slow: the request goes ahead
 * under the replica's own bound, as without a shared tier.
 */

/* KEYS: holders; ARGV: now ms, lease ms, limit, token. */
const ACQUIRE = `
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[1])
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], tonumber(ARGV[1]) + tonumber(ARGV[2]), ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
return 0
`;

/** While the fleet's slots are all taken, how often to look again: a request takes tens of milliseconds. */
const POLL_MIN_MS = 2;
const POLL_MAX_MS = 8;
const LEASE_MARGIN_MS = 5000;

export class FleetSlots {
  private readonly tier: SharedTier;
  private readonly limit: number;
  private readonly leaseMs: number;
  private readonly key: string;
  private readonly acquireScript: Script;
  private holders = 0;

  constructor(tier: SharedTier, limit: number, deadlineMs: number) {
    this.tier = tier;
    this.limit = limit;
    this.leaseMs = deadlineMs + LEASE_MARGIN_MS;
    this.key = tier.key('upstream', 'slots');
    this.acquireScript = tier.script(ACQUIRE);
  }

  /**
   * Runs `call` holding one of the fleet's slots: waits for one (on `signal`,
   * which the lookup's deadline aborts), or runs it at once when Redis cannot say.
   */
  async around<T>(signal: AbortSignal, call: () => Promise<T>): Promise<T> {
    const token = await this.acquire(signal);
    try {
      return await call();
    } finally {
      if (token !== undefined) void this.tier.run('slots', (redis) => redis.zrem(this.key, token)).catch(() => undefined);
    }
  }

  /** A held slot's token, or undefined when Redis could not be asked (the replica's own bound then stands alone). */
  private async acquire(signal: AbortSignal): Promise<string | undefined> {
    const token = `${this.tier.replica}:${++this.holders}`;
    for (;;) {
      signal.throwIfAborted();
      if (!this.tier.up) return undefined;
      let granted: unknown;
      try {
        granted = await this.tier.run('slots', () => this.acquireScript([this.key], [Date.now(), this.leaseMs, this.limit, token]));
      } catch {
        // No answer in time, but Redis may still run the script later and grant this token a slot
        // nobody would give back for its whole lease. Commands on one connection run in order, so
        // withdrawing the token now cancels such a late grant.
        void this.tier.run('slots', (redis) => redis.zrem(this.key, token)).catch(() => undefined);
        return undefined;
      }
      if (granted === 1) return token;
      await sleep(POLL_MIN_MS + Math.random() * (POLL_MAX_MS - POLL_MIN_MS), signal);
    }
  }
}
