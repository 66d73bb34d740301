import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { setImmediate } from 'node:timers/promises';
import type { LRUCache } from 'lru-cache';
import { SignatureInterner } from './signature-interner.js';
import {
  DatedSignature,
  JoinedSignature,
  SignatureFacts,
  StatedSignature,
  UnknownBinary,
  type CachedVerdict,
  type VerdictBasis,
  type VerdictKind,
} from './verdict.js';
import type { VerdictCache } from './verdict-cache.js';

/**
 * Warm restarts: the verdict cache written to a file at intervals and at
 * shutdown, read back at start, so a new pod does not send its whole working
 * set to Carbon Black at once.
 *
 * Format (UTF-8 text, one record per line, chosen to write and parse a
 * million entries in about a second and to be greppable in an incident):
 *
 *   signet-cache-snapshot\t2\t<entry count>\t<basis>
 *   <hash>\t<storedAt epoch ms>\t<ttl ms>\t<verdict>
 *
 * where <hash> is a lower-case md5, or on Cloud also a sha256 (a binary Cloud
 * named by both has a line for each), <basis> is `binary-record`,
 * `joined-search` or `cloud-process-search` (the backend and CB_VERDICT_SOURCE
 * that made the entries; a snapshot of another is skipped, since its entries
 * mean something else) and <verdict> is one of
 *   u                              binary-record, cloud-process-search: nothing known (unknown)
 *   t:<stated>                     cloud-process-search: processes were found; <stated> is the JSON
 *                                  array [verdict, status, publisher, [states...]]
 *   f:<facts>                      binary-record: a record, its signature's facts
 *   d:<signedAt epoch s>:<facts>   binary-record: a record whose signature shares the facts of
 *                                  another binary, with its own signing time (empty when absent)
 *   s:<JSON string>                joined-search: a row, found for that lower-cased name
 *   n:<JSON string>                joined-search: no row for that lower-cased name
 *
 * and <facts> is the JSON array [status, publisher, issuer, subject,
 * programName, signedAt epoch s], nulls where absent. Lines with the same
 * facts text share one facts object when read, as the live cache shares them.
 *
 * Version 1 (before verdicts had three states and signature details) is
 * skipped with a warning: its "unsigned" cannot be told from "unknown".
 *
 * Entries are in least- to most-recently-used order (lru-cache's dump order),
 * so loading them in order keeps the LRU order. The count in the header
 * catches a file cut at a line boundary; the required final newline catches
 * one cut mid-line. Names are JSON-encoded so that no character can break the
 * line structure, though the API already refuses control characters.
 */

export interface SnapshotEntry {
  /** The lower-case key: an md5, or on Cloud an md5 or a sha256. */
  md5: string;
  /** When Carbon Black gave the verdict, epoch ms (on the cache's clock). */
  storedAt: number;
  /** Its lifetime from `storedAt`. */
  ttlMs: number;
  verdict: CachedVerdict;
}

/** The part of a pino / Fastify logger this module uses. */
export interface SnapshotLog {
  warn(obj: object, msg: string): void;
  info(obj: object, msg: string): void;
}

export interface ReadSnapshotOptions {
  /** The running CB_VERDICT_SOURCE; a snapshot written under the other one is skipped. Default binary-record. */
  basis?: VerdictBasis;
  /** Where restored signatures are shared: the live cache's interner, so later reads share them too. Default a new one. */
  interner?: SignatureInterner;
  /**
   * How long past its lifetime an entry is still worth loading: the larger of
   * CACHE_STALE_IF_ERROR_SECONDS and CACHE_STALE_WHILE_REVALIDATE_SECONDS, in ms.
   * Default 0: only fresh entries.
   */
  staleWindowMs?: number;
}

const MAGIC = 'signet-cache-snapshot';
export const SNAPSHOT_VERSION = 2;
/** Write buffer: big enough to amortise the syscalls, small enough to stream 50M entries. */
const WRITE_BUFFER_BYTES = 1024 * 1024;
const READ_CHUNK_BYTES = 4 * 1024 * 1024;
/** A sha256, two 16-digit numbers, separators, verdict marker, a signing time: the most a line takes besides its JSON. */
const MAX_LINE_BYTES_WITHOUT_TEXT = 64 + 16 + 16 + 3 + 2 + 17 + 1;

