import { isUtf8 } from 'node:buffer';
import { randomBytes } from 'node:crypto';
import { mkdir, open, rename, unlink } from 'node:fs/promises';
import type { FileHandle } from 'node:fs/promises';
import { endianness } from 'node:os';
import { basename, dirname, join } from 'node:path';
import { setImmediate } from 'node:timers/promises';
import { crc32 } from 'node:zlib';
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
 * Format version 3 (written since issue 14): one text line, then a binary body.
 *
 *   signet-cache-snapshot\t3\t<entry count>\t<basis>\n
 *   <body>
 *
 * The line says what the file is (`head -1`), and an older Signet reading it
 * sees version 3 and starts empty with a warning. <basis> is `binary-record`,
 * `joined-search` or `cloud-process-search` (the backend and CB_VERDICT_SOURCE
 * that made the entries; a snapshot of another is skipped, since its entries
 * mean something else). The body is columns, little-endian, each starting at
 * a multiple of 8 bytes from the body's start, so that they are read as typed
 * arrays over the file's bytes, with no per-entry parsing:
 *
 *   u32 × 6          entry count n, value count v, string count, string bytes, key bytes, 0
 *   f64 × n          storedAt, epoch ms on the cache's clock
 *   f64 × n          lifetime, ms
 *   f64 × n          the entry's own signing time, epoch s (dated records; NaN: none; 0 otherwise)
 *   f64 × v          each value's signing time, epoch s (records' facts; NaN: none)
 *   i32 × n          the entry's value (a value or string index; -1: none)
 *   i32 × 5v         each value's fields (string indexes, -1: null)
 *   u8 × n           the entry's form, + 128 when its key is a sha256
 *   key bytes        each key in binary: 16 bytes for an md5, 32 for a sha256
 *   string bytes     every distinct string, once: a JSON array, UTF-8
 *   u32              CRC-32 of the body before it
 *
 * Forms: 0 unknown (nothing known), 1 a record whose facts are value <ref>
 * (the facts carry its signing time), 2 a record sharing the facts of value
 * <ref> with its own signing time, 3 Cloud's stated signature <ref>, 4 a
 * joined-search row found for name <ref>, 5 no joined-search row for name <ref>.
 * Values are the distinct shared objects the entries point to, each once, as
 * in the live cache: records' facts (status, publisher, issuer, subject,
 * programName) or Cloud's stated signatures (kind 0 signed / 1 unsigned /
 * 2 unknown, status, publisher, the JSON of its states, -1). Entries sharing a
 * value in memory share it again when read, and no others.
 *
 * Reading a million entries is then one read, one checksum, one JSON.parse of
 * the strings and one loop making keys and verdicts, where version 2's text
 * lines took a JSON text and its hashing per entry (4 s at start-up). The
 * checksum and the exact length catch a file cut short, padded or damaged; the
 * indexes, forms and numbers are checked as well, so a file that fails any
 * check is refused whole and never serves a wrong verdict.
 *
 * Version 2 (text, one line per entry, written until issue 14) is still read,
 * so the first start after an upgrade is warm:
 *
 *   signet-cache-snapshot\t2\t<entry count>\t<basis>
 *   <hash>\t<storedAt epoch ms>\t<ttl ms>\t<verdict>
 *
 * where <verdict> is one of
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
 * facts text share one facts object when read. The count in the header
 * catches a file cut at a line boundary; the required final newline catches
 * one cut mid-line.
 *
 * Version 1 (before verdicts had three states and signature details) is
 * skipped with a warning: its "unsigned" cannot be told from "unknown".
 *
 * Entries are in least- to most-recently-used order, so loading them in
 * order keeps the LRU order.
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
/** The version writeSnapshot writes. */
export const SNAPSHOT_VERSION = 3;
/** The text version still read (see above). */
export const LEGACY_SNAPSHOT_VERSION = 2;
const READ_CHUNK_BYTES = 4 * 1024 * 1024;
/** Entries encoded between two turns of the event loop: the periodic snapshot runs while the service answers. */
const ENCODE_SLICE = 50_000;

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

