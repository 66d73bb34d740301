import type { Redis } from 'ioredis';
import type { Script, SharedTier } from './shared-tier.js';
import { hashesNamedIn } from './verdict-codec.js';

/**
 * The fleet's verdicts and flights in Redis, and the news about them on the
 * fleet's channel. Keys (after REDIS_KEY_PREFIX):
 *
 *   verdict:<hash>   the binary's verdict (verdict-codec.ts), expiring with its lifetime
 *   flight:<hash>    the replica asking Carbon Black for it now: a token, expiring with the lease
 *
 * Messages on `<prefix>events`: `stored <hash>`, `failed <hash> <failure JSON>`,
 * `forget <hash> [<hash>...]`, `clear`.
 *
 * Scripts touch a verdict and its flight together, so each lookup costs one
 * round trip; they need both keys on one server (Redis or Valkey, not Cluster).
 */

export type Claim =
  /** The fleet has this value for the hash (still to be validated by the caller). */
  | { kind: 'found'; value: string }
  /** This replica holds the flight: it asks Carbon Black and stores the verdict. */
  | { kind: 'claimed' }
  /** Another replica holds it, for this much more of its lease. */
  | { kind: 'taken'; leaseLeftMs: number };

/** How a wait for another replica's flight ended. */
export type FlightNews = { kind: 'stored' } | { kind: 'failed'; failure: FlightFailure } | { kind: 'quiet' };

/** What the replica that asked Carbon Black tells the others when it got no verdict. */
export interface FlightFailure {
  code: string;
  upstreamStatus?: number;
  retryAfterMs?: number;
}

export interface SharedVerdictEvents {
  /** Another replica (or this one) forgot these hashes: drop them from the local cache. */
  forget: (hashes: readonly string[]) => void;
  /** The whole cache was emptied somewhere in the fleet. */
  clear: () => void;
}

const READ_OR_CLAIM = `
if ARGV[3] == '1' then
  local value = redis.call('GET', KEYS[1])
  if value then return {1, value} end
end
if redis.call('SET', KEYS[2], ARGV[1], 'NX', 'PX', ARGV[2]) then return {2} end
local left = redis.call('PTTL', KEYS[2])
-- A flight key without a lifetime is not Signet's: give it one, so it cannot block the binary for good.
if left < 0 then redis.call('PEXPIRE', KEYS[2], ARGV[2]); left = tonumber(ARGV[2]) end
return {3, left}
`;

/* KEYS: flight, verdict keys...; ARGV: token, lifetime ms, value, channel, message. */
const STORE = `
for i = 2, #KEYS do redis.call('SET', KEYS[i], ARGV[3], 'PX', ARGV[2]) end
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('PUBLISH', ARGV[4], ARGV[5])
return 1
`;

/* KEYS: flight; ARGV: token, channel, message. */
const ABANDON = `
if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end
redis.call('PUBLISH', ARGV[2], ARGV[3])
return 1
`;

/* KEYS: flight; ARGV: token, lease ms. */
const RENEW = `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0
`;

const HASH = /^(?:[0-9a-f]{32}|[0-9a-f]{64})$/;
/** SCAN's MATCH is a glob: a prefix's own glob characters must match literally. */
const escapeGlob = (text: string): string => text.replace(/[*?[\]\\]/g, '\\$&');

export class SharedVerdicts {
  private readonly tier: SharedTier;
  private readonly readOrClaimScript: Script;
  private readonly storeScript: Script;
  private readonly abandonScript: Script;
  private readonly renewScript: Script;
  /** Lookups of this replica waiting on another replica's flight, by hash. */
  private readonly waiting = new Map<string, Set<(news: FlightNews) => void>>();

  constructor(tier: SharedTier, events: SharedVerdictEvents) {
    this.tier = tier;
    this.readOrClaimScript = tier.script(READ_OR_CLAIM);
    this.storeScript = tier.script(STORE);
    this.abandonScript = tier.script(ABANDON);
    this.renewScript = tier.script(RENEW);
    tier.listen((message) => this.hear(message, events));
  }

  get up(): boolean {
    return this.tier.up;
  }

  /** This replica's id, for the tokens of its flights. */
  get replica(): string {
    return this.tier.replica;
  }

  get leaseMs(): number {
    return this.tier.flightLeaseMs;
  }

  /** The fleet's value for the hash (unless `read` is false), else the flight for it: claimed by us, or taken. */
  async readOrClaim(hash: string, token: string, read: boolean): Promise<Claim> {
    const reply = (await this.tier.run('read', () =>
      this.readOrClaimScript([this.verdictKey(hash), this.flightKey(hash)], [token, this.tier.flightLeaseMs, read ? '1' : '0']),
    )) as [number, string | number | undefined];
    if (reply[0] === 1) return { kind: 'found', value: String(reply[1]) };
    if (reply[0] === 2) return { kind: 'claimed' };
    return { kind: 'taken', leaseLeftMs: Math.max(0, Number(reply[1])) };
  }

