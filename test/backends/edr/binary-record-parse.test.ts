import { afterEach, describe, expect, it } from 'vitest';
import { binaryRecordRowSchema, binaryRecordSchema, binarySearchResponseSchema } from '../../../src/backends/edr/binary-record.js';
import { parseSignTime } from '../../../src/backends/edr/sign-time.js';
import { appidParsed, appidRecord, binarySearchEnvelope, fullRecord, unsignedParsed, unsignedRecord } from './support/binary-records.js';

describe('binaryRecordSchema', () => {
  it('reads the recorded appid.sys row: absent issuer, subject and program name are undefined', () => {
    expect(binaryRecordSchema.parse(appidRecord)).toStrictEqual(appidParsed);
  });

  it('reads an unsigned record that has only digsig_result, signed and digsig_result_code', () => {
    expect(binaryRecordSchema.parse(unsignedRecord)).toStrictEqual(unsignedParsed);
  });

  it('reads every signature detail when the record has them', () => {
    expect(binaryRecordSchema.parse(fullRecord)).toStrictEqual({
      md5: '82a7bf2b1f51f1988be571b8176aa545',
      digsigResult: 'Signed',
      publisher: 'Microsoft Corporation',
      issuer: 'Microsoft Code Signing PCA 2011',
      subject: 'Microsoft Corporation',
      programName: 'Microsoft Office',
      signedAtMs: Date.UTC(2019, 7, 1, 17, 2, 33),
    });
  });

  it('lowercases the md5', () => {
    expect(binaryRecordSchema.parse({ ...unsignedRecord, md5: 'ABCDEF0123456789ABCDEF0123456789' }).md5).toBe(
      'abcdef0123456789abcdef0123456789',
    );
  });

  it.each([
    'Unsigned',
    'Expired',
    'Bad Signature',
    'Invalid Signature',
    'Invalid Chain',
    'Untrusted Root',
    'Explicit Distrust',
    '(Unknown)',
  ])('keeps digsig_result %j verbatim', (result) => {
    expect(binaryRecordSchema.parse({ md5: appidRecord.md5, digsig_result: result, signed: result }).digsigResult).toBe(result);
  });

  it('prefers digsig_result over signed when both are there', () => {
    expect(binaryRecordSchema.parse({ md5: appidRecord.md5, digsig_result: 'Expired', signed: 'Signed' }).digsigResult).toBe('Expired');
  });

  it.each([
    ['absent', {}],
    ['null', { digsig_result: null }],
    ['a number', { digsig_result: 0 }],
    ['empty', { digsig_result: '' }],
  ])('falls back to signed when digsig_result is %s', (_label, digsigResult) => {
    expect(binaryRecordSchema.parse({ md5: appidRecord.md5, signed: 'Unsigned', ...digsigResult }).digsigResult).toBe('Unsigned');
  });

  it.each([
    ['neither key', {}],
    ['both null', { digsig_result: null, signed: null }],
    ['both empty', { digsig_result: '', signed: '' }],
    ['both numbers', { digsig_result: 1, signed: 0 }],
    ['a boolean signed', { signed: true }],
  ])('refuses a record with %s, naming digsig_result', (_label, keys) => {
    const parsed = binaryRecordSchema.safeParse({ md5: appidRecord.md5, ...keys });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['digsig_result']);
    expect(parsed.error?.issues[0]?.code).toBe('custom');
  });

  it.each([
    ['null', null],
    ['a number', 42],
    ['empty', ''],
    ['an object', { name: 'Microsoft' }],
    ['a list', ['Microsoft Corporation']],
  ])('reads a detail that is %s as absent', (_label, value) => {
    const record = binaryRecordSchema.parse({
      md5: appidRecord.md5,
      digsig_result: 'Signed',
      digsig_publisher: value,
      digsig_issuer: value,
      digsig_subject: value,
      digsig_prog_name: value,
      digsig_sign_time: value,
    });
    expect(record).toStrictEqual({ ...appidParsed, publisher: undefined, signedAtMs: undefined });
  });

  it.each([
    ['missing', {}],
    ['null', { md5: null }],
    ['too short', { md5: appidRecord.md5.slice(1) }],
    ['not hex', { md5: 'Z'.repeat(32) }],
    ['a number', { md5: 1 }],
  ])('refuses a record whose md5 is %s, naming md5', (_label, md5) => {
    const { md5: _dropped, ...rest } = appidRecord;
    const parsed = binaryRecordSchema.safeParse({ ...rest, ...md5 });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues[0]?.path).toEqual(['md5']);
  });

  it.each([null, [], 'record', 1])('refuses %j as a record', (body) => {
    expect(binaryRecordSchema.safeParse(body).success).toBe(false);
  });

  it('ignores the types of keys it does not read', () => {
    const odd = { ...appidRecord, host_count: 'many', observed_filename: null, is_64bit: 'yes', endpoint: 7 };
    expect(binaryRecordSchema.parse(odd)).toStrictEqual(appidParsed);
  });

  it('the row schema keeps unknown keys (loose) and only normalises the ones it reads', () => {
    const row = binaryRecordRowSchema.parse({ ...appidRecord, digsig_issuer: null });
    expect(row).toMatchObject({ original_filename: 'appid.sys', host_count: 1, digsig_publisher: 'Microsoft Corporation' });
    expect(row.digsig_issuer).toBeUndefined();
  });
});