function parseHeader(line: string, basis: VerdictBasis): { version: number; count: number } {
  const [magic, version, count, fileBasis, ...rest] = line.split('\t');
  if (magic !== MAGIC || count === undefined) throw new CorruptSnapshotError('not a Signet cache snapshot');
  if (version !== String(SNAPSHOT_VERSION) && version !== String(LEGACY_SNAPSHOT_VERSION)) {
    throw new UnusableSnapshotError(
      /^\d{1,6}$/.test(version ?? '') && Number(version) < LEGACY_SNAPSHOT_VERSION
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
  return { version: Number(version), count: Number(count) };
}

/* Version 3's body: see the format above. */

const FORM_UNKNOWN = 0;
const FORM_FACTS = 1;
const FORM_DATED = 2;
const FORM_STATED = 3;
const FORM_ROW = 4;
const FORM_NO_ROW = 5;
/** Added to the form of an entry keyed by a sha256 (32 key bytes instead of an md5's 16). */
const LONG_KEY = 0x80;
/** No value, no string: an unknown binary's reference, a null field. */
const NONE = -1;
const BODY_HEADER_FIELDS = 6;
const BODY_HEADER_BYTES = BODY_HEADER_FIELDS * 4;
/** Fields of a value: a record's five strings, or a stated signature's kind, status, publisher and states. */
const VALUE_FIELDS = 5;
const KINDS: readonly VerdictKind[] = ['signed', 'unsigned', 'unknown'];
/** Typed arrays take the host's byte order; the file is little-endian wherever it was written. */
const LITTLE_ENDIAN_HOST = endianness() === 'LE';

const align8 = (offset: number): number => Math.ceil(offset / 8) * 8;

/** Where each column of a body with these counts starts, and the body's exact length. */
function bodyLayout(entries: number, values: number, stringBytes: number, keyBytes: number) {
  const storedAt = BODY_HEADER_BYTES;
  const ttlMs = storedAt + 8 * entries;
  const seconds = ttlMs + 8 * entries;
  const valueSeconds = seconds + 8 * entries;
  const refs = valueSeconds + 8 * values;
  const valueFields = refs + 4 * entries;
  const forms = align8(valueFields + 4 * VALUE_FIELDS * values);
  const keys = align8(forms + entries);
  const strings = align8(keys + keyBytes);
  const checksum = align8(strings + stringBytes);
  return { storedAt, ttlMs, seconds, valueSeconds, refs, valueFields, forms, keys, strings, checksum, length: checksum + 4 };
}

/** Where a reader puts the entries it loads, least recently used first. */
interface SnapshotSink {
  /** Called only once the whole file is known good. */
  add(key: string, verdict: CachedVerdict, storedAt: number, ttlMs: number): void;
}

/** The body of a version-3 file for these (valid) entries, as the pieces to write in order. */
async function encodeBody(entries: readonly SnapshotEntry[]): Promise<Uint8Array[]> {
  const n = entries.length;
  const storedAt = new Float64Array(n);
  const ttlMs = new Float64Array(n);
  const seconds = new Float64Array(n);
  const refs = new Int32Array(n);
  const forms = new Uint8Array(n);
  const keys = Buffer.allocUnsafe(n * 32);
  let keyBytes = 0;
  const strings: string[] = [];
  const stringIndex = new Map<string, number>();
  const stringRef = (text: string | null): number => {
    if (text === null) return NONE;
    let index = stringIndex.get(text);
    if (index === undefined) {
      index = strings.length;
      strings.push(text);
      stringIndex.set(text, index);
    }
    return index;
  };
  // Values by identity: entries share a value in the file exactly when they share it in memory.
  const valueIndex = new Map<SignatureFacts | StatedSignature, number>();
  const valueFields: number[] = [];
  const valueSeconds: number[] = [];
  const valueRef = (value: SignatureFacts | StatedSignature): number => {
    let index = valueIndex.get(value);
    if (index !== undefined) return index;
    index = valueSeconds.length;
    valueIndex.set(value, index);
    if (value instanceof SignatureFacts) {
      valueFields.push(
        stringRef(value.status),
        stringRef(value.publisher),
        stringRef(value.issuer),
        stringRef(value.subject),
        stringRef(value.programName),
      );
      valueSeconds.push(value.signedAtSeconds ?? Number.NaN);
    } else {
      valueFields.push(
        KINDS.indexOf(value.kind),
        stringRef(value.status),
        stringRef(value.publisher),
        stringRef(JSON.stringify(value.states)),
        NONE,
      );
      valueSeconds.push(Number.NaN);
    }
    return index;
  };
  for (let i = 0; i < n; i++) {
    if (i > 0 && i % ENCODE_SLICE === 0) await setImmediate();
    const entry = entries[i]!;
    const { verdict } = entry;
    storedAt[i] = entry.storedAt;
    ttlMs[i] = entry.ttlMs;
    // Checked lower-case hex of 32 or 64 digits (validEntry): 16 or 32 bytes.
    keyBytes += keys.write(entry.md5, keyBytes, 'hex');
    let form: number;
    if (verdict instanceof UnknownBinary) {
      form = FORM_UNKNOWN;
      refs[i] = NONE;
    } else if (verdict instanceof SignatureFacts) {
      form = FORM_FACTS;
      refs[i] = valueRef(verdict);
    } else if (verdict instanceof DatedSignature) {
      form = FORM_DATED;
      refs[i] = valueRef(verdict.facts);
      seconds[i] = verdict.signedAtSeconds ?? Number.NaN;
    } else if (verdict instanceof StatedSignature) {
      form = FORM_STATED;
      refs[i] = valueRef(verdict);
    } else if (verdict instanceof JoinedSignature) {
      form = FORM_ROW;
      refs[i] = stringRef(verdict.matchedName);
    } else {
      form = FORM_NO_ROW;
      refs[i] = stringRef(verdict);
    }
    forms[i] = entry.md5.length === 64 ? form | LONG_KEY : form;
  }
  const stringBytes = Buffer.from(JSON.stringify(strings), 'utf8');
  const values = valueSeconds.length;
  const layout = bodyLayout(n, values, stringBytes.length, keyBytes);
  const header = Buffer.alloc(BODY_HEADER_BYTES);
  [n, values, strings.length, stringBytes.length, keyBytes, 0].forEach((field, i) => header.writeUInt32LE(field, i * 4));
  const numeric = [storedAt, ttlMs, seconds, Float64Array.from(valueSeconds), refs, Int32Array.from(valueFields)].map(
    (column) => new Uint8Array(column.buffer, column.byteOffset, column.byteLength),
  );
  if (!LITTLE_ENDIAN_HOST) {
    numeric.forEach((bytes, i) =>
      i < 4
        ? Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).swap64()
        : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).swap32(),
    );
  }
  const padding = (from: number, to: number): Uint8Array[] => (to > from ? [Buffer.alloc(to - from)] : []);
  const pieces: Uint8Array[] = [
    header,
    ...numeric,
    ...padding(layout.valueFields + 4 * VALUE_FIELDS * values, layout.forms),
    forms,
    ...padding(layout.forms + n, layout.keys),
    keys.subarray(0, keyBytes),
    ...padding(layout.keys + keyBytes, layout.strings),
    stringBytes,
    ...padding(layout.strings + stringBytes.length, layout.checksum),
  ];
  let checksum = 0;
  for (const piece of pieces) {
    // Node 22's zlib.crc32 returns 0, not the running value, for a view over an empty ArrayBuffer (an empty column).
    if (piece.byteLength > 0) checksum = crc32(piece, checksum);
  }
  const trailer = Buffer.alloc(4);
  trailer.writeUInt32LE(checksum);
  pieces.push(trailer);
  return pieces;
}