const TAB = 0x09;
const NEWLINE = 0x0a;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const DIGIT_0 = 0x30;
const DIGIT_9 = 0x39;
const MINUS = 0x2d;
const LOWER_N = 0x6e;
const LOWER_D = 0x64;
const LOWER_S = 0x73;
const LOWER_U = 0x75;
const LOWER_A = 0x61;
const LOWER_F = 0x66;
const LOWER_T = 0x74;

/** What the reader takes as a key: the cache's own form, an md5 or a sha256. */
const LOWER_HEX_HASH = /^(?:[0-9a-f]{32}|[0-9a-f]{64})$/;
const VERDICT_KINDS: ReadonlySet<string> = new Set<VerdictKind>(['signed', 'unsigned', 'unknown']);

class CorruptSnapshotError extends Error {
  override name = 'CorruptSnapshotError';
}

/*
 * Encoding and parsing work on bytes, not strings: number-to-string and
 * string slicing dominate otherwise (a million lines), and a string sliced out
 * of a read chunk would keep the whole chunk alive for as long as the cache
 * keeps the key. Every md5 and name read here is a fresh, flat string.
 */

/** Writes a non-negative safe integer in decimal; returns the offset after it. */
function writeDecimal(buffer: Buffer, offset: number, value: number): number {
  let digits = 1;
  for (let rest = value; rest >= 10; rest = Math.floor(rest / 10)) digits++;
  let rest = value;
  for (let at = offset + digits - 1; at >= offset; at--) {
    const quotient = Math.floor(rest / 10);
    buffer[at] = DIGIT_0 + (rest - quotient * 10);
    rest = quotient;
  }
  return offset + digits;
}

/** The verdict field of a line, as text. Facts are shared by many entries, so their JSON is memoised per write. */
class VerdictEncoder {
  private readonly factsJson = new WeakMap<SignatureFacts, string>();

  encode(verdict: CachedVerdict): string {
    if (verdict instanceof UnknownBinary) return 'u';
    if (verdict instanceof SignatureFacts) return `f:${this.json(verdict)}`;
    if (verdict instanceof DatedSignature) return `d:${verdict.signedAtSeconds ?? ''}:${this.json(verdict.facts)}`;
    if (verdict instanceof JoinedSignature) return `s:${JSON.stringify(verdict.matchedName)}`;
    if (verdict instanceof StatedSignature) return `t:${JSON.stringify([verdict.kind, verdict.status, verdict.publisher, verdict.states])}`;
    return `n:${JSON.stringify(verdict)}`;
  }

  private json(facts: SignatureFacts): string {
    let text = this.factsJson.get(facts);
    if (text === undefined) {
      text = JSON.stringify([facts.status, facts.publisher, facts.issuer, facts.subject, facts.programName, facts.signedAtSeconds]);
      this.factsJson.set(facts, text);
    }
    return text;
  }
}

/** Streams entries into a file through one reused buffer. */
class LineWriter {
  private readonly buffer = Buffer.allocUnsafe(WRITE_BUFFER_BYTES);
  private readonly encoder = new VerdictEncoder();
  private offset = 0;

  constructor(private readonly handle: FileHandle) {}

  async entry(entry: SnapshotEntry): Promise<void> {
    const verdict = this.encoder.encode(entry.verdict);
    // A UTF-16 code unit takes at most 3 bytes in UTF-8.
    const room = MAX_LINE_BYTES_WITHOUT_TEXT + verdict.length * 3;
    if (this.offset + room > this.buffer.length) {
      await this.flush();
      if (room > this.buffer.length) {
        // A verdict too long for the buffer: rare enough to write as a string.
        await this.handle.write(`${entry.md5}\t${entry.storedAt}\t${entry.ttlMs}\t${verdict}\n`);
        return;
      }
    }
    const b = this.buffer;
    let at = this.offset;
    at += b.write(entry.md5, at, 'latin1');
    b[at++] = TAB;
    at = writeDecimal(b, at, entry.storedAt);
    b[at++] = TAB;
    at = writeDecimal(b, at, entry.ttlMs);
    b[at++] = TAB;
    at += b.write(verdict, at, 'utf8');
    b[at++] = NEWLINE;
    this.offset = at;
  }

