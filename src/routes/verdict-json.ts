import { BYTES_FROM_LENGTH, compileStringifier } from '../plugins/schema-compilers.js';
import { nameMatchesWords, textWords } from '../signing/name-match.js';
import type { Lookup, SignatureService } from '../signing/signature-service.js';
import { DatedSignature, isoSeconds, SignatureFacts, UnknownBinary } from '../signing/verdict.js';
import { boundedMemo } from './bounded-memo.js';
import { batchResultSchema } from './schemas.js';
import { isoTime, toSignatureView } from './signature-view.js';

/**
 * A batch result's JSON text, written from pieces kept per shared signature.
 *
 * Serializing a 1000-item batch answer was half of its CPU (the bench's
 * profile): fast-json-stringify escapes and joins every field of every item,
 * though most of an item is the same for every binary sharing a signature.
 * Here a SignatureFacts' part of the answer (verdict, signed, the signature
 * up to its signing time) is written once and kept beside the facts, weakly;
 * facts are shared by the binaries one publisher signs (signature-interner.ts),
 * so this memo grows with distinct signatures, not with the cache. What differs
 * per answer (hashes, the caller's name, the name test, signing time, cache
 * times) is joined around it. Every other result (Cloud's, the joined
 * search's, an error) is written by the schema's own serializer, and a
 * property test holds the two writers to the same text.
 */

const writeResult = compileStringifier(batchResultSchema);

/** Strings the schema says may be null, as JSON. */
function jsonText(value: string | null): string {
  return value === null ? 'null' : JSON.stringify(value);
}

interface FactsJson {
  /** From `,"verdict":` up to the signature's `"signedAt":`. */
  head: string;
  /** The program name's words, for the name test; null when the signature names no program. */
  programWords: readonly string[] | null;
}

const factsMemo = new WeakMap<SignatureFacts, FactsJson>();

function factsJsonOf(facts: SignatureFacts): FactsJson {
  let json = factsMemo.get(facts);
  if (json === undefined) {
    const kind = facts.kind;
    json = {
      head:
        `,"verdict":"${kind}","signed":${kind === 'signed'},"signature":{"status":${jsonText(facts.status)}` +
        `,"publisher":${jsonText(facts.publisher)},"issuer":${jsonText(facts.issuer)},"subject":${jsonText(facts.subject)}` +
        `,"programName":${jsonText(facts.programName)},"signedAt":`,
      programWords: facts.programName === null ? null : textWords(facts.programName),
    };
    factsMemo.set(facts, json);
  }
  return json;
}

/* Signing times are per binary, so they are formatted per answer, through a memo like isoTime's. */
const signedAtText = boundedMemo(20_000, (seconds) => jsonText(isoSeconds(seconds)));

function signedAtJson(seconds: number | null): string {
  return seconds === null ? 'null' : signedAtText(seconds);
}

const UNKNOWN_HEAD = ',"verdict":"unknown","signed":false,"signature":null,"nameMatchesSignature":null,"basis":';

/** One batch result, the verdict for `lookup`: the same text as the schema's serializer writes for toSignatureView's answer. */
export function verdictJson(lookup: Lookup, now: number, service: SignatureService): string {
  const { entry } = lookup;
  let middle: string;
  if (entry instanceof SignatureFacts || entry instanceof DatedSignature) {
    const facts = entry instanceof DatedSignature ? entry.facts : entry;
    const { head, programWords } = factsJsonOf(facts);
    const matches = programWords !== null && nameMatchesWords(programWords, lookup.name);
    middle = `${head}${signedAtJson(entry.signedAtSeconds)},"states":null},"nameMatchesSignature":${matches},"basis":"binary-record"`;
  } else if (entry instanceof UnknownBinary) {
    middle = UNKNOWN_HEAD + JSON.stringify(service.source.basis);
  } else {
    return writeResult(toSignatureView(lookup, now, service));
  }
  const { md5, sha256 } = service.hashesOf(lookup.hash);
  const storedAt = isoTime(lookup.storedAt);
  const { status } = lookup;
  return (
    `{"md5":${jsonText(md5)},"sha256":${jsonText(sha256)},"name":${JSON.stringify(lookup.name)}${middle}` +
    `,"checkedAt":"${storedAt}","cache":{"hit":${status === 'hit' || status === 'stale'},"status":"${status}","storedAt":"${storedAt}"` +
    `,"ageSeconds":${Math.max(0, Math.floor((now - lookup.storedAt) / 1000))},"expiresAt":"${isoTime(lookup.expiresAt)}"}}`
  );
}

/** A batch result that is not a verdict (an invalid item, a failed lookup), by the schema's serializer. */
export function errorResultJson(result: object): string {
  return writeResult(result);
}

const OPEN = '{"results":[';
const CLOSE = ']}';
const COMMA = 0x2c;

/**
 * The batch answer's body from its results' JSON texts, in order: text when
 * short, bytes when long, by schema-compilers.ts's BYTES_FROM_LENGTH rule.
 */
export function batchBody(results: readonly string[]): string | Buffer {
  let units = OPEN.length + CLOSE.length + Math.max(0, results.length - 1);
  for (const text of results) units += text.length;
  return units > BYTES_FROM_LENGTH ? bodyBytes(results, units) : `${OPEN}${results.join(',')}${CLOSE}`;
}

/*
 * A long answer's results are encoded one by one into a single buffer.
 * Joining them first and encoding the joined text flattened a rope of some
 * 15,000 pieces: about 1 ms per 1000-item answer in a microbenchmark, against
 * 0.5-0.7 ms this way. The buffer is sized for ASCII,
 * the usual answer: every UTF-16 unit is at least one UTF-8 byte, so it only
 * grows when a name or signature holds other characters.
 */
function bodyBytes(results: readonly string[], units: number): Buffer {
  let bytes: Buffer = Buffer.allocUnsafe(units);
  let at = bytes.write(OPEN, 0, 'latin1');
  // UTF-16 units still to write (results, commas, CLOSE): the room an all-ASCII rest needs.
  let unitsLeft = units - OPEN.length;
  for (let i = 0; i < results.length; i++) {
    const text = results[i] as string;
    const comma = i === 0 ? 0 : 1;
    unitsLeft -= comma + text.length;
    // write() stops short when out of room, so the room is made first: a UTF-16 unit is at most 3 bytes.
    const room = bytes.length - at;
    if (room < comma + 3 * text.length) {
      const needed = comma + Buffer.byteLength(text, 'utf8') + unitsLeft;
      // An eighth more than needed, so that a batch full of non-ASCII text grows a few times, not once per result.
      if (room < needed) bytes = grown(bytes, at, at + needed + (bytes.length >> 3));
    }
    if (comma === 1) bytes[at++] = COMMA;
    at += bytes.write(text, at, 'utf8');
  }
  if (bytes.length - at < CLOSE.length) bytes = grown(bytes, at, at + CLOSE.length);
  at += bytes.write(CLOSE, at, 'latin1');
  return at === bytes.length ? bytes : bytes.subarray(0, at);
}

function grown(bytes: Buffer, used: number, size: number): Buffer {
  const next = Buffer.allocUnsafe(size);
  bytes.copy(next, 0, 0, used);
  return next;
}
