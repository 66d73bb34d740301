import { sleep } from '../upstream/backoff.js';
import { FIVE_MINUTES_MS, type RequestBudget } from '../upstream/request-budget.js';
import { UpstreamBudgetSpentError } from '../upstream/upstream-errors.js';
import type { Script, SharedTier } from './shared-tier.js';

/**
 * Carbon Black Cloud's request budget counted across the fleet: the limit is
 * per API key, and every replica spends the same key. A sliding window in
 * Redis (a sorted set of send times) and a shared pause after a 429, with the
 * replica's own budget (request-budget.ts) kept beside it: it takes every
 * send too, and answers alone while Redis is down or slow, as without a
 * shared tier.
 */

/* KEYS: window, pause; ARGV: now ms, window ms, limit, member. Returns {1, used} or {0, free at ms, used}. */
const TAKE = `
local now = tonumber(ARGV[1])
local paused = redis.call('PTTL', KEYS[2])
if paused > 0 then return {0, now + paused, redis.call('ZCARD', KEYS[1])} end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
local used = redis.call('ZCARD', KEYS[1])
if used < tonumber(ARGV[3]) then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return {1, used + 1}
end
local oldest = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, tonumber(oldest[2]) + tonumber(ARGV[2]), used}
`;

/* KEYS: pause; ARGV: ms. A later end wins over an earlier one. */
const PAUSE = `
if redis.call('PTTL', KEYS[1]) < tonumber(ARGV[1]) then redis.call('SET', KEYS[1], '1', 'PX', ARGV[1]) end
return 1
`;

export class SharedRequestBudget implements RequestBudget {
  private readonly tier: SharedTier;
  private readonly local: RequestBudget;
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly windowKey: string;
  private readonly pauseKey: string;
  private readonly takeScript: Script;
  private readonly pauseScript: Script;
  private sends = 0;
  /** The fleet's use of the window at this replica's last send, for the metric. */
  private lastFleetUse: number | undefined;

  constructor(tier: SharedTier, local: RequestBudget, windowMs = FIVE_MINUTES_MS) {
    this.tier = tier;
    this.local = local;
    this.limit = local.usage().limit;
    this.windowMs = windowMs;
    this.windowKey = tier.key('budget', 'window');
    this.pauseKey = tier.key('budget', 'pause');
    this.takeScript = tier.script(TAKE);
    this.pauseScript = tier.script(PAUSE);
  }

  async take(signal: AbortSignal, deadlineAt: number): Promise<void> {
    const member = `${this.tier.replica}:${++this.sends}`;
    for (;;) {
      signal.throwIfAborted();
      if (!this.tier.up) break;
      let reply: [number, number, number?];
      try {
        reply = (await this.tier.run('budget', () =>
          this.takeScript([this.windowKey, this.pauseKey], [Date.now(), this.windowMs, this.limit, member]),
        )) as [number, number, number?];
      } catch {
        break;
      }
      if (reply[0] === 1) {
        this.lastFleetUse = reply[1];
        break;
      }
      this.lastFleetUse = reply[2];
      const now = Date.now();
      const freeAt = Number(reply[1]);
      if (freeAt >= deadlineAt) throw new UpstreamBudgetSpentError((freeAt - now) / 1000);
      await sleep(Math.max(1, freeAt - now), signal);
    }
    // The replica's own window takes the send too: it is what answers while Redis is away.
    await this.local.take(signal, deadlineAt);
  }

  pauseFor(ms: number): void {
    this.local.pauseFor(ms);
    if (!(ms > 0) || !this.tier.up) return;
    void this.tier.run('budget', () => this.pauseScript([this.pauseKey], [Math.ceil(ms)])).catch(() => undefined);
  }

  usage(): { used: number; limit: number; pausedUntil: number } {
    const local = this.local.usage();
    return this.tier.up && this.lastFleetUse !== undefined ? { ...local, used: Math.max(local.used, this.lastFleetUse) } : local;
  }
}
