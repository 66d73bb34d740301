import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { buildHashQuery, MAX_HASHES_PER_JOB, searchJobHashes } from '../../../src/backends/cloud/hash-query.js';
import { binary } from './support/cloud-fixtures.js';

const a = binary('a');
const b = binary('b');

describe('buildHashQuery', () => {
  it('asks one hash as a bare term', () => {
    expect(buildHashQuery([a.md5])).toBe(`process_hash:${a.md5}`);
    expect(buildHashQuery([a.sha256])).toBe(`process_hash:${a.sha256}`);
  });

  it('asks several as one parenthesised OR group, in order, md5s and sha256s mixed', () => {
    expect(buildHashQuery([a.md5, b.sha256, b.md5])).toBe(`process_hash:(${a.md5} OR ${b.sha256} OR ${b.md5})`);
  });

  it('lower-cases and deduplicates before writing', () => {
    expect(buildHashQuery([a.md5.toUpperCase(), a.md5])).toBe(`process_hash:${a.md5}`);
  });

  it('is always process_hash: and hex terms only, whatever is asked (property)', () => {
    const hex = (length: number) => fc.stringMatching(new RegExp(`^[0-9a-fA-F]{${length}}$`));
    fc.assert(
      fc.property(fc.array(fc.oneof(hex(32), hex(64)), { minLength: 1, maxLength: MAX_HASHES_PER_JOB }), (hashes) => {
        const query = buildHashQuery(hashes);
        expect(query).toMatch(
          /^process_hash:(?:[0-9a-f]{32}|[0-9a-f]{64}|\((?:[0-9a-f]{32}|[0-9a-f]{64})(?: OR (?:[0-9a-f]{32}|[0-9a-f]{64}))+\))$/,
        );
      }),
      { seed: 7, numRuns: 200 },
    );
  });
});

describe('searchJobHashes', () => {
  it('keeps first occurrences, lower case', () => {
    expect(searchJobHashes([b.md5, a.sha256.toUpperCase(), b.md5.toUpperCase(), a.sha256])).toEqual([b.md5, a.sha256]);
  });

  it('takes MAX_HASHES_PER_JOB distinct hashes, duplicates not counted', () => {
    const hashes = Array.from({ length: MAX_HASHES_PER_JOB }, (_v, i) => binary(`h${i}`).md5);
    expect(searchJobHashes([...hashes, ...hashes.map((hash) => hash.toUpperCase())])).toHaveLength(MAX_HASHES_PER_JOB);
  });

  it('refuses one more than MAX_HASHES_PER_JOB', () => {
    const hashes = Array.from({ length: MAX_HASHES_PER_JOB + 1 }, (_v, i) => binary(`h${i}`).sha256);
    expect(() => searchJobHashes(hashes)).toThrow(TypeError);
  });

  it.each([
    ['nothing', []],
    ['an md5 one digit short', [a.md5.slice(1)]],
    ['a sha256 one digit long', [`${a.sha256}0`]],
    ['48 hex digits', [a.sha256.slice(16)]],
    ['a non-hex letter', [`${a.md5.slice(1)}g`]],
    ['an OR injection', [`${a.md5} OR process_name:*`]],
    ['a closing parenthesis', [`${a.md5})`]],
    ['surrounding space', [` ${a.md5}`]],
    ['a trailing newline', [`${a.md5}\n`]],
    ['a number', [42]],
    ['null', [null]],
  ])('refuses %s (TypeError)', (_label, hashes) => {
    expect(() => searchJobHashes(hashes as string[])).toThrow(TypeError);
  });

  it('refuses something that is not an array', () => {
    expect(() => searchJobHashes(a.md5 as unknown as string[])).toThrow(TypeError);
  });

  it('does not echo the bad value', () => {
    const bad = 'process_name:secret-thing-zz';
    expect(() => searchJobHashes([bad])).toThrow(expect.objectContaining({ message: expect.not.stringContaining(bad) as unknown }));
  });
});
