import type { CacheStatus, Lookup, SignatureService } from '../signing/signature-service.js';
import { verdictFields, type VerdictFields } from '../signing/verdict.js';
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

/**
 * The answer for one lookup; the service knows the source (names tested, basis) and the binary's other hash.
 * The routes write a binary record's answer from per-signature pieces (verdict-json.ts) and serialize this
 * object for every other entry; the tests hold the pieces to this object's serialized text.
 */
export function toSignatureView(lookup: Lookup, now: number, service: SignatureService): SignatureView {
  const storedAt = isoTime(lookup.storedAt);
  const { md5, sha256 } = service.hashesOf(lookup.hash);
  return {
    md5,
    sha256,
    name: lookup.name,
    ...verdictFields(lookup.entry, lookup.name, service.source.nameTested, service.source.basis),
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
