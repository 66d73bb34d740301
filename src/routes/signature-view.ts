import type { CacheStatus, Lookup } from '../signing/signature-service.js';

/** The JSON shape of one verdict, shared by the single and batch routes. */
export interface SignatureView {
  md5: string;
  name: string;
  signed: boolean;
  checkedAt: string;
  cache: { hit: boolean; status: CacheStatus; storedAt: string; ageSeconds: number; expiresAt: string };
}

export const xCacheHeader: Record<CacheStatus, string> = { hit: 'HIT', stale: 'STALE', miss: 'MISS', coalesced: 'MISS' };

export function toSignatureView(lookup: Lookup, now: number): SignatureView {
  const storedAt = new Date(lookup.storedAt).toISOString();
  return {
    md5: lookup.md5,
    name: lookup.name,
    signed: lookup.signed,
    checkedAt: storedAt,
    cache: {
      hit: lookup.status === 'hit' || lookup.status === 'stale',
      status: lookup.status,
      storedAt,
      ageSeconds: Math.max(0, Math.floor((now - lookup.storedAt) / 1000)),
      expiresAt: new Date(lookup.expiresAt).toISOString(),
    },
  };
}
