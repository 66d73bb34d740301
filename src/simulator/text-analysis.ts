/**
 * How the simulator analyses text, in one place so the query side and the
 * data side can never disagree.
 *
 * Free-text fields (digsig_prog_name, digsig_publisher, ..., cmdline) are split
 * on anything that is not a letter or digit and lowercased: "Google Chrome" is
 * [google, chrome], "chrome.exe" is [chrome, exe]. A lookup of chrome.exe by
 * digsig_prog_name therefore finds nothing for a binary signed as "Google
 * Chrome" ([chrome, exe] is not a run inside [google, chrome]) while
 * `digsig_prog_name:chrome` does. That is the name-differs caveat the project
 * documents, reproduced on purpose.
 */

const SEPARATORS = /[^\p{L}\p{N}]+/u;
// Bare query values keep `*` inside a token so `Goog*` stays one wildcard token.
const QUERY_SEPARATORS = /[^\p{L}\p{N}*]+/u;

export function textTokens(text: string): string[] {
  return text
    .toLowerCase()
    .split(SEPARATORS)
    .filter((t) => t !== '');
}

/** Tokens of a bare query value, where `*` is a wildcard inside a token. */
export function wildcardQueryTokens(text: string): string[] {
  return text
    .toLowerCase()
    .split(QUERY_SEPARATORS)
    .filter((t) => t !== '' && t !== '*'.repeat(t.length));
}

/** A case-insensitive whole-string matcher where `*` matches any run of characters. */
export function wildcardMatcher(pattern: string): (candidate: string) => boolean {
  const source = pattern
    .toLowerCase()
    .split('*')
    .map((part) => part.replace(/[.*+?^${}()|[\]\\]/gu, '\\$&'))
    .join('.*');
  const regex = new RegExp(`^${source}$`, 'su');
  return (candidate) => regex.test(candidate.toLowerCase());
}

/**
 * True when `needle` (each element a predicate on one token) matches a run of
 * consecutive tokens of `haystack`, in order.
 */
export function containsRun(haystack: readonly string[], needle: readonly ((token: string) => boolean)[]): boolean {
  if (needle.length === 0) return false;
  for (let start = 0; start + needle.length <= haystack.length; start += 1) {
    let all = true;
    for (let k = 0; k < needle.length; k += 1) {
      if (!(needle[k] as (token: string) => boolean)(haystack[start + k] as string)) {
        all = false;
        break;
      }
    }
    if (all) return true;
  }
  return false;
}
