import { execFileSync } from 'node:child_process';
import { readdir, readFile, stat, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { crc32 } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  LEGACY_SNAPSHOT_VERSION,
  loadCacheSnapshot,
  readSnapshot,
  SNAPSHOT_VERSION,
  writeSnapshot,
} from '../../src/signing/cache-snapshot.js';
import type { SnapshotEntry } from '../../src/signing/cache-snapshot.js';
import { SignatureInterner } from '../../src/signing/signature-interner.js';
import {
  DatedSignature,
  JoinedSignature,
  SignatureFacts,
  UnknownBinary,
  verdictKind,
  type CachedVerdict,
  type VerdictBasis,
} from '../../src/signing/verdict.js';
import { VerdictCache } from '../../src/signing/verdict-cache.js';
import { CORRUPT_WARNING, joinedPopulation, md5Of, population, recordingLog, SKIPPED_WARNING, tempDir } from './support.js';

const NOW = Date.UTC(2026, 10, 27, 12, 0, 0);
const HOUR = 3_600_000;

/** Characters the API refuses, JSON-special ones, non-ASCII and an emoji: all must survive a line. */
const WEIRD = 'we\tird\n"na\\me" é 漢字 🎉 \u0000 \u2028';
/** digsig_sign_time of the seed's git binary (2017-03-28T04:14:06Z), epoch seconds: the time its facts keep. */
const GIT_SIGNED_AT = 1_490_674_446;
/** The facts JSON of the seed's git binary, as the writer puts it on a line (no colon in it). */
/** The seed's git binary as a backend reads its record. */
const GIT_RECORD = {
  digsigResult: 'Signed',
  publisher: 'Apple Inc.',
  issuer: 'Apple Code Signing Certification Authority',
  subject: 'Software Signing',
  programName: 'git',
  signedAtMs: GIT_SIGNED_AT * 1000,
} as const;
const GIT_JSON = '["Signed","Apple Inc.","Apple Code Signing Certification Authority","Software Signing","git",1490674446]';

let dir: string;
let cleanup: () => Promise<void>;
let file: string;
let interner: SignatureInterner;
let git: SignatureFacts;

beforeEach(async () => {
  ({ dir, cleanup } = await tempDir());
  file = join(dir, 'cache.snapshot');
  interner = new SignatureInterner();
  git = interner.facts('Signed', 'Apple Inc.', 'Apple Code Signing Certification Authority', 'Software Signing', 'git', GIT_SIGNED_AT);
});
afterEach(async () => {
  await cleanup();
});

function factsOf(verdict: CachedVerdict): SignatureFacts | undefined {
  if (verdict instanceof SignatureFacts) return verdict;
  if (verdict instanceof DatedSignature) return verdict.facts;
  return undefined;
}

function header(count: number, basis: string = 'binary-record'): string {
  return `signet-cache-snapshot\t${LEGACY_SNAPSHOT_VERSION}\t${count}\t${basis}`;
}

/** A file of the given lines, each followed by a newline. */
async function writeLines(lines: ReadonlyArray<string | Buffer>): Promise<void> {
  await writeFile(file, Buffer.concat(lines.flatMap((line) => [Buffer.from(line), Buffer.from('\n')])));
}

/** An entry as the version-2 line the previous release wrote for it: the upgrade path's input. */
function legacyLine(entry: SnapshotEntry): string {
  const facts = (f: SignatureFacts): string =>
    JSON.stringify([f.status, f.publisher, f.issuer, f.subject, f.programName, f.signedAtSeconds]);
  const { verdict } = entry;
  const text =
    verdict instanceof UnknownBinary
      ? 'u'
      : verdict instanceof SignatureFacts
        ? `f:${facts(verdict)}`
        : verdict instanceof DatedSignature
          ? `d:${verdict.signedAtSeconds ?? ''}:${facts(verdict.facts)}`
          : verdict instanceof JoinedSignature
            ? `s:${JSON.stringify(verdict.matchedName)}`
            : `n:${JSON.stringify(verdict)}`;
  return `${entry.md5}\t${entry.storedAt}\t${entry.ttlMs}\t${text}`;
}

/** A version-2 file of these entries. */
async function writeLegacy(entries: readonly SnapshotEntry[], basis: VerdictBasis = 'binary-record'): Promise<void> {
  await writeLines([header(entries.length, basis), ...entries.map(legacyLine)]);
}

/** Offsets (in the file) of a version-3 file's columns, and its counts. */
interface Layout {
  body: number;
  n: number;
  values: number;
  storedAt: number;
  ttlMs: number;
  seconds: number;
  valueSeconds: number;
  refs: number;
  valueFields: number;
  forms: number;
  keys: number;
  strings: number;
  stringBytes: number;
  checksum: number;
}

/** Where a version-3 file's columns are (the layout the format comment gives), from its own counts. */
function layoutOf(bytes: Buffer): Layout {
  const body = bytes.indexOf(0x0a) + 1;
  const [n, values, , stringBytes, keyBytes] = [0, 1, 2, 3, 4].map((i) => bytes.readUInt32LE(body + 4 * i)) as number[];
  const align8 = (offset: number) => Math.ceil(offset / 8) * 8;
  const storedAt = body + 24;
  const ttlMs = storedAt + 8 * n!;
  const seconds = ttlMs + 8 * n!;
  const valueSeconds = seconds + 8 * n!;
  const refs = valueSeconds + 8 * values!;
  const valueFields = refs + 4 * n!;
  const forms = body + align8(valueFields - body + 20 * values!);
  const keys = body + align8(forms - body + n!);
  const strings = body + align8(keys - body + keyBytes!);
  const checksum = body + align8(strings - body + stringBytes!);
  return {
    body,
    n: n!,
    values: values!,
    storedAt,
    ttlMs,
    seconds,
    valueSeconds,
    refs,
    valueFields,
    forms,
    keys,
    strings,
    stringBytes: stringBytes!,
    checksum,
  };
}

/** Rewrites the checksum after a deliberate change, so that only the structure checks can refuse the file. */
function withChecksum(bytes: Buffer): Buffer {
  const { body, checksum } = layoutOf(bytes);
  bytes.writeUInt32LE(crc32(bytes.subarray(body, checksum)), checksum);
  return bytes;
}