  async flush(): Promise<void> {
    if (this.offset === 0) return;
    await this.handle.write(this.buffer, 0, this.offset);
    this.offset = 0;
  }
}

function validEntry(entry: SnapshotEntry, basis: VerdictBasis): boolean {
  return (
    LOWER_HEX_HASH.test(entry.md5) &&
    Number.isSafeInteger(entry.storedAt) &&
    entry.storedAt >= 0 &&
    Number.isSafeInteger(entry.ttlMs) &&
    entry.ttlMs > 0 &&
    verdictFits(entry.verdict, basis)
  );
}

/** Whether the reader of a `basis` file takes this verdict back: a kind of that basis, a signing time it parses. */
function verdictFits(verdict: CachedVerdict, basis: VerdictBasis): boolean {
  if (basis === 'joined-search') return verdict instanceof JoinedSignature || typeof verdict === 'string';
  if (basis === 'cloud-process-search') return verdict instanceof StatedSignature || verdict instanceof UnknownBinary;
  if (verdict instanceof DatedSignature) return validSeconds(verdict.signedAtSeconds) && validSeconds(verdict.facts.signedAtSeconds);
  if (verdict instanceof SignatureFacts) return validSeconds(verdict.signedAtSeconds);
  return verdict instanceof UnknownBinary;
}

function validSeconds(seconds: number | null): boolean {
  return seconds === null || Number.isSafeInteger(seconds);
}

/** A decimal integer of 1..16 digits in [start, end) (no sign, no exponent), at least `min`. */
function parseDecimal(buffer: Buffer, start: number, end: number, min: number): number {
  if (end <= start || end - start > 16) throw new CorruptSnapshotError('bad number');
  let value = 0;
  for (let at = start; at < end; at++) {
    const byte = buffer[at]!;
    if (byte < DIGIT_0 || byte > DIGIT_9) throw new CorruptSnapshotError('bad number');
    value = value * 10 + (byte - DIGIT_0);
  }
  if (!Number.isSafeInteger(value) || value < min) throw new CorruptSnapshotError('bad number');
  return value;
}

/** A JSON string in [start, end) (quotes included), decoded directly when it holds no escape. */
function parseJsonString(buffer: Buffer, start: number, end: number): string {
  if (end - start < 2 || buffer[start] !== QUOTE || buffer[end - 1] !== QUOTE) throw new CorruptSnapshotError('bad name');
  // Most names need no escape and are ASCII: decode them directly, without JSON.parse.
  let plain = true;
  let ascii = true;
  for (let at = start + 1; at < end - 1; at++) {
    const byte = buffer[at]!;
    if (byte < 0x20) throw new CorruptSnapshotError('bad name'); // JSON always escapes control characters
    if (byte === QUOTE || byte === BACKSLASH) plain = false;
    else if (byte >= 0x80) ascii = false;
  }
  if (!ascii && !isUtf8(buffer.subarray(start + 1, end - 1))) throw new CorruptSnapshotError('bad name');
  if (plain) return buffer.toString('utf8', start + 1, end - 1);
  let name: unknown;
  try {
    name = JSON.parse(buffer.toString('utf8', start, end));
  } catch {
    throw new CorruptSnapshotError('bad name');
  }
  if (typeof name !== 'string') throw new CorruptSnapshotError('bad name');
  return name;
}

/** Reads verdict fields, sharing the facts of records that carry the same signature, as the live cache does. */
class VerdictDecoder {
  /** The facts already decoded, by their JSON text: a million records hold a few thousand signatures. */
  private readonly factsByJson = new Map<string, SignatureFacts>();

  constructor(
    private readonly basis: VerdictBasis,
    private readonly interner: SignatureInterner,
  ) {}

