import type { CachedVerdict, VerdictBasis } from './verdict.js';
import { entryAnswers } from './verdict.js';
import type { FetchStatus, LoadedVerdict } from './verdict-cache.js';
import { detachedString, VerdictCache } from './verdict-cache.js';

/** How an answer was obtained; `cache.status` in every response. */
export type CacheStatus = 'hit' | 'miss' | 'stale' | 'coalesced';

/** The hashes a binary is looked up by: EDR indexes md5; Cloud both md5 and sha256. */
export type HashKind = 'md5' | 'sha256';

export interface Lookup {
  /** The hash looked up, lower case: an md5 (32 hex digits) or a sha256 (64). */
  hash: string;
  /** The name as the caller gave it. */
  name: string;
  /** The cached entry the answer comes from; `verdictFields` turns it into the contract fields. */
  entry: CachedVerdict;
  status: CacheStatus;
  /** When Carbon Black gave this verdict (epoch ms). */
  storedAt: number;
  /** When it stops being fresh (epoch ms). */
  expiresAt: number;
}

/**
 * Where verdicts come from on a miss: the one interface both backends
 * implement (src/backends/edr/verdict-sources.ts, src/backends/cloud/verdict-source.ts).
 */
export interface VerdictSource {
  basis: VerdictBasis;
  /** The hash kinds this source looks up; a lookup by another kind is refused with 400 before it gets here. */
  hashKinds: ReadonlySet<HashKind>;
  /** How to tell a caller why another kind is refused: "Carbon Black EDR indexes md5". */
  indexNote: string;
  /**
   * Whether the answer tests the caller's name. False for the joined search on
   * `digsig_result`, which ignores it; then `nameMatchesSignature` is null.
   */
  nameTested: boolean;
  /**
   * One guarded Carbon Black read, as a cache entry (with the binary's other
   * hashes, when known); rejects on any upstream failure. `fresh`: the caller
   * sent `Cache-Control: no-cache` (a source with a store of its own skips it).
   */
  load: (hash: string, name: string, fresh?: boolean) => Promise<LoadedVerdict>;
}

export interface SignatureServiceOptions {
  maxEntries: number;
  ttlSignedSeconds: number;
  ttlUnsignedSeconds: number;
  ttlUnknownSeconds: number;
  staleIfErrorSeconds: number;
  staleWhileRevalidateSeconds: number;
  source: VerdictSource;
  now?: () => number;
  onEvict?: () => void;
  /** With a shared tier: forgetting reaches Redis and every replica. Its rejection means the fleet was not told. */
  fleet?: FleetInvalidation;
}

/** How a forget reaches the rest of the fleet (shared-tier/shared-verdicts.ts). */
export interface FleetInvalidation {
  forget(hash: string): Promise<void>;
  forgetAll(): Promise<unknown>;
}

export interface LookupOptions {
  /** `Cache-Control: no-cache`: ask Carbon Black even when a fresh entry exists. */
  fresh?: boolean;
}

export interface CacheStats {
  size: number;
  maxEntries: number;
  hits: number;
  misses: number;
  hitRatio: number;
}

/*
 * A waiter that joined a load for another name of an unsigned binary must run
 * its own search. Each round lets one more name through; past this many
 * rounds (many names racing on one md5) it searches alone rather than spin.
 */
const MAX_SHARED_ROUNDS = 3;

/** The verdict rules and cache policy: everything between a route and the upstream. */
export class SignatureService {
  readonly cache: VerdictCache;
  readonly source: VerdictSource;
  private readonly options: SignatureServiceOptions;
  private readonly staleIfErrorMs: number;
  private readonly staleWhileRevalidateMs: number;
  private hits = 0;
  private misses = 0;

  constructor(options: SignatureServiceOptions) {
    this.options = options;
    this.source = options.source;
    this.staleIfErrorMs = options.staleIfErrorSeconds * 1000;
    this.staleWhileRevalidateMs = options.staleWhileRevalidateSeconds * 1000;
    this.cache = new VerdictCache({
      maxEntries: options.maxEntries,
      ttlSignedMs: options.ttlSignedSeconds * 1000,
      ttlUnsignedMs: options.ttlUnsignedSeconds * 1000,
      ttlUnknownMs: options.ttlUnknownSeconds * 1000,
      load: options.source.load,
      ...(options.now && { now: options.now }),
      ...(options.onEvict && { onEvict: options.onEvict }),
    });
  }

  /**
   * The cached answer when a fresh one applies, else undefined. Synchronous
   * and allocation-light: this is what most requests cost.
   */
  lookupCached(md5: string, name: string): Lookup | undefined {
    const verdict = this.cache.getFresh(md5);
    if (verdict === undefined || !this.applies(verdict, name)) return undefined;
    this.hits++;
    return this.toLookup(md5, name, verdict, 'hit', this.cache.storedAtOfLastRead());
  }

  /** The full lookup: cache, then the shared upstream load, then stale-if-error. */
  lookup(md5: string, name: string, options: LookupOptions = {}): Promise<Lookup> {
    if (!options.fresh) {
      const cached = this.lookupCached(md5, name);
      if (cached) return Promise.resolve(cached);
    }
    return this.load(md5, name, options.fresh === true);
  }

