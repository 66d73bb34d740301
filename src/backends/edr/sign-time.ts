/**
 * `digsig_sign_time` as epoch milliseconds. Carbon Black writes it as an ISO
 * 8601 date-time in GMT (`2016-04-12T09:21:00Z`). Accepted: `YYYY-MM-DD`, then
 * optionally `T` (or a space) and `HH:MM[:SS[.fraction]]`, then optionally `Z`
 * or a `±HH:MM` / `±HHMM` offset; no zone means GMT (Date.parse would read it
 * as local time, hence no Date.parse). Anything else, or an impossible date
 * (`2016-02-30`), is undefined: a sign time is informative, never a verdict, so
 * a bad one is no sign time rather than a failure.
 */

const isoDateTime = /^(\d{4})-(\d{2})-(\d{2})(?:[Tt ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?(?:([Zz])|([+-])(\d{2}):?(\d{2}))?$/;

export function parseSignTime(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const m = isoDateTime.exec(value.trim());
  if (m === null) return undefined;
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = '', , sign, offH, offM] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h);
  const minute = Number(mi);
  const second = Number(s);
  if (month < 1 || month > 12 || day < 1 || hour > 23 || minute > 59 || second > 59) return undefined;
  const ms = Number(fraction.padEnd(3, '0').slice(0, 3));
  const at = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  // Date.UTC rolls an impossible day over into the next month; refuse it instead.
  const date = new Date(at);
  if (date.getUTCFullYear() !== year || date.getUTCMonth() !== month - 1 || date.getUTCDate() !== day) return undefined;
  if (sign === undefined) return at;
  const offsetHours = Number(offH);
  const offsetMinutes = Number(offM);
  if (offsetHours > 23 || offsetMinutes > 59) return undefined;
  const offsetMs = (offsetHours * 60 + offsetMinutes) * 60_000;
  return sign === '+' ? at - offsetMs : at + offsetMs;
}
