import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fieldsFor } from '../../src/routes/signature-view.js';
import type { SignatureService } from '../../src/signing/signature-service.js';
import type { CachedVerdict } from '../../src/signing/verdict.js';
import {
  DatedSignature,
  JoinedSignature,
  SignatureFacts,
  StatedSignature,
  UnknownBinary,
  verdictFields,
} from '../../src/signing/verdict.js';

const text = fc.option(fc.constantFrom('git', 'Git', 'Apple Inc.', 'powershell', 'Windows PowerShell', 'nc', ''), { nil: null });
const seconds = fc.option(fc.integer({ min: 0, max: 2_000_000_000 }), { nil: null });
const facts = fc
  .tuple(fc.constantFrom('Signed', 'Unsigned', 'Expired', '(Unknown)'), text, text, text, text, seconds)
  .map(
    ([status, publisher, issuer, subject, programName, signedAt]) =>
      new SignatureFacts(status, publisher, issuer, subject, programName, signedAt),
  );
const entry: fc.Arbitrary<CachedVerdict> = fc.oneof(
  facts,
  fc.tuple(facts, seconds).map(([shared, signedAt]) => new DatedSignature(shared, signedAt)),
  fc.constant(UnknownBinary.instance),
  fc.constantFrom('git', 'nc').map((name) => new JoinedSignature(name)),
  fc.constantFrom('git', 'nc'),
  fc.constantFrom(new StatedSignature('signed', 'FILE_SIGNATURE_STATE_VERIFIED', 'Acme', ['VERIFIED', 'SIGNED'], 'cloud-process-search')),
);
const name = fc.oneof(fc.constantFrom('git', 'GIT', 'git.exe', 'powershell.exe', 'nc', 'x'), fc.string({ minLength: 1, maxLength: 12 }));
const source = fc.record({
  nameTested: fc.boolean(),
  basis: fc.constantFrom('binary-record' as const, 'joined-search' as const, 'cloud-process-search' as const),
});

describe('an answer built from the per-entry memo', () => {
  it('has the fields verdictFields gives, for every entry, name and source, asked in any order (2000 runs)', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(entry, name), { minLength: 1, maxLength: 6 }), source, (asked, src) => {
        const service = { source: src } as unknown as SignatureService;
        // Each entry is asked twice with different names: the second answer comes from the memo.
        for (const [one, first] of asked) {
          for (const n of [first, `${first}.exe`, first.toUpperCase()]) {
            expect(fieldsFor(one, n, service)).toEqual(verdictFields(one, n, src.nameTested, src.basis));
          }
        }
      }),
      { numRuns: 2000 },
    );
  });
});
