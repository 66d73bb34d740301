import { z } from 'zod';
import type { SignatureInterner } from '../signing/signature-interner.js';
import {
  DatedSignature,
  JoinedSignature,
  SignatureFacts,
  StatedSignature,
  UnknownBinary,
  type CachedVerdict,
  type VerdictBasis,
} from '../signing/verdict.js';

/**
 * A verdict as the fleet keeps it in Redis: one JSON text per binary, under
 * each of its hashes. Anything read back is checked field by field: a value
 * written by another version, another backend or mode (`basis`), or by
 * something that is not Signet is ignored, never taken as a verdict.
 *
 *   {"v":1,"basis":"binary-record","storedAt":<epoch ms>,"hashes":["<md5>", ...],"verdict":[...]}
 *
 * `verdict` is one of
 *   ["u"]                                                   nothing known (unknown)
 *   ["f", status, publisher, issuer, subject, programName, signedAt s]    a record's signature
 *   ["d", signedAt s, status, publisher, issuer, subject, programName, factsSignedAt s]
 *                                                           a record sharing another binary's facts
 *   ["t", kind, status, publisher, [states...]]             Cloud: decided from the publisher states
 *   ["s", name]                                             joined search: a row, found for that name
 *   ["n", name]                                             joined search: no row for that name
 */

export const CODEC_VERSION = 1;

export interface SharedVerdict {
  verdict: CachedVerdict;
  /** When Carbon Black gave it (epoch ms, the writer's clock). */
  storedAt: number;
  /** Every lower-case hash of the binary known to the writer, the looked-up one included. */
  hashes: readonly string[];
}

const MAX_TEXT = 4096;
const MAX_STATES = 64;
const text = z.string().max(MAX_TEXT);
const textOrNull = text.nullable();
const seconds = z.number().int().safe().nullable();
const hash = z.string().regex(/^(?:[0-9a-f]{32}|[0-9a-f]{64})$/);

const verdictSchema = z.union([
  z.tuple([z.literal('u')]),
  z.tuple([z.literal('f'), text, textOrNull, textOrNull, textOrNull, textOrNull, seconds]),
  z.tuple([z.literal('d'), seconds, text, textOrNull, textOrNull, textOrNull, textOrNull, seconds]),
  z.tuple([z.literal('t'), z.enum(['signed', 'unsigned', 'unknown']), textOrNull, textOrNull, z.array(text).max(MAX_STATES)]),
  z.tuple([z.literal('s'), text]),
  z.tuple([z.literal('n'), text]),
]);

const valueSchema = z.strictObject({
  v: z.literal(CODEC_VERSION),
  basis: z.enum(['binary-record', 'joined-search', 'cloud-process-search']),
  storedAt: z.number().int().min(0).safe(),
  hashes: z.array(hash).min(1).max(4),
  verdict: verdictSchema,
});

type EncodedVerdict = z.infer<typeof verdictSchema>;

function encodeVerdict(verdict: CachedVerdict): EncodedVerdict {
  if (verdict instanceof SignatureFacts) {
    return ['f', verdict.status, verdict.publisher, verdict.issuer, verdict.subject, verdict.programName, verdict.signedAtSeconds];
  }
  if (verdict instanceof DatedSignature) {
    const { facts } = verdict;
    return [
      'd',
      verdict.signedAtSeconds,
      facts.status,
      facts.publisher,
      facts.issuer,
      facts.subject,
      facts.programName,
      facts.signedAtSeconds,
    ];
  }
  if (verdict instanceof StatedSignature) return ['t', verdict.kind, verdict.status, verdict.publisher, [...verdict.states]];
  if (verdict instanceof JoinedSignature) return ['s', verdict.matchedName];
  if (typeof verdict === 'string') return ['n', verdict];
  return ['u'];
}

/** Which verdicts a basis makes: a value whose verdict does not fit its own basis is foreign. */
function fits(kind: EncodedVerdict[0], basis: VerdictBasis): boolean {
  if (basis === 'joined-search') return kind === 's' || kind === 'n';
  if (basis === 'cloud-process-search') return kind === 't' || kind === 'u';
  return kind === 'f' || kind === 'd' || kind === 'u';
}

/**
 * The value to store, or undefined for a verdict no reader would take back
 * (a text past the readers' bounds): storing it would only make every replica
 * reject it and ask Carbon Black again.
 */
export function encodeSharedVerdict(basis: VerdictBasis, entry: SharedVerdict): string | undefined {
  const verdict = encodeVerdict(entry.verdict);
  if (!withinBounds(verdict)) return undefined;
  return JSON.stringify({ v: CODEC_VERSION, basis, storedAt: entry.storedAt, hashes: entry.hashes, verdict });
}

function withinBounds(verdict: EncodedVerdict): boolean {
  for (const field of verdict) {
    if (typeof field === 'string' && field.length > MAX_TEXT) return false;
    if (Array.isArray(field) && (field.length > MAX_STATES || field.some((state) => state.length > MAX_TEXT))) return false;
  }
  return true;
}

/** The hashes a value names, read leniently: forgetting a binary must reach all its keys even from an odd value. */
export function hashesNamedIn(value: string): string[] {
  try {
    const parsed = valueSchema.shape.hashes.safeParse((JSON.parse(value) as { hashes?: unknown }).hashes);
    return parsed.success ? parsed.data : [];
  } catch {
    return [];
  }
}

/**
 * The verdict in a value read from Redis, or undefined when the value is not
 * one this replica wrote or would write: bad JSON, another version or basis,
 * a field out of shape, or not stored under `key` (a value copied elsewhere).
 */
export function decodeSharedVerdict(
  value: string,
  key: string,
  basis: VerdictBasis,
  interner: SignatureInterner,
): SharedVerdict | undefined {
  let json: unknown;
  try {
    json = JSON.parse(value);
  } catch {
    return undefined;
  }
  const parsed = valueSchema.safeParse(json);
  if (!parsed.success) return undefined;
  const { data } = parsed;
  if (data.basis !== basis || !fits(data.verdict[0], basis) || !data.hashes.includes(key)) return undefined;
  return { verdict: verdictOf(data.verdict, basis, interner), storedAt: data.storedAt, hashes: data.hashes };
}

function verdictOf(encoded: EncodedVerdict, basis: VerdictBasis, interner: SignatureInterner): CachedVerdict {
  switch (encoded[0]) {
    case 'u':
      return UnknownBinary.instance;
    case 'f': {
      const [, status, publisher, issuer, subject, programName, signedAt] = encoded;
      return interner.restore(status, publisher, issuer, subject, programName, signedAt);
    }
    case 'd': {
      const [, signedAt, status, publisher, issuer, subject, programName, factsSignedAt] = encoded;
      return new DatedSignature(interner.restore(status, publisher, issuer, subject, programName, factsSignedAt), signedAt);
    }
    case 't': {
      const [, kind, status, publisher, states] = encoded;
      return interner.stated(kind, status, publisher, states, basis);
    }
    case 's':
      return new JoinedSignature(encoded[1]);
    case 'n':
      return encoded[1];
  }
}
