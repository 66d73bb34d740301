/**
 * Parses an HTTP `Retry-After` value (RFC 9110 §10.2.3) into milliseconds from
 * `now`: either delay-seconds (`120`) or an HTTP-date
 * (`Wed, 21 Oct 2015 07:28:00 GMT`). A date in the past means "now" (0).
 * Anything unparseable yields undefined: a bad hint is no hint, never a failure.
 */
export function parseRetryAfter(value: string | null | undefined, now: number = Date.now()): number | undefined {
  if (value == null) return undefined;
  const trimmed = value.trim();
  if (trimmed === '') return undefined;
  if (/^\d+$/.test(trimmed)) {
    const seconds = Number(trimmed);
    // Absurd values (beyond a year) are most likely garbage; do not let them park a caller forever.
    return Number.isSafeInteger(seconds) && seconds <= 31_536_000 ? seconds * 1000 : undefined;
  }
  // Only date-looking values: Date.parse would otherwise accept things like "1.5" or "-3".
  if (!/[A-Za-z]/.test(trimmed)) return undefined;
  const at = Date.parse(trimmed);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, at - now);
}