  /**
   * Forgets the binary under this hash and, when Carbon Black named it, its
   * other hash: here at once, then in the shared tier and on every replica.
   * Rejects when the fleet could not be told (this replica has forgotten it).
   */
  async forget(hash: string): Promise<void> {
    this.cache.delete(hash);
    await this.options.fleet?.forget(hash);
  }

  /**
   * Empties the cache (fresh and expired entries alike), and the fleet's;
   * resolves how many entries went here. Rejects like `forget`.
   */
  async forgetAll(): Promise<number> {
    const removed = this.cache.size;
    this.cache.clear();
    await this.options.fleet?.forgetAll();
    return removed;
  }

  /** The binary's md5 and sha256 as far as they are known, for an answer about `hash`. */
  hashesOf(hash: string): { md5: string | null; sha256: string | null } {
    const alias = this.cache.aliasOf(hash) ?? null;
    return hash.length === 32 ? { md5: hash, sha256: alias } : { md5: alias, sha256: hash };
  }

  stats(): CacheStats {
    const total = this.hits + this.misses;
    return {
      size: this.cache.size,
      maxEntries: this.cache.maxEntries,
      hits: this.hits,
      misses: this.misses,
      hitRatio: total === 0 ? 0 : this.hits / total,
    };
  }

  /**
   * The lookup past the cache: for callers that already tried `lookupCached`
   * (the routes do, to stay synchronous on hits) or that want a fresh answer.
   */
  async load(requestMd5: string, name: string, fresh: boolean): Promise<Lookup> {
    // `fresh` only skips the stale-while-revalidate shortcut: every load below refreshes.
    // A miss may store this md5 as a key for a day: let it not pin the request's URL.
    const md5 = detachedString(requestMd5);
    if (!fresh) {
      const revalidating = this.serveWhileRevalidating(md5, name);
      if (revalidating) return revalidating;
    }
    try {
      for (let round = 0; round < MAX_SHARED_ROUNDS; round++) {
        const status: FetchStatus = {};
        // Whatever entry is here is expired or for another name (else the caller would have had a
        // hit), so always refresh; a load already running for this md5 is joined, not repeated.
        const verdict = await this.cache.fetch(md5, name, status, { forceRefresh: true, fresh });
        if (verdict !== undefined && this.applies(verdict, name)) {
          this.misses++;
          return this.toLookup(
            md5,
            name,
            verdict,
            status.fetch === 'inflight' ? 'coalesced' : 'miss',
            this.storedAtAfterLoad(md5, verdict),
          );
        }
        // The shared load answered for another name of an unsigned binary: go round and ask for ours.
      }
      const verdict = this.cache.set(md5, await this.options.source.load(md5, name, fresh));
      this.misses++;
      return this.toLookup(md5, name, verdict, 'miss', this.storedAtAfterLoad(md5, verdict));
    } catch (error) {
      const stale = this.staleEntry(md5, name, this.staleIfErrorMs);
      if (stale) return stale;
      throw error;
    }
  }

  /** Stale-while-revalidate: an entry just past its lifetime answers now; lru-cache refreshes it behind. */
  private serveWhileRevalidating(md5: string, name: string): Lookup | undefined {
    if (this.staleWhileRevalidateMs === 0) return undefined;
    const stale = this.staleEntry(md5, name, this.staleWhileRevalidateMs);
    if (!stale) return undefined;
    // allowStale answers from the expired entry and starts (or joins) one background load;
    // its failure is absorbed by lru-cache and keeps the old entry.
    void this.cache.fetch(md5, name, {}, { allowStale: true });
    return stale;
  }

  /**
   * The entry for this name when Carbon Black could not refresh it: marked
   * stale when past its lifetime (and no older than its lifetime plus
   * `graceMs`), a plain hit when still fresh (a `no-cache` refresh that failed).
   */
  private staleEntry(md5: string, name: string, graceMs: number): Lookup | undefined {
    // peekEntry: its storedAt comes from the entry's own remaining lifetime, whatever the last read was.
    const entry = this.cache.peekEntry(md5);
    if (entry === undefined || !this.applies(entry.verdict, name)) return undefined;
    const now = this.cache.now();
    const expiresAt = entry.storedAt + this.cache.ttlFor(entry.verdict);
    if (now > expiresAt + graceMs) return undefined;
    this.hits++;
    return this.toLookup(md5, name, entry.verdict, now <= expiresAt ? 'hit' : 'stale', entry.storedAt);
  }

  private applies(verdict: CachedVerdict, name: string): boolean {
    return !this.source.nameTested || entryAnswers(verdict, name);
  }

  /** The stored entry's time; a load's result can already be gone from a tiny or busy cache, then it is now. */
  private storedAtAfterLoad(md5: string, verdict: CachedVerdict): number {
    return this.cache.getAny(md5) === verdict ? this.cache.storedAtOfLastRead() : this.cache.now();
  }

  private toLookup(md5: string, name: string, verdict: CachedVerdict, status: CacheStatus, storedAt: number): Lookup {
    return { hash: md5, name, entry: verdict, status, storedAt, expiresAt: storedAt + this.cache.ttlFor(verdict) };
  }
}
