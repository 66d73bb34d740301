import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decodeSharedVerdict, encodeSharedVerdict as encodeOrRefuse, type SharedVerdict } from '../../src/shared-tier/verdict-codec.js';

/** The value of a verdict within the readers' bounds (every one here but those the bounds test names). */
function encodeSharedVerdict(...args: Parameters<typeof encodeOrRefuse>): string {
  const value = encodeOrRefuse(...args);
  if (value === undefined) throw new Error('the codec refused to encode a verdict within bounds');
  return value;
}
import { SignatureInterner } from '../../src/signing/signature-interner.js';
import {
  DatedSignature,
  JoinedSignature,
  SignatureFacts,
  StatedSignature,
  UnknownBinary,
  verdictFields,
  type CachedVerdict,
  type VerdictBasis,
} from '../../src/signing/verdict.js';

/*
 * The value one replica writes to Redis and every other replica reads back:
 * each verdict of each basis survives the trip unchanged (the same answer
 * fields, storedAt and hashes), and anything that is not exactly such a
 * value (bad JSON, another version or basis, a verdict the basis never
 * makes, a value copied under another key, a field out of shape) is refused,
 * never thrown on and never taken as a verdict.
 */

const MD5 = '0123456789abcdef0123456789abcdef';
const OTHER_MD5 = 'fedcba9876543210fedcba9876543210';
const SHA256 = '0123456789abcdef'.repeat(4);
const STORED_AT = 1_767_225_600_000;
const BASES: readonly VerdictBasis[] = ['binary-record', 'joined-search', 'cloud-process-search'];

const interner = new SignatureInterner();
const signedFacts = new SignatureFacts(
  'Signed',
  'Microsoft Corporation',
  'Microsoft Code Signing PCA',
  'Microsoft Windows',
  'git',
  1_600_000_000,
);

/** Every kind of verdict, with the basis that makes it. */
const VERDICTS: ReadonlyArray<[string, VerdictBasis, CachedVerdict]> = [
  ['a signed record', 'binary-record', signedFacts],
  ['an unsigned record without signing fields', 'binary-record', new SignatureFacts('Unsigned', null, null, null, null, null)],
  ['an expired record with odd characters', 'binary-record', new SignatureFacts('Expired', 'Ünïcødé "Ltd" \\ 🙂', null, 'CN=a,O=b', '', 0)],
  ['a record sharing facts, with its own signing time', 'binary-record', new DatedSignature(signedFacts, 1_700_000_123)],
  ['a record sharing facts, without a signing time', 'binary-record', new DatedSignature(signedFacts, null)],
  ['no record', 'binary-record', UnknownBinary.instance],
  [
    'a Cloud signature',
    'cloud-process-search',
    new StatedSignature(
      'signed',
      'FILE_SIGNATURE_STATE_VERIFIED',
      'Google LLC',
      ['FILE_SIGNATURE_STATE_SIGNED', 'FILE_SIGNATURE_STATE_VERIFIED'],
      'cloud-process-search',
    ),
  ],
  [
    'a Cloud unsigned signature',
    'cloud-process-search',
    new StatedSignature('unsigned', 'FILE_SIGNATURE_STATE_NOT_SIGNED', null, ['FILE_SIGNATURE_STATE_NOT_SIGNED'], 'cloud-process-search'),
  ],
  ['a Cloud signature no state decided', 'cloud-process-search', new StatedSignature('unknown', null, null, [], 'cloud-process-search')],
  ['no Cloud process', 'cloud-process-search', UnknownBinary.instance],
  ['a joined-search row', 'joined-search', new JoinedSignature('git')],
  ['no joined-search row for a name', 'joined-search', 'nc'],
  ['no joined-search row for an empty name', 'joined-search', ''],
];

/** What a lookup would answer from a verdict: the API's fields, for a name it tests and one it does not. */
function answers(verdict: CachedVerdict, basis: VerdictBasis) {
  return ['git', 'nc', 'GIT'].flatMap((name) => [true, false].map((tested) => verdictFields(verdict, name, tested, basis)));
}

function expectSame(decoded: SharedVerdict | undefined, entry: SharedVerdict, basis: VerdictBasis): void {
  expect(decoded).toBeDefined();
  expect(decoded!.storedAt).toBe(entry.storedAt);
  expect(decoded!.hashes).toEqual(entry.hashes);
  expect(decoded!.verdict.constructor).toBe(entry.verdict.constructor);
  expect(answers(decoded!.verdict, basis)).toEqual(answers(entry.verdict, basis));
  if (entry.verdict instanceof DatedSignature) {
    expect((decoded!.verdict as DatedSignature).signedAtSeconds).toBe(entry.verdict.signedAtSeconds);
    expect(verdictFields((decoded!.verdict as DatedSignature).facts, 'git', true)).toEqual(verdictFields(entry.verdict.facts, 'git', true));
  }
}

