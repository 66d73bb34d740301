import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSnapshot, writeSnapshot } from '../../src/signing/cache-snapshot.js';
import { SignatureInterner } from '../../src/signing/signature-interner.js';
import { DatedSignature, JoinedSignature, SignatureFacts, UnknownBinary, type CachedVerdict } from '../../src/signing/verdict.js';
import { binaryVerdictOf, joinedPopulation, md5Of, population, PUBLISHERS, recordingLog, signedAtOf, tempDir, TTL } from './support.js';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const COUNT = 1_000_000;

let dir: string;
let cleanup: () => Promise<void>;
beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
});
afterEach(async () => {
  await cleanup();
});

function factsOf(verdict: CachedVerdict): SignatureFacts | undefined {
  if (verdict instanceof SignatureFacts) return verdict;
  if (verdict instanceof DatedSignature) return verdict.facts;
  return undefined;
}

describe('a million entries', () => {
  it('binary-record: round-trip through the file, facts shared', { timeout: 120_000 }, async () => {
    const entries = population(COUNT, NOW, 1);
    const file = join(dir, 'snapshot');
    const started = performance.now();
    await writeSnapshot(file, entries, 'binary-record');
    const written = performance.now();
    const log = recordingLog();
    // The unknown entries older than their 10 minutes are kept as stale (the default stale-if-error day).
    const back = await readSnapshot(file, NOW, log, { staleWindowMs: 86_400_000 });
    const read = performance.now();
    // Counts and contents, not times, are asserted; the times are printed for the record.
    const { size } = await stat(file);
    console.log(
      `1M-entry binary-record snapshot (${(size / 1024 / 1024).toFixed(1)} MiB): ` +
        `write ${Math.round(written - started)} ms, read ${Math.round(read - written)} ms`,
    );
    expect(log.warnings).toEqual([]);
    expect(back).toHaveLength(COUNT);

    // Every entry as written, by field (a deep equal of a million would take longer than the round trip).
    // The read facts must map one-to-one onto the written ones: shared exactly as much, never merged.
    const readFor = new Map<SignatureFacts, SignatureFacts>();
    const writtenFor = new Map<SignatureFacts, SignatureFacts>();
    let mismatches = 0;
    let dated = 0;
    let own = 0;
    for (let i = 0; i < COUNT; i++) {
      const a = entries[i]!;
      const b = back[i]!;
      if (b.md5 !== a.md5 || b.storedAt !== a.storedAt || b.ttlMs !== a.ttlMs || b.verdict.constructor !== a.verdict.constructor) {
        mismatches++;
        continue;
      }
      if (a.verdict instanceof DatedSignature && (b.verdict as DatedSignature).signedAtSeconds !== a.verdict.signedAtSeconds) mismatches++;
      if (a.verdict instanceof DatedSignature) dated++;
      else if (a.verdict instanceof SignatureFacts) own++;
      const fa = factsOf(a.verdict);
      const fb = factsOf(b.verdict);
      if (fa === undefined || fb === undefined) {
        if (b.verdict !== UnknownBinary.instance || a.verdict !== UnknownBinary.instance) mismatches++;
        continue;
      }
      if ((readFor.get(fa) ?? fb) !== fb || (writtenFor.get(fb) ?? fa) !== fa) mismatches++;
      readFor.set(fa, fb);
      writtenFor.set(fb, fa);
    }
    expect(mismatches).toBe(0);
    expect(readFor.size).toBe(11);
    // Facts themselves (f:) for the first binary of each signature and every `Unsigned` one, the rest d: lines.
    expect(own).toBe(10 + COUNT / 10);
    expect(dated).toBe(COUNT - COUNT / 10 - own);
    // Strict: each signature's fields and its own signing time (the first binary's) came back.
    for (const [fa, fb] of readFor) expect(fb).toStrictEqual(fa);

    // 333_333 is signed by Apple (git); the first binary of that signature is the 6th, whose time its facts keep.
    const [publisher, issuer, subject, programName] = PUBLISHERS[1]!;
    expect(binaryVerdictOf(6, new SignatureInterner())).toStrictEqual(
      new SignatureFacts('Signed', publisher, issuer, subject, programName, signedAtOf(6)),
    );
    expect(back[6]!.verdict).toStrictEqual(new SignatureFacts('Signed', publisher, issuer, subject, programName, signedAtOf(6)));
    expect(back[333_333]).toStrictEqual({
      md5: md5Of(333_333),
      storedAt: NOW - 666_667,
      ttlMs: TTL.signed,
      verdict: new DatedSignature(
        new SignatureFacts('Signed', publisher, issuer, subject, programName, signedAtOf(6)),
        signedAtOf(333_333),
      ),
    });
    expect((back[333_333]!.verdict as DatedSignature).facts).toBe(back[6]!.verdict);
    expect(back[999_990]!.verdict).toBe(UnknownBinary.instance);
    expect(back[999_991]!.verdict).toBeInstanceOf(SignatureFacts);
    expect(back[999_991]!.verdict).toBe(back[1]!.verdict);
    expect(back[999_992]!.verdict).toStrictEqual(entries[999_992]!.verdict);
    expect(back[999_992]!.verdict).toBeInstanceOf(DatedSignature);
    // A record without a signing time, on shared facts: d: with an empty time.
    expect(back[999_999]!.verdict).toStrictEqual(entries[999_999]!.verdict);
    expect((back[999_999]!.verdict as DatedSignature).signedAtSeconds).toBeNull();
  });

  it('joined-search: round-trip through the file', { timeout: 120_000 }, async () => {
    const entries = joinedPopulation(COUNT, NOW, 1);
    const file = join(dir, 'snapshot');
    const started = performance.now();
    await writeSnapshot(file, entries, 'joined-search');
    const written = performance.now();
    const log = recordingLog();
    const back = await readSnapshot(file, NOW, log, { basis: 'joined-search' });
    const read = performance.now();
    console.log(`1M-entry joined-search snapshot: write ${Math.round(written - started)} ms, read ${Math.round(read - written)} ms`);
    expect(log.warnings).toEqual([]);
    expect(back).toHaveLength(COUNT);
    expect(back[0]).toEqual(entries[0]);
    expect(back[999_999]).toStrictEqual(entries[999_999]);
    expect(back[333_333]).toEqual({ md5: md5Of(333_333), storedAt: NOW - 666_667, ttlMs: TTL.unsigned, verdict: 'tool-333333.exe' });
    expect(back[333_334]).toStrictEqual({
      md5: md5Of(333_334),
      storedAt: NOW - 666_666,
      ttlMs: TTL.signed,
      verdict: new JoinedSignature('tool-333334.exe'),
    });
  });
});