describe('snapshot file', () => {
  it('round-trips every binary-record entry kind, with storage times and lifetimes', async () => {
    const noTime = interner.facts('Signed', 'No Time Corp', null, null, 'tool', null);
    const entries: SnapshotEntry[] = [
      // A binary sharing git's facts, with its own signing time (d:).
      { md5: md5Of(1), storedAt: NOW - 5 * HOUR, ttlMs: 24 * HOUR, verdict: new DatedSignature(git, 1_500_000_000) },
      // A record without a signing time, its facts alone (f:, null time).
      { md5: md5Of(2), storedAt: NOW - 10 * 60_000, ttlMs: HOUR, verdict: interner.facts('Unsigned', null, null, null, null, null) },
      { md5: md5Of(3), storedAt: NOW - 1, ttlMs: 10 * 60_000, verdict: UnknownBinary.instance },
      {
        md5: md5Of(4),
        storedAt: NOW,
        ttlMs: HOUR,
        verdict: new DatedSignature(
          interner.facts('Expired', 'Legacy Corp', 'Old CA', 'Legacy Corp', 'Legacy VPN', 1_262_304_000),
          1_262_390_400,
        ),
      },
      // Every field of the signature full of characters that could break a line or its JSON.
      {
        md5: md5Of(5),
        storedAt: NOW,
        ttlMs: HOUR,
        verdict: interner.facts('Signed', WEIRD, `${WEIRD} CA`, 'CN="Quoted, Inc.", O=\\back\\slash: yes', WEIRD, 1_600_000_000),
      },
      { md5: md5Of(6), storedAt: NOW, ttlMs: HOUR, verdict: interner.facts('Signed', 'naïve-ü', '漢字', '🎉🎉', 'Zoë’s Tool', null) },
      // Longer than the write buffer: written on its own.
      { md5: md5Of(7), storedAt: NOW, ttlMs: HOUR, verdict: interner.facts('Signed', 'Big Corp', null, null, 'x'.repeat(600_000), 1) },
      {
        md5: md5Of(8),
        storedAt: NOW,
        ttlMs: HOUR,
        verdict: new DatedSignature(interner.facts('Signed', 'Emoji Corp', null, null, '🎉'.repeat(300_000), 2), 3),
      },
      // d: signing times the format allows that entryFor would rarely make: the epoch, before it, the largest, none.
      { md5: md5Of(9), storedAt: NOW, ttlMs: HOUR, verdict: new DatedSignature(git, 0) },
      { md5: md5Of(10), storedAt: NOW, ttlMs: HOUR, verdict: new DatedSignature(git, -86_400) },
      { md5: md5Of(11), storedAt: NOW, ttlMs: HOUR, verdict: new DatedSignature(git, Number.MAX_SAFE_INTEGER) },
      { md5: md5Of(12), storedAt: NOW, ttlMs: HOUR, verdict: new DatedSignature(git, -Number.MAX_SAFE_INTEGER) },
      { md5: md5Of(13), storedAt: NOW, ttlMs: HOUR, verdict: new DatedSignature(git, null) },
      // The same for the facts' own time (f:). A status nobody has listed yet (unsigned) and empty strings, which are not nulls.
      { md5: md5Of(14), storedAt: NOW, ttlMs: HOUR, verdict: interner.facts('Some Future Status', '', '', '', '', 0) },
      { md5: md5Of(15), storedAt: NOW, ttlMs: HOUR, verdict: interner.facts('Signed', null, null, null, null, -86_400) },
      {
        md5: md5Of(16),
        storedAt: NOW,
        ttlMs: HOUR,
        verdict: interner.facts('Signed', 'Far Future', null, null, null, Number.MAX_SAFE_INTEGER),
      },
      {
        md5: md5Of(17),
        storedAt: NOW,
        ttlMs: HOUR,
        verdict: interner.facts('Signed', 'Far Past', null, null, null, -Number.MAX_SAFE_INTEGER),
      },
      // git's facts themselves, and a d: line on facts whose own time is null, or negative.
      { md5: md5Of(18), storedAt: NOW, ttlMs: HOUR, verdict: git },
      { md5: md5Of(19), storedAt: NOW, ttlMs: HOUR, verdict: new DatedSignature(noTime, 1_700_000_000) },
      {
        md5: md5Of(20),
        storedAt: NOW,
        ttlMs: HOUR,
        verdict: new DatedSignature(interner.facts('Expired', 'Old Corp', null, null, null, -1), 0),
      },
      // A DatedSignature with the same (null) time as its facts, which entryFor would not make: it stays one.
      { md5: md5Of(21), storedAt: NOW, ttlMs: HOUR, verdict: new DatedSignature(noTime, null) },
      { md5: md5Of(22), storedAt: 0, ttlMs: Number.MAX_SAFE_INTEGER, verdict: new DatedSignature(git, 1) },
    ];
    await writeSnapshot(file, entries, 'binary-record');
    const log = recordingLog();
    const back = await readSnapshot(file, NOW, log);
    expect(log.warnings).toEqual([]);
    // Strict: the classes must come back too (a SignatureFacts is not a DatedSignature), with both signing times.
    expect(back).toStrictEqual(entries);
    expect(back.map((e) => verdictKind(e.verdict))).toEqual(entries.map((e) => verdictKind(e.verdict)));
    const verdict = (i: number): CachedVerdict => back.find((e) => e.md5 === md5Of(i))!.verdict;
    expect(verdict(3)).toBe(UnknownBinary.instance);
    expect(verdict(1)).not.toBe(entries[0]!.verdict);
    expect(factsOf(verdict(1))).not.toBe(git);
    // git's facts come back once, shared by its f: line and every d: line on it.
    for (const i of [9, 10, 11, 12, 13, 18, 22]) expect(factsOf(verdict(i)), String(i)).toBe(factsOf(verdict(1)));
    expect(verdict(18)).toBe(factsOf(verdict(1)));
    expect(factsOf(verdict(21))).toBe(factsOf(verdict(19)));
    expect((verdict(7) as SignatureFacts).programName).toHaveLength(600_000);
    expect((verdict(5) as SignatureFacts).kind).toBe('signed');
    expect((verdict(14) as SignatureFacts).kind).toBe('unsigned');
    expect((verdict(4) as DatedSignature).facts.kind).toBe('unsigned');
  });

  it('round-trips every joined-search entry kind, names of any content', async () => {
    const names = [
      'git',
      'tool.exe',
      WEIRD,
      '',
      'naïve-ü.exe',
      '\ud800 lone surrogate',
      '"quoted"',
      'back\\slash',
      'x'.repeat(600_000),
      '🎉'.repeat(300_000),
    ];
    const entries: SnapshotEntry[] = names.flatMap((name, i) => [
      { md5: md5Of(2 * i), storedAt: NOW - i, ttlMs: 24 * HOUR, verdict: new JoinedSignature(name) },
      { md5: md5Of(2 * i + 1), storedAt: NOW - i, ttlMs: HOUR, verdict: name },
    ]);
    await writeSnapshot(file, entries, 'joined-search');
    const log = recordingLog();
    const back = await readSnapshot(file, NOW, log, { basis: 'joined-search' });
    expect(log.warnings).toEqual([]);
    expect(back).toStrictEqual(entries);
    expect(back.map((e) => verdictKind(e.verdict))).toEqual(entries.map((e) => verdictKind(e.verdict)));
  });

  it('writes a versioned header with its basis and one line per entry', async () => {
    const unsigned = interner.facts('Unsigned', null, null, null, null, null);
    await writeSnapshot(
      file,
      [
        { md5: md5Of(1), storedAt: NOW, ttlMs: HOUR, verdict: new DatedSignature(git, 1_500_000_000) },
        { md5: md5Of(2), storedAt: NOW, ttlMs: HOUR, verdict: unsigned },
        { md5: md5Of(3), storedAt: NOW, ttlMs: HOUR, verdict: UnknownBinary.instance },
        { md5: md5Of(4), storedAt: NOW, ttlMs: HOUR, verdict: new DatedSignature(git, -5) },
        { md5: md5Of(5), storedAt: NOW, ttlMs: HOUR, verdict: interner.facts('Signed', 'A\tB', null, '"C"', null, 7) },
        { md5: md5Of(6), storedAt: NOW, ttlMs: HOUR, verdict: git },
        { md5: md5Of(7), storedAt: NOW, ttlMs: HOUR, verdict: new DatedSignature(git, null) },
        { md5: md5Of(8), storedAt: NOW, ttlMs: HOUR, verdict: new DatedSignature(unsigned, 0) },
        { md5: md5Of(9), storedAt: NOW, ttlMs: HOUR, verdict: interner.facts('Expired', 'Old', null, null, 'Old: Tool', -86_400) },
        { md5: md5Of(10), storedAt: NOW, ttlMs: HOUR, verdict: new DatedSignature(git, Number.MAX_SAFE_INTEGER) },
        {
          md5: md5Of(11),
          storedAt: NOW,
          ttlMs: HOUR,
          verdict: interner.facts('Signed', 'Far', null, null, null, -Number.MAX_SAFE_INTEGER),
        },
      ],
      'binary-record',
    );
    const bytes = await readFile(file);
    expect(SNAPSHOT_VERSION).toBe(3);
    expect(bytes.subarray(0, bytes.indexOf(0x0a)).toString()).toBe('signet-cache-snapshot\t3\t11\tbinary-record');
    const layout = layoutOf(bytes);
    expect(layout.n).toBe(11);
    // git, unsigned, the tab one, Old and Far: five values, however many entries point at them.
    expect(layout.values).toBe(5);
    // Each string once: git's issuer is in three entries' signatures, one copy in the file.
    const count = (text: string): number => bytes.toString('latin1').split(Buffer.from(text).toString('latin1')).length - 1;
    expect(count('Apple Code Signing Certification Authority')).toBe(1);
    expect(JSON.parse(bytes.toString('utf8', layout.strings, layout.strings + layout.stringBytes))).toContain('A\tB');
    // Keys in binary, md5 after md5; forms 2 (dated), 1 (facts), 0 (unknown).
    expect(bytes.subarray(layout.keys, layout.keys + 32)).toEqual(Buffer.from(md5Of(1) + md5Of(2), 'hex'));
    expect([...bytes.subarray(layout.forms, layout.forms + 4)]).toEqual([2, 1, 0, 2]);
    expect(bytes.readDoubleLE(layout.storedAt)).toBe(NOW);
    expect(bytes.readDoubleLE(layout.ttlMs)).toBe(HOUR);
    expect(bytes.readDoubleLE(layout.seconds)).toBe(1_500_000_000);
    expect(bytes.readDoubleLE(layout.seconds + 8 * 6)).toBeNaN();
    expect(bytes.readUInt32LE(layout.checksum)).toBe(crc32(bytes.subarray(layout.body, layout.checksum)));
    expect(layout.checksum + 4).toBe(bytes.length);
    expect((await stat(file)).mode & 0o777).toBe(0o600);

    const joined: SnapshotEntry[] = [
      { md5: md5Of(1), storedAt: NOW, ttlMs: HOUR, verdict: new JoinedSignature('git') },
      { md5: md5Of(2), storedAt: NOW, ttlMs: HOUR, verdict: 'tool "x".exe' },
      { md5: md5Of(3), storedAt: NOW, ttlMs: HOUR, verdict: 'git' },
    ];
    await writeSnapshot(file, joined, 'joined-search');
    const text = await readFile(file);
    expect(text.subarray(0, text.indexOf(0x0a)).toString()).toBe('signet-cache-snapshot\t3\t3\tjoined-search');
    const { strings, stringBytes, forms, values } = layoutOf(text);
    expect(values).toBe(0);
    expect(JSON.parse(text.toString('utf8', strings, strings + stringBytes))).toEqual(['git', 'tool "x".exe']);
    expect([...text.subarray(forms, forms + 3)]).toEqual([4, 5, 5]);
    expect(await readSnapshot(file, NOW, recordingLog(), { basis: 'joined-search' })).toStrictEqual(joined);
  });

  it("reads a version-2 file (the previous release's) as it was written: the first start after an upgrade is warm", async () => {
    const entries = population(2000, NOW, 1);
    await writeLegacy(entries);
    const log = recordingLog();
    expect(await readSnapshot(file, NOW, log, { staleWindowMs: 1e12 })).toStrictEqual(entries);
    expect(log.warnings).toEqual([]);
    const joined = joinedPopulation(300, NOW, 1);
    await writeLegacy(joined, 'joined-search');
    expect(await readSnapshot(file, NOW, log, { basis: 'joined-search', staleWindowMs: 1e12 })).toStrictEqual(joined);
    expect(log.warnings).toEqual([]);
  });

  it('reads back facts shared: one SignatureFacts per distinct facts text, never merging two own times', async () => {
    const apple = '["Signed","Apple Inc.",null,null,"git",100]';
    await writeLines([
      header(8),
      `${md5Of(1)}\t${NOW}\t${HOUR}\td:1:${apple}`,
      `${md5Of(2)}\t${NOW}\t${HOUR}\td::${apple}`,
      // The facts themselves, on their own line: the same object the d: lines point at.
      `${md5Of(3)}\t${NOW}\t${HOUR}\tf:${apple}`,
      `${md5Of(4)}\t${NOW}\t${HOUR}\td:3:["Signed","Apple Inc.",null,null,"Git",100]`,
      `${md5Of(5)}\t${NOW}\t${HOUR}\td:4:["Signed","Apple Inc.",null,"","git",100]`,
      // The same signature with another own time: other facts, or a binary would be served another's signing time.
      `${md5Of(6)}\t${NOW}\t${HOUR}\td:5:["Signed","Apple Inc.",null,null,"git",101]`,
      `${md5Of(7)}\t${NOW}\t${HOUR}\tf:["Signed","Apple Inc.",null,null,"git",null]`,
      // The same values spelled differently in JSON: read as equal facts.
      `${md5Of(8)}\t${NOW}\t${HOUR}\td:6:["Signed","\\u0041pple Inc.",null,null,"git",100]`,
    ]);
    const log = recordingLog();
    const back = (await readSnapshot(file, NOW, log)).map((e) => e.verdict);
    expect(log.warnings).toEqual([]);
    const [a, b, c, d, e, f, g, h] = back.map(factsOf);
    expect(back[0]).toBeInstanceOf(DatedSignature);
    expect(back[1]).toBeInstanceOf(DatedSignature);
    expect(back[2]).toBeInstanceOf(SignatureFacts);
    expect(back[6]).toBeInstanceOf(SignatureFacts);
    expect(b).toBe(a);
    expect(c).toBe(a);
    expect(back[2]).toBe(a);
    for (const other of [d, e, f, g]) expect(other).not.toBe(a);
    expect(new Set([d, e, f, g]).size).toBe(4);
    expect(a).toStrictEqual(new SignatureFacts('Signed', 'Apple Inc.', null, null, 'git', 100));
    expect(f).toStrictEqual(new SignatureFacts('Signed', 'Apple Inc.', null, null, 'git', 101));
    expect(g).toStrictEqual(new SignatureFacts('Signed', 'Apple Inc.', null, null, 'git', null));
    expect(h).toStrictEqual(a);
    expect(back.map((v) => (v instanceof DatedSignature ? v.signedAtSeconds : 'own'))).toEqual([1, null, 'own', 3, 4, 5, 'own', 6]);
  });

  it('version 3, with an interner: restored facts become its shared facts, unless it has facts for that signature already', async () => {
    const live = new SignatureInterner();
    const known = live.facts('Expired', 'Legacy Corp', null, null, 'Legacy VPN', 7);
    const vpn = interner.facts('Expired', 'Legacy Corp', null, null, 'Legacy VPN', 8);
    const unsigned = interner.facts('Unsigned', null, null, null, null, null);
    await writeSnapshot(
      file,
      [
        { md5: md5Of(1), storedAt: NOW, ttlMs: HOUR, verdict: new DatedSignature(git, 1_500_000_000) },
        { md5: md5Of(2), storedAt: NOW, ttlMs: HOUR, verdict: git },
        { md5: md5Of(3), storedAt: NOW, ttlMs: HOUR, verdict: new DatedSignature(vpn, 9) },
        { md5: md5Of(4), storedAt: NOW, ttlMs: HOUR, verdict: unsigned },
      ],
      'binary-record',
    );
    const back = (await readSnapshot(file, NOW, recordingLog(), { interner: live })).map((e) => e.verdict);
    const restoredGit = back[1] as SignatureFacts;
    expect(restoredGit).toStrictEqual(git);
    expect(restoredGit).not.toBe(git);
    expect(factsOf(back[0]!)).toBe(restoredGit);
    expect(live.entryFor({ ...GIT_RECORD, signedAtMs: 1_000 })).toStrictEqual(new DatedSignature(restoredGit, 1));
    expect((live.entryFor({ ...GIT_RECORD, signedAtMs: 1_000 }) as DatedSignature).facts).toBe(restoredGit);
    expect(live.facts('Unsigned', null, null, null, null, null)).toBe(back[3]);
    expect(factsOf(back[2]!)).toStrictEqual(vpn);
    expect(live.facts('Expired', 'Legacy Corp', null, null, 'Legacy VPN', 8)).toBe(known);
  });

  it('version 3, more signatures than the interner remembers: those several entries share go in first', async () => {
    // Room for 3: two signatures shared by several binaries, four carried by one binary each.
    const live = new SignatureInterner(3);
    const shared = [0, 1].map((i) => interner.facts('Signed', `Vendor ${i}`, null, null, null, null));
    const single = [0, 1, 2, 3].map((i) => interner.facts('Signed', 'Vendor 0', null, null, `tool-${i}.exe`, i));
    const entries: SnapshotEntry[] = [
      // The shared ones first (least recently used): an LRU fed in file order would forget them.
      ...shared.flatMap((facts, i) =>
        [0, 1, 2].map((j) => ({ md5: md5Of(10 * i + j), storedAt: NOW, ttlMs: HOUR, verdict: new DatedSignature(facts, j) })),
      ),
      ...single.map((facts, i) => ({ md5: md5Of(100 + i), storedAt: NOW, ttlMs: HOUR, verdict: facts })),
    ];
    await writeSnapshot(file, entries, 'binary-record');
    const back = (await readSnapshot(file, NOW, recordingLog(), { interner: live })).map((e) => e.verdict);
    expect(back).toHaveLength(10);
    // Both shared signatures are the interner's, and the most recently used single one with the room left.
    expect(live.facts('Signed', 'Vendor 0', null, null, null, 5)).toBe(factsOf(back[0]!));
    expect(live.facts('Signed', 'Vendor 1', null, null, null, 5)).toBe(factsOf(back[3]!));
    expect(live.facts('Signed', 'Vendor 0', null, null, 'tool-3.exe', 5)).toBe(back[9]);
    expect(live.facts('Signed', 'Vendor 0', null, null, 'tool-0.exe', 5)).not.toBe(back[6]);
  });

  it('version 3, through a pipe (whose size is unknown): read to its end', async () => {
    const entries = population(500, NOW);
    await writeSnapshot(file, entries, 'binary-record');
    const bytes = await readFile(file);
    const fifo = join(dir, 'pipe');
    execFileSync('mkfifo', [fifo]);
    const [back] = await Promise.all([readSnapshot(fifo, NOW, recordingLog(), { staleWindowMs: 1e12 }), writeFile(fifo, bytes)]);
    expect(back).toStrictEqual(entries);
  });

  it('version 2, with an interner, restored facts become its shared facts, unless it has facts for that signature already', async () => {
    const live = new SignatureInterner();
    const known = live.facts('Expired', 'Legacy Corp', null, null, 'Legacy VPN', 7);
    await writeLines([
      header(4),
      `${md5Of(1)}\t${NOW}\t${HOUR}\td:1500000000:${GIT_JSON}`,
      `${md5Of(2)}\t${NOW}\t${HOUR}\tf:${GIT_JSON}`,
      `${md5Of(3)}\t${NOW}\t${HOUR}\td:9:["Expired","Legacy Corp",null,null,"Legacy VPN",8]`,
      `${md5Of(4)}\t${NOW}\t${HOUR}\tf:["Unsigned",null,null,null,null,null]`,
    ]);
    const back = (await readSnapshot(file, NOW, recordingLog(), { interner: live })).map((e) => e.verdict);
    expect(back).toHaveLength(4);
    const restoredGit = back[1] as SignatureFacts;
    expect(restoredGit).toStrictEqual(git);
    expect(restoredGit).not.toBe(git);
    expect(factsOf(back[0]!)).toBe(restoredGit);
    expect(live.facts('Signed', 'Apple Inc.', 'Apple Code Signing Certification Authority', 'Software Signing', 'git', 1)).toBe(
      restoredGit,
    );
    expect(live.facts('Unsigned', null, null, null, null, null)).toBe(back[3]);
    // Facts the interner had before stay its facts; the entry keeps the facts as written, own time included.
    const restoredVpn = factsOf(back[2]!);
    expect(restoredVpn).toStrictEqual(new SignatureFacts('Expired', 'Legacy Corp', null, null, 'Legacy VPN', 8));
    expect(live.facts('Expired', 'Legacy Corp', null, null, 'Legacy VPN', 8)).toBe(known);
    // Without one, the facts read are the reader's own.
    const alone = (await readSnapshot(file, NOW, recordingLog())).map((e) => e.verdict);
    expect(alone[1]).not.toBe(restoredGit);
    expect(alone[1]).toStrictEqual(restoredGit);
  });

  it('reads a population back with as many distinct facts as it was written with', async () => {
    const entries = population(2000, NOW, 1);
    await writeSnapshot(file, entries, 'binary-record');
    const back = await readSnapshot(file, NOW, recordingLog());
    expect(back).toStrictEqual(entries);
    const written = new Set(entries.map((e) => factsOf(e.verdict)).filter(Boolean));
    const read = new Set(back.map((e) => factsOf(e.verdict)).filter(Boolean));
    expect(written.size).toBe(11);
    expect(read.size).toBe(written.size);
    // Every read facts object is new (not the writer's), yet shared among the entries that carry it.
    expect([...read].some((facts) => written.has(facts))).toBe(false);
  });

  it('skips entries past their lifetime plus the stale window', async () => {
    const entries: SnapshotEntry[] = [
      { md5: md5Of(1), storedAt: NOW - 2 * HOUR, ttlMs: HOUR, verdict: new DatedSignature(git, 5) }, // expired an hour ago
      { md5: md5Of(2), storedAt: NOW - 30 * 60_000, ttlMs: HOUR, verdict: UnknownBinary.instance }, // fresh
      { md5: md5Of(3), storedAt: NOW - 4 * HOUR, ttlMs: HOUR, verdict: git }, // expired three hours ago
      { md5: md5Of(4), storedAt: NOW - HOUR, ttlMs: HOUR, verdict: UnknownBinary.instance }, // expires right now
    ];
    await writeSnapshot(file, entries, 'binary-record');
    const log = recordingLog();
    expect((await readSnapshot(file, NOW, log)).map((e) => e.md5)).toEqual([md5Of(2), md5Of(4)]);
    expect((await readSnapshot(file, NOW, log, { staleWindowMs: 2 * HOUR })).map((e) => e.md5)).toEqual([md5Of(1), md5Of(2), md5Of(4)]);
    expect(log.warnings).toEqual([]);
  });

  it('refuses to write an entry it could not read back', async () => {
    const facts = (signedAtSeconds: number): SignatureFacts =>
      new SignatureFacts('Signed', 'Bad Time Corp', null, null, null, signedAtSeconds);
    const badTimes = [
      1.5,
      -0.5,
      Number.NaN,
      Number.POSITIVE_INFINITY,
      Number.NEGATIVE_INFINITY,
      1e20,
      Number.MAX_SAFE_INTEGER + 1,
      -Number.MAX_SAFE_INTEGER - 1,
    ];
    const cases: Array<[SnapshotEntry, VerdictBasis]> = [
      [{ md5: 'short', storedAt: NOW, ttlMs: HOUR, verdict: git }, 'binary-record'],
      [{ md5: md5Of(1), storedAt: NOW + 0.5, ttlMs: HOUR, verdict: git }, 'binary-record'],
      [{ md5: md5Of(1), storedAt: NOW, ttlMs: 0, verdict: UnknownBinary.instance }, 'binary-record'],
      [{ md5: md5Of(1), storedAt: -1, ttlMs: HOUR, verdict: UnknownBinary.instance }, 'binary-record'],
      // Signing times the reader refuses: a d: line's own, the facts' own in f: and in d: lines.
      ...badTimes.flatMap((time): Array<[SnapshotEntry, VerdictBasis]> => [
        [{ md5: md5Of(1), storedAt: NOW, ttlMs: HOUR, verdict: new DatedSignature(git, time) }, 'binary-record'],
        [{ md5: md5Of(1), storedAt: NOW, ttlMs: HOUR, verdict: facts(time) }, 'binary-record'],
        [{ md5: md5Of(1), storedAt: NOW, ttlMs: HOUR, verdict: new DatedSignature(facts(time), 5) }, 'binary-record'],
        [{ md5: md5Of(1), storedAt: NOW, ttlMs: HOUR, verdict: new DatedSignature(facts(time), null) }, 'binary-record'],
      ]),
      // Entries of the other basis: the reader refuses them in this file.
      [{ md5: md5Of(1), storedAt: NOW, ttlMs: HOUR, verdict: new JoinedSignature('git') }, 'binary-record'],
      [{ md5: md5Of(1), storedAt: NOW, ttlMs: HOUR, verdict: 'git' }, 'binary-record'],
      [{ md5: md5Of(1), storedAt: NOW, ttlMs: HOUR, verdict: UnknownBinary.instance }, 'joined-search'],
      [{ md5: md5Of(1), storedAt: NOW, ttlMs: HOUR, verdict: git }, 'joined-search'],
      [{ md5: md5Of(1), storedAt: NOW, ttlMs: HOUR, verdict: new DatedSignature(git, 5) }, 'joined-search'],
    ];
    expect(cases).toHaveLength(4 + badTimes.length * 4 + 5);
    for (const [bad, basis] of cases) {
      const good: SnapshotEntry = { md5: md5Of(2), storedAt: NOW, ttlMs: HOUR, verdict: basis === 'binary-record' ? git : 'git' };
      const label = JSON.stringify({ md5: bad.md5, basis, verdict: String((bad.verdict as { signedAtSeconds?: number }).signedAtSeconds) });
      const error = await writeSnapshot(file, [good, bad], basis).then(
        () => undefined,
        (caught: unknown) => caught,
      );
      // Refused for the bad entry, not the good one.
      expect(error, label).toBeInstanceOf(TypeError);
      expect((error as TypeError).message, label).toBe(`invalid snapshot entry for ${JSON.stringify(bad.md5)}`);
      expect(await readdir(dir)).toEqual([]);
    }
    // Control: the good entries alone are written, and so are the boundaries of what is refused above.
    await writeSnapshot(
      file,
      [
        { md5: md5Of(2), storedAt: 0, ttlMs: 1, verdict: git },
        {
          md5: md5Of(3),
          storedAt: NOW,
          ttlMs: HOUR,
          verdict: new DatedSignature(facts(-Number.MAX_SAFE_INTEGER), Number.MAX_SAFE_INTEGER),
        },
        { md5: md5Of(4), storedAt: NOW, ttlMs: HOUR, verdict: facts(Number.MAX_SAFE_INTEGER) },
      ],
      'binary-record',
    );
    await writeSnapshot(file, [{ md5: md5Of(2), storedAt: NOW, ttlMs: HOUR, verdict: 'git' }], 'joined-search');
    expect(await readdir(dir)).toEqual(['cache.snapshot']);
  });

  it('dates an entry from the future (clock went backwards) no later than now', async () => {
    await writeSnapshot(file, [{ md5: md5Of(1), storedAt: NOW + HOUR, ttlMs: HOUR, verdict: new DatedSignature(git, 7) }], 'binary-record');
    expect(await readSnapshot(file, NOW, recordingLog())).toStrictEqual([
      { md5: md5Of(1), storedAt: NOW, ttlMs: HOUR, verdict: new DatedSignature(git, 7) },
    ]);
    await writeSnapshot(file, [{ md5: md5Of(2), storedAt: NOW + HOUR, ttlMs: HOUR, verdict: 'x' }], 'joined-search');
    expect(await readSnapshot(file, NOW, recordingLog(), { basis: 'joined-search' })).toEqual([
      { md5: md5Of(2), storedAt: NOW, ttlMs: HOUR, verdict: 'x' },
    ]);
  });

  it.each(['binary-record', 'joined-search'] as const)(
    'an empty %s cache round-trips to an empty file without a warning',
    async (basis) => {
      await writeSnapshot(file, [], basis);
      const bytes = await readFile(file);
      expect(bytes.subarray(0, bytes.indexOf(0x0a) + 1).toString()).toBe(`signet-cache-snapshot\t3\t0\t${basis}\n`);
      // The body of nothing: its header, an empty string table ("[]"), the checksum.
      expect(bytes.length - bytes.indexOf(0x0a) - 1).toBe(24 + 8 + 4);
      const log = recordingLog();
      expect(await readSnapshot(file, NOW, log, { basis })).toEqual([]);
      expect(log.warnings).toEqual([]);
    },
  );
});