describe('binarySearchResponseSchema', () => {
  it('reads the documented envelope, terms, elapsed, facets, highlights and start unchecked', () => {
    const parsed = binarySearchResponseSchema.parse({
      ...binarySearchEnvelope([appidRecord, unsignedRecord]),
      terms: 'whatever',
      elapsed: 'slow',
      facets: null,
      highlights: 3,
      start: '0',
    });
    expect(parsed.results).toStrictEqual([appidParsed, unsignedParsed]);
    expect(parsed.total_results).toBe(2);
  });

  it.each([
    ['no results', { total_results: 0 }],
    ['no total_results', { results: [] }],
    ['results as an object', { results: {}, total_results: 0 }],
    ['a null row', { results: [null], total_results: 1 }],
    ['a row without a verdict', { results: [{ md5: appidRecord.md5 }], total_results: 1 }],
    ['total_results as a string', { results: [], total_results: '0' }],
    ['negative total_results', { results: [], total_results: -1 }],
    ['fractional total_results', { results: [], total_results: 1.5 }],
  ])('refuses %s', (_label, body) => {
    expect(binarySearchResponseSchema.safeParse(body).success).toBe(false);
  });

  it('names the row of a bad record in the issue path', () => {
    const parsed = binarySearchResponseSchema.safeParse({ results: [appidRecord, { md5: 'nope', signed: 'Signed' }], total_results: 2 });
    expect(parsed.error?.issues[0]?.path).toEqual(['results', 1, 'md5']);
  });
});

describe('parseSignTime', () => {
  it.each([
    ['2016-04-12T09:21:00Z', Date.UTC(2016, 3, 12, 9, 21, 0)],
    ['2016-04-12T09:21:00', Date.UTC(2016, 3, 12, 9, 21, 0)], // no zone: GMT, not local time
    ['2016-04-12 09:21:00', Date.UTC(2016, 3, 12, 9, 21, 0)],
    ['2016-04-12T09:21Z', Date.UTC(2016, 3, 12, 9, 21, 0)],
    ['2016-04-12T09:21:00.5Z', Date.UTC(2016, 3, 12, 9, 21, 0, 500)],
    ['2016-04-12T09:21:00.123456Z', Date.UTC(2016, 3, 12, 9, 21, 0, 123)],
    ['2016-04-12T11:21:00+02:00', Date.UTC(2016, 3, 12, 9, 21, 0)],
    ['2016-04-12T04:21:00-0500', Date.UTC(2016, 3, 12, 9, 21, 0)],
    ['2016-04-12', Date.UTC(2016, 3, 12)],
    ['2016-02-29T00:00:00Z', Date.UTC(2016, 1, 29)],
    [' 2016-04-12T09:21:00Z ', Date.UTC(2016, 3, 12, 9, 21, 0)],
  ])('reads %j', (value, expected) => {
    expect(parseSignTime(value)).toBe(expected);
  });

  it.each([
    undefined,
    '',
    'soon',
    '12/04/2016',
    'Tue, 12 Apr 2016 09:21:00 GMT',
    '1460452860',
    '2016-13-01T00:00:00Z',
    '2016-00-10T00:00:00Z',
    '2015-02-29T00:00:00Z',
    '2016-04-31T00:00:00Z',
    '2016-04-12T24:00:00Z',
    '2016-04-12T09:60:00Z',
    '2016-04-12T09:21:61Z',
    '2016-04-12T09:21:00+25:00',
    '2016-04-12T09:21:00Zjunk',
    '2016-4-12T09:21:00Z',
  ])('reads %j as no sign time', (value) => {
    expect(parseSignTime(value)).toBeUndefined();
  });

  describe('in a time zone other than GMT', () => {
    const zone = process.env['TZ'];
    afterEach(() => {
      if (zone === undefined) delete process.env['TZ'];
      else process.env['TZ'] = zone;
    });

    it('still reads a time without a zone as GMT (Date.parse would read it as local time)', () => {
      process.env['TZ'] = 'America/New_York';
      // Sanity check that the zone took effect, or this test could not fail.
      expect(new Date(Date.UTC(2016, 3, 12)).getTimezoneOffset()).toBe(240);
      expect(parseSignTime('2016-04-12T09:21:00')).toBe(Date.UTC(2016, 3, 12, 9, 21, 0));
      expect(parseSignTime('2016-04-12')).toBe(Date.UTC(2016, 3, 12));
    });
  });
});
