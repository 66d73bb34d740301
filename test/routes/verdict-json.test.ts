import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BYTES_FROM_LENGTH, compileStringifier } from '../../src/plugins/schema-compilers.js';
import { batchResponseSchema, batchResultSchema, signatureSchema } from '../../src/routes/schemas.js';
import { toSignatureView } from '../../src/routes/signature-view.js';
import { batchBody, errorResultJson, verdictJson } from '../../src/routes/verdict-json.js';
import { cachedVerdicts } from '../support/verdict-arbitraries.js';
import type { CacheStatus, Lookup, SignatureService } from '../../src/signing/signature-service.js';
import type { CachedVerdict, VerdictBasis } from '../../src/signing/verdict.js';
import { DatedSignature, SignatureFacts, UnknownBinary } from '../../src/signing/verdict.js';

/*
 * verdict-json.ts writes a verdict from per-signature pieces; the schema's own
 * serializer is what it must agree with, byte for byte, for any entry, name
 * and cache state. Texts include what JSON must escape (quotes, backslashes,
 * control characters, non-ASCII), since Carbon Black's fields and the
 * caller's name are untrusted.
 */

const schemaWrite = compileStringifier(batchResultSchema);
const schemaBody = compileStringifier(batchResponseSchema);
/** The single lookup's own serializer: its route answers with verdictJson's text too. */
const singleWrite = compileStringifier(signatureSchema);

const awkward = fc.constantFrom(
  'Apple Inc.',
  'Microsoft "Windows"',
  'C:\\Program Files',
  'tab\there',
  'Zoë AB',
  '中文',
  'line\u2028sep',
  '',
);
const text = fc.option(fc.oneof(awkward, fc.string({ maxLength: 12 })), { nil: null });
const entry = cachedVerdicts(text, ['Signed', 'Unsigned', 'Expired', 'Bad "Signature"']);
const name = fc.oneof(
  fc.constantFrom('git', 'GIT', 'git.exe', 'Windows "Tool"', 'a\\b', 'Zoë'),
  fc.string({ minLength: 1, maxLength: 16 }),
);
const status = fc.constantFrom<CacheStatus>('hit', 'stale', 'miss', 'coalesced');
const basis = fc.constantFrom('binary-record' as const, 'joined-search' as const, 'cloud-process-search' as const);

function serviceWith(source: { nameTested: boolean; basis: VerdictBasis }, alias: string | null): SignatureService {
  return {
    source,
    hashesOf: (hash: string) => (hash.length === 32 ? { md5: hash, sha256: alias } : { md5: alias, sha256: hash }),
  } as unknown as SignatureService;
}

const lookup = fc.record({
  hash: fc.constantFrom('a'.repeat(32), 'b'.repeat(64)),
  name,
  entry,
  status,
  storedAt: fc.integer({ min: 0, max: 4_000_000_000_000 }),
  lifetime: fc.integer({ min: 0, max: 90 * 86_400_000 }),
});

