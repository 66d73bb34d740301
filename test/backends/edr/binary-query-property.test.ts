import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { binarySearchMd5s, buildBinarySearchQuery, MAX_BINARY_SEARCH_MD5S } from '../../../src/backends/edr/query.js';

/**
 * Property: the binary-search query is only ever `md5:<32 hex>( OR md5:<32 hex>)*`,
 * one term per distinct md5 asked about; any list holding something else, or
 * no md5, or too many, is a TypeError. Nothing a caller passes can add,
 * negate or widen a clause.
 */

const queryShape = /^md5:[0-9A-F]{32}(?: OR md5:[0-9A-F]{32})*$/;
const md5Arb = fc.stringMatching(/^[0-9a-fA-F]{32}$/);
const validListArb = fc.array(md5Arb, { minLength: 1, maxLength: MAX_BINARY_SEARCH_MD5S });

/** Strings that are not an md5: near misses (one character off, wrong length) and anything at all. */
const notMd5Arb = fc
  .oneof(
    fc.string({ unit: 'binary' }),
    fc.string({
      unit: fc.constantFrom('a', 'F', '0', '9', ' ', ':', '*', '"', '\\', '(', ')', '-', 'OR', 'md5:', '\n', 'é'),
      maxLength: 40,
    }),
    fc
      .tuple(md5Arb, fc.integer({ min: 0, max: 31 }), fc.string({ minLength: 1, maxLength: 3 }))
      .map(([md5, at, junk]) => md5.slice(0, at) + junk + md5.slice(at + 1)),
    fc.tuple(md5Arb, fc.integer({ min: 1, max: 31 })).map(([md5, cut]) => md5.slice(cut)),
    md5Arb.map((md5) => `${md5}0`),
  )
  .filter((value) => !/^[0-9a-fA-F]{32}$/.test(value));

describe('binary search query, for any list of md5s', () => {
  it('the shape oracle is strict enough to catch an added clause (sanity check)', () => {
    const md5 = 'C7F5CAE0B450BE875EEE0E6DDFA771FE';
    expect(`md5:${md5} OR md5:${md5}`).toMatch(queryShape);
    expect(`md5:${md5} OR md5:*`).not.toMatch(queryShape);
    expect(`md5:${md5} digsig_result:Signed`).not.toMatch(queryShape);
    expect(`md5:${md5.toLowerCase()}`).not.toMatch(queryShape);
    expect(`md5:${md5} OR -md5:${md5}`).not.toMatch(queryShape);
  });

  it('is md5:<hex>( OR md5:<hex>)*, with exactly the distinct md5s, upper case', () => {
    fc.assert(
      fc.property(validListArb, (md5s) => {
        const q = buildBinarySearchQuery(md5s);
        expect(q).toMatch(queryShape);
        const terms = q.split(' OR ').map((term) => term.slice('md5:'.length));
        expect(new Set(terms).size).toBe(terms.length);
        expect(new Set(terms)).toEqual(new Set(md5s.map((md5) => md5.toUpperCase())));
        expect(binarySearchMd5s(md5s)).toEqual(terms);
      }),
      { numRuns: 1000 },
    );
  });

  it('throws TypeError for a list holding anything that is not an md5, wherever it sits', () => {
    fc.assert(
      fc.property(fc.array(md5Arb, { maxLength: 10 }), notMd5Arb, fc.nat(), (valid, bad, at) => {
        const md5s = [...valid];
        md5s.splice(at % (valid.length + 1), 0, bad);
        expect(() => buildBinarySearchQuery(md5s)).toThrow(TypeError);
      }),
      { numRuns: 2000 },
    );
  });

  it('throws TypeError for non-string entries', () => {
    fc.assert(
      fc.property(
        fc.array(md5Arb, { maxLength: 5 }),
        fc.oneof(fc.integer(), fc.constant(null), fc.constant(undefined), fc.boolean(), fc.object(), fc.array(md5Arb)),
        (valid, bad) => {
          expect(() => buildBinarySearchQuery([...valid, bad as unknown as string])).toThrow(TypeError);
        },
      ),
    );
  });

  it('throws TypeError for no md5, and for more distinct md5s than the limit', () => {
    expect(() => buildBinarySearchQuery([])).toThrow(TypeError);
    fc.assert(
      fc.property(
        fc.uniqueArray(md5Arb, { minLength: MAX_BINARY_SEARCH_MD5S + 1, maxLength: 150, selector: (md5) => md5.toLowerCase() }),
        (md5s) => {
          expect(() => buildBinarySearchQuery(md5s)).toThrow(TypeError);
        },
      ),
      { numRuns: 50 },
    );
  });
});
