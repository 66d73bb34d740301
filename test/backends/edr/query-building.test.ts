import { describe, expect, it } from 'vitest';
import {
  binaryRecordMd5,
  binarySearchMd5s,
  buildBinarySearchQuery,
  buildSigningQuery,
  MAX_BINARY_SEARCH_MD5S,
  quoteValue,
} from '../../../src/backends/edr/query.js';

const seedMd5 = '82a7bf2b1f51f1988be571b8176aa545';

describe('buildSigningQuery', () => {
  it('reproduces the seed blog post query exactly', () => {
    expect(buildSigningQuery(seedMd5, 'git', 'digsig_prog_name')).toBe('process_md5:82a7bf2b1f51f1988be571b8176aa545 digsig_prog_name:git');
  });

  it('lowercases the md5 in both join modes', () => {
    const upper = seedMd5.toUpperCase();
    expect(buildSigningQuery(upper, 'git', 'digsig_prog_name')).toBe(`process_md5:${seedMd5} digsig_prog_name:git`);
    expect(buildSigningQuery(upper, 'git', 'digsig_result')).toBe(`process_md5:${seedMd5} digsig_result:Signed`);
  });

  it('ignores the name in digsig_result mode, whatever it holds', () => {
    for (const name of ['git', 'a" OR digsig_result:Unsigned', '', '\\']) {
      expect(buildSigningQuery(seedMd5, name, 'digsig_result')).toBe(`process_md5:${seedMd5} digsig_result:Signed`);
    }
  });

  it('quotes a multi-word program name as a phrase', () => {
    expect(buildSigningQuery(seedMd5, 'Google Chrome', 'digsig_prog_name')).toBe(`process_md5:${seedMd5} digsig_prog_name:"Google Chrome"`);
  });

  it.each([
    ['not hex', 'zz'.repeat(16)],
    ['too short', seedMd5.slice(1)],
    ['too long', `${seedMd5}0`],
    ['a clause in disguise', `${seedMd5.slice(0, 31)} OR x`],
    ['empty', ''],
  ])('refuses an md5 that is %s', (_label, md5) => {
    expect(() => buildSigningQuery(md5, 'git', 'digsig_prog_name')).toThrow(TypeError);
  });
});

describe('quoteValue', () => {
  it.each([
    'git',
    'powershell.exe',
    'Code_Helper-2',
    '7z',
    'a.b_c-d',
    'ORACLE', // contains an operator word, is not one
    'android',
  ])('keeps the plain word %j verbatim', (word) => {
    expect(quoteValue(word)).toBe(word);
  });

  it.each([
    ['AND', '"AND"'],
    ['and', '"and"'],
    ['Or', '"Or"'],
    ['NOT', '"NOT"'],
    ['to', '"to"'],
    ['Google Chrome', '"Google Chrome"'],
    ['a"b', '"a\\"b"'],
    ['"', '"\\""'],
    ['a\\b', '"a\\\\b"'],
    ['trailing\\', '"trailing\\\\"'],
    ['\\"', '"\\\\\\""'],
    ['x OR process_md5:*', '"x OR process_md5:*"'],
    ['*', '"*"'],
    ['git*', '"git*"'],
    ['(git)', '"(git)"'],
    ['c:\\windows\\notepad.exe', '"c:\\\\windows\\\\notepad.exe"'],
    ['-git', '"-git"'],
    ['+git', '"+git"'],
    ['.hidden', '".hidden"'],
    ['_x', '"_x"'],
    ['line\nbreak', '"line\nbreak"'],
    ['tab\there', '"tab\there"'],
    ['', '""'],
    [' ', '" "'],
    ['café', '"café"'],
    ['Ｇｉｔ', '"Ｇｉｔ"'], // fullwidth letters are letters, but not ASCII ones
    ['日本語', '"日本語"'],
    ['🚀rocket', '"🚀rocket"'],
    ['a:b', '"a:b"'],
    ['a~2', '"a~2"'],
    ['a^2', '"a^2"'],
    ['{a TO b}', '"{a TO b}"'],
    ['a&&b', '"a&&b"'],
    ['a||b', '"a||b"'],
    ['a/b', '"a/b"'],
    ['a?', '"a?"'],
    ['!a', '"!a"'],
  ])('quotes %j as %s', (name, expected) => {
    expect(quoteValue(name)).toBe(expected);
  });

  it('keeps hostile names inside one clause of the query', () => {
    const query = buildSigningQuery(seedMd5, '" OR process_md5:* OR digsig_prog_name:"', 'digsig_prog_name');
    expect(query).toBe(`process_md5:${seedMd5} digsig_prog_name:"\\" OR process_md5:* OR digsig_prog_name:\\""`);
  });
});

