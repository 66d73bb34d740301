import { describe, expect, it } from 'vitest';
import type { SignatureServiceOptions } from '../../src/signing/signature-service.js';
import { SignatureService } from '../../src/signing/signature-service.js';
import type { RecordedSigning } from '../../src/signing/signature-interner.js';
import { SignatureInterner } from '../../src/signing/signature-interner.js';
import { DatedSignature, SignatureFacts, UnknownBinary, verdictFields } from '../../src/signing/verdict.js';
import { binaryRecordSource } from '../../src/backends/edr/verdict-sources.js';

const GIT = '82a7bf2b1f51f1988be571b8176aa545';
const DRIVER = 'c7f5cae0b450be875eee0e6ddfa771fe';
const UNSEEN = '5f4dcc3b5aa765d61d8327deb882cf99';

const gitRecord: RecordedSigning = {
  digsigResult: 'Signed',
  publisher: 'Apple Inc.',
  issuer: 'Apple Code Signing Certification Authority',
  subject: 'Software Signing',
  programName: 'git',
  signedAtMs: Date.parse('2017-03-28T04:14:06Z'),
};
// The recorded appid.sys: signed, a publisher and a time, no program name, issuer or subject.
const driverRecord: RecordedSigning = {
  digsigResult: 'Signed',
  publisher: 'Microsoft Corporation',
  issuer: undefined,
  subject: undefined,
  programName: undefined,
  signedAtMs: Date.parse('2016-04-12T09:21:00Z'),
};

function harness(records: Record<string, RecordedSigning | Error>, overrides: Partial<SignatureServiceOptions> = {}) {
  let clock = Date.UTC(2026, 11, 2, 12, 0, 0);
  const reads: string[] = [];
  const service = new SignatureService({
    maxEntries: 100,
    ttlSignedSeconds: 86_400,
    ttlUnsignedSeconds: 3600,
    ttlUnknownSeconds: 600,
    staleIfErrorSeconds: 86_400,
    staleWhileRevalidateSeconds: 0,
    source: binaryRecordSource(async (md5) => {
      reads.push(md5);
      const record = records[md5];
      if (record instanceof Error) throw record;
      return record;
    }),
    now: () => clock,
    ...overrides,
  });
  const fields = async (md5: string, name: string) => {
    const lookup = await service.lookup(md5, name);
    return { ...verdictFields(lookup.entry, name, true), status: lookup.status, ttlMs: lookup.expiresAt - lookup.storedAt };
  };
  return { service, reads, fields, advance: (ms: number) => (clock += ms) };
}

describe('verdict rules, binary-record mode', () => {
  it('a Signed record is signed, with the signature as Carbon Black gave it', async () => {
    const { fields } = harness({ [GIT]: gitRecord });
    expect(await fields(GIT, 'git')).toEqual({
      verdict: 'signed',
      signed: true,
      signature: {
        status: 'Signed',
        publisher: 'Apple Inc.',
        issuer: 'Apple Code Signing Certification Authority',
        subject: 'Software Signing',
        programName: 'git',
        signedAt: '2017-03-28T04:14:06Z',
        states: null,
      },
      nameMatchesSignature: true,
      basis: 'binary-record',
      status: 'miss',
      ttlMs: 86_400_000,
    });
  });

  it('a Microsoft binary whose signature names no program is signed, and no name matches it', async () => {
    const { fields } = harness({ [DRIVER]: driverRecord });
    expect(await fields(DRIVER, 'appid.sys')).toMatchObject({
      verdict: 'signed',
      signature: { publisher: 'Microsoft Corporation', issuer: null, subject: null, programName: null, signedAt: '2016-04-12T09:21:00Z' },
      nameMatchesSignature: false,
    });
  });

  it.each([
    'Unsigned',
    'Expired',
    'Bad Signature',
    'Invalid Signature',
    'Invalid Chain',
    'Untrusted Root',
    'Explicit Distrust',
    '(Unknown)',
    'signed',
  ])('digsig_result %j is unsigned, with its status verbatim', async (status) => {
    const { fields } = harness({ [GIT]: { ...gitRecord, digsigResult: status } });
    const answer = await fields(GIT, 'git');
    expect(answer).toMatchObject({ verdict: 'unsigned', signed: false, signature: { status }, ttlMs: 3_600_000 });
  });

  it('no record is unknown, not unsigned, and is asked again after the short lifetime', async () => {
    const { fields, reads, advance } = harness({});
    expect(await fields(UNSEEN, 'dropper.exe')).toEqual({
      verdict: 'unknown',
      signed: false,
      signature: null,
      nameMatchesSignature: null,
      basis: 'binary-record',
      status: 'miss',
      ttlMs: 600_000,
    });
    advance(599_000);
    expect((await fields(UNSEEN, 'dropper.exe')).status).toBe('hit');
    advance(2000);
    expect((await fields(UNSEEN, 'dropper.exe')).status).toBe('miss');
    expect(reads).toEqual([UNSEEN, UNSEEN]);
  });

  it('a cached binary answers another name without another read; only nameMatchesSignature changes', async () => {
    const { fields, reads } = harness({ [GIT]: gitRecord });
    await fields(GIT, 'git');
    expect(await fields(GIT, 'svchost.exe')).toMatchObject({ verdict: 'signed', nameMatchesSignature: false, status: 'hit' });
    expect(await fields(GIT, 'GIT')).toMatchObject({ verdict: 'signed', nameMatchesSignature: true, status: 'hit' });
    expect(reads).toEqual([GIT]);
  });

  it('a failed read is an error, never a verdict, and is not cached', async () => {
    const records: Record<string, RecordedSigning | Error> = { [GIT]: new Error('upstream down') };
    const { service, fields, reads } = harness(records);
    await expect(service.lookup(GIT, 'git')).rejects.toThrow('upstream down');
    expect(service.stats().size).toBe(0);
    records[GIT] = gitRecord;
    expect(await fields(GIT, 'git')).toMatchObject({ verdict: 'signed', status: 'miss' });
    expect(reads).toHaveLength(2);
  });

  it('stale-if-error serves an expired unknown too, marked stale', async () => {
    const records: Record<string, RecordedSigning | Error> = {};
    const { fields, advance } = harness(records);
    await fields(UNSEEN, 'x');
    advance(601_000);
    records[UNSEEN] = new Error('upstream down');
    expect(await fields(UNSEEN, 'x')).toMatchObject({ verdict: 'unknown', status: 'stale' });
  });
});

