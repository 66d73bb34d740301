import { describe, expect, it } from 'vitest';
import { parseRetryAfter } from '../../../src/backends/http/retry-after.js';

const now = Date.parse('2024-05-01T12:00:00Z');

describe('parseRetryAfter', () => {
  it.each([
    ['0', 0],
    ['1', 1000],
    ['120', 120_000],
    [' 7 ', 7000],
    ['31536000', 31_536_000_000],
  ])('reads delay-seconds %j', (value, expected) => {
    expect(parseRetryAfter(value, now)).toBe(expected);
  });

  it.each([
    ['Wed, 01 May 2024 12:00:30 GMT', 30_000],
    ['Wed, 01 May 2024 12:05:00 GMT', 300_000],
    ['Wednesday, 01-May-24 12:00:10 GMT', 10_000], // obsolete RFC 850 form
    ['Wed May  1 12:00:02 2024', undefined], // asctime has no zone; Date.parse reads it as local time
  ])('reads the HTTP date %j', (value, expected) => {
    if (expected === undefined) {
      expect(parseRetryAfter(value, now)).toEqual(expect.any(Number));
    } else {
      expect(parseRetryAfter(value, now)).toBe(expected);
    }
  });

  it('reads a date in the past as zero', () => {
    expect(parseRetryAfter('Wed, 01 May 2024 11:00:00 GMT', now)).toBe(0);
  });

  it.each([null, undefined, '', '   ', '-1', '1.5', '1e3', 'soon', '0x10', '31536001', '99999999999999999999', 'Thu, 99 Foo 2024'])(
    'ignores %j',
    (value) => {
      expect(parseRetryAfter(value, now)).toBeUndefined();
    },
  );

  it('uses the current time by default', () => {
    const inAMinute = new Date(Date.now() + 60_000).toUTCString();
    const parsed = parseRetryAfter(inAMinute);
    expect(parsed).toBeGreaterThan(55_000);
    expect(parsed).toBeLessThanOrEqual(60_000);
  });
});