describe('an unusable snapshot', () => {
  async function expectWarningAndEmpty(basis: VerdictBasis = 'binary-record'): Promise<Array<{ obj: object; msg: string }>> {
    const log = recordingLog();
    expect(await readSnapshot(file, NOW, log, { basis, staleWindowMs: 1e12 })).toEqual([]);
    expect(log.warnings).toHaveLength(1);
    expect(log.warnings[0]!.obj).toMatchObject({ file });
    expect(log.infos).toEqual([]);
    return log.warnings;
  }

  it('missing: warns and yields nothing', async () => {
    const [warning] = await expectWarningAndEmpty();
    expect(warning!.msg).toMatch(/not found/);
  });

  it('a directory in its place: warns and yields nothing', async () => {
    file = dir;
    await expectWarningAndEmpty();
  });

  it('truncated mid-line (cut in half): warns and yields nothing', async () => {
    await writeSnapshot(file, population(1000, NOW), 'binary-record');
    const { size } = await stat(file);
    await truncate(file, Math.floor(size / 2));
    const [warning] = await expectWarningAndEmpty();
    expect(warning).toEqual({ obj: expect.objectContaining({ reason: expect.stringMatching(/truncated/) }), msg: CORRUPT_WARNING });
  });

  it('version 2, truncated exactly at a line boundary: the header count catches it', async () => {
    await writeLegacy(population(10, NOW));
    const text = await readFile(file, 'utf8');
    const lines = text.split('\n');
    await writeFile(file, `${lines.slice(0, 6).join('\n')}\n`);
    const [warning] = await expectWarningAndEmpty();
    expect(warning).toEqual({ obj: expect.objectContaining({ reason: 'truncated: 5 of 10 entries' }), msg: CORRUPT_WARNING });
  });

  it('version 2, truncated at a line boundary, joined-search: the header count catches it', async () => {
    await writeLegacy(joinedPopulation(10, NOW), 'joined-search');
    const lines = (await readFile(file, 'utf8')).split('\n');
    await writeFile(file, `${lines.slice(0, 8).join('\n')}\n`);
    const [warning] = await expectWarningAndEmpty('joined-search');
    expect(warning!.obj).toMatchObject({ reason: 'truncated: 7 of 10 entries' });
  });

  it('version 2, with lines appended: more entries than the header announced', async () => {
    await writeLegacy(population(3, NOW));
    await writeFile(file, `${await readFile(file, 'utf8')}${md5Of(99)}\t${NOW}\t${HOUR}\tu\n`);
    const [warning] = await expectWarningAndEmpty();
    expect(warning!.obj).toMatchObject({ reason: 'more entries than the header announced' });
  });

  it('version 3, cut short anywhere: the length catches it', async () => {
    await writeSnapshot(file, population(100, NOW), 'binary-record');
    const bytes = await readFile(file);
    const { keys, strings, checksum } = layoutOf(bytes);
    for (const end of [bytes.indexOf(0x0a) + 1, bytes.indexOf(0x0a) + 20, keys, strings + 3, checksum, bytes.length - 1]) {
      await writeFile(file, bytes.subarray(0, end));
      const [warning] = await expectWarningAndEmpty();
      expect(warning, String(end)).toEqual({
        obj: expect.objectContaining({ reason: expect.stringMatching(/^truncated/) }),
        msg: CORRUPT_WARNING,
      });
    }
  });

  it('version 3, with bytes appended: refused', async () => {
    await writeSnapshot(file, population(10, NOW), 'binary-record');
    await writeFile(file, Buffer.concat([await readFile(file), Buffer.alloc(8)]));
    const [warning] = await expectWarningAndEmpty();
    expect(warning!.obj).toMatchObject({ reason: 'bytes after the body' });
  });

  it('version 3, one bit flipped in any column: the checksum catches it', async () => {
    await writeSnapshot(file, population(100, NOW), 'binary-record');
    const bytes = await readFile(file);
    const layout = layoutOf(bytes);
    // A key, a time, a lifetime, a signing time, a reference, a value's field, a form, a string, the checksum.
    for (const at of [
      layout.keys + 5,
      layout.storedAt + 3,
      layout.ttlMs + 9,
      layout.seconds + 20,
      layout.refs + 1,
      layout.valueFields,
      layout.forms + 7,
      layout.strings + 4,
      layout.checksum,
    ]) {
      const damaged = Buffer.from(bytes);
      damaged[at]! ^= 0x04;
      await writeFile(file, damaged);
      const [warning] = await expectWarningAndEmpty();
      expect(warning, String(at)).toEqual({ obj: expect.objectContaining({ reason: 'checksum mismatch' }), msg: CORRUPT_WARNING });
    }
  });

  /** A valid 12-entry file changed by `change` (its checksum made right again): the structure checks must refuse it. */
  async function expectRefusedAfter(
    change: (bytes: Buffer, layout: Layout) => void,
    reason: RegExp,
    basis: VerdictBasis = 'binary-record',
  ): Promise<void> {
    const entries = basis === 'binary-record' ? population(12, NOW) : joinedPopulation(12, NOW);
    await writeSnapshot(file, entries, basis);
    const bytes = await readFile(file);
    change(bytes, layoutOf(bytes));
    await writeFile(file, withChecksum(bytes));
    const [warning] = await expectWarningAndEmpty(basis);
    expect(warning).toEqual({ obj: expect.objectContaining({ file, reason: expect.stringMatching(reason) }), msg: CORRUPT_WARNING });
  }

  it.each([
    ['a value reference past the values', (b: Buffer, l: Layout): unknown => b.writeInt32LE(l.values, l.refs + 4 * 1), /bad verdict/],
    ['a negative value reference', (b: Buffer, l: Layout): unknown => b.writeInt32LE(-2, l.refs + 4 * 1), /bad verdict/],
    ['an unknown entry with a reference', (b: Buffer, l: Layout): unknown => b.writeInt32LE(0, l.refs), /bad verdict/],
    ['a form nobody defined', (b: Buffer, l: Layout): unknown => (b[l.forms + 1] = 9), /bad verdict/],
    ['a joined-search form in a binary-record file', (b: Buffer, l: Layout): unknown => (b[l.forms + 1] = 4), /bad verdict/],
    ['a stated form in a binary-record file', (b: Buffer, l: Layout): unknown => (b[l.forms + 1] = 3), /bad verdict/],
    ['a sha256 flag the keys do not hold', (b: Buffer, l: Layout): unknown => (b[l.forms + 1]! |= 0x80), /bad keys/],
    ['a negative storage time', (b: Buffer, l: Layout): unknown => b.writeDoubleLE(-1, l.storedAt), /bad time/],
    ['a fractional storage time', (b: Buffer, l: Layout): unknown => b.writeDoubleLE(NOW + 0.5, l.storedAt), /bad time/],
    ['a NaN storage time', (b: Buffer, l: Layout): unknown => b.writeDoubleLE(Number.NaN, l.storedAt), /bad time/],
    ['a zero lifetime', (b: Buffer, l: Layout): unknown => b.writeDoubleLE(0, l.ttlMs), /bad time/],
    ['an infinite lifetime', (b: Buffer, l: Layout): unknown => b.writeDoubleLE(Number.POSITIVE_INFINITY, l.ttlMs), /bad time/],
    [
      'a fractional own signing time (entry 8 is dated)',
      (b: Buffer, l: Layout): unknown => b.writeDoubleLE(0.5, l.seconds + 8 * 8),
      /bad signing time/,
    ],
    [
      'an unsafe signing time in the facts',
      (b: Buffer, l: Layout): unknown => b.writeDoubleLE(2 ** 53, l.valueSeconds + 8),
      /bad signing time/,
    ],
    ['a null status in the facts', (b: Buffer, l: Layout): unknown => b.writeInt32LE(-1, l.valueFields), /bad string reference/],
    [
      'a string reference past the strings',
      (b: Buffer, l: Layout): unknown => b.writeInt32LE(1000, l.valueFields + 4),
      /bad string reference/,
    ],
    ['a string table that is not JSON', (b: Buffer, l: Layout): unknown => (b[l.strings] = 0x7b), /bad strings/],
    ['invalid UTF-8 in the strings', (b: Buffer, l: Layout): unknown => (b[l.strings + 2] = 0xc3), /bad strings/],
    ["an entry count other than the header line's", (b: Buffer, l: Layout): unknown => b.writeUInt32LE(11, l.body), /does not match/],
  ] as const)('version 3, %s: the whole file is refused', async (_what, change, reason) => {
    await expectRefusedAfter(change, reason);
  });

  it.each([
    ['a name reference past the strings', (b: Buffer, l: Layout): unknown => b.writeInt32LE(99, l.refs), /bad string reference/],
    [
      'an unknown entry in a joined-search file',
      (b: Buffer, l: Layout): unknown => (b.writeInt32LE(-1, l.refs), (b[l.forms] = 0)),
      /bad verdict/,
    ],
    ['a record form in a joined-search file', (b: Buffer, l: Layout): unknown => (b[l.forms] = 1), /bad verdict/],
  ] as const)('version 3 joined-search, %s: the whole file is refused', async (_what, change, reason) => {
    await expectRefusedAfter(change, reason, 'joined-search');
  });

  it('version 3, a bad form in its last entry: loadCacheSnapshot leaves the live cache as it was', async () => {
    // The restore fills the cache as entries are read: every check must run before the first one is handed over.
    const cache = new VerdictCache({
      maxEntries: 100,
      ttlSignedMs: HOUR,
      ttlUnsignedMs: HOUR,
      ttlUnknownMs: HOUR,
      load: async () => UnknownBinary.instance,
    });
    const live = new SignatureFacts('Signed', 'Live Publisher', null, null, null, null);
    cache.set(md5Of(999), live);
    await writeSnapshot(file, population(12, Date.now()), 'binary-record');
    const bytes = await readFile(file);
    const layout = layoutOf(bytes);
    bytes[layout.forms + layout.n - 1] = 9;
    await writeFile(file, withChecksum(bytes));
    const log = recordingLog();
    expect(await loadCacheSnapshot(cache, file, log)).toBe(0);
    expect(log.warnings).toEqual([{ obj: expect.objectContaining({ reason: 'bad verdict' }), msg: CORRUPT_WARNING }]);
    expect(cache.size).toBe(1);
    expect(cache.getFresh(md5Of(999))).toBe(live);
  });

  it('version 3: a control file changed and re-checksummed the same way, but validly, reads', async () => {
    // Another storage time, still valid: the structure checks are what refuse the cases above, not the re-checksumming.
    await writeSnapshot(file, population(12, NOW), 'binary-record');
    const bytes = await readFile(file);
    bytes.writeDoubleLE(NOW - 7, layoutOf(bytes).storedAt);
    await writeFile(file, withChecksum(bytes));
    const log = recordingLog();
    const back = await readSnapshot(file, NOW, log, { staleWindowMs: 1e12 });
    expect(log.warnings).toEqual([]);
    expect(back[0]!.storedAt).toBe(NOW - 7);
  });

  it('empty: warns and yields nothing', async () => {
    await writeFile(file, '');
    await expectWarningAndEmpty();
  });

  it('garbage bytes: warns and yields nothing', async () => {
    await writeFile(file, Buffer.from(Array.from({ length: 4096 }, (_, i) => (i * 7919) % 256)));
    await expectWarningAndEmpty();
  });

  it('garbage inside an otherwise valid file: warns and yields nothing', async () => {
    await writeSnapshot(file, population(100, NOW), 'binary-record');
    const bytes = await readFile(file);
    bytes.fill(0xff, 2000, 2100);
    await writeFile(file, bytes);
    const [warning] = await expectWarningAndEmpty();
    expect(warning!.msg).toBe(CORRUPT_WARNING);
  });

  it.each(['binary-record', 'joined-search'] as const)(
    'a version-1 file, read under %s: skipped with a warning, nothing loaded',
    async (basis) => {
      // What the previous release wrote: `1` signed, `0:<name>` unsigned for that name.
      await writeLines([
        'signet-cache-snapshot\t1\t2',
        `${md5Of(1)}\t${NOW - 1000}\t${24 * HOUR}\t1`,
        `${md5Of(2)}\t${NOW - 1000}\t${HOUR}\t0:"tool.exe"`,
      ]);
      const [warning] = await expectWarningAndEmpty(basis);
      expect(warning).toEqual({ obj: { file, reason: expect.stringMatching(/older format version 1\b/) }, msg: SKIPPED_WARNING });
    },
  );

  it('another version: skipped with a warning', async () => {
    await writeSnapshot(file, population(3, NOW), 'binary-record');
    const bytes = await readFile(file);
    const line = bytes.indexOf(0x0a);
    const headerLine = bytes
      .subarray(0, line)
      .toString()
      .replace(`signet-cache-snapshot\t${SNAPSHOT_VERSION}\t`, 'signet-cache-snapshot\t999\t');
    await writeFile(file, Buffer.concat([Buffer.from(headerLine), bytes.subarray(line)]));
    const [warning] = await expectWarningAndEmpty();
    expect(warning).toEqual({ obj: { file, reason: 'unsupported version 999' }, msg: SKIPPED_WARNING });
  });

  it('a binary-record file read under joined-search: skipped with a warning', async () => {
    await writeSnapshot(file, population(30, NOW), 'binary-record');
    expect(await readSnapshot(file, NOW, recordingLog(), { staleWindowMs: 1e12 })).toHaveLength(30);
    const [warning] = await expectWarningAndEmpty('joined-search');
    expect(warning).toEqual({ obj: { file, reason: expect.stringContaining('CB_VERDICT_SOURCE=binary-record') }, msg: SKIPPED_WARNING });
  });

  it('a joined-search file read under binary-record (the default): skipped with a warning', async () => {
    await writeSnapshot(file, joinedPopulation(30, NOW), 'joined-search');
    expect(await readSnapshot(file, NOW, recordingLog(), { basis: 'joined-search', staleWindowMs: 1e12 })).toHaveLength(30);
    const log = recordingLog();
    // No basis given: binary-record.
    expect(await readSnapshot(file, NOW, log, { staleWindowMs: 1e12 })).toEqual([]);
    expect(log.warnings).toEqual([
      { obj: { file, reason: expect.stringContaining('CB_VERDICT_SOURCE=joined-search') }, msg: SKIPPED_WARNING },
    ]);
  });

  it('an empty file of the other basis is skipped too', async () => {
    await writeSnapshot(file, [], 'joined-search');
    const [warning] = await expectWarningAndEmpty('binary-record');
    expect(warning!.msg).toBe(SKIPPED_WARNING);
  });

  it.each([
    ['no basis', 'signet-cache-snapshot\t2\t0'],
    ['an extra header field', 'signet-cache-snapshot\t2\t0\tbinary-record\textra'],
    ['an unknown basis', 'signet-cache-snapshot\t2\t0\tprocess-search'],
    ['a bad count', 'signet-cache-snapshot\t2\tmany\tbinary-record'],
    ['another magic', 'other-cache-snapshot\t2\t0\tbinary-record'],
  ])('a header with %s: warns and yields nothing', async (_what, line) => {
    await writeLines([line]);
    await expectWarningAndEmpty();
  });

  it('not a snapshot at all (JSON): warns and yields nothing', async () => {
    await writeFile(file, JSON.stringify({ entries: [] }));
    await expectWarningAndEmpty();
  });

  /** A file whose first entry is valid and whose second is `bad`: the whole file must be refused, at line 3. */
  async function expectCorrupt(basis: VerdictBasis, bad: string | Buffer): Promise<void> {
    const valid = basis === 'binary-record' ? `d:1500000000:${GIT_JSON}` : 's:"git"';
    await writeLines([header(2, basis), `${md5Of(1)}\t${NOW}\t${HOUR}\t${valid}`, bad]);
    const [warning] = await expectWarningAndEmpty(basis);
    // Refused by the parser's own checks, not by an exception that the catch-all happened to catch.
    expect(warning).toEqual({
      obj: expect.objectContaining({ file, line: 3, reason: expect.not.stringMatching(/Error|TypeError|\[ERR_/) }),
      msg: CORRUPT_WARNING,
    });
  }
  const line = (verdict: string | Buffer): Buffer => Buffer.concat([Buffer.from(`${md5Of(2)}\t${NOW}\t${HOUR}\t`), Buffer.from(verdict)]);
  const withBytes = (before: string, bytes: number[], after: string): Buffer =>
    Buffer.concat([Buffer.from(before), Buffer.from(bytes), Buffer.from(after)]);

  it.each([
    ['binary-record', `f:${GIT_JSON}`],
    ['binary-record', 'f:["Signed",null,null,null,null,null]'],
    ['binary-record', 'f:["Signed",null,null,null,null,0]'],
    ['binary-record', 'f:["Signed",null,null,null,null,-9007199254740991]'],
    ['binary-record', 'f:["Signed","Contoso: Tools",null,null,null,5]'],
    ['binary-record', `d::${GIT_JSON}`],
    ['binary-record', `d:0:${GIT_JSON}`],
    ['binary-record', `d:-1:${GIT_JSON}`],
    ['binary-record', `d:007:${GIT_JSON}`],
    ['binary-record', `d:9007199254740991:${GIT_JSON}`],
    ['binary-record', `d:-9007199254740991:${GIT_JSON}`],
    ['binary-record', 'd::["Signed","Contoso: Tools",null,null,null,null]'],
    ['binary-record', 'd:5:["Signed","Contoso: Tools",null,null,null,null]'],
    ['binary-record', 'u'],
    ['joined-search', 's:"git"'],
    ['joined-search', 'n:"a\\"b\\u00e9"'],
    ['joined-search', 'n:""'],
  ] as const)('control: a valid %s verdict %s reads', async (basis, verdict) => {
    await writeLines([header(2, basis), `${md5Of(1)}\t${NOW}\t${HOUR}\t${basis === 'binary-record' ? 'u' : 'n:"x"'}`, line(verdict)]);
    const log = recordingLog();
    expect(await readSnapshot(file, NOW, log, { basis })).toHaveLength(2);
    expect(log.warnings).toEqual([]);
  });

  it.each([
    ['an invalid md5', `XYZ\t${NOW}\t${HOUR}\tu`],
    ['an upper-case md5', `${md5Of(1).toUpperCase().replace(/0/g, 'A')}\t${NOW}\t${HOUR}\tu`],
    ['a missing field', `${md5Of(2)}\t${NOW}\tu`],
    ['a non-numeric time', `${md5Of(2)}\tyesterday\t${HOUR}\tu`],
    ['a zero lifetime', `${md5Of(2)}\t${NOW}\t0\tu`],
    ['a 17-digit number', `${md5Of(2)}\t12345678901234567\t${HOUR}\tu`],
  ])('%s: the whole file is refused', async (_what, bad) => {
    await expectCorrupt('binary-record', bad);
  });

  it.each([
    ['an empty verdict', ''],
    ['an unknown marker', `x:${GIT_JSON}`],
    ['an upper-case f marker', `F:${GIT_JSON}`],
    ['an upper-case d marker', `D::${GIT_JSON}`],
    ['an upper-case unknown', 'U'],
    ['u with more after it', 'uu'],
    ['u with a colon', 'u:'],
    ['u with a space', 'u '],
    ['a version-1 signed verdict', '1'],
    ['a version-1 unsigned verdict', '0:"git"'],
    ['a joined-search row (s:)', 's:"git"'],
    ['a joined-search no-row (n:)', 'n:"git"'],
    // The r: record of an earlier draft of this version, with five facts.
    ['an r: record', 'r:1490674446:["Signed","Apple Inc.",null,null,"git"]'],
    ['an r: record of six facts', `r::${GIT_JSON}`],
    ['f alone', 'f'],
    ['f: alone', 'f:'],
    ['d alone', 'd'],
    ['d: alone', 'd:'],
    ['d:: without facts', 'd::'],
    ['d: with a time and no facts', 'd:5:'],
    ['facts that are not JSON', 'f:[Signed]'],
    ['facts JSON cut short', 'f:["Signed",null,null,null,null,'],
    ['facts JSON followed by more', `f:${GIT_JSON}x`],
    ['d: facts JSON followed by more', `d:5:${GIT_JSON}]`],
    ['facts JSON an object', 'f:{"status":"Signed"}'],
    ['facts JSON a string', 'f:"Signed"'],
    ['facts JSON null', 'f:null'],
    ['facts JSON a number', 'f:5'],
    ['facts JSON an array of 5 (no signing time)', 'f:["Signed",null,null,null,null]'],
    ['d: facts JSON an array of 5', 'd:1:["Signed","Apple Inc.",null,null,"git"]'],
    ['facts JSON an array of 7', 'f:["Signed",null,null,null,null,null,null]'],
    ['d: facts JSON an array of 7', 'd::["Signed",null,null,null,null,5,5]'],
    ['facts JSON an empty array', 'f:[]'],
    ['a numeric status', 'f:[1,null,null,null,null,null]'],
    ['a null status', 'f:[null,null,null,null,null,null]'],
    ['a boolean status', 'f:[true,null,null,null,null,null]'],
    ['a numeric publisher', 'f:["Signed",5,null,null,null,null]'],
    ['an array program name', 'f:["Signed",null,null,null,["git"],null]'],
    ['an object subject', 'f:["Signed",null,null,{},null,null]'],
    ['a numeric issuer in d: facts', 'd:1:["Signed",null,7,null,null,null]'],
    ['a fractional signing time inside the facts', 'f:["Signed",null,null,null,null,1.5]'],
    ['a fractional signing time inside d: facts', 'd:1:["Signed",null,null,null,null,-0.5]'],
    ['a signing time as a string inside the facts', 'f:["Signed",null,null,null,null,"5"]'],
    ['a boolean signing time inside the facts', 'f:["Signed",null,null,null,null,true]'],
    ['an unsafe signing time inside the facts', 'f:["Signed",null,null,null,null,9007199254740992]'],
    ['a huge signing time inside the facts', 'f:["Signed",null,null,null,null,1e20]'],
    ['an array signing time inside the facts', 'f:["Signed",null,null,null,null,[5]]'],
    ['a raw control character in the facts', 'f:["Signed","a\u0001b",null,null,null,null]'],
    ['a raw tab in the facts', 'f:["Signed","a\tb",null,null,null,null]'],
    ['an f: with a signing time before its facts', `f:5:${GIT_JSON}`],
    ['a letter in the d: signing time', `d:14906x4446:${GIT_JSON}`],
    ['a fractional d: signing time', `d:1.5:${GIT_JSON}`],
    ['an exponent in the d: signing time', `d:1e9:${GIT_JSON}`],
    ['a plus sign in the d: signing time', `d:+5:${GIT_JSON}`],
    ['a lone minus as the d: signing time', `d:-:${GIT_JSON}`],
    ['two minus signs', `d:--5:${GIT_JSON}`],
    ['a trailing minus', `d:5-:${GIT_JSON}`],
    ['a space in the d: signing time', `d: 5:${GIT_JSON}`],
    ['null spelled out as the d: signing time', `d:null:${GIT_JSON}`],
    ['a 17-digit d: signing time', `d:12345678901234567:${GIT_JSON}`],
    ['a d: signing time past the safe integers', `d:9007199254740992:${GIT_JSON}`],
    ['a negative d: signing time past the safe integers', `d:-9007199254740992:${GIT_JSON}`],
    ['two d: signing times', `d:5:6:${GIT_JSON}`],
    ['no second colon after the d: signing time', `d:1490674446${GIT_JSON}`],
    ['no d: signing time field at all', `d:${GIT_JSON}`],
    ['no second colon, the JSON holding one', 'd:["Signed","Contoso: Tools",null,null,null,null]'],
  ])('binary-record, %s: the whole file is refused', async (_what, verdict) => {
    await expectCorrupt('binary-record', line(verdict));
  });

  it.each([
    ['in f: facts', 'f:["Signed","a', [0xc3, 0x28], 'b",null,null,null,5]'],
    ['in d: facts', 'd:1:["Signed","a', [0xc3, 0x28], 'b",null,null,null,5]'],
    ['a lone continuation byte, in f: facts', 'f:["Signed",null,null,null,"', [0x80], '",null]'],
    ['a lone continuation byte, in d: facts', 'd::["Signed",null,null,null,"', [0x80], '",null]'],
    ['a truncated sequence at the end of d: facts', 'd::["Signed",null,null,null,null,null]', [0xe2, 0x82], ''],
    ['in the d: signing time', 'd:1', [0xc3, 0xa9], `:${GIT_JSON}`],
  ] as const)('binary-record, invalid UTF-8 %s: the whole file is refused', async (_what, before, bytes, after) => {
    await expectCorrupt('binary-record', line(withBytes(before, [...bytes], after)));
  });

  it.each([
    ['an empty verdict', ''],
    ['u (unknown) in a joined-search file', 'u'],
    ['a record in a joined-search file', `f:${GIT_JSON}`],
    ['a dated record in a joined-search file', `d:1490674446:${GIT_JSON}`],
    ['a dated record without signing time in a joined-search file', 'd::["Unsigned",null,null,null,null,null]'],
    ['an r: record in a joined-search file', `r:1490674446:${GIT_JSON}`],
    ['a version-1 signed verdict', '1'],
    ['a version-1 unsigned verdict', '0:"git"'],
    ['an unknown marker', 'x:"git"'],
    ['an upper-case marker', 'S:"git"'],
    ['no name', 's:'],
    ['a lone quote', 'n:"'],
    ['an unquoted row name', 's:git'],
    ['an unquoted no-row name', 'n:git'],
    ['a badly escaped name', 'n:"a\\qb"'],
    ['a name that is not a string', 's:"a" + "b"'],
    ['two strings', 'n:"a","b"'],
    ['a JSON array', 'n:["git"]'],
    ['a number', 'n:5'],
    ['an unterminated escape', 's:"a\\"'],
    ['a raw control character in a name', 'n:"a\u0001b"'],
  ])('joined-search, %s: the whole file is refused', async (_what, verdict) => {
    await expectCorrupt('joined-search', line(verdict));
  });

  it('joined-search, invalid UTF-8 in a name: the whole file is refused', async () => {
    await expectCorrupt('joined-search', line(withBytes('n:"a', [0xc3, 0x28], '"')));
  });
});

describe('atomic write', () => {
  it('leaves no temporary file behind', async () => {
    await writeSnapshot(file, population(100, NOW), 'binary-record');
    await writeSnapshot(file, population(50, NOW), 'binary-record');
    expect(await readdir(dir)).toEqual(['cache.snapshot']);
    expect(await readSnapshot(file, NOW, recordingLog(), { staleWindowMs: 1e12 })).toHaveLength(50);
  });

  it('cleans its temporary file up when the write fails', async () => {
    // Renaming a file over a non-empty directory fails after the temporary file was written.
    const target = join(dir, 'occupied');
    await writeSnapshot(join(target, 'inner'), [], 'binary-record');
    await expect(writeSnapshot(target, population(10, NOW), 'binary-record')).rejects.toThrow();
    expect((await readdir(dir)).sort()).toEqual(['occupied']);
  });

  it('a reader sees the old or the new complete file, never a half-written one', async () => {
    const older = population(20_000, NOW, 1);
    const newer = population(30_000, NOW, 1);
    await writeSnapshot(file, older, 'binary-record');
    const log = recordingLog();
    let writing = true;
    const counts = new Set<number>();
    const reader = (async () => {
      let reads = 0;
      while (writing || reads < 3) {
        counts.add((await readSnapshot(file, NOW, log, { staleWindowMs: 1e12 })).length);
        reads++;
      }
    })();
    for (let i = 0; i < 5; i++) await writeSnapshot(file, i % 2 === 0 ? newer : older, 'binary-record');
    writing = false;
    await reader;
    expect(log.warnings).toEqual([]);
    expect([...counts].every((n) => n === older.length || n === newer.length)).toBe(true);
    expect(await readdir(dir)).toEqual(['cache.snapshot']);
  });

  it('concurrent writers each rename a complete file', async () => {
    await Promise.all([
      writeSnapshot(file, population(1000, NOW, 1), 'binary-record'),
      writeSnapshot(file, population(2000, NOW, 1), 'binary-record'),
    ]);
    const log = recordingLog();
    expect([1000, 2000]).toContain((await readSnapshot(file, NOW, log, { staleWindowMs: 1e12 })).length);
    expect(log.warnings).toEqual([]);
    expect(await readdir(dir)).toEqual(['cache.snapshot']);
  });
});
