import { writeFile } from 'node:fs/promises';
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
import { SignatureInterner } from '../../src/signing/signature-interner.js';
import { DatedSignature, JoinedSignature, SignatureFacts, UnknownBinary, type CachedVerdict } from '../../src/signing/verdict.js';
import { VerdictCache } from '../../src/signing/verdict-cache.js';
import { binaryVerdictOf, CORRUPT_WARNING, md5Of, recordingLog, SKIPPED_WARNING, tempDir } from './support.js';

const MINUTE = 60_000;
const HOUR = 60 * MINUTE;
const TTL_SIGNED = 24 * HOUR;
const TTL_UNSIGNED = HOUR;
const TTL_UNKNOWN = 10 * MINUTE;

/** A VerdictCache on a hand-moved clock, as the service builds it. */
function cacheAt(start: number, maxEntries = 100) {
  let clock = start;
  const evictions: number[] = [];
  const cache = new VerdictCache({
    maxEntries,
    ttlSignedMs: TTL_SIGNED,
    ttlUnsignedMs: TTL_UNSIGNED,
    ttlUnknownMs: TTL_UNKNOWN,
    load: async () => {
      throw new Error('no upstream in this test');
    },
    now: () => clock,
    onEvict: () => evictions.push(clock),
  });
  return { cache, evictions, advance: (ms: number) => (clock += ms), now: () => clock };
}

/** A cache on Date.now, as in production. */
function productionCache(maxEntries = 10): VerdictCache {
  return new VerdictCache({
    maxEntries,
    ttlSignedMs: TTL_SIGNED,
    ttlUnsignedMs: TTL_UNSIGNED,
    ttlUnknownMs: TTL_UNKNOWN,
    load: async () => UnknownBinary.instance,
  });
}

/** storedAt and verdict as the cache reports them on a read. */
function readBack(cache: VerdictCache, md5: string) {
  const verdict = cache.getAny(md5);
  return verdict === undefined ? undefined : { verdict, storedAt: cache.storedAtOfLastRead(), fresh: cache.getFresh(md5) !== undefined };
}

function factsOf(verdict: CachedVerdict | undefined): SignatureFacts | undefined {
  if (verdict instanceof SignatureFacts) return verdict;
  if (verdict instanceof DatedSignature) return verdict.facts;
  return undefined;
}