const appidMd5 = 'C7F5CAE0B450BE875EEE0E6DDFA771FE';
/** `count` distinct valid md5s. */
const md5Range = (count: number) => Array.from({ length: count }, (_, i) => i.toString(16).padStart(32, '0'));

const badMd5s: [string, unknown][] = [
  ['not hex', 'zz'.repeat(16)],
  ['too short', seedMd5.slice(1)],
  ['too long', `${seedMd5}0`],
  ['a clause in disguise', `${seedMd5.slice(0, 31)} OR x`],
  ['a term with a wildcard', `${seedMd5.slice(0, 31)}*`],
  ['padded with spaces', ` ${seedMd5} `],
  ['empty', ''],
  ['a number', 12345],
  ['null', null],
  ['an object that stringifies to an md5', { toString: () => seedMd5 }],
];

describe('buildBinarySearchQuery', () => {
  it('ORs one upper-case md5 term per md5', () => {
    expect(buildBinarySearchQuery([seedMd5, appidMd5.toLowerCase()])).toBe(`md5:${seedMd5.toUpperCase()} OR md5:${appidMd5}`);
  });

  it('is a single term for one md5', () => {
    expect(buildBinarySearchQuery([appidMd5])).toBe(`md5:${appidMd5}`);
  });

  it('drops duplicates in any case, keeping first-seen order', () => {
    expect(buildBinarySearchQuery([appidMd5, seedMd5, appidMd5.toLowerCase(), seedMd5.toUpperCase()])).toBe(
      `md5:${appidMd5} OR md5:${seedMd5.toUpperCase()}`,
    );
  });

  it(`takes up to ${MAX_BINARY_SEARCH_MD5S} distinct md5s`, () => {
    expect(MAX_BINARY_SEARCH_MD5S).toBe(100);
    expect(buildBinarySearchQuery(md5Range(100)).split(' OR ')).toHaveLength(100);
    // Duplicates do not count against the limit.
    expect(binarySearchMd5s([...md5Range(100), ...md5Range(100)])).toHaveLength(100);
  });

  it.each([
    ['no md5', []],
    ['more than 100 distinct md5s', md5Range(101)],
  ])('refuses %s (TypeError)', (_label, md5s) => {
    expect(() => buildBinarySearchQuery(md5s)).toThrow(TypeError);
  });

  it.each(badMd5s)('refuses an md5 that is %s, even among valid ones', (_label, md5) => {
    expect(() => buildBinarySearchQuery([seedMd5, md5 as string])).toThrow(TypeError);
    expect(() => buildBinarySearchQuery([md5 as string])).toThrow(TypeError);
    // Refused by the md5 check itself, not by some later accident of the type.
    expect(() => buildBinarySearchQuery([md5 as string])).toThrow('md5 must be 32 hexadecimal digits');
  });

  it('refuses a string where an array belongs', () => {
    expect(() => buildBinarySearchQuery(seedMd5 as unknown as string[])).toThrow(TypeError);
    expect(() => buildBinarySearchQuery(seedMd5 as unknown as string[])).toThrow('md5s must be an array');
  });

  it('does not echo a bad md5 in the TypeError', () => {
    expect(() => buildBinarySearchQuery(['secret OR md5:*'])).toThrow(/^md5 must be 32 hexadecimal digits$/);
  });
});

describe('binaryRecordMd5', () => {
  it('upper-cases a valid md5', () => {
    expect(binaryRecordMd5(seedMd5)).toBe(seedMd5.toUpperCase());
    expect(binaryRecordMd5(appidMd5)).toBe(appidMd5);
  });

  it.each([...badMd5s, ['a path in disguise', `../../${seedMd5.slice(6)}`]])('refuses an md5 that is %s', (_label, md5) => {
    expect(() => binaryRecordMd5(md5 as string)).toThrow(TypeError);
    expect(() => binaryRecordMd5(md5 as string)).toThrow('md5 must be 32 hexadecimal digits');
  });
});
