import { nameMatchesProgram } from '../signing/name-match.js';
import type { CacheStatus, Lookup, SignatureService } from '../signing/signature-service.js';
import type { CachedVerdict, SignatureView as SignatureDetails } from '../signing/verdict.js';
import { DatedSignature, SignatureFacts, verdictFields, type VerdictFields } from '../signing/verdict.js';
import { boundedMemo } from './bounded-memo.js';

/** The JSON shape of one verdict, shared by the single and batch routes. */
export interface SignatureView extends VerdictFields {
  md5: string | null;
  sha256: string | null;
  name: string;
  checkedAt: string;
  cache: { hit: boolean; status: CacheStatus; storedAt: string; ageSeconds: number; expiresAt: string };
}

export const xCacheHeader: Record<CacheStatus, string> = { hit: 'HIT', stale: 'STALE', miss: 'MISS', coalesced: 'MISS' };

/** The operation whose answers carry `X-Cache`: the route declares it, and the OpenAPI document finds the header's place by it. */
export const X_CACHE_OPERATION_ID = 'getSignature';

/* Formatting a Date for every answer was a fifth of a 1000-item batch's CPU. */
export const isoTime = boundedMemo(20_000, (epochMs) => new Date(epochMs).toISOString());

/*
 * A binary record's fields are the same for every name but one,
 * `nameMatchesSignature`; building them (a new signature object, the signing
 * time formatted again) was a sixth of a 1000-item batch. So they are built
 * once per cache entry and kept beside it, weakly: an evicted entry takes its
 * fields with it. The answer shares the frozen signature object, which the
 * serializer only reads. Other entries (Cloud's, the joined search's) are
 * built each time, as verdictFields says.
 */
interface RecordFields {
  verdict: VerdictFields['verdict'];
  signed: boolean;
  signature: SignatureDetails;
  programName: string | null;
}
const recordMemo = new WeakMap<SignatureFacts | DatedSignature, RecordFields>();

function recordFieldsOf(entry: SignatureFacts | DatedSignature): RecordFields {
  let fields = recordMemo.get(entry);
  if (fields === undefined) {
    // Any name will do: only nameMatchesSignature depends on it, and that is worked out per answer.
    const built = verdictFields(entry, '', false);
    const signature = Object.freeze({ ...built.signature! });
    fields = { verdict: built.verdict, signed: built.signed, signature, programName: signature.programName };
    recordMemo.set(entry, fields);
  }
  return fields;
}

/** verdictFields(entry, name, ...), from the per-entry memo when the entry is a binary record. */
export function fieldsFor(entry: CachedVerdict, name: string, service: SignatureService): VerdictFields {
  if (entry instanceof SignatureFacts || entry instanceof DatedSignature) {
    const fields = recordFieldsOf(entry);
    return {
      verdict: fields.verdict,
      signed: fields.signed,
      signature: fields.signature,
      // The same rule as verdict.ts's recordFields (a test holds the two together).
      nameMatchesSignature: fields.programName !== null && nameMatchesProgram(fields.programName, name),
      basis: 'binary-record',
    };
  }
  const { source } = service;
  return verdictFields(entry, name, source.nameTested, source.basis);
}

/** The answer for one lookup; the service knows the source (names tested, basis) and the binary's other hash. */
export function toSignatureView(lookup: Lookup, now: number, service: SignatureService): SignatureView {
  const storedAt = isoTime(lookup.storedAt);
  const { entry, name } = lookup;
  const { md5, sha256 } = service.hashesOf(lookup.hash);
  if (entry instanceof SignatureFacts || entry instanceof DatedSignature) {
    // fieldsFor's record case, inline: one object per answer instead of two.
    const record = recordFieldsOf(entry);
    return {
      md5,
      sha256,
      name,
      verdict: record.verdict,
      signed: record.signed,
      signature: record.signature,
      nameMatchesSignature: record.programName !== null && nameMatchesProgram(record.programName, name),
      basis: 'binary-record',
      checkedAt: storedAt,
      cache: cacheInfo(lookup, now, storedAt),
    };
  }
  const fields = fieldsFor(entry, name, service);
  return {
    md5,
    sha256,
    name,
    verdict: fields.verdict,
    signed: fields.signed,
    signature: fields.signature,
    nameMatchesSignature: fields.nameMatchesSignature,
    basis: fields.basis,
    checkedAt: storedAt,
    cache: cacheInfo(lookup, now, storedAt),
  };
}

function cacheInfo(lookup: Lookup, now: number, storedAt: string): SignatureView['cache'] {
  return {
    hit: lookup.status === 'hit' || lookup.status === 'stale',
    status: lookup.status,
    storedAt,
    ageSeconds: Math.max(0, Math.floor((now - lookup.storedAt) / 1000)),
    expiresAt: isoTime(lookup.expiresAt),
  };
}
