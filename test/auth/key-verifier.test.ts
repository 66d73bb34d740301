import fc from 'fast-check';
import { describe, expect, it, vi } from 'vitest';
import * as apiKeys from '../../src/auth/api-keys.js';
import { authenticate, KeyVerifier } from '../../src/auth/authenticate.js';
import { ADMIN_KEY, LOOKUP_KEY, OTHER_LOOKUP_KEY, testKeys } from './support.js';

/** Headers a caller might send: the configured keys (often repeated), near misses and noise. */
const headerArb = fc.oneof(
  fc.constantFrom(LOOKUP_KEY, OTHER_LOOKUP_KEY, ADMIN_KEY).map((key) => `Bearer ${key}`),
  fc.constantFrom(LOOKUP_KEY, OTHER_LOOKUP_KEY, ADMIN_KEY).map((key) => `bearer  ${key}`),
  fc.constantFrom(LOOKUP_KEY, ADMIN_KEY).map((key) => `Bearer ${key}x`),
  fc.string({ maxLength: 40 }).map((key) => `Bearer ${key}`),
  fc.string({ maxLength: 60 }),
);

describe('KeyVerifier', () => {
  it('answers every sequence of headers exactly as authenticate does', () => {
    fc.assert(
      fc.property(fc.array(headerArb, { maxLength: 40 }), fc.integer({ min: 1, max: 4 }), (headers, bound) => {
        const verifier = new KeyVerifier(testKeys, bound);
        for (const header of headers) expect(verifier.verify(header)).toEqual(authenticate(header, testKeys));
        expect(verifier.remembered).toBeLessThanOrEqual(bound);
      }),
      { numRuns: 500 },
    );
  });

  it('digests an accepted header once, and an unknown one every time', () => {
    const digest = vi.spyOn(apiKeys, 'digestKey');
    try {
      const verifier = new KeyVerifier(testKeys);
      for (let i = 0; i < 5; i++) expect(verifier.verify(`Bearer ${LOOKUP_KEY}`).kind).toBe('ok');
      for (let i = 0; i < 5; i++) expect(verifier.verify('Bearer not-a-configured-key-at-all').kind).toBe('unknown');
      expect(digest).toHaveBeenCalledTimes(1 + 5);
      expect(verifier.remembered).toBe(1);
    } finally {
      digest.mockRestore();
    }
  });

  it('never accepts a key outside its own key set, even one another verifier accepted', () => {
    const withAll = new KeyVerifier(testKeys);
    const withoutAdmin = new KeyVerifier(testKeys.filter((key) => key.role !== 'admin'));
    expect(withAll.verify(`Bearer ${ADMIN_KEY}`).kind).toBe('ok');
    expect(withoutAdmin.verify(`Bearer ${ADMIN_KEY}`).kind).toBe('unknown');
  });

  it('stays within its bound under many distinct accepted values', () => {
    const verifier = new KeyVerifier(testKeys, 3);
    for (let spaces = 1; spaces <= 50; spaces++) {
      expect(verifier.verify(`Bearer${' '.repeat(spaces)}${LOOKUP_KEY}`).kind).toBe('ok');
      expect(verifier.remembered).toBeLessThanOrEqual(3);
    }
  });
});