describe('signature interning', () => {
  it('the first binary with a signature is one object; the next ones share its facts with their own signing time', () => {
    const interner = new SignatureInterner();
    const first = interner.entryFor(driverRecord);
    const second = interner.entryFor({ ...driverRecord, signedAtMs: Date.parse('2019-01-01T00:00:00Z') });
    const third = interner.entryFor({ ...driverRecord, signedAtMs: undefined });
    expect(first).toBeInstanceOf(SignatureFacts);
    expect(second).toBeInstanceOf(DatedSignature);
    expect((second as DatedSignature).facts).toBe(first);
    expect(verdictFields(first, 'x', true).signature?.signedAt).toBe('2016-04-12T09:21:00Z');
    expect(verdictFields(second, 'x', true).signature?.signedAt).toBe('2019-01-01T00:00:00Z');
    expect(verdictFields(third, 'x', true).signature?.signedAt).toBeNull();
    expect(interner.entryFor(driverRecord)).toBe(first);
    expect(interner.size).toBe(1);
  });

  it('signatures that differ in any field are never shared, whatever characters they hold', () => {
    const interner = new SignatureInterner();
    const a = interner.facts('Signed', 'a\u0000b', null, null, null, null);
    const b = interner.facts('Signed', 'a', 'b', null, null, null);
    const c = interner.facts('Signed', 'a', null, 'b', null, null);
    const d = interner.facts('Signed', null, null, null, 'a', null);
    const e = interner.facts('Expired', null, null, null, 'a', null);
    expect(new Set([a, b, c, d, e]).size).toBe(5);
  });

  it('a signature seen once still shares its vendor strings with the others', () => {
    const interner = new SignatureInterner();
    const one = interner.entryFor({ ...gitRecord, programName: 'Tool One' }) as SignatureFacts;
    const two = interner.entryFor({ ...gitRecord, programName: 'Tool Two' }) as SignatureFacts;
    expect(one).not.toBe(two);
    expect(one.publisher).toBe(two.publisher);
  });

  it('a record without a signing time is the shared facts themselves', () => {
    const interner = new SignatureInterner();
    const unsigned = {
      digsigResult: 'Unsigned',
      publisher: undefined,
      issuer: undefined,
      subject: undefined,
      programName: undefined,
      signedAtMs: undefined,
    };
    const entry = interner.entryFor(unsigned);
    expect(entry).toBeInstanceOf(SignatureFacts);
    expect(interner.entryFor(unsigned)).toBe(entry);
  });

  it('past its bound the table forgets the least recently seen signature, without changing any answer', () => {
    const interner = new SignatureInterner(2);
    const first = interner.facts('Signed', 'A', null, null, null, null);
    const second = interner.facts('Signed', 'B', null, null, null, null);
    expect(interner.facts('Signed', 'A', null, null, null, null)).toBe(first);
    interner.facts('Signed', 'C', null, null, null, null);
    expect(interner.size).toBe(2);
    expect(interner.facts('Signed', 'A', null, null, null, null)).toBe(first);
    const again = interner.facts('Signed', 'B', null, null, null, null);
    expect(again).not.toBe(second);
    expect(again).toEqual(second);
  });

  it('an unknown binary is one shared instance', () => {
    expect(UnknownBinary.instance).toBe(UnknownBinary.instance);
  });
});
