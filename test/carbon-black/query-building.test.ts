import { describe, expect, it } from 'vitest';
import { buildSigningQuery, quoteValue } from '../../src/carbon-black/query.js';

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
