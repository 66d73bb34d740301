import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import {
  loadCacheSnapshot,
  readSnapshot,
  restoreIntoCache,
  saveCacheSnapshot,
  snapshotFromCache,
  snapshotFromCacheInSlices,
  writeSnapshot,
} from '../../src/signing/cache-snapshot.js';
import { VerdictCache } from '../../src/signing/verdict-cache.js';
import { md5Of, recordingLog, tempDir } from './support.js';

const HOUR = 3_600_000;
const TTL_SIGNED = 24 * HOUR;
const TTL_UNSIGNED = HOUR;

/** A VerdictCache on a hand-moved clock, as the service builds it. */
function cacheAt(start: number, maxEntries = 100) {
  let clock = start;
  const evictions: number[] = [];
  const cache = new VerdictCache({
    maxEntries,
    ttlSignedMs: TTL_SIGNED,
    ttlUnsignedMs: TTL_UNSIGNED,
    load: async () => {
      throw new Error('no upstream in this test');
    },
    now: () => clock,
    onEvict: () => evictions.push(clock),
  });
  return { cache, evictions, advance: (ms: number) => (clock += ms), now: () => clock };
}

/** storedAt and verdict as the cache reports them on a read. */
function readBack(cache: VerdictCache, md5: string) {
  const verdict = cache.getAny(md5);
  return verdict === undefined ? undefined : { verdict, storedAt: cache.storedAtOfLastRead(), fresh: cache.getFresh(md5) !== undefined };
}

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => {
  vi.useRealTimers();
  await cleanup();
});