const decode = (value: string, basis: VerdictBasis, key = MD5) => decodeSharedVerdict(value, key, basis, interner);
/** A valid value of the basis, as JSON to change one field of. */
const validJson = (basis: VerdictBasis): Record<string, unknown> => {
  const verdict = VERDICTS.find(([, b]) => b === basis)![2];
  return JSON.parse(encodeSharedVerdict(basis, { verdict, storedAt: STORED_AT, hashes: [MD5] })) as Record<string, unknown>;
};
const withFields = (basis: VerdictBasis, fields: Record<string, unknown>): string => JSON.stringify({ ...validJson(basis), ...fields });

describe('shared verdict codec: round trip', () => {
  it.each(VERDICTS)('%s (%s) decodes to the verdict it encoded, with its storedAt and hashes', (_, basis, verdict) => {
    const entry: SharedVerdict = { verdict, storedAt: STORED_AT, hashes: [MD5, SHA256] };
    const value = encodeSharedVerdict(basis, entry);
    expectSame(decode(value, basis), entry, basis);
    // Under each of the binary's hashes: the value is stored under all of them.
    expectSame(decode(value, basis, SHA256), entry, basis);
  });

  it('keeps storedAt 0 and the largest safe integer', () => {
    for (const storedAt of [0, Number.MAX_SAFE_INTEGER]) {
      const entry: SharedVerdict = { verdict: UnknownBinary.instance, storedAt, hashes: [MD5] };
      expectSame(decode(encodeSharedVerdict('binary-record', entry), 'binary-record'), entry, 'binary-record');
    }
  });

  it('keeps strings of exactly 4096 characters and 64 Cloud states', () => {
    const long = 'x'.repeat(4096);
    const cases: Array<[VerdictBasis, CachedVerdict]> = [
      ['binary-record', new SignatureFacts(long, long, long, long, long, 1)],
      [
        'cloud-process-search',
        new StatedSignature(
          'signed',
          long,
          long,
          Array.from({ length: 64 }, () => long),
          'cloud-process-search',
        ),
      ],
      ['joined-search', new JoinedSignature(long)],
      ['joined-search', long],
    ];
    for (const [basis, verdict] of cases) {
      const entry: SharedVerdict = { verdict, storedAt: STORED_AT, hashes: [MD5] };
      expectSame(decode(encodeSharedVerdict(basis, entry), basis), entry, basis);
    }
  });

  it('any record signature and signing time survive the trip (property)', () => {
    const textOrNull = fc.option(fc.string({ maxLength: 40, unit: 'binary' }), { nil: null });
    const seconds = fc.option(fc.integer({ min: -(2 ** 40), max: 2 ** 40 }), { nil: null });
    const hashArb = fc.oneof(fc.stringMatching(/^[0-9a-f]{32}$/), fc.stringMatching(/^[0-9a-f]{64}$/));
    fc.assert(
      fc.property(
        fc.string({ maxLength: 40, unit: 'binary' }),
        textOrNull,
        textOrNull,
        textOrNull,
        textOrNull,
        seconds,
        fc.option(seconds, { nil: undefined }),
        fc.nat(),
        fc.array(hashArb, { maxLength: 3 }),
        (status, publisher, issuer, subject, programName, signedAt, ownSignedAt, storedAt, aliases) => {
          const facts = new SignatureFacts(status, publisher, issuer, subject, programName, signedAt);
          const verdict = ownSignedAt === undefined ? facts : new DatedSignature(facts, ownSignedAt);
          const entry: SharedVerdict = { verdict, storedAt, hashes: [MD5, ...aliases] };
          expectSame(decode(encodeSharedVerdict('binary-record', entry), 'binary-record'), entry, 'binary-record');
        },
      ),
      { numRuns: 500 },
    );
  });
});

