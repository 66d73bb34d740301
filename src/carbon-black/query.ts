/**
 * Builds the Carbon Black process-search query behind a signing lookup.
 *
 * The seed lookup joins the process row (by md5) with the binary's signature:
 * `process_md5:<md5> digsig_prog_name:<name>` returns a row only when that binary
 * is signed with that program name. The name comes from the caller, so it is
 * the one untrusted piece: whatever it holds, it must stay one value of one
 * clause. Carbon Black's escaping is not plain Lucene (backslashes in unquoted
 * paths stay literal), so the only form we rely on is the quoted phrase, where
 * `\"` is a quote and `\\` a backslash.
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