  decode(buffer: Buffer, start: number, end: number): CachedVerdict {
    const marker = buffer[start];
    if (end - start === 1 && marker === LOWER_U && this.basis !== 'joined-search') return UnknownBinary.instance;
    if (end - start < 3 || buffer[start + 1] !== COLON) throw new CorruptSnapshotError('bad verdict');
    if (this.basis === 'cloud-process-search') {
      if (marker === LOWER_T) return this.stated(buffer, start + 2, end);
    } else if (this.basis === 'joined-search') {
      if (marker === LOWER_S) return new JoinedSignature(parseJsonString(buffer, start + 2, end));
      if (marker === LOWER_N) return parseJsonString(buffer, start + 2, end);
    } else if (marker === LOWER_F) {
      return this.facts(buffer, start + 2, end);
    } else if (marker === LOWER_D) {
      const colon = buffer.indexOf(COLON, start + 2);
      if (colon < 0 || colon >= end) throw new CorruptSnapshotError('bad verdict');
      const facts = this.facts(buffer, colon + 1, end);
      return new DatedSignature(facts, colon === start + 2 ? null : parseSeconds(buffer, start + 2, colon));
    }
    throw new CorruptSnapshotError('bad verdict');
  }

  /** A Cloud signature's JSON in [start, end), shared through the interner as live reads are. */
  private stated(buffer: Buffer, start: number, end: number): StatedSignature {
    if (!isUtf8(buffer.subarray(start, end))) throw new CorruptSnapshotError('bad signature');
    let fields: unknown;
    try {
      fields = JSON.parse(buffer.toString('utf8', start, end));
    } catch {
      throw new CorruptSnapshotError('bad signature');
    }
    if (
      !Array.isArray(fields) ||
      fields.length !== 4 ||
      typeof fields[0] !== 'string' ||
      !VERDICT_KINDS.has(fields[0]) ||
      !(fields[1] === null || typeof fields[1] === 'string') ||
      !(fields[2] === null || typeof fields[2] === 'string') ||
      !Array.isArray(fields[3]) ||
      !(fields[3] as unknown[]).every((state) => typeof state === 'string')
    ) {
      throw new CorruptSnapshotError('bad signature');
    }
    const [kind, status, publisher, states] = fields as [VerdictKind, string | null, string | null, string[]];
    return this.interner.stated(kind, status, publisher, states, 'cloud-process-search');
  }

  /** The facts JSON in [start, end), decoded once per distinct text. */
  private facts(buffer: Buffer, start: number, end: number): SignatureFacts {
    // toString would turn invalid bytes into U+FFFD and serve a garbled signature for a day.
    if (!isUtf8(buffer.subarray(start, end))) throw new CorruptSnapshotError('bad signature');
    const json = buffer.toString('utf8', start, end);
    let facts = this.factsByJson.get(json);
    if (facts !== undefined) return facts;
    let fields: unknown;
    try {
      fields = JSON.parse(json);
    } catch {
      throw new CorruptSnapshotError('bad signature');
    }
    if (
      !Array.isArray(fields) ||
      fields.length !== 6 ||
      typeof fields[0] !== 'string' ||
      !fields.slice(1, 5).every((field) => field === null || typeof field === 'string') ||
      !(fields[5] === null || Number.isSafeInteger(fields[5]))
    ) {
      throw new CorruptSnapshotError('bad signature');
    }
    const [status, publisher, issuer, subject, programName, signedAtSeconds] = fields as [
      string,
      string | null,
      string | null,
      string | null,
      string | null,
      number | null,
    ];
    facts = this.interner.restore(status, publisher, issuer, subject, programName, signedAtSeconds);
    this.factsByJson.set(json, facts);
    return facts;
  }
}

/** A signing time in whole seconds in [start, end): digits with an optional leading minus. */
function parseSeconds(buffer: Buffer, start: number, end: number): number {
  const negative = buffer[start] === MINUS;
  const seconds = parseDecimal(buffer, negative ? start + 1 : start, end, 0);
  return negative ? -seconds : seconds;
}