let dir: string;
let cleanup: () => Promise<void>;
let interner: SignatureInterner;
/** The git binary's record (its facts, with its own signing time), and its fields as a backend reads them. */
const GIT_RECORD = {
  digsigResult: 'Signed',
  publisher: 'Apple Inc.',
  issuer: 'Apple Code Signing Certification Authority',
  subject: 'Software Signing',
  programName: 'git',
  signedAtMs: 1_490_674_446_000,
} as const;
/** Another signed binary sharing git's signature, with a signing time of its own; an unsigned one without; the facts they stand on. */
let git: SignatureFacts;
let signed: DatedSignature;
let unsigned: SignatureFacts;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  interner = new SignatureInterner();
  git = interner.entryFor(GIT_RECORD) as SignatureFacts;
  signed = interner.entryFor({ ...GIT_RECORD, signedAtMs: 1_500_000_000_000 }) as DatedSignature;
  unsigned = interner.facts('Unsigned', null, null, null, null, null);
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
    before.cache.set(md5Of(1), signed);
    before.advance(10 * MINUTE);
    before.cache.set(md5Of(2), unsigned);
    before.advance(2 * MINUTE);
    before.cache.set(md5Of(3), UnknownBinary.instance);
    before.advance(3 * MINUTE);
    const file = join(dir, 'snapshot');
    expect(await saveCacheSnapshot(before.cache, file, 'binary-record')).toBe(3);

    // The new process starts 2 minutes later.
    const after = cacheAt(before.now() + 2 * MINUTE);
    const log = recordingLog();
    expect(await loadCacheSnapshot(after.cache, file, log)).toBe(3);
    expect(readBack(after.cache, md5Of(1))).toStrictEqual({ verdict: signed, storedAt: T0, fresh: true });
    // Stored 7 minutes before the restart (5 before the snapshot, which came 2 before): fresh for 53 more.
    expect(readBack(after.cache, md5Of(2))).toStrictEqual({ verdict: unsigned, storedAt: T0 + 10 * MINUTE, fresh: true });
    // Unknown: stored 5 minutes before the restart, fresh for 5 more.
    expect(readBack(after.cache, md5Of(3))).toStrictEqual({ verdict: UnknownBinary.instance, storedAt: T0 + 12 * MINUTE, fresh: true });
    expect(after.cache.getAny(md5Of(3))).toBe(UnknownBinary.instance);

    after.advance(5 * MINUTE - 1);
    expect(readBack(after.cache, md5Of(3))).toMatchObject({ fresh: true });
    after.advance(2);
    expect(readBack(after.cache, md5Of(3))).toMatchObject({ fresh: false });
    expect(readBack(after.cache, md5Of(2))).toMatchObject({ fresh: true });
    after.advance(48 * MINUTE - 2);
    expect(readBack(after.cache, md5Of(2))).toMatchObject({ fresh: true });
    after.advance(2);
    expect(readBack(after.cache, md5Of(2))).toMatchObject({ fresh: false });
    expect(readBack(after.cache, md5Of(1))).toMatchObject({ fresh: true });
    expect(log.infos).toEqual([{ obj: expect.objectContaining({ file, restored: 3 }), msg: 'cache restored from snapshot' }]);
    expect(log.warnings).toEqual([]);
  });

  it('keeps joined-search entries and their ages under that basis', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2030, 0, 1) });
    const before = cacheAt(T0);
    before.cache.set(md5Of(1), new JoinedSignature('git'));
    before.advance(10 * MINUTE);
    before.cache.set(md5Of(2), 'tool.exe');
    const file = join(dir, 'snapshot');
    expect(await saveCacheSnapshot(before.cache, file, 'joined-search')).toBe(2);

    const after = cacheAt(before.now());
    const log = recordingLog();
    expect(await loadCacheSnapshot(after.cache, file, log, { basis: 'joined-search' })).toBe(2);
    expect(log.warnings).toEqual([]);
    expect(readBack(after.cache, md5Of(1))).toStrictEqual({ verdict: new JoinedSignature('git'), storedAt: T0, fresh: true });
    expect(readBack(after.cache, md5Of(2))).toStrictEqual({ verdict: 'tool.exe', storedAt: T0 + 10 * MINUTE, fresh: true });
    // Unsigned lifetime for the no-row entry, signed for the row.
    after.advance(HOUR - 1);
    expect(readBack(after.cache, md5Of(2))).toMatchObject({ fresh: true });
    after.advance(2);
    expect(readBack(after.cache, md5Of(2))).toMatchObject({ fresh: false });
    expect(readBack(after.cache, md5Of(1))).toMatchObject({ fresh: true });
  });

  it('restored records share their facts, as the live cache does', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2030, 0, 1) });
    const before = cacheAt(T0);
    before.cache.set(md5Of(1), signed);
    before.cache.set(md5Of(2), new DatedSignature(git, 1_400_000_000));
    before.cache.set(md5Of(3), git);
    before.cache.set(md5Of(4), unsigned);
    before.cache.set(md5Of(5), interner.facts('Unsigned', null, null, null, null, null));
    const file = join(dir, 'snapshot');
    await saveCacheSnapshot(before.cache, file, 'binary-record');

    const after = cacheAt(T0);
    expect(await loadCacheSnapshot(after.cache, file, recordingLog())).toBe(5);
    const [a, b, c, d, e] = [1, 2, 3, 4, 5].map((i) => after.cache.getAny(md5Of(i)));
    expect(factsOf(a)).toBeDefined();
    expect(factsOf(b)).toBe(factsOf(a));
    expect(c).toBe(factsOf(a));
    expect(e).toBe(d);
    expect(d).not.toBe(factsOf(a));
    expect(a).toStrictEqual(signed);
    expect(c).toStrictEqual(git);
    expect((c as SignatureFacts).signedAtSeconds).toBe(1_490_674_446);
    expect((a as DatedSignature).signedAtSeconds).toBe(1_500_000_000);
    expect((b as DatedSignature).signedAtSeconds).toBe(1_400_000_000);
  });

  it('with the live interner, a binary read from Carbon Black after the restore shares the restored facts', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2030, 0, 1) });
    // Only binaries sharing git's facts are cached, not the one they were first read for: the facts are on d: lines only.
    const before = cacheAt(T0);
    before.cache.set(md5Of(1), signed);
    before.cache.set(md5Of(2), unsigned);
    const file = join(dir, 'snapshot');
    await saveCacheSnapshot(before.cache, file, 'binary-record');

    const live = new SignatureInterner();
    const after = cacheAt(T0);
    expect(await loadCacheSnapshot(after.cache, file, recordingLog(), { interner: live })).toBe(2);
    const restored = after.cache.getAny(md5Of(1)) as DatedSignature;
    expect(restored).toBeInstanceOf(DatedSignature);
    expect(restored.facts).not.toBe(git);
    // git itself, read again: its time is the facts' own, so its entry is the restored facts object.
    expect(live.entryFor(GIT_RECORD)).toBe(restored.facts);
    // Another binary of the same signature: its own time, on the restored facts.
    const later = live.entryFor({ ...GIT_RECORD, signedAtMs: 1_700_000_000_999 });
    expect(later).toStrictEqual(new DatedSignature(restored.facts, 1_700_000_000));
    expect((later as DatedSignature).facts).toBe(restored.facts);
    expect(live.entryFor({ ...GIT_RECORD, signedAtMs: undefined })).toStrictEqual(new DatedSignature(restored.facts, null));
    expect(
      live.entryFor({
        digsigResult: 'Unsigned',
        publisher: undefined,
        issuer: undefined,
        subject: undefined,
        programName: undefined,
        signedAtMs: undefined,
      }),
    ).toBe(after.cache.getAny(md5Of(2)));
    // A signature the snapshot did not hold gets facts of its own.
    expect(factsOf(live.entryFor({ ...GIT_RECORD, programName: 'git-lfs' }))).not.toBe(restored.facts);

    // Restored without the live interner, the same read gets other facts: the option is what shares them.
    const unshared = new SignatureInterner();
    const alone = cacheAt(T0);
    await loadCacheSnapshot(alone.cache, file, recordingLog());
    const other = unshared.entryFor(GIT_RECORD);
    expect(other).not.toBe((alone.cache.getAny(md5Of(1)) as DatedSignature).facts);
    expect(other).toStrictEqual((alone.cache.getAny(md5Of(1)) as DatedSignature).facts);
  });

  it('keeps ages within a few ms with the real wall clock running', async () => {
    const before = cacheAt(T0);
    before.cache.set(md5Of(1), signed);
    before.advance(HOUR / 2);
    const entries = snapshotFromCache(before.cache);
    expect(entries).toHaveLength(1);
    expect(Math.abs(entries[0]!.storedAt - T0)).toBeLessThanOrEqual(5);
    expect(entries[0]).toMatchObject({ md5: md5Of(1), ttlMs: TTL_SIGNED, verdict: signed });
    const after = cacheAt(T0 + HOUR);
    restoreIntoCache(after.cache, entries);
    expect(Math.abs(readBack(after.cache, md5Of(1))!.storedAt - T0)).toBeLessThanOrEqual(10);
  });

  it('dates each entry exactly as stored, even on a clock that ticks a millisecond at every read', () => {
    // The warm-restart test once saw an age a millisecond off: a storedAt worked back from two reads of the clock.
    let clock = T0;
    const cache = new VerdictCache({
      maxEntries: 10,
      ttlSignedMs: TTL_SIGNED,
      ttlUnsignedMs: TTL_UNSIGNED,
      ttlUnknownMs: TTL_UNKNOWN,
      load: async () => UnknownBinary.instance,
      now: () => clock++,
    });
    cache.set(md5Of(1), signed);
    const storedAt = readBack(cache, md5Of(1))!.storedAt;
    clock += 5 * MINUTE;
    expect(snapshotFromCache(cache)).toEqual([{ md5: md5Of(1), storedAt, ttlMs: TTL_SIGNED, verdict: signed }]);
  });

  it('gives each entry the lifetime of its kind', () => {
    const { cache } = cacheAt(T0);
    cache.set(md5Of(1), signed);
    cache.set(md5Of(2), git);
    cache.set(md5Of(3), unsigned);
    cache.set(md5Of(4), new DatedSignature(interner.facts('Expired', 'Legacy Corp', null, null, 'Legacy VPN', 1), 2));
    cache.set(md5Of(5), UnknownBinary.instance);
    cache.set(md5Of(6), new JoinedSignature('git'));
    cache.set(md5Of(7), 'git');
    expect(snapshotFromCache(cache).map((e) => e.ttlMs)).toEqual([
      TTL_SIGNED,
      TTL_SIGNED,
      TTL_UNSIGNED,
      TTL_UNSIGNED,
      TTL_UNKNOWN,
      TTL_SIGNED,
      TTL_UNSIGNED,
    ]);
  });

  it('works with a cache on Date.now, as in production', async () => {
    const cache = productionCache();
    cache.set(md5Of(7), unsigned);
    cache.set(md5Of(8), UnknownBinary.instance);
    const storedAt = readBack(cache, md5Of(7))!.storedAt;
    const file = join(dir, 'snapshot');
    await saveCacheSnapshot(cache, file, 'binary-record');
    const restored = productionCache();
    expect(await loadCacheSnapshot(restored, file, recordingLog(), { basis: 'binary-record' })).toBe(2);
    const back = readBack(restored, md5Of(7))!;
    expect(back.verdict).toStrictEqual(unsigned);
    expect(Math.abs(back.storedAt - storedAt)).toBeLessThanOrEqual(2);
    expect(restored.getFresh(md5Of(8))).toBe(UnknownBinary.instance);
  });

  it('keeps the LRU order, so the least recently used go first', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2030, 0, 1) });
    const before = cacheAt(T0, 3);
    for (let i = 1; i <= 3; i++) before.cache.set(md5Of(i), binaryVerdictOf(i + 2, interner));
    before.cache.getFresh(md5Of(1)); // 1 is now the most recently used; 2 the least
    const after = cacheAt(T0, 3);
    restoreIntoCache(after.cache, snapshotFromCache(before.cache));
    after.cache.set(md5Of(4), signed);
    expect(after.cache.getAny(md5Of(2))).toBeUndefined();
    expect(after.cache.getAny(md5Of(1))).toBe(before.cache.getAny(md5Of(1)));
    expect(after.cache.getAny(md5Of(3))).toBe(before.cache.getAny(md5Of(3)));
  });

  it('keeps the LRU order through the file', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2030, 0, 1) });
    const before = cacheAt(T0, 4);
    for (let i = 1; i <= 4; i++) before.cache.set(md5Of(i), i % 2 === 0 ? UnknownBinary.instance : signed);
    before.cache.getFresh(md5Of(1));
    before.cache.getFresh(md5Of(2)); // order now, least recent first: 3, 4, 1, 2
    const file = join(dir, 'snapshot');
    await saveCacheSnapshot(before.cache, file, 'binary-record');
    expect((await readSnapshot(file, T0, recordingLog())).map((e) => e.md5)).toEqual([3, 4, 1, 2].map(md5Of));
    const after = cacheAt(T0, 4);
    await loadCacheSnapshot(after.cache, file, recordingLog());
    after.cache.set(md5Of(5), signed);
    after.cache.set(md5Of(6), signed);
    expect([1, 2, 3, 4, 5, 6].map((i) => after.cache.getAny(md5Of(i)) !== undefined)).toEqual([true, true, false, false, true, true]);
  });

  it('into a smaller cache, loads the most recently used and counts no eviction', async () => {
    const before = cacheAt(T0, 10);
    for (let i = 1; i <= 10; i++) before.cache.set(md5Of(i), binaryVerdictOf(i, interner));
    const after = cacheAt(T0, 4);
    expect(restoreIntoCache(after.cache, snapshotFromCache(before.cache))).toBe(4);
    expect(after.cache.size).toBe(4);
    expect(after.evictions).toEqual([]);
    expect([7, 8, 9, 10].every((i) => after.cache.getAny(md5Of(i)) === before.cache.getAny(md5Of(i)))).toBe(true);
    expect([1, 2, 3, 4, 5, 6].some((i) => after.cache.getAny(md5Of(i)) !== undefined)).toBe(false);
  });

  it('skips what expired past the stale window and keeps expired entries within it as stale', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2030, 0, 1) });
    const before = cacheAt(T0);
    before.cache.set(md5Of(1), unsigned); // unsigned: 1 h
    before.cache.set(md5Of(3), UnknownBinary.instance); // unknown: 10 min
    before.advance(2 * HOUR);
    before.cache.set(md5Of(2), unsigned);
    const file = join(dir, 'snapshot');
    await saveCacheSnapshot(before.cache, file, 'binary-record');

    const strict = cacheAt(before.now());
    expect(await loadCacheSnapshot(strict.cache, file, recordingLog())).toBe(1);
    expect(strict.cache.getAny(md5Of(1))).toBeUndefined();
    expect(strict.cache.getAny(md5Of(3))).toBeUndefined();

    // A window of an hour and a minute: the unsigned entry (expired an hour ago), not the unknown one (an hour and 50 minutes).
    const oneHour = cacheAt(before.now());
    expect(await loadCacheSnapshot(oneHour.cache, file, recordingLog(), { staleWindowMs: HOUR + MINUTE })).toBe(2);
    expect(oneHour.cache.getAny(md5Of(1))).toBeDefined();
    expect(oneHour.cache.getAny(md5Of(3))).toBeUndefined();

    const lenient = cacheAt(before.now());
    expect(await loadCacheSnapshot(lenient.cache, file, recordingLog(), { staleWindowMs: 24 * HOUR })).toBe(3);
    expect(readBack(lenient.cache, md5Of(1))).toStrictEqual({ verdict: unsigned, storedAt: T0, fresh: false });
    expect(readBack(lenient.cache, md5Of(3))).toStrictEqual({ verdict: UnknownBinary.instance, storedAt: T0, fresh: false });
  });

  it('a missing or corrupt snapshot leaves the cache as it was and logs a warning', async () => {
    const { cache } = cacheAt(T0);
    cache.set(md5Of(1), signed);
    const log = recordingLog();
    expect(await loadCacheSnapshot(cache, join(dir, 'absent'), log)).toBe(0);
    expect(cache.size).toBe(1);
    expect(log.warnings).toHaveLength(1);

    const corrupt = join(dir, 'corrupt');
    await writeFile(
      corrupt,
      `signet-cache-snapshot\t2\t2\tbinary-record\n${md5Of(2)}\t${T0}\t${HOUR}\tu\n${md5Of(3)}\t${T0}\t${HOUR}\ts:"git"\n`,
    );
    expect(await loadCacheSnapshot(cache, corrupt, log)).toBe(0);
    expect(log.warnings[1]!.msg).toBe(CORRUPT_WARNING);
    expect(cache.size).toBe(1);
    expect(cache.getAny(md5Of(2))).toBeUndefined();
    expect(log.infos).toEqual([]);
  });

  it('a version-1 snapshot loads nothing and says why', async () => {
    const { cache } = cacheAt(T0);
    const file = join(dir, 'snapshot');
    await writeFile(file, `signet-cache-snapshot\t1\t2\n${md5Of(1)}\t${T0}\t${TTL_SIGNED}\t1\n${md5Of(2)}\t${T0}\t${HOUR}\t0:"git"\n`);
    const log = recordingLog();
    expect(await loadCacheSnapshot(cache, file, log)).toBe(0);
    expect(cache.size).toBe(0);
    expect(log.warnings).toEqual([{ obj: { file, reason: expect.stringMatching(/older format/) }, msg: SKIPPED_WARNING }]);
    expect(log.infos).toEqual([]);
  });

  it.each([
    ['binary-record', 'joined-search'],
    ['joined-search', 'binary-record'],
  ] as const)('a snapshot written under %s loads nothing under %s', async (written, running) => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2030, 0, 1) });
    const before = cacheAt(T0);
    before.cache.set(md5Of(1), written === 'binary-record' ? signed : new JoinedSignature('git'));
    const file = join(dir, 'snapshot');
    await saveCacheSnapshot(before.cache, file, written);
    const after = cacheAt(T0);
    after.cache.set(md5Of(9), running === 'binary-record' ? signed : 'kept');
    const log = recordingLog();
    expect(await loadCacheSnapshot(after.cache, file, log, { basis: running, staleWindowMs: 24 * HOUR })).toBe(0);
    expect(after.cache.size).toBe(1);
    expect(after.cache.getAny(md5Of(1))).toBeUndefined();
    expect(log.warnings).toEqual([
      { obj: { file, reason: expect.stringContaining(`CB_VERDICT_SOURCE=${written}`) }, msg: SKIPPED_WARNING },
    ]);
    // Under its own basis the same file loads.
    expect(await loadCacheSnapshot(cacheAt(T0).cache, file, recordingLog(), { basis: written })).toBe(1);
  });

  it('reads what writeSnapshot wrote through the same converters', async () => {
    vi.useFakeTimers({ toFake: ['Date'], now: Date.UTC(2030, 0, 1) });
    const before = cacheAt(T0);
    before.cache.set(md5Of(1), signed);
    before.cache.set(md5Of(2), UnknownBinary.instance);
    const file = join(dir, 'snapshot');
    await writeSnapshot(file, snapshotFromCache(before.cache), 'binary-record');
    expect(await readSnapshot(file, T0, recordingLog())).toStrictEqual([
      { md5: md5Of(1), storedAt: T0, ttlMs: TTL_SIGNED, verdict: signed },
      { md5: md5Of(2), storedAt: T0, ttlMs: TTL_UNKNOWN, verdict: UnknownBinary.instance },
    ]);
  });

  it('includes expired entries, oldest first, and leaves reads as they were', async () => {
    const { cache, advance } = cacheAt(T0);
    cache.set(md5Of(1), unsigned);
    advance(2 * TTL_UNSIGNED);
    cache.set(md5Of(2), UnknownBinary.instance);
    // Expired entries are part of the snapshot: they are the stale-if-error reserve.
    expect(snapshotFromCache(cache).map((e) => e.md5)).toEqual([md5Of(1), md5Of(2)]);
    expect((await snapshotFromCacheInSlices(cache)).map((e) => e.md5)).toEqual([md5Of(1), md5Of(2)]);
    // allowStale was put back: a fresh read still refuses the expired entry.
    expect(cache.getFresh(md5Of(1))).toBeUndefined();
    expect(cache.getFresh(md5Of(2))).toBe(UnknownBinary.instance);
  });

  it('in slices, gives what the one-go version gives, and copes with changes between slices', async () => {
    const { cache, advance } = cacheAt(T0, 1000);
    for (let i = 0; i < 1000; i++) {
      cache.set(md5Of(i), binaryVerdictOf(i, interner));
      advance(1000);
    }
    expect(await snapshotFromCacheInSlices(cache, 7)).toEqual(snapshotFromCache(cache));

    const pending = snapshotFromCacheInSlices(cache, 100);
    // The first slice is read at once; these land between slices.
    const renewed = new DatedSignature(git, 1_700_000_000);
    cache.delete(md5Of(500));
    cache.set(md5Of(600), renewed);
    cache.set(md5Of(5000), unsigned);
    const entries = await pending;
    const md5s = entries.map((e) => e.md5);
    expect(md5s).toHaveLength(999);
    expect(md5s).not.toContain(md5Of(500));
    expect(md5s).not.toContain(md5Of(5000));
    expect(entries.find((e) => e.md5 === md5Of(600))).toMatchObject({ verdict: renewed, storedAt: T0 + 1_000_000, ttlMs: TTL_SIGNED });
    expect(entries.find((e) => e.md5 === md5Of(600))!.verdict).toBe(renewed);
  });
});