/** A body's typed-array view; the body is a buffer of its own, 8-aligned (decodeBody sees to it). */
const f64 = (body: Buffer, offset: number, length: number): Float64Array => new Float64Array(body.buffer, body.byteOffset + offset, length);
const i32 = (body: Buffer, offset: number, length: number): Int32Array => new Int32Array(body.buffer, body.byteOffset + offset, length);

/** The distinct strings, checked: valid UTF-8, a JSON array of exactly `count` strings. */
function decodeStrings(bytes: Buffer, count: number): string[] {
  // toString would turn invalid bytes into U+FFFD and serve a garbled signature for a day.
  if (!isUtf8(bytes)) throw new CorruptSnapshotError('bad strings');
  let strings: unknown;
  try {
    strings = JSON.parse(bytes.toString('utf8'));
  } catch {
    throw new CorruptSnapshotError('bad strings');
  }
  if (!Array.isArray(strings) || strings.length !== count || !strings.every((text) => typeof text === 'string')) {
    throw new CorruptSnapshotError('bad strings');
  }
  return strings as string[];
}

/**
 * Reads the version-3 body in `body` (a buffer of its own) into `sink`: the
 * last `capacity` of the entries worth loading, least recently used first.
 * Fails whole, with a CorruptSnapshotError, before the sink hears of any entry.
 */
