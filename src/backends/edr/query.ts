/**
 * Builds the Carbon Black queries: the process search behind a signing lookup,
 * and the binary-record search by md5.
 *
 * Process search: the seed lookup joins the process row (by md5) with the binary's signature:
 * `process_md5:<md5> digsig_prog_name:<name>` returns a row only when that binary
 * is signed with that program name. The name comes from the caller, so it is
 * the one untrusted piece: whatever it holds, it must stay one value of one
 * clause. Carbon Black's escaping is not plain Lucene (backslashes in unquoted
 * paths stay literal), so the only form we rely on is the quoted phrase, where
 * `\"` is a quote and `\\` a backslash.
 *
 * Binary search: `md5:A OR md5:B ...`, built only from validated md5s, so it
 * has no untrusted piece at all.
 */

export type JoinField = 'digsig_prog_name' | 'digsig_result';

/**
 * A word the query language takes verbatim: ASCII letter or digit first (so no
 * leading `-` negation, no `+`, no wildcard), then letters, digits, `.`, `_`, `-`.
 * Deliberately ASCII-only: the server's notion of "letter" is not ours to guess.
 */
const plainWord = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Bare words the parser would read as operators rather than values. */
const operatorWords: ReadonlySet<string> = new Set(['and', 'or', 'not', 'to']);

const md5Pattern = /^[0-9a-fA-F]{32}$/;

/** A plain word verbatim (the seed form, `digsig_prog_name:git`), anything else as a quoted phrase. */
export function quoteValue(value: string): string {
  if (plainWord.test(value) && !operatorWords.has(value.toLowerCase())) return value;
  // Backslashes first, so the backslashes added before quotes are not doubled again.
  return `"${value.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"`;
}

/**
 * The `q` parameter of one signing lookup. The md5 is lowercased (Carbon Black
 * stores `process_md5` in lowercase hex). With `digsig_result` the name is
 * unused: the join asks only whether the binary is signed at all.
 *
 * @throws TypeError when md5 is not 32 hex digits. Callers validate it first;
 * this is a last guard so that the md5, too, can never add a clause.
 */
export function buildSigningQuery(md5: string, name: string, joinField: JoinField): string {
  if (!md5Pattern.test(md5)) throw new TypeError('md5 must be 32 hexadecimal digits');
  const md5Clause = `process_md5:${md5.toLowerCase()}`;
  if (joinField === 'digsig_result') return `${md5Clause} digsig_result:Signed`;
  return `${md5Clause} digsig_prog_name:${quoteValue(name)}`;
}

/** Most md5s one binary search asks about: the query stays a few KiB of URL, the answer well under the body limit. */
export const MAX_BINARY_SEARCH_MD5S = 100;

function checkMd5(md5: unknown): string {
  if (typeof md5 !== 'string' || !md5Pattern.test(md5)) throw new TypeError('md5 must be 32 hexadecimal digits');
  return md5.toUpperCase();
}

/**
 * The md5 of a binary-record URL (`/api/v1/binary/{MD5}/summary`), upper case
 * as records carry it.
 *
 * @throws TypeError when it is not 32 hex digits, so nothing but hex digits ever lands in the path.
 */
export function binaryRecordMd5(md5: string): string {
  return checkMd5(md5);
}

/**
 * The md5s of one binary search: validated, upper case, duplicates (in any
 * case) dropped, first occurrence first.
 *
 * @throws TypeError when one is not 32 hex digits, or when there are none or
 * more than MAX_BINARY_SEARCH_MD5S distinct ones.
 */
export function binarySearchMd5s(md5s: readonly string[]): string[] {
  if (!Array.isArray(md5s)) throw new TypeError('md5s must be an array');
  const distinct = new Set<string>();
  for (const md5 of md5s as readonly unknown[]) distinct.add(checkMd5(md5));
  if (distinct.size === 0) throw new TypeError('a binary search needs at least one md5');
  if (distinct.size > MAX_BINARY_SEARCH_MD5S) {
    throw new TypeError(`a binary search takes at most ${MAX_BINARY_SEARCH_MD5S} distinct md5s`);
  }
  return [...distinct];
}

/**
 * The `q` parameter of a binary-record search: `md5:A OR md5:B ...`, one
 * exact `md5:` term per distinct md5. Every md5 is 32 hex digits by the time
 * it is written, so the query is always `md5:<hex>( OR md5:<hex>)*` and no
 * input can add, negate or widen a clause.
 *
 * @throws TypeError as binarySearchMd5s.
 */
export function buildBinarySearchQuery(md5s: readonly string[]): string {
  return binarySearchMd5s(md5s)
    .map((md5) => `md5:${md5}`)
    .join(' OR ');
}
