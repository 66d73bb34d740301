import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toSignatureView } from '../../src/routes/signature-view.js';
import { cachedVerdicts } from '../support/verdict-arbitraries.js';
import type { SignatureService } from '../../src/signing/signature-service.js';
import { verdictFields } from '../../src/signing/verdict.js';

const text = fc.option(fc.constantFrom('git', 'Git', 'Apple Inc.', 'powershell', 'Windows PowerShell', 'nc', ''), { nil: null });
const entry = cachedVerdicts(text, ['Signed', 'Unsigned', 'Expired', '(Unknown)']);
const name = fc.oneof(fc.constantFrom('git', 'GIT', 'git.exe', 'powershell.exe', 'nc', 'x'), fc.string({ minLength: 1, maxLength: 12 }));
const source = fc.record({
  nameTested: fc.boolean(),
  basis: fc.constantFrom('binary-record' as const, 'joined-search' as const, 'cloud-process-search' as const),
});

describe("a lookup's answer object", () => {
  it('has the fields verdictFields gives, for every entry, name and source (2000 runs)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(entry, name), { minLength: 1, maxLength: 6 }), source, (asked, src) => {
        const service = {
          source: src,
          hashesOf: (hash: string) => ({ md5: hash, sha256: null }),
        } as unknown as SignatureService;
        // Each entry is asked with several names: only nameMatchesSignature may differ between them.
        for (const [one, first] of asked) {
          for (const n of [first, `${first}.exe`, first.toUpperCase()]) {
            const expected = verdictFields(one, n, src.nameTested, src.basis);
            const lookup = { hash: 'a'.repeat(32), name: n, entry: one, status: 'hit' as const, storedAt: 1_000, expiresAt: 61_000 };
            const view = toSignatureView(lookup, 13_500, service);
            expect(view).toEqual({
              md5: 'a'.repeat(32),
              sha256: null,
              name: n,
              ...expected,
              checkedAt: '1970-01-01T00:00:01.000Z',
              cache: {
                hit: true,
                status: 'hit',
                storedAt: '1970-01-01T00:00:01.000Z',
                ageSeconds: 12,
                expiresAt: '1970-01-01T00:01:01.000Z',
              },
            });
            // Key order is what a reader of the JSON sees first; the serializer writes the schema's order anyway.
            expect(Object.keys(view)).toEqual([
              'md5',
              'sha256',
              'name',
              'verdict',
              'signed',
              'signature',
              'nameMatchesSignature',
              'basis',
              'checkedAt',
              'cache',
            ]);
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