/** One entry line in [start, end), without its newline. */
function parseEntry(buffer: Buffer, start: number, end: number, decoder: VerdictDecoder): SnapshotEntry {
  // An md5 (32 hex digits) or a sha256 (64), then a tab.
  const t1 = buffer[start + 32] === TAB ? start + 32 : start + 64;
  if (end <= t1 || buffer[t1] !== TAB) throw new CorruptSnapshotError('bad md5');
  for (let at = start; at < t1; at++) {
    const byte = buffer[at]!;
    if ((byte < DIGIT_0 || byte > DIGIT_9) && (byte < LOWER_A || byte > LOWER_F)) throw new CorruptSnapshotError('bad md5');
  }
  const t2 = buffer.indexOf(TAB, t1 + 1);
  const t3 = t2 < 0 || t2 >= end ? -1 : buffer.indexOf(TAB, t2 + 1);
  if (t3 < 0 || t3 >= end) throw new CorruptSnapshotError('too few fields');
  return {
    md5: buffer.toString('latin1', start, t1),
    storedAt: parseDecimal(buffer, t1 + 1, t2, 0),
    ttlMs: parseDecimal(buffer, t2 + 1, t3, 1),
    verdict: decoder.decode(buffer, t3 + 1, end),
  };
}

/** Refuses a file this version cannot read, with the reason the warning gives. */
class UnusableSnapshotError extends Error {
  override name = 'UnusableSnapshotError';
}

function parseHeader(line: string, basis: VerdictBasis): number {
  const [magic, version, count, fileBasis, ...rest] = line.split('\t');
  if (magic !== MAGIC || count === undefined) throw new CorruptSnapshotError('not a Signet cache snapshot');
  if (version !== String(SNAPSHOT_VERSION)) {
    throw new UnusableSnapshotError(
      /^\d{1,6}$/.test(version ?? '') && Number(version) < SNAPSHOT_VERSION
        ? `written in the older format version ${version}, whose verdicts this version does not read`
        : `unsupported version ${String(version).slice(0, 20)}`,
    );
  }
  if (rest.length > 0 || fileBasis === undefined) throw new CorruptSnapshotError('bad header');
  if (fileBasis !== basis) {
    throw new UnusableSnapshotError(
      `written by CB_VERDICT_SOURCE=${fileBasis.slice(0, 20)}, not ${basis}; its verdicts mean something else`,
    );
  }
  if (!/^\d{1,16}$/.test(count)) throw new CorruptSnapshotError('bad entry count');
  return Number(count);
}

/**
 * Writes the snapshot atomically: into `<file>.<pid>.<random>.tmp` in the
 * same directory (rename is only atomic within one file system), fsync, then
 * rename over the target. A reader, or a crash at any point, sees the
 * previous complete file or the new complete file, never a partial one.
 */