function decodeBody(
  body: Buffer,
  count: number,
  basis: VerdictBasis,
  now: number,
  staleWindowMs: number,
  interner: SignatureInterner,
  sink: SnapshotSink,
  capacity: number,
): void {
  if (body.length < BODY_HEADER_BYTES + 4) throw new CorruptSnapshotError('truncated: no body');
  const [n, values, stringCount, stringBytes, keyBytes, reserved] = Array.from({ length: BODY_HEADER_FIELDS }, (_, i) =>
    body.readUInt32LE(i * 4),
  ) as [number, number, number, number, number, number];
  if (n !== count || reserved !== 0) throw new CorruptSnapshotError('body header does not match the file header');
  const layout = bodyLayout(n, values, stringBytes, keyBytes);
  if (body.length !== layout.length) {
    throw new CorruptSnapshotError(
      body.length < layout.length ? 'truncated: the body is shorter than its header says' : 'bytes after the body',
    );
  }
  if (crc32(body.subarray(0, layout.checksum)) !== body.readUInt32LE(layout.checksum)) throw new CorruptSnapshotError('checksum mismatch');
  if (body.byteOffset % 8 !== 0) {
    // Typed arrays need their element size's alignment; readBody's buffers have it, this is the safety net.
    const aligned = Buffer.allocUnsafeSlow(body.length);
    body.copy(aligned);
    body = aligned;
  }
  if (!LITTLE_ENDIAN_HOST) {
    body.subarray(layout.storedAt, layout.refs).swap64();
    body.subarray(layout.refs, layout.refs + 4 * (n + VALUE_FIELDS * values)).swap32();
  }
  const strings = decodeStrings(body.subarray(layout.strings, layout.strings + stringBytes), stringCount);
  const stringAt = (ref: number): string => {
    if (ref < 0 || ref >= stringCount) throw new CorruptSnapshotError('bad string reference');
    return strings[ref]!;
  };
  const stringOrNull = (ref: number): string | null => (ref === NONE ? null : stringAt(ref));

  // The values, each built once: the facts or stated signatures the entries share.
  const fields = i32(body, layout.valueFields, VALUE_FIELDS * values);
  const valueSeconds = f64(body, layout.valueSeconds, values);
  const facts: SignatureFacts[] = [];
  const stateds: StatedSignature[] = [];
  if (values > 0 && basis === 'joined-search') throw new CorruptSnapshotError('values in a joined-search file');
  for (let v = 0; v < values; v++) {
    const at = v * VALUE_FIELDS;
    if (basis === 'binary-record') {
      const time = valueSeconds[v]!;
      if (!Number.isNaN(time) && !Number.isSafeInteger(time)) throw new CorruptSnapshotError('bad signing time');
      facts.push(
        new SignatureFacts(
          stringAt(fields[at]!),
          stringOrNull(fields[at + 1]!),
          stringOrNull(fields[at + 2]!),
          stringOrNull(fields[at + 3]!),
          stringOrNull(fields[at + 4]!),
          Number.isNaN(time) ? null : time,
        ),
      );
    } else {
      const kind = KINDS[fields[at]!];
      if (kind === undefined || fields[at + 4] !== NONE || !Number.isNaN(valueSeconds[v])) throw new CorruptSnapshotError('bad signature');
      let states: unknown;
      try {
        states = JSON.parse(stringAt(fields[at + 3]!));
      } catch {
        throw new CorruptSnapshotError('bad signature');
      }
      if (!Array.isArray(states) || !states.every((state) => typeof state === 'string')) throw new CorruptSnapshotError('bad signature');
      stateds.push(interner.stated(kind, stringOrNull(fields[at + 1]!), stringOrNull(fields[at + 2]!), states as string[], basis));
    }
  }

  const storedAt = f64(body, layout.storedAt, n);
  const ttlMs = f64(body, layout.ttlMs, n);
  const seconds = f64(body, layout.seconds, n);
  const refs = i32(body, layout.refs, n);
  const forms = body.subarray(layout.forms, layout.forms + n);
  const keysEnd = layout.keys + keyBytes;
  const binaryRecord = basis === 'binary-record';
  // How many loaded entries point at each facts value: the shared ones are worth the interner's room first.
  const uses = new Uint32Array(facts.length);

  // First pass: every entry checked, nothing built, so that a bad file is refused before the sink hears of it.
  let keyAt = layout.keys;
  let kept = 0;
  for (let i = 0; i < n; i++) {
    const form = forms[i]!;
    keyAt += form & LONG_KEY ? 32 : 16;
    const stored = storedAt[i]!;
    const ttl = ttlMs[i]!;
    if (!Number.isSafeInteger(stored) || stored < 0 || !Number.isSafeInteger(ttl) || ttl <= 0) throw new CorruptSnapshotError('bad time');
    const ref = refs[i]!;
    const used = stored + ttl + staleWindowMs >= now;
    switch (form & ~LONG_KEY) {
      case FORM_UNKNOWN:
        if (ref !== NONE || basis === 'joined-search') throw new CorruptSnapshotError('bad verdict');
        break;
      case FORM_FACTS:
      case FORM_DATED: {
        if (!binaryRecord || ref < 0 || ref >= facts.length) throw new CorruptSnapshotError('bad verdict');
        const time = seconds[i]!;
        if ((form & ~LONG_KEY) === FORM_DATED && !Number.isNaN(time) && !Number.isSafeInteger(time)) {
          throw new CorruptSnapshotError('bad signing time');
        }
        if (used) uses[ref]!++;
        break;
      }
      case FORM_STATED:
        if (basis !== 'cloud-process-search' || ref < 0 || ref >= stateds.length) throw new CorruptSnapshotError('bad verdict');
        break;
      case FORM_ROW:
      case FORM_NO_ROW:
        if (basis !== 'joined-search') throw new CorruptSnapshotError('bad verdict');
        stringAt(ref);
        break;
      default:
        throw new CorruptSnapshotError('bad verdict');
    }
    if (used) kept++;
  }
  if (keyAt !== keysEnd) throw new CorruptSnapshotError('bad keys');

  // Second pass: the entries loaded, built in their final form and handed over one by one, so that no
  // array of a million keys or entries is built in between. Beyond the capacity, the most recently used.
  let skip = Math.max(0, kept - capacity);
  keyAt = layout.keys;
  for (let i = 0; i < n; i++) {
    const form = forms[i]!;
    const keyStart = keyAt;
    keyAt += form & LONG_KEY ? 32 : 16;
    const stored = storedAt[i]!;
    const ttl = ttlMs[i]!;
    if (stored + ttl + staleWindowMs < now) continue;
    if (skip > 0) {
      skip--;
      continue;
    }
    const ref = refs[i]!;
    let verdict: CachedVerdict;
    switch (form & ~LONG_KEY) {
      case FORM_FACTS:
        verdict = facts[ref]!;
        break;
      case FORM_DATED: {
        const time = seconds[i]!;
        verdict = new DatedSignature(facts[ref]!, Number.isNaN(time) ? null : time);
        break;
      }
      case FORM_STATED:
        verdict = stateds[ref]!;
        break;
      case FORM_ROW:
        verdict = new JoinedSignature(strings[ref]!);
        break;
      case FORM_NO_ROW:
        verdict = strings[ref]!;
        break;
      default:
        verdict = UnknownBinary.instance;
    }
    // 'hex' makes a fresh, flat, lower-case string: a valid key whatever the bytes, owning its characters.
    // A clock that went backwards would make an entry look younger than it is: date it no later than now.
    sink.add(body.toString('hex', keyStart, keyAt), verdict, stored > now ? now : stored, ttl);
  }
  adoptFacts(interner, facts, uses);
}