describe('snapshot <-> VerdictCache', () => {
  // The cache's clock (2026) differs from the wall clock: storedAt must stay on the cache's clock.
  const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

  it('keeps verdicts and ages across a restart, with a frozen wall clock (exact)', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2030, 0, 1) });
    const before = cacheAt(T0);
    before.cache.set(md5Of(1), 'git', true);
    before.advance(10 * 60_000);
    before.cache.set(md5Of(2), 'Tool.EXE', false);
    before.advance(5 * 60_000);
    const file = join(dir, 'snapshot');
    expect(await saveCacheSnapshot(before.cache, file)).toBe(2);

    // The new process starts 20 minutes later.
    const after = cacheAt(before.now() + 20 * 60_000);
    const log = recordingLog();
    expect(await loadCacheSnapshot(after.cache, file, log)).toBe(2);
    expect(readBack(after.cache, md5Of(1))).toEqual({ verdict: true, storedAt: T0, fresh: true });
    // Stored 25 minutes before the restart (5 before the snapshot, which came 20 before): fresh for 35 more.
    expect(readBack(after.cache, md5Of(2))).toEqual({ verdict: 'tool.exe', storedAt: T0 + 10 * 60_000, fresh: true });
    after.advance(35 * 60_000 - 1);
    expect(readBack(after.cache, md5Of(2))).toMatchObject({ fresh: true });
    after.advance(2);
    expect(readBack(after.cache, md5Of(2))).toMatchObject({ fresh: false });
    expect(readBack(after.cache, md5Of(1))).toMatchObject({ fresh: true });
    expect(log.infos).toEqual([{ obj: expect.objectContaining({ file, restored: 2 }), msg: 'cache restored from snapshot' }]);
  });

  it('keeps ages within a few ms with the real wall clock running', async () => {
    const before = cacheAt(T0);
    before.cache.set(md5Of(1), 'git', true);
    before.advance(HOUR / 2);
    const entries = snapshotFromCache(before.cache);
    expect(entries).toHaveLength(1);
    expect(Math.abs(entries[0]!.storedAt - T0)).toBeLessThanOrEqual(5);
    expect(entries[0]).toMatchObject({ md5: md5Of(1), ttlMs: TTL_SIGNED, verdict: true });
    const after = cacheAt(T0 + HOUR);
    restoreIntoCache(after.cache, entries);
    expect(Math.abs(readBack(after.cache, md5Of(1))!.storedAt - T0)).toBeLessThanOrEqual(10);
  });

  it('works with a cache on Date.now, as in production', async () => {
    const cache = new VerdictCache({ maxEntries: 10, ttlSignedMs: TTL_SIGNED, ttlUnsignedMs: TTL_UNSIGNED, load: async () => true });
    cache.set(md5Of(7), 'x', false);
    const storedAt = readBack(cache, md5Of(7))!.storedAt;
    const file = join(dir, 'snapshot');
    await saveCacheSnapshot(cache, file);
    const restored = new VerdictCache({ maxEntries: 10, ttlSignedMs: TTL_SIGNED, ttlUnsignedMs: TTL_UNSIGNED, load: async () => true });
    expect(await loadCacheSnapshot(restored, file, recordingLog())).toBe(1);
    const back = readBack(restored, md5Of(7))!;
    expect(back.verdict).toBe('x');
    expect(Math.abs(back.storedAt - storedAt)).toBeLessThanOrEqual(2);
  });

  it('keeps the LRU order, so the least recently used go first', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2030, 0, 1) });
    const before = cacheAt(T0, 3);
    for (let i = 1; i <= 3; i++) before.cache.set(md5Of(i), 'n', true);
    before.cache.getFresh(md5Of(1)); // 1 is now the most recently used; 2 the least
    const after = cacheAt(T0, 3);
    restoreIntoCache(after.cache, snapshotFromCache(before.cache));
    after.cache.set(md5Of(4), 'n', true);
    expect(after.cache.getAny(md5Of(2))).toBeUndefined();
    expect(after.cache.getAny(md5Of(1))).toBe(true);
    expect(after.cache.getAny(md5Of(3))).toBe(true);
  });

  it('into a smaller cache, loads the most recently used and counts no eviction', async () => {
    const before = cacheAt(T0, 10);
    for (let i = 1; i <= 10; i++) before.cache.set(md5Of(i), 'n', true);
    const after = cacheAt(T0, 4);
    expect(restoreIntoCache(after.cache, snapshotFromCache(before.cache))).toBe(4);
    expect(after.cache.size).toBe(4);
    expect(after.evictions).toEqual([]);
    expect([7, 8, 9, 10].every((i) => after.cache.getAny(md5Of(i)) === true)).toBe(true);
  });

  it('skips what expired past the stale window and keeps expired entries within it as stale', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2030, 0, 1) });
    const before = cacheAt(T0);
    before.cache.set(md5Of(1), 'old', false); // unsigned: 1 h
    before.advance(2 * HOUR);
    before.cache.set(md5Of(2), 'new', false);
    const file = join(dir, 'snapshot');
    await saveCacheSnapshot(before.cache, file);

    const strict = cacheAt(before.now());
    expect(await loadCacheSnapshot(strict.cache, file, recordingLog())).toBe(1);
    expect(strict.cache.getAny(md5Of(1))).toBeUndefined();

    const lenient = cacheAt(before.now());
    expect(await loadCacheSnapshot(lenient.cache, file, recordingLog(), { staleWindowMs: 24 * HOUR })).toBe(2);
    expect(readBack(lenient.cache, md5Of(1))).toEqual({ verdict: 'old', storedAt: T0, fresh: false });
  });

  it('a missing or corrupt snapshot leaves the cache as it was and logs a warning', async () => {
    const { cache } = cacheAt(T0);
    cache.set(md5Of(1), 'n', true);
    const log = recordingLog();
    expect(await loadCacheSnapshot(cache, join(dir, 'absent'), log)).toBe(0);
    expect(cache.size).toBe(1);
    expect(log.warnings).toHaveLength(1);
  });

  it('reads what writeSnapshot wrote through the same converters', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2030, 0, 1) });
    const before = cacheAt(T0);
    before.cache.set(md5Of(1), 'a', true);
    const file = join(dir, 'snapshot');
    await writeSnapshot(file, snapshotFromCache(before.cache));
    expect(await readSnapshot(file, T0, recordingLog())).toEqual([{ md5: md5Of(1), storedAt: T0, ttlMs: TTL_SIGNED, verdict: true }]);
  });

  it('includes expired entries, oldest first, and leaves reads as they were', async () => {
    const { cache, advance } = cacheAt(T0);
    cache.set(md5Of(1), 'old', false);
    advance(2 * TTL_UNSIGNED);
    cache.set(md5Of(2), 'new', false);
    // Expired entries are part of the snapshot: they are the stale-if-error reserve.
    expect(snapshotFromCache(cache).map((e) => e.md5)).toEqual([md5Of(1), md5Of(2)]);
    expect((await snapshotFromCacheInSlices(cache)).map((e) => e.md5)).toEqual([md5Of(1), md5Of(2)]);
    // allowStale was put back: a fresh read still refuses the expired entry.
    expect(cache.getFresh(md5Of(1))).toBeUndefined();
    expect(cache.getFresh(md5Of(2))).toBe('new');
  });

  it('in slices, gives what the one-go version gives, and copes with changes between slices', async () => {
    const { cache, advance } = cacheAt(T0, 1000);
    for (let i = 0; i < 1000; i++) {
      cache.set(md5Of(i), `n${i}`, i % 2 === 0);
      advance(1000);
    }
    expect(await snapshotFromCacheInSlices(cache, 7)).toEqual(snapshotFromCache(cache));

    const pending = snapshotFromCacheInSlices(cache, 100);
    // The first slice is read at once; these land between slices.
    cache.delete(md5Of(500));
    cache.set(md5Of(600), 'renamed', false);
    cache.set(md5Of(5000), 'late', false);
    const entries = await pending;
    const md5s = entries.map((e) => e.md5);
    expect(md5s).toHaveLength(999);
    expect(md5s).not.toContain(md5Of(500));
    expect(md5s).not.toContain(md5Of(5000));
    expect(entries.find((e) => e.md5 === md5Of(600))).toMatchObject({ verdict: 'renamed', storedAt: T0 + 1_000_000 });
  });
});
