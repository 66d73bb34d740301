import { LRUCache } from 'lru-cache';
import { verdictKind, type CachedVerdict } from './verdict.js';

export type { CachedVerdict } from './verdict.js';

/**
 * A copy of `text` that owns its characters. Strings cut from a request (the
 * md5 path parameter, a query value) are V8 slices that keep the whole URL
 * alive; stored as a key for a day, that was 70 bytes an entry more
 * (measured). Called on misses only.
 */
export function detachedString(text: string): string {
  return Buffer.from(text, 'utf8').toString('utf8');
}

/**
 * A loaded verdict together with the binary's other hashes (Carbon Black
 * Cloud reports the md5 and the sha256 of each process), so the next lookup
 * by either is a hit, and, for a verdict Carbon Black gave earlier (read from
 * the fleet's shared tier), when it gave it. Only the load's result wraps:
 * the cache stores the verdict.
 */
export class AliasedVerdict {
  constructor(
    readonly verdict: CachedVerdict,
    /** Lower-case hashes of the same binary, other than the one looked up. */
    readonly aliases: readonly string[],
    /** When Carbon Black gave the verdict (epoch ms), if before this load; its lifetime counts from then. */
    readonly storedAt?: number,
  ) {}
}

/** lru-cache's `start` for a loaded verdict that carries its own storedAt. */
function startOf(loaded: LoadedVerdict): { start?: number } {
  return loaded instanceof AliasedVerdict && loaded.storedAt !== undefined ? { start: loaded.storedAt } : {};
}

/** What a load resolves: a verdict, or a verdict and the binary's other hashes. */
export type LoadedVerdict = CachedVerdict | AliasedVerdict;

export interface VerdictCacheOptions {
  maxEntries: number;
  ttlSignedMs: number;
  ttlUnsignedMs: number;
  ttlUnknownMs: number;
  /** Asks Carbon Black on a miss and turns its answer into an entry. Its rejection is never stored. */
  load: (hash: string, name: string, fresh: boolean) => Promise<LoadedVerdict>;
  /** Wall clock in epoch milliseconds; tests move it by hand. */
  now?: () => number;
  /** Told of every entry pushed out to make room (metrics). */
  onEvict?: () => void;
}

export interface LoadContext {
  /** The caller's name, as given (the query uses it verbatim). */
  name: string;
  /** `Cache-Control: no-cache`: a stored verdict elsewhere (the shared tier) must not answer either. */
  fresh: boolean;
}

export type FetchStatus = LRUCache.Status<string, CachedVerdict, LoadContext>;

export interface EntryTimes {
  storedAt: number;
  expiresAt: number;
}

/**
 * The LRU of verdicts keyed by lower-case hash (md5, or sha256 on Cloud), with
 * the one upstream load per hash that lru-cache coalesces.
 */
export class VerdictCache {
  readonly maxEntries: number;
  private readonly lru: LRUCache<string, CachedVerdict, LoadContext>;
  /**
   * Each hash to the other hash of its binary, both ways, once a load named
   * both (Cloud only; created on first use, so EDR pays nothing). Bounded
   * like the cache: a pair forgotten costs only the alias, never a verdict.
   */
  private aliases: LRUCache<string, string> | undefined;
  private readonly ttlSignedMs: number;
  private readonly ttlUnsignedMs: number;
  private readonly ttlUnknownMs: number;
  readonly now: () => number;
  private readonly readStatus: FetchStatus = {};
  private readonly freshRead = { status: this.readStatus };
  private readonly anyRead = { status: this.readStatus, allowStale: true };
  private readonly restoreOptions: LRUCache.SetOptions<string, CachedVerdict, LoadContext> = { ttl: 0, start: 0 };

  constructor(options: VerdictCacheOptions) {
    this.maxEntries = options.maxEntries;
    this.ttlSignedMs = options.ttlSignedMs;
    this.ttlUnsignedMs = options.ttlUnsignedMs;
    this.ttlUnknownMs = options.ttlUnknownMs;
    const now = options.now ?? Date.now;
    this.now = now;
    const onEvict = options.onEvict;
    this.lru = new LRUCache<string, CachedVerdict, LoadContext>({
      max: options.maxEntries,
      ttl: options.ttlSignedMs,
      // Expired entries stay until pushed out: they are the stale-if-error reserve.
      ttlAutopurge: false,
      // Read the clock on every check instead of caching it behind a timer per read.
      ttlResolution: 0,
      noDeleteOnStaleGet: true,
      noDeleteOnFetchRejection: true,
      // An entry deleted or evicted while its load runs must not fail the callers waiting on it.
      ignoreFetchAbort: true,
      perf: { now },
      ...(onEvict && {
        dispose: (_value: CachedVerdict, _key: string, reason: LRUCache.DisposeReason) => {
          if (reason === 'evict') onEvict();
        },
      }),
      fetchMethod: async (hash, _stale, { options: fetchOptions, context }) => {
        const loaded = await options.load(hash, context.name, context.fresh);
        const verdict = this.storeAliases(hash, loaded);
        fetchOptions.ttl = this.ttlFor(verdict);
        // lru-cache stores the fetched value with these options, `start` included (its set() reads it;
        // the fetch options' type leaves it out): a verdict from the shared tier keeps its age.
        if (loaded instanceof AliasedVerdict && loaded.storedAt !== undefined) {
          (fetchOptions as { start?: number }).start = loaded.storedAt;
        }
        return verdict;
      },
    });
  }

  get size(): number {
    return this.lru.size;
  }

  /**
   * A fresh entry, or undefined. Synchronous: the hot path of every cached
   * answer. `storedAtOfLastRead()` then tells when it was stored.
   */
  getFresh(md5: string): CachedVerdict | undefined {
    return this.lru.get(md5, this.freshRead);
  }