/**
 * Makes the restored facts the interner's shared ones, so binaries read from
 * Carbon Black later point at them too: all of them when they fit its table,
 * otherwise those several entries share (a vendor's signature) with priority
 * over those one binary carries. Its table is an LRU, so the last adopted stay.
 */
function adoptFacts(interner: SignatureInterner, facts: readonly SignatureFacts[], uses: Uint32Array): void {
  const room = interner.capacity;
  const shared: SignatureFacts[] = [];
  const single: SignatureFacts[] = [];
  for (let v = 0; v < facts.length; v++) {
    if (uses[v]! > 1) shared.push(facts[v]!);
    else if (uses[v] === 1) single.push(facts[v]!);
  }
  const adopted = [
    ...single.slice(Math.max(0, single.length - Math.max(0, room - shared.length))),
    ...shared.slice(Math.max(0, shared.length - room)),
  ];
  for (const value of adopted) interner.adopt(value);
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
  const body = await encodeBody(entries);
  const directory = dirname(file);
  await mkdir(directory, { recursive: true });
  const temp = join(directory, `${basename(file)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  let handle: FileHandle | undefined = await open(temp, 'wx', 0o600);
  try {
    await handle.writev([Buffer.from(`${MAGIC}\t${SNAPSHOT_VERSION}\t${entries.length}\t${basis}\n`), ...body]);
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
  const entries: SnapshotEntry[] = [];
  await readInto(file, now, log, options, Number.POSITIVE_INFINITY, {
    add: (md5, verdict, storedAt, ttlMs) => entries.push({ md5, storedAt, ttlMs, verdict }),
  });
  return entries;
}

/** readSnapshot's work: the last `capacity` entries worth loading into `sink`, none when the file is refused. */
async function readInto(
  file: string,
  now: number,
  log: SnapshotLog,
  options: ReadSnapshotOptions,
  capacity: number,
  sink: SnapshotSink,
): Promise<void> {
  const staleWindowMs = options.staleWindowMs ?? 0;
  const basis = options.basis ?? 'binary-record';
  const interner = options.interner ?? new SignatureInterner();
  let handle: FileHandle;
  try {
    handle = await open(file, 'r');
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT') log.warn({ file }, 'cache snapshot not found; starting with an empty cache');
    else log.warn({ file, err: error }, 'cache snapshot unreadable; starting with an empty cache');
    return;
  }
  let lineNumber = 0;
  try {
    const buffer = Buffer.allocUnsafe(READ_CHUNK_BYTES);
    let filled = 0;
    let newline = -1;
    // The header line, in the first chunk (version 2 reads on from there).
    while (newline < 0) {
      if (filled === buffer.length) throw new CorruptSnapshotError('line too long');
      const { bytesRead } = await handle.read(buffer, filled, buffer.length - filled, null);
      if (bytesRead === 0) break;
      filled += bytesRead;
      newline = buffer.subarray(0, filled).indexOf(NEWLINE);
    }
    if (newline < 0) throw new CorruptSnapshotError(filled === 0 ? 'no header' : 'truncated: the last line is incomplete');
    lineNumber = 1;
    const { version, count } = parseHeader(buffer.toString('latin1', 0, Math.min(newline, 200)), basis);
    if (version === LEGACY_SNAPSHOT_VERSION) {
      const legacy = new LegacyReader(basis, interner, count, now, staleWindowMs);
      lineNumber = await legacy.read(handle, buffer, newline + 1, filled);
      const { keys, verdicts, storedAt, ttlMs, length } = legacy.columns;
      for (let i = Math.max(0, length - capacity); i < length; i++) sink.add(keys[i]!, verdicts[i]!, storedAt[i]!, ttlMs[i]!);
      return;
    }
    lineNumber = 2;
    const body = await readBody(handle, buffer, newline + 1, filled);
    decodeBody(body, count, basis, now, staleWindowMs, interner, sink, capacity);
  } catch (error) {
    if (error instanceof UnusableSnapshotError) {
      log.warn({ file, reason: error.message }, 'cache snapshot skipped; starting with an empty cache');
      return;
    }
    const reason = error instanceof CorruptSnapshotError ? error.message : String(error);
    const line = error instanceof LegacyLineError ? error.line : lineNumber;
    log.warn({ file, line, reason }, 'cache snapshot is corrupt or truncated; starting with an empty cache');
  } finally {
    await handle.close().catch(() => undefined);
  }
}

/**
 * The rest of the file after `prefix` (the bytes read past the header line),
 * in one buffer of its own, so 8-aligned for the typed arrays. A regular file
 * is read straight into a buffer of its size (no second copy of 50 MiB); a
 * pipe, whose size is unknown, to its end.
 */
async function readBody(handle: FileHandle, first: Buffer, bodyStart: number, filled: number): Promise<Buffer> {
  const stats = await handle.stat();
  if (!stats.isFile() || stats.size < filled) {
    const rest = await handle.readFile();
    const body = Buffer.allocUnsafeSlow(filled - bodyStart + rest.length);
    first.copy(body, 0, bodyStart, filled);
    rest.copy(body, filled - bodyStart);
    return body;
  }
  const body = Buffer.allocUnsafeSlow(stats.size - bodyStart);
  first.copy(body, 0, bodyStart, filled);
  for (let at = filled - bodyStart; at < body.length;) {
    const { bytesRead } = await handle.read(body, at, body.length - at, bodyStart + at);
    // Shorter than its size said a moment ago: what was read is the body, and its length check refuses it.
    if (bytesRead === 0) return body.subarray(0, at);
    at += bytesRead;
  }
  // Longer: bytes after the body, which decodeBody refuses as such.
  const { bytesRead } = await handle.read(Buffer.alloc(1), 0, 1, stats.size);
  return bytesRead === 0 ? body : Buffer.concat([body, Buffer.alloc(1)]);
}

/** A version-2 line refused, with its line number. */
class LegacyLineError extends CorruptSnapshotError {
  constructor(
    readonly line: number,
    message: string,
  ) {
    super(message);
  }
}

/** Version 2's entries, as columns: held until the whole file is read, since a bad line refuses it all. */
interface LegacyColumns {
  length: number;
  keys: string[];
  verdicts: CachedVerdict[];
  storedAt: number[];
  ttlMs: number[];
}

/** Reads version-2 entry lines (after the header) into columns, streaming the file. */
class LegacyReader {
  readonly columns: LegacyColumns;
  private readonly decoder: VerdictDecoder;
  private skipped = 0;

  constructor(
    basis: VerdictBasis,
    interner: SignatureInterner,
    private readonly expected: number,
    private readonly now: number,
    private readonly staleWindowMs: number,
  ) {
    this.decoder = new VerdictDecoder(basis, interner);
    this.columns = { length: 0, keys: [], verdicts: [], storedAt: [], ttlMs: [] };
  }

  /** Reads from `start` in `buffer` (filled to `filled`) to the end of the file; returns the lines read. */
  async read(handle: FileHandle, buffer: Buffer, start: number, filled: number): Promise<number> {
    let lineNumber = 1;
    try {
      for (;;) {
        // A newline byte never occurs inside a multi-byte UTF-8 sequence, so lines split on bytes.
        for (let newline = buffer.indexOf(NEWLINE, start); newline !== -1 && newline < filled; newline = buffer.indexOf(NEWLINE, start)) {
          lineNumber++;
          this.line(buffer, start, newline);
          start = newline + 1;
          if (start >= filled) break;
        }
        // Bytes of an incomplete line carried to the start of the buffer.
        const carried = filled - start;
        buffer.copyWithin(0, start, filled);
        start = 0;
        filled = carried;
        if (carried === buffer.length) throw new CorruptSnapshotError('line too long');
        const { bytesRead } = await handle.read(buffer, carried, buffer.length - carried, null);
        if (bytesRead === 0) break;
        filled += bytesRead;
      }
      if (filled !== 0) throw new CorruptSnapshotError('truncated: the last line is incomplete');
      const read = this.columns.length + this.skipped;
      if (read !== this.expected) throw new CorruptSnapshotError(`truncated: ${read} of ${this.expected} entries`);
    } catch (error) {
      if (error instanceof CorruptSnapshotError) throw new LegacyLineError(lineNumber, error.message);
      throw error;
    }
    return lineNumber;
  }

  private line(buffer: Buffer, start: number, end: number): void {
    const { columns } = this;
    if (columns.length + this.skipped === this.expected) throw new CorruptSnapshotError('more entries than the header announced');
    const entry = parseEntry(buffer, start, end, this.decoder);
    if (entry.storedAt + entry.ttlMs + this.staleWindowMs < this.now) {
      this.skipped++;
      return;
    }
    columns.keys.push(entry.md5);
    columns.verdicts.push(entry.verdict);
    // A clock that went backwards would make an entry look younger than it is: date it no later than now.
    columns.storedAt.push(Math.min(entry.storedAt, this.now));
    columns.ttlMs.push(entry.ttlMs);
    columns.length++;
  }
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
  cache.beginRestore();
  const first = Math.max(0, entries.length - cache.maxEntries);
  for (let i = first; i < entries.length; i++) {
    const entry = entries[i]!;
    cache.restoreEntry(entry.md5, entry.verdict, entry.storedAt, entry.ttlMs);
  }
  return entries.length - first;
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
  let restored = 0;
  // Straight into the cache as the keys are made: no columns of a million keys, verdicts and times in
  // between (measured: about 4 % faster to /readyz at a million entries, and 120 MiB less garbage).
  // readInto hands over nothing from a file it refuses (every check runs before the first entry is
  // handed over), so a refused file, or one of expired entries only, leaves the cache as it was.
  await readInto(file, cache.now(), log, options, cache.maxEntries, {
    add: (key, verdict, storedAt, ttlMs) => {
      if (restored++ === 0) cache.beginRestore();
      cache.restoreEntry(key, verdict, storedAt, ttlMs);
    },
  });
  if (restored === 0) return 0;
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