describe('shared verdict codec: refusals', () => {
  it.each([
    '',
    'not json',
    '{',
    '{"v":1',
    'null',
    'true',
    '1',
    '"text"',
    '[]',
    '{}',
    `${encodeSharedVerdict('binary-record', { verdict: UnknownBinary.instance, storedAt: 1, hashes: [MD5] })}x`,
  ])('refuses %j: not a value', (value) => {
    for (const basis of BASES) expect(decode(value, basis)).toBeUndefined();
  });

  it.each([0, 2, '1', 1.5, null, true])('refuses a value of version %j', (v) => {
    for (const basis of BASES) expect(decode(withFields(basis, { v }), basis)).toBeUndefined();
  });

  it('refuses a value without a version', () => {
    const { v: _v, ...rest } = validJson('binary-record');
    expect(decode(JSON.stringify(rest), 'binary-record')).toBeUndefined();
  });

  it.each(VERDICTS)('refuses %s (%s) to a reader of another basis', (_, basis, verdict) => {
    const value = encodeSharedVerdict(basis, { verdict, storedAt: STORED_AT, hashes: [MD5] });
    for (const other of BASES.filter((each) => each !== basis)) expect(decode(value, other)).toBeUndefined();
  });

  it.each([
    ['binary-record', ['s', 'git']],
    ['binary-record', ['n', 'git']],
    ['binary-record', ['t', 'signed', 'FILE_SIGNATURE_STATE_VERIFIED', null, []]],
    ['joined-search', ['u']],
    ['joined-search', ['f', 'Signed', null, null, null, 'git', 1]],
    ['joined-search', ['d', 1, 'Signed', null, null, null, 'git', 1]],
    ['joined-search', ['t', 'signed', null, null, []]],
    ['cloud-process-search', ['f', 'Signed', null, null, null, 'git', 1]],
    ['cloud-process-search', ['d', 1, 'Signed', null, null, null, 'git', 1]],
    ['cloud-process-search', ['s', 'git']],
    ['cloud-process-search', ['n', 'git']],
  ] as Array<[VerdictBasis, unknown[]]>)('refuses in %s, its own basis, the verdict %j it never makes', (basis, verdict) => {
    expect(decode(withFields(basis, { verdict }), basis)).toBeUndefined();
  });

  it('refuses a value whose hashes do not name the key it was read under (copied from another key)', () => {
    for (const basis of BASES) {
      expect(decode(withFields(basis, { hashes: [OTHER_MD5] }), basis)).toBeUndefined();
      expect(decode(withFields(basis, { hashes: [OTHER_MD5, SHA256] }), basis)).toBeUndefined();
      // The key as another case, or a piece of a named hash, is not the key.
      expect(decode(withFields(basis, { hashes: [MD5.toUpperCase()] }), basis)).toBeUndefined();
      expect(decode(withFields(basis, { hashes: [SHA256] }), basis, SHA256.slice(0, 32))).toBeUndefined();
    }
  });

  it.each([
    ['binary-record', 'a field of its own', { extra: 1 }],
    ['binary-record', 'an element more in the unknown verdict', { verdict: ['u', null] }],
    ['binary-record', 'an element more in a record verdict', { verdict: ['f', 'Signed', null, null, null, 'git', 1, 'extra'] }],
    ['binary-record', 'an element fewer in a record verdict', { verdict: ['f', 'Signed', null, null, null, 'git'] }],
    ['joined-search', 'an element more in a joined-search verdict', { verdict: ['s', 'git', 'git'] }],
    ['cloud-process-search', 'an element more in a Cloud verdict', { verdict: ['t', 'signed', null, null, [], 'x'] }],
  ] as Array<[VerdictBasis, string, Record<string, unknown>]>)('refuses in %s a value with %s', (basis, _, fields) => {
    expect(decode(withFields(basis, fields), basis)).toBeUndefined();
  });

  it('refuses a value with a __proto__ field', () => {
    const valid = encodeSharedVerdict('binary-record', { verdict: UnknownBinary.instance, storedAt: STORED_AT, hashes: [MD5] });
    expect(decode(valid, 'binary-record')).toBeDefined();
    expect(decode(`${valid.slice(0, -1)},"__proto__":{"v":1}}`, 'binary-record')).toBeUndefined();
  });

  it.each([
    ['binary-record', { storedAt: '1767225600000' }],
    ['binary-record', { storedAt: null }],
    ['binary-record', { storedAt: -1 }],
    ['binary-record', { storedAt: 1.5 }],
    ['binary-record', { storedAt: 1e300 }],
    ['binary-record', { storedAt: Number.MAX_SAFE_INTEGER + 1 }],
    ['binary-record', { basis: 'edr' }],
    ['binary-record', { basis: null }],
    ['binary-record', { hashes: MD5 }],
    ['binary-record', { hashes: [] }],
    ['binary-record', { hashes: [MD5, MD5, MD5, MD5, MD5] }],
    ['binary-record', { hashes: [MD5, 1] }],
    ['binary-record', { hashes: [MD5, null] }],
    ['binary-record', { verdict: 'u' }],
    ['binary-record', { verdict: { 0: 'u' } }],
    ['binary-record', { verdict: [] }],
    ['binary-record', { verdict: ['x'] }],
    ['binary-record', { verdict: null }],
    ['binary-record', { verdict: ['f', null, null, null, null, 'git', 1] }],
    ['binary-record', { verdict: ['f', 'Signed', 5, null, null, 'git', 1] }],
    ['binary-record', { verdict: ['f', 'Signed', null, null, null, 'git', '1600000000'] }],
    ['binary-record', { verdict: ['f', 'Signed', null, null, null, 'git', 1.5] }],
    ['binary-record', { verdict: ['f', 'Signed', null, null, null, 'git', 2 ** 60] }],
    ['binary-record', { verdict: ['f', 'Signed', null, null, null, ['git'], 1] }],
    ['binary-record', { verdict: ['d', 'yesterday', 'Signed', null, null, null, 'git', 1] }],
    ['binary-record', { verdict: ['d', 1, null, null, null, null, 'git', 1] }],
    ['binary-record', { verdict: ['d', 1, 'Signed', null, null, null, 'git', false] }],
    ['cloud-process-search', { verdict: ['t', 'maybe', null, null, []] }],
    ['cloud-process-search', { verdict: ['t', 'signed', null, null, 'FILE_SIGNATURE_STATE_VERIFIED'] }],
    ['cloud-process-search', { verdict: ['t', 'signed', null, null, [1]] }],
    ['cloud-process-search', { verdict: ['t', 'signed', null, null, [null]] }],
    ['cloud-process-search', { verdict: ['t', 'signed', 7, null, []] }],
    ['cloud-process-search', { verdict: ['t', 'signed', null, null, Array.from({ length: 65 }, () => 'S')] }],
    ['joined-search', { verdict: ['s', null] }],
    ['joined-search', { verdict: ['s', 1] }],
    ['joined-search', { verdict: ['n'] }],
    ['joined-search', { verdict: ['n', { name: 'git' }] }],
  ] as Array<[VerdictBasis, Record<string, unknown>]>)('refuses in %s a field of the wrong type or range: %j', (basis, fields) => {
    expect(decode(withFields(basis, fields), basis)).toBeUndefined();
  });

  it('does not encode what no reader would take back: a text over 4096 characters, more than 64 states', () => {
    const interner = new SignatureInterner();
    const long = 'x'.repeat(4097);
    const facts = interner.facts('Signed', long, null, null, null, null);
    expect(encodeOrRefuse('binary-record', { verdict: facts, storedAt: STORED_AT, hashes: [MD5] })).toBeUndefined();
    const states = Array.from({ length: 65 }, (_, i) => `FILE_SIGNATURE_STATE_${i}`);
    const stated = interner.stated('signed', 'FILE_SIGNATURE_STATE_VERIFIED', null, states, 'cloud-process-search');
    expect(encodeOrRefuse('cloud-process-search', { verdict: stated, storedAt: STORED_AT, hashes: [MD5] })).toBeUndefined();
  });

  it('refuses a string of more than 4096 characters anywhere', () => {
    const huge = 'x'.repeat(4097);
    const cases: Array<[VerdictBasis, unknown[]]> = [
      ['binary-record', ['f', huge, null, null, null, null, 1]],
      ['binary-record', ['f', 'Signed', huge, null, null, null, 1]],
      ['binary-record', ['f', 'Signed', null, huge, null, null, 1]],
      ['binary-record', ['f', 'Signed', null, null, huge, null, 1]],
      ['binary-record', ['f', 'Signed', null, null, null, huge, 1]],
      ['binary-record', ['d', 1, huge, null, null, null, null, 1]],
      ['binary-record', ['d', 1, 'Signed', null, null, null, huge, 1]],
      ['cloud-process-search', ['t', 'signed', huge, null, []]],
      ['cloud-process-search', ['t', 'signed', null, huge, []]],
      ['cloud-process-search', ['t', 'signed', null, null, ['S', huge]]],
      ['joined-search', ['s', huge]],
      ['joined-search', ['n', huge]],
    ];
    for (const [basis, verdict] of cases)
      expect(decode(withFields(basis, { verdict }), basis), JSON.stringify(verdict).slice(0, 60)).toBeUndefined();
  });

  it.each([
    ['a non-hex character', `${MD5.slice(0, 31)}g`],
    ['upper-case hex', MD5.toUpperCase()],
    ['31 characters', MD5.slice(0, 31)],
    ['33 characters', `${MD5}0`],
    ['a sha1 length (40)', 'a'.repeat(40)],
    ['65 characters', `${SHA256}0`],
    ['a trailing newline', `${MD5}\n`],
    ['spaces', ` ${MD5} `],
    ['an empty string', ''],
  ])('refuses a value naming a hash with %s, even beside the key', (_, bad) => {
    for (const basis of BASES) expect(decode(withFields(basis, { hashes: [MD5, bad] }), basis)).toBeUndefined();
  });
});

