/**
 * The hashes of one Cloud search job and the query that asks for them. The
 * hashes come from callers, so they are the untrusted piece: each must be 32
 * (md5) or 64 (sha256) hex digits before it is written, and the query is then
 * always `process_hash:<hex>` or `process_hash:(<hex> OR <hex> ...)`, which no
 * input can widen, negate or extend.
 */

/** Most distinct hashes one job asks about: the query stays a few KiB, and a page of rows can still cover them. */
export const MAX_HASHES_PER_JOB = 100;

const hashPattern = /^(?:[0-9a-fA-F]{32}|[0-9a-fA-F]{64})$/;

/**
 * Validated, lower case (Cloud stores hashes in lower-case hex), duplicates
 * (in any case) dropped, first occurrence first.
 *
 * @throws TypeError when one is not 32 or 64 hex digits, or when there are
 * none or more than MAX_HASHES_PER_JOB distinct ones. The bad value is not
 * echoed: it is caller input of any size.
 */
export function searchJobHashes(hashes: readonly string[]): string[] {
  if (!Array.isArray(hashes)) throw new TypeError('hashes must be an array');
  const distinct = new Set<string>();
  for (const hash of hashes as readonly unknown[]) {
    if (typeof hash !== 'string' || !hashPattern.test(hash)) throw new TypeError('a hash must be 32 or 64 hexadecimal digits');
    distinct.add(hash.toLowerCase());
  }
  if (distinct.size === 0) throw new TypeError('a Cloud search needs at least one hash');
  if (distinct.size > MAX_HASHES_PER_JOB) throw new TypeError(`a Cloud search takes at most ${MAX_HASHES_PER_JOB} distinct hashes`);
  return [...distinct];
}

/** The job's `query`. @throws TypeError as searchJobHashes: a last guard, so only hex digits are ever written. */
export function buildHashQuery(hashes: readonly string[]): string {
  const wanted = searchJobHashes(hashes);
  return wanted.length === 1 ? `process_hash:${wanted[0]}` : `process_hash:(${wanted.join(' OR ')})`;
}
