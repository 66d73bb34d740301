import type { CacheStatus, Lookup, SignatureService } from '../signing/signature-service.js';
import { verdictFields, type VerdictFields } from '../signing/verdict.js';

/** The JSON shape of one verdict, shared by the single and batch routes. */
export interface SignatureView extends VerdictFields {
  md5: string | null;
  sha256: string | null;
  name: string;
  checkedAt: string;
  cache: { hit: boolean; status: CacheStatus; storedAt: string; ageSeconds: number; expiresAt: string };
}

export const xCacheHeader: Record<CacheStatus, string> = { hit: 'HIT', stale: 'STALE', miss: 'MISS', coalesced: 'MISS' };

/*
 * Cached answers repeat the same few timestamps over and over; formatting a
 * Date each time was a fifth of a 1000-item batch's CPU. A small memo of the
 * ISO strings, dropped wholesale when full, costs a Map lookup instead.
 */
const MAX_MEMO = 20_000;
const isoMemo = new Map<number, string>();

function isoTime(epochMs: number): string {
  let iso = isoMemo.get(epochMs);
  if (iso === undefined) {
    if (isoMemo.size >= MAX_MEMO) isoMemo.clear();
    iso = new Date(epochMs).toISOString();
    isoMemo.set(epochMs, iso);
  }
  return iso;
}

/** The answer for one lookup; the service knows the source (names tested, basis) and the binary's other hash. */
export function toSignatureView(lookup: Lookup, now: number, service: SignatureService): SignatureView {
  const storedAt = isoTime(lookup.storedAt);
  const { source } = service;
  const fields = verdictFields(lookup.entry, lookup.name, source.nameTested, source.basis);
  const { md5, sha256 } = service.hashesOf(lookup.hash);
  return {
    md5,
    sha256,
    name: lookup.name,
    verdict: fields.verdict,
    signed: fields.signed,
    signature: fields.signature,
    nameMatchesSignature: fields.nameMatchesSignature,
    basis: fields.basis,
    checkedAt: storedAt,
    cache: {
      hit: lookup.status === 'hit' || lookup.status === 'stale',
      status: lookup.status,
      storedAt,
      ageSeconds: Math.max(0, Math.floor((now - lookup.storedAt) / 1000)),
      expiresAt: isoTime(lookup.expiresAt),
    },
  };
}