/** JSON in one spelling: keys sorted, -0 as 0, so two texts of one value compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, each: unknown) =>
    each !== null && typeof each === 'object' && !Array.isArray(each)
      ? Object.fromEntries(Object.entries(each as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : each,
  );
}

/** Decodes without throwing; a value decodes only when it is exactly what the codec writes for that verdict. */
function checkAnyValue(value: string, basis: VerdictBasis, key: string): void {
  let decoded: SharedVerdict | undefined;
  expect(() => (decoded = decodeSharedVerdict(value, key, basis, interner))).not.toThrow();
  if (decoded === undefined) return;
  expect(decoded.hashes).toContain(key);
  expect(canonical(JSON.parse(encodeSharedVerdict(basis, decoded)))).toBe(canonical(JSON.parse(value)));
}

const basisArb = fc.constantFrom(...BASES);
const keyArb = fc.constantFrom(MD5, SHA256);

/** A valid value of each kind, then one thing about it changed, dropped or added at any depth. */
const mutatedValueArb = fc
  .tuple(fc.constantFrom(...VERDICTS), fc.nat(), fc.array(fc.constantFrom(MD5, OTHER_MD5, SHA256), { minLength: 1, maxLength: 3 }))
  .chain(([[, basis, verdict], storedAt, hashes]) => {
    const json = JSON.parse(encodeSharedVerdict(basis, { verdict, storedAt, hashes })) as Record<string, unknown>;
    const paths: Array<Array<string | number>> = [];
    const walk = (node: unknown, path: Array<string | number>) => {
      paths.push(path);
      if (Array.isArray(node)) node.forEach((child, i) => walk(child, [...path, i]));
      else if (node !== null && typeof node === 'object') for (const [name, child] of Object.entries(node)) walk(child, [...path, name]);
    };
    walk(json, []);
    const replacement = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(1, 2, 0, -1, 1.5, '1', '', null, 'u', 'f', 'd', 't', 's', 'n', 'signed', MD5, OTHER_MD5, 'x'.repeat(4097), ...BASES),
    );
    return fc.tuple(
      fc.constant(json),
      fc.constantFrom(...paths),
      fc.constantFrom('replace', 'drop', 'add'),
      replacement,
      fc.string({ maxLength: 6 }),
    );
  })
  .map(([json, path, change, replacement, name]) => {
    const copy = structuredClone(json) as Record<string, unknown>;
    if (path.length === 0) return JSON.stringify(change === 'replace' ? replacement : { ...copy, [name]: replacement });
    const parent = path.slice(0, -1).reduce<unknown>((node, step) => (node as Record<string | number, unknown>)[step], copy) as
      Record<string, unknown> | unknown[];
    const last = path[path.length - 1]!;
    if (change === 'replace') (parent as Record<string | number, unknown>)[last] = replacement;
    else if (Array.isArray(parent)) {
      if (change === 'drop') parent.splice(Number(last), 1);
      else parent.splice(Number(last), 0, replacement);
    } else if (change === 'drop') delete parent[last];
    else parent[name] = replacement;
    return JSON.stringify(copy);
  });

describe('shared verdict codec: any value read from Redis (property)', () => {
  it('never throws on arbitrary text, and decodes none of it', () => {
    fc.assert(
      fc.property(
        fc.oneof(fc.string({ maxLength: 200 }), fc.string({ maxLength: 200, unit: 'binary' })),
        basisArb,
        keyArb,
        (value, basis, key) => {
          let decoded: SharedVerdict | undefined;
          expect(() => (decoded = decodeSharedVerdict(value, key, basis, interner))).not.toThrow();
          expect(decoded).toBeUndefined();
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('arbitrary JSON decodes only when it is a valid encoding, and never throws', () => {
    fc.assert(
      fc.property(fc.json({ maxDepth: 4 }), basisArb, keyArb, (value, basis, key) => checkAnyValue(value, basis, key)),
      { numRuns: 3000 },
    );
  });

  it('a valid value changed anywhere decodes only when it is still a valid encoding, and never throws', () => {
    fc.assert(
      fc.property(mutatedValueArb, basisArb, keyArb, (value, basis, key) => checkAnyValue(value, basis, key)),
      { numRuns: 5000 },
    );
  });
});
