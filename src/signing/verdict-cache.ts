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

export interface VerdictCacheOptions {
  maxEntries: number;
  ttlSignedMs: number;
  ttlUnsignedMs: number;
  ttlUnknownMs: number;
  /** Asks Carbon Black on a miss and turns its answer into an entry. Its rejection is never stored. */
  load: (md5: string, name: string) => Promise<CachedVerdict>;
  /** Wall clock in epoch milliseconds; tests move it by hand. */
  now?: () => number;
  /** Told of every entry pushed out to make room (metrics). */
  onEvict?: () => void;
}

export interface LoadContext {
  /** The caller's name, as given (the query uses it verbatim). */
  name: string;
}

export type FetchStatus = LRUCache.Status<string, CachedVerdict, LoadContext>;

export interface EntryTimes {
  storedAt: number;
  expiresAt: number;
}

/** The LRU of verdicts keyed by lower-case md5, with the one upstream load per md5 that lru-cache coalesces. */
export class VerdictCache {
  readonly maxEntries: number;
  private readonly lru: LRUCache<string, CachedVerdict, LoadContext>;
  private readonly ttlSignedMs: number;
  private readonly ttlUnsignedMs: number;
  private readonly ttlUnknownMs: number;
  readonly now: () => number;
  private readonly readStatus: FetchStatus = {};
  private readonly freshRead = { status: this.readStatus };
  private readonly anyRead = { status: this.readStatus, allowStale: true };

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
      fetchMethod: async (md5, _stale, { options: fetchOptions, context }) => {
        const verdict = await options.load(md5, context.name);
        fetchOptions.ttl = this.ttlFor(verdict);
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
    flags: { forceRefresh?: boolean; allowStale?: boolean } = {},
  ): Promise<CachedVerdict | undefined> {
    return this.lru.fetch(md5, {
      context: { name },
      status,
      forceRefresh: flags.forceRefresh ?? false,
      allowStale: flags.allowStale ?? false,
    });
  }

  /** Stores a verdict found outside the shared load. */
  set(md5: string, verdict: CachedVerdict): CachedVerdict {
    this.lru.set(detachedString(md5), verdict, { ttl: this.ttlFor(verdict) });
    return verdict;
  }

  delete(md5: string): boolean {
    return this.lru.delete(md5);
  }

  clear(): void {
    this.lru.clear();
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
    const remaining = this.lru.getRemainingTTL(md5);
    const storedAt = Number.isFinite(remaining) ? this.now() + remaining - this.ttlFor(verdict) : this.now();
    return { verdict, storedAt };
  }

  /** Entries with their original start times on the Date.now() scale (lru-cache's load format). */
  load(entries: [string, LRUCache.Entry<CachedVerdict>][]): void {
    this.lru.load(entries);
  }
}