  /** Any entry, fresh or expired (kept for stale-if-error); `storedAtOfLastRead()` then tells its age. */
  getAny(md5: string): CachedVerdict | undefined {
    return this.lru.get(md5, this.anyRead);
  }

  /**
   * When the entry returned by the last getFresh/getAny was stored. lru-cache
   * reports its start time through the status object, which both reads reuse:
   * reads are synchronous, so no other read can come in between.
   */
  storedAtOfLastRead(): number {
    return this.readStatus.start ?? this.now();
  }

  /**
   * The shared load of one md5: joins a load already running for it,
   * otherwise starts one (a refresh when `forceRefresh`). With `allowStale`,
   * an expired entry is answered at once and refreshed in the background.
   */
  fetch(
    md5: string,
    name: string,
    status: FetchStatus,
    flags: { forceRefresh?: boolean; allowStale?: boolean; fresh?: boolean } = {},
  ): Promise<CachedVerdict | undefined> {
    return this.lru.fetch(md5, {
      context: { name, fresh: flags.fresh ?? false },
      status,
      forceRefresh: flags.forceRefresh ?? false,
      allowStale: flags.allowStale ?? false,
    });
  }

  /** Stores a verdict found outside the shared load. */
  set(hash: string, loaded: LoadedVerdict): CachedVerdict {
    const verdict = this.storeAliases(hash, loaded);
    this.lru.set(detachedString(hash), verdict, { ttl: this.ttlFor(verdict), ...startOf(loaded) });
    return verdict;
  }

  /** Forgets the binary: this hash and its other hash, when a load named both. */
  delete(hash: string): boolean {
    const alias = this.aliases?.get(hash);
    let deleted = this.lru.delete(hash);
    if (alias !== undefined) {
      deleted = this.lru.delete(alias) || deleted;
      this.aliases?.delete(alias);
      this.aliases?.delete(hash);
    }
    return deleted;
  }

  /** The other hash of this binary (its sha256 for an md5, or the reverse), when Carbon Black named both. */
  aliasOf(hash: string): string | undefined {
    return this.aliases?.get(hash);
  }

  clear(): void {
    this.lru.clear();
    this.aliases?.clear();
  }

  /** The verdict of a load; its aliases are stored as entries of their own, with the same lifetime. */
  private storeAliases(hash: string, loaded: LoadedVerdict): CachedVerdict {
    if (!(loaded instanceof AliasedVerdict)) return loaded;
    const { verdict } = loaded;
    const ttl = this.ttlFor(verdict);
    for (const alias of loaded.aliases) {
      if (alias === hash) continue;
      this.aliases ??= new LRUCache<string, string>({ max: this.maxEntries });
      const key = detachedString(alias);
      this.aliases.set(key, hash);
      this.aliases.set(hash, key);
      this.lru.set(key, verdict, { ttl, ...startOf(loaded) });
    }
    return verdict;
  }

  /** Lifetimes by verdict: an unknown md5 soonest, since Carbon Black may index it within minutes. */
  ttlFor(verdict: CachedVerdict): number {
    const kind = verdictKind(verdict);
    return kind === 'signed' ? this.ttlSignedMs : kind === 'unsigned' ? this.ttlUnsignedMs : this.ttlUnknownMs;
  }

  /**
   * Every key, expired ones included, least recently used first: the order a
   * snapshot is written and restored in. Linear, unlike lru-cache's dump(),
   * which builds its array with unshift and takes minutes for a million.
   */
  keysLeastRecentFirst(): string[] {
    // lru-cache's iterators skip expired entries unless allowStale is set, and
    // expired entries are the stale-if-error reserve, so raise it for the walk.
    const allowStale = this.lru.allowStale;
    this.lru.allowStale = true;
    try {
      return [...this.lru.rkeys()];
    } finally {
      this.lru.allowStale = allowStale;
    }
  }

  /** An entry, fresh or expired, and when it was stored, without touching its recency. */
  peekEntry(md5: string): { verdict: CachedVerdict; storedAt: number } | undefined {
    const verdict = this.lru.peek(md5, { allowStale: true });
    if (verdict === undefined) return undefined;
    // The start lru-cache stored, as storedAtOfLastRead reads it. Working it back from getRemainingTTL read the clock
    // twice (there and in this.now()), so a millisecond ticking in between dated the entry a millisecond late.
    const status: FetchStatus = {};
    this.lru.has(md5, { updateAgeOnHas: false, status });
    if (status.start !== undefined) return { verdict, storedAt: status.start };
    const remaining = this.lru.getRemainingTTL(md5);
    return { verdict, storedAt: Number.isFinite(remaining) ? this.now() + remaining - this.ttlFor(verdict) : this.now() };
  }

  /** Empties the cache for a restore: restoreEntry then adds the entries, least recently used first. */
  beginRestore(): void {
    this.lru.clear();
  }

  /**
   * Adds an entry read from a snapshot, as the most recently used, with its
   * storage time (on this cache's clock) and lifetime. The key must be an
   * owned string (a snapshot reader's).
   *
   * A plain `set` with one reused options object and `start` already on the
   * cache's clock: lru-cache's `load()` would need a [key, entry] pair and an
   * entry object per entry (two million allocations at a million entries).
   */
  restoreEntry(key: string, verdict: CachedVerdict, storedAt: number, ttlMs: number): void {
    const options = this.restoreOptions;
    options.ttl = ttlMs;
    // lru-cache reads a start of 0 as "no start" (an entry that never expires): the clock's epoch itself is dated 1 ms later.
    options.start = storedAt || 1;
    this.lru.set(key, verdict, options);
  }
}