  /** Stores the verdict under each of the binary's hashes, ends our flight and tells the waiters. */
  async store(hash: string, hashes: readonly string[], token: string, value: string, lifetimeMs: number): Promise<void> {
    const keys = [this.flightKey(hash), ...hashes.map((each) => this.verdictKey(each))];
    await this.tier.run('write', () =>
      this.storeScript(keys, [token, Math.max(1, Math.round(lifetimeMs)), value, this.tier.channel, `stored ${hash}`]),
    );
  }

  /** Ends our flight without a verdict and tells the waiters why. */
  async abandon(hash: string, token: string, failure: FlightFailure): Promise<void> {
    await this.tier.run('flight', () =>
      this.abandonScript([this.flightKey(hash)], [token, this.tier.channel, `failed ${hash} ${JSON.stringify(failure)}`]),
    );
  }

  /** Extends our flight's lease; false when it is no longer ours. */
  async renew(hash: string, token: string): Promise<boolean> {
    return (await this.tier.run('flight', () => this.renewScript([this.flightKey(hash)], [token, this.tier.flightLeaseMs]))) === 1;
  }

  /**
   * Waits (at most `ms`) for news of another replica's flight for this hash.
   * `quiet` means none came: the caller looks again (the flight may have
   * ended while a message was lost, or its replica died and the lease ran out).
   */
  waitFor(hash: string, ms: number): Promise<FlightNews> {
    return new Promise((resolve) => {
      let waiters = this.waiting.get(hash);
      if (waiters === undefined) {
        waiters = new Set();
        this.waiting.set(hash, waiters);
      }
      const done = (news: FlightNews): void => {
        clearTimeout(timer);
        const set = this.waiting.get(hash);
        set?.delete(done);
        if (set?.size === 0) this.waiting.delete(hash);
        resolve(news);
      };
      const timer = setTimeout(() => done({ kind: 'quiet' }), ms);
      waiters.add(done);
    });
  }

  /** Forgets the binary fleet-wide: every key of it in Redis, then every replica's local copy. */
  async forget(hash: string): Promise<void> {
    const value = await this.tier.run('forget', (redis) => redis.get(this.verdictKey(hash)));
    const hashes = [...new Set([hash, ...(value === null ? [] : hashesNamedIn(value))])];
    await this.tier.run('forget', (redis) => redis.del(...hashes.map((each) => this.verdictKey(each))));
    await this.tier.publish('forget', `forget ${hashes.join(' ')}`);
  }

  /** Empties the fleet's verdicts and tells every replica to empty its own; returns how many keys went from Redis. */
  async forgetAll(): Promise<number> {
    const removed = await this.tier.run('forget', (redis) => unlinkMatching(redis, `${escapeGlob(this.tier.prefix)}verdict:*`));
    await this.tier.publish('forget', 'clear');
    return removed;
  }

  private verdictKey(hash: string): string {
    return this.tier.key('verdict', hash);
  }

  private flightKey(hash: string): string {
    return this.tier.key('flight', hash);
  }

  /** A message from the channel. Anything malformed is ignored: the channel is not trusted more than a value. */
  private hear(message: string, events: SharedVerdictEvents): void {
    const [kind, first, ...rest] = message.split(' ');
    if (kind === 'clear' && first === undefined) {
      events.clear();
      return;
    }
    if (first === undefined || !HASH.test(first)) return;
    if (kind === 'forget') {
      const hashes = [first, ...rest].filter((each) => HASH.test(each));
      events.forget(hashes);
      return;
    }
    if (kind === 'stored') this.wake(first, { kind: 'stored' });
    if (kind === 'failed') {
      const failure = parseFailure(rest.join(' '));
      if (failure !== undefined) this.wake(first, { kind: 'failed', failure });
    }
  }

  private wake(hash: string, news: FlightNews): void {
    const waiters = this.waiting.get(hash);
    if (waiters === undefined) return;
    for (const done of [...waiters]) done(news);
  }
}

function parseFailure(text: string): FlightFailure | undefined {
  try {
    const parsed = JSON.parse(text) as Partial<FlightFailure>;
    if (typeof parsed.code !== 'string' || !/^[A-Z_]{1,64}$/.test(parsed.code)) return undefined;
    return {
      code: parsed.code,
      ...(Number.isInteger(parsed.upstreamStatus) && { upstreamStatus: parsed.upstreamStatus! }),
      ...(Number.isFinite(parsed.retryAfterMs) && parsed.retryAfterMs! >= 0 && { retryAfterMs: parsed.retryAfterMs! }),
    };
  } catch {
    return undefined;
  }
}

/** SCAN and UNLINK in pages, so emptying a large fleet cache never blocks Redis. */
async function unlinkMatching(redis: Redis, pattern: string): Promise<number> {
  let cursor = '0';
  let removed = 0;
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', pattern, 'COUNT', 1000);
    cursor = next;
    if (keys.length > 0) removed += await redis.unlink(...keys);
  } while (cursor !== '0');
  return removed;
}