export async function writeSnapshot(file: string, entries: readonly SnapshotEntry[], basis: VerdictBasis): Promise<void> {
  // Checked before anything is written: a bad entry would make the whole file unreadable.
  const invalid = entries.find((entry) => !validEntry(entry, basis));
  if (invalid) throw new TypeError(`invalid snapshot entry for ${JSON.stringify(invalid.md5)}`);
  const directory = dirname(file);
  await mkdir(directory, { recursive: true });
  const temp = join(directory, `${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | undefined = await open(temp, 'wx', 0o600);
  try {
    await handle.write(`${MAGIC}\t${SNAPSHOT_VERSION}\t${entries.length}\t${basis}\n`);
    const writer = new LineWriter(handle);
    for (let i = 0; i < entries.length; i++) await writer.entry(entries[i]!);
    await writer.flush();
    await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temp, file);
  } catch (error) {
    await handle?.close().catch(() => undefined);
    await unlink(temp).catch(() => undefined);
    throw error;
  }
  await syncDirectory(directory);
}

/** Makes the rename itself durable. Best effort: some platforms cannot open or fsync a directory. */
async function syncDirectory(directory: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(directory, 'r');
    await handle.sync();
  } catch {
    // The data is written and renamed; only its survival of a power cut is less certain.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/**
 * Reads a snapshot. Never throws: a missing, unreadable, truncated or corrupt
 * file is logged as a warning and yields no entries (a cold start, not a
 * crash loop). Entries past their lifetime plus `staleWindowMs` at `now` are
 * skipped; the others keep their original `storedAt`, hence their age.
 */
export async function readSnapshot(
  file: string,
  now: number,
  log: SnapshotLog,
  options: ReadSnapshotOptions = {},
): Promise<SnapshotEntry[]> {
  const staleWindowMs = options.staleWindowMs ?? 0;
  const basis = options.basis ?? 'binary-record';
  const decoder = new VerdictDecoder(basis, options.interner ?? new SignatureInterner());
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') log.warn({ file }, 'cache snapshot not found; starting with an empty cache');
    else log.warn({ file, err: error }, 'cache snapshot unreadable; starting with an empty cache');
    return [];
  }
  const entries: SnapshotEntry[] = [];
  let expected = -1;
  let lineNumber = 0;
  let skipped = 0;
  try {
    const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    // Bytes of an incomplete line carried from the previous read, at the start of the buffer.
    let carried = 0;
    for (;;) {
      if (carried === buffer.length) throw new CorruptSnapshotError('line too long');
      const { bytesRead } = await handle.read(buffer, carried, buffer.length - carried, null);
      if (bytesRead === 0) break;
      const filled = carried + bytesRead;
      let start = 0;
      // A newline byte never occurs inside a multi-byte UTF-8 sequence, so lines split on bytes.
      for (let newline = buffer.indexOf(NEWLINE, 0); newline !== -1 && newline < filled; newline = buffer.indexOf(NEWLINE, start)) {
        lineNumber++;
        if (expected < 0) {
          expected = parseHeader(buffer.toString('latin1', start, Math.min(newline, start + 200)), basis);
        } else {
          if (entries.length + skipped === expected) throw new CorruptSnapshotError('more entries than the header announced');
          const entry = parseEntry(buffer, start, newline, decoder);
          if (entry.storedAt + entry.ttlMs + staleWindowMs < now) {
            skipped++;
          } else {
            // A clock that went backwards would make an entry look younger than it is: date it no later than now.
            if (entry.storedAt > now) entry.storedAt = now;
            entries.push(entry);
          }
        }
        start = newline + 1;
        if (start >= filled) break;
      }
      carried = filled - start;
      buffer.copyWithin(0, start, filled);
    }
    if (expected < 0) throw new CorruptSnapshotError('no header');
    if (carried !== 0) throw new CorruptSnapshotError('truncated: the last line is incomplete');
    if (entries.length + skipped !== expected) {
      throw new CorruptSnapshotError(`truncated: ${entries.length + skipped} of ${expected} entries`);
    }
  } catch (error) {
    if (error instanceof UnusableSnapshotError) {
      log.warn({ file, reason: error.message }, 'cache snapshot skipped; starting with an empty cache');
      return [];
    }
    const reason = error instanceof CorruptSnapshotError ? error.message : String(error);
    log.warn({ file, line: lineNumber, reason }, 'cache snapshot is corrupt or truncated; starting with an empty cache');
    return [];
  } finally {
    await handle.close().catch(() => undefined);
  }
  return entries;
}

/**
 * The cache's entries, fresh and expired, as snapshot entries, least recently
 * used first, `storedAt` on the cache's own clock (VerdictCache's `now`, as the
 * API reports it).
 *
 * Not through lru-cache's `dump()`, which builds its array with one
 * `unshift` per entry, O(n²) — 100k entries took 1 s, 300k took 39 s, and a
 * million would block the event loop for minutes. Instead it walks the LRU
 * list (O(n)) with `VerdictCache.keysLeastRecentFirst()`, expired entries
 * included. An entry whose refresh is running at that moment is left out
 * (lru-cache's iterators skip it).
 *
 * The age comes from the remaining lifetime, which lru-cache computes on the
 * cache's clock, and the lifetime from `ttlFor(verdict)`, the only lifetime
 * the cache gives entries. (An entry restored from a snapshot taken under
 * other TTL settings keeps its expiry; its age shifts by the difference.)
 */
export function snapshotFromCache(cache: VerdictCache): SnapshotEntry[] {
  const keys = keysLeastRecentFirst(cache);
  const entries: SnapshotEntry[] = [];
  appendEntries(cache, keys, 0, keys.length, entries);
  return entries;
}

/**
 * `snapshotFromCache` for a cache that keeps serving: only the key list is
 * taken in one go (the cheap part); the entries are then read `sliceSize` at a
 * time with the event loop free between slices, so the periodic snapshot of a
 * million entries does not stall requests for a second. An entry changed in
 * between is taken as it is when read; one gone by then is left out; one added
 * after the key list was taken waits for the next snapshot.
 */
export async function snapshotFromCacheInSlices(cache: VerdictCache, sliceSize = 20_000): Promise<SnapshotEntry[]> {
  const keys = keysLeastRecentFirst(cache);
  const entries: SnapshotEntry[] = [];
  for (let from = 0; from < keys.length; from += sliceSize) {
    if (from > 0) await setImmediate();
    appendEntries(cache, keys, from, Math.min(keys.length, from + sliceSize), entries);
  }
  return entries;
}

function keysLeastRecentFirst(cache: VerdictCache): string[] {
  return cache.keysLeastRecentFirst();
}

function appendEntries(cache: VerdictCache, keys: readonly string[], from: number, to: number, entries: SnapshotEntry[]): void {
  for (let i = from; i < to; i++) {
    const md5 = keys[i]!;
    const entry = cache.peekEntry(md5);
    if (entry === undefined) continue;
    entries.push({ md5, storedAt: Math.max(0, Math.round(entry.storedAt)), ttlMs: cache.ttlFor(entry.verdict), verdict: entry.verdict });
  }
}

/**
 * Replaces the cache's content with the snapshot's entries, keeping their
 * ages and LRU order. Beyond the cache's capacity only the most recently used
 * are loaded, so a smaller CACHE_MAX_ENTRIES does not count evictions at start.
 * Returns how many were loaded.
 */
export function restoreIntoCache(cache: VerdictCache, entries: readonly SnapshotEntry[]): number {
  const first = Math.max(0, entries.length - cache.maxEntries);
  // lru-cache's load() takes `start` on the Date.now() scale and converts it to the cache's clock.
  const offset = Date.now() - cache.now();
  const dump: [string, LRUCache.Entry<CachedVerdict>][] = new Array(entries.length - first);
  for (let i = first; i < entries.length; i++) {
    const entry = entries[i]!;
    dump[i - first] = [entry.md5, { value: entry.verdict, ttl: entry.ttlMs, start: entry.storedAt + offset }];
  }
  cache.load(dump);
  return dump.length;
}

/** Writes the cache's current content to `file` (atomically), without stalling the event loop for long. */
export async function saveCacheSnapshot(cache: VerdictCache, file: string, basis: VerdictBasis): Promise<number> {
  const entries = await snapshotFromCacheInSlices(cache);
  await writeSnapshot(file, entries, basis);
  return entries.length;
}

/** Reads `file` into the cache (replacing its content) and logs what was restored; never throws. */
export async function loadCacheSnapshot(
  cache: VerdictCache,
  file: string,
  log: SnapshotLog,
  options: ReadSnapshotOptions = {},
): Promise<number> {
  const started = performance.now();
  const entries = await readSnapshot(file, cache.now(), log, options);
  if (entries.length === 0) return 0;
  const restored = restoreIntoCache(cache, entries);
  log.info({ file, restored, durationMs: Math.round(performance.now() - started) }, 'cache restored from snapshot');
  return restored;
}

/**
 * Runs `write` every `intervalSeconds` (0 or less: never; the caller writes at
 * shutdown). The interval is unref'd so it never keeps the process alive, and
 * a tick that comes while the previous write still runs is skipped rather than
 * overlapping it. A failed write is logged and retried at the next tick.
 * The returned stop function clears the interval and resolves once a write
 * under way has finished, so a final write after it cannot be overtaken.
 */
export function startSnapshotTimer(intervalSeconds: number, write: () => Promise<void>, log: SnapshotLog): () => Promise<void> {
  if (!(intervalSeconds > 0)) return () => Promise.resolve();
  let running: Promise<void> | undefined;
  const tick = (): void => {
    if (running) {
      log.warn({ intervalSeconds }, 'cache snapshot still being written; skipping this interval');
      return;
    }
    running = write()
      .catch((error: unknown) => log.warn({ err: error }, 'cache snapshot write failed'))
      .finally(() => {
        running = undefined;
      });
  };
  const timer = setInterval(tick, intervalSeconds * 1000);
  timer.unref();
  return async () => {
    clearInterval(timer);
    await running;
  };
}
