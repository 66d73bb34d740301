import fc from 'fast-check';
import type { CachedVerdict } from '../../src/signing/verdict.js';
import { DatedSignature, JoinedSignature, SignatureFacts, StatedSignature, UnknownBinary } from '../../src/signing/verdict.js';

/*
 * Every kind of cached verdict, for the property tests that hold two writers
 * of an answer to the same result (signature-view, verdict-json). Each test
 * passes the texts that matter to it: names that test the name match, or
 * strings JSON must escape.
 */

export const signingSeconds = fc.option(fc.integer({ min: 0, max: 2_000_000_000 }), { nil: null });

export function cachedVerdicts(text: fc.Arbitrary<string | null>, statuses: readonly string[]): fc.Arbitrary<CachedVerdict> {
  const facts = fc
    .tuple(fc.constantFrom(...statuses), text, text, text, text, signingSeconds)
    .map(
      ([status, publisher, issuer, subject, programName, signedAt]) =>
        new SignatureFacts(status, publisher, issuer, subject, programName, signedAt),
    );
  return fc.oneof(
    facts,
    fc.tuple(facts, signingSeconds).map(([shared, signedAt]) => new DatedSignature(shared, signedAt)),
    fc.constant(UnknownBinary.instance),
    fc.constantFrom('git', 'nc').map((name) => new JoinedSignature(name)),
    fc.constantFrom('git', 'nc'),
    fc.constant(
      new StatedSignature('signed', 'FILE_SIGNATURE_STATE_VERIFIED', 'Acme "Corp"', ['VERIFIED', 'SIGNED'], 'cloud-process-search'),
    ),
  );
}