describe('a verdict written from the per-signature pieces', () => {
  it('is the text both the batch result and the single lookup serializers write for the same answer, for every entry, name, cache state and source (3000 runs)', () => {
    fc.assert(
      fc.property(
        fc.array(lookup, { minLength: 1, maxLength: 5 }),
        fc.record({ nameTested: fc.boolean(), basis }),
        fc.option(fc.constant('c'.repeat(64)), { nil: null }),
        fc.integer({ min: 0, max: 200_000_000 }),
        (asked, source, alias, after) => {
          const service = serviceWith(source, alias);
          // Each entry is asked again with other names: later answers come from the memo.
          for (const { lifetime, ...one } of asked) {
            for (const n of [one.name, `${one.name}.exe`, one.name.toUpperCase()]) {
              const answer: Lookup = { ...one, name: n, expiresAt: one.storedAt + lifetime };
              const now = one.storedAt + after;
              const written = verdictJson(answer, now, service);
              const view = toSignatureView(answer, now, service);
              expect(written).toBe(schemaWrite(view));
              expect(written).toBe(singleWrite(view));
            }
          }
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('gives each binary sharing a signature its own signing time, hashes and name test', () => {
    const shared = new SignatureFacts('Signed', 'Apple Inc.', 'Apple CA', 'Software Signing', 'git', 1_490_674_446);
    const service = serviceWith({ nameTested: true, basis: 'binary-record' }, null);
    const at = (entry: CachedVerdict, hash: string, n: string) =>
      JSON.parse(verdictJson({ hash, name: n, entry, status: 'hit', storedAt: 0, expiresAt: 1000 }, 0, service)) as {
        md5: string;
        nameMatchesSignature: boolean;
        signature: { signedAt: string | null };
      };
    const first = at(shared, 'a'.repeat(32), 'git');
    const second = at(new DatedSignature(shared, null), 'b'.repeat(32), 'nc');
    const third = at(new DatedSignature(shared, 0), 'c'.repeat(32), 'Git');
    expect([first.md5, first.signature.signedAt, first.nameMatchesSignature]).toEqual(['a'.repeat(32), '2017-03-28T04:14:06Z', true]);
    expect([second.md5, second.signature.signedAt, second.nameMatchesSignature]).toEqual(['b'.repeat(32), null, false]);
    expect([third.md5, third.signature.signedAt, third.nameMatchesSignature]).toEqual(['c'.repeat(32), '1970-01-01T00:00:00Z', true]);
  });
});

describe('the batch body', () => {
  const service = serviceWith({ nameTested: true, basis: 'binary-record' }, null);
  const facts = new SignatureFacts('Signed', 'Apple Inc.', 'Apple CA', 'Software Signing', 'git', 1_490_674_446);
  const answer = (i: number): Lookup => ({
    hash: i.toString(16).padStart(32, '0'),
    name: i % 2 === 0 ? 'git' : 'nc',
    entry: i % 3 === 0 ? UnknownBinary.instance : new DatedSignature(facts, i),
    status: 'hit',
    storedAt: 1_000,
    expiresAt: 61_000,
  });
  const invalid = {
    md5: '000000000000000000000000000000',
    name: 'explorer.exe',
    error: {
      status: 400 as const,
      code: 'INVALID_REQUEST' as const,
      title: 'Invalid request',
      detail: '"md5" must be 32 hexadecimal digits',
      field: 'md5',
      retryable: false as const,
    },
  };

  it.each([1, 3, 1000])('of %i results is the schema serializer’s text for the same answer, results in order', (count) => {
    const lookups = Array.from({ length: count }, (_, i) => answer(i));
    const texts = [...lookups.map((l) => verdictJson(l, 13_500, service)), errorResultJson(invalid)];
    const body = batchBody(texts);
    const expected = schemaBody({ results: [...lookups.map((l) => toSignatureView(l, 13_500, service)), invalid] });
    expect(body.toString()).toBe(expected);
    // Long answers go out as bytes, short ones as text, by the same rule as every other route.
    expect(Buffer.isBuffer(body)).toBe(expected.length > BYTES_FROM_LENGTH);
  });

  it('is the UTF-8 of the joined texts for any texts, however far they are from ASCII (500 runs)', () => {
    // A long ASCII text first, so that the body goes out as bytes and the buffer runs short where the wide texts fall.
    const texts = fc.tuple(
      fc.integer({ min: BYTES_FROM_LENGTH - 40, max: BYTES_FROM_LENGTH + 40 }).map((n) => 'x'.repeat(n)),
      fc.array(fc.oneof(fc.string({ unit: 'binary', maxLength: 30 }), fc.constantFrom('中文字', '😀', 'é', '\ud800', '')), {
        maxLength: 60,
      }),
    );
    fc.assert(
      fc.property(texts, ([filler, rest]) => {
        const all = [filler, ...rest];
        const body = batchBody(all);
        const expected = `{"results":[${all.join(',')}]}`;
        expect(Buffer.isBuffer(body) ? (body as Buffer).equals(Buffer.from(expected, 'utf8')) : body === expected).toBe(true);
        expect(Buffer.isBuffer(body)).toBe(expected.length > BYTES_FROM_LENGTH);
      }),
      { numRuns: 500 },
    );
  });

  // A long body's buffer is sized for ASCII and grows when a text holds more bytes than UTF-16 units.
  it.each([
    ['no result', -1],
    ['the first result', 0],
    ['a middle result', 500],
    ['the last result', 999],
    ['every result', 'all'],
  ] as const)('of 1000 results is the UTF-8 of the same text when %s names a binary outside ASCII', (_where, wide) => {
    const lookups = Array.from({ length: 1000 }, (_, i) => ({
      ...answer(i),
      ...((wide === 'all' || wide === i) && { name: 'Zoë-中文-😀.exe' }),
    }));
    const body = batchBody(lookups.map((l) => verdictJson(l, 13_500, service)));
    const expected = Buffer.from(schemaBody({ results: lookups.map((l) => toSignatureView(l, 13_500, service)) }), 'utf8');
    expect(Buffer.isBuffer(body)).toBe(true);
    expect((body as Buffer).equals(expected)).toBe(true);
  });
});
