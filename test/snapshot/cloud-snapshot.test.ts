import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { readSnapshot, writeSnapshot, type SnapshotEntry } from '../../src/signing/cache-snapshot.js';
import { SignatureInterner } from '../../src/signing/signature-interner.js';
import { StatedSignature, UnknownBinary } from '../../src/signing/verdict.js';
import { CORRUPT_WARNING, recordingLog, SKIPPED_WARNING, tempDir } from './support.js';

/** Snapshots of a Cloud cache: sha256 keys beside md5 keys, stated signatures shared again on read. */
const S = 'FILE_SIGNATURE_STATE_';
const MD5 = '5746bd7e255dd6a8afa06f7c42c1ba41';
const SHA = 'ab'.repeat(32);
const OTHER = 'cd'.repeat(32);

describe('cache snapshots on the Cloud basis', () => {
  let dir: string;
  let cleanup: () => Promise<void>;
  beforeEach(async () => {
    ({ dir, cleanup } = await tempDir());
  });
  afterEach(async () => cleanup());

  function entries(now: number): SnapshotEntry[] {
    const interner = new SignatureInterner();
    const os = interner.stated(
      'signed',
      `${S}VERIFIED`,
      'Microsoft Corporation',
      [`${S}OS`, `${S}SIGNED`, `${S}VERIFIED`],
      'cloud-process-search',
    );
    const odd = interner.stated('unknown', null, null, [], 'cloud-process-search');
    return [
      { md5: MD5, storedAt: now - 1000, ttlMs: 86_400_000, verdict: os },
      { md5: SHA, storedAt: now - 1000, ttlMs: 86_400_000, verdict: os },
      { md5: OTHER, storedAt: now - 2000, ttlMs: 600_000, verdict: odd },
      { md5: 'ef'.repeat(16), storedAt: now - 3000, ttlMs: 600_000, verdict: UnknownBinary.instance },
    ];
  }

  it('round-trips md5 and sha256 keys and stated signatures, the two keys of one binary sharing one signature again', async () => {
    const now = Date.now();
    const file = join(dir, 'cloud.snapshot');
    await writeSnapshot(file, entries(now), 'cloud-process-search');
    const bytes = await readFile(file);
    expect(bytes.subarray(0, bytes.indexOf(0x0a)).toString()).toBe('signet-cache-snapshot\t3\t4\tcloud-process-search');
    // Keys in binary: the md5's 16 bytes, then the sha256's 32.
    expect(bytes.indexOf(Buffer.from(MD5 + SHA + OTHER, 'hex'))).toBeGreaterThan(0);
    const read = await readSnapshot(file, now, recordingLog(), { basis: 'cloud-process-search', interner: new SignatureInterner() });
    expect(read.map((e) => e.md5)).toEqual([MD5, SHA, OTHER, 'ef'.repeat(16)]);
    const [first, second, third, fourth] = read.map((e) => e.verdict);
    expect(first).toBeInstanceOf(StatedSignature);
    expect(first).toBe(second);
    expect(first).toMatchObject({
      kind: 'signed',
      status: `${S}VERIFIED`,
      publisher: 'Microsoft Corporation',
      states: [`${S}OS`, `${S}SIGNED`, `${S}VERIFIED`],
    });
    expect(third).toMatchObject({ kind: 'unknown', status: null, publisher: null, states: [] });
    expect(fourth).toBe(UnknownBinary.instance);
  });

  it('is skipped by an EDR reader, whose verdicts mean something else', async () => {
    const now = Date.now();
    const file = join(dir, 'cloud.snapshot');
    await writeSnapshot(file, entries(now), 'cloud-process-search');
    const log = recordingLog();
    expect(await readSnapshot(file, now, log, { basis: 'binary-record' })).toEqual([]);
    expect(log.warnings.map((w) => w.msg)).toContain(SKIPPED_WARNING);
  });

  it('refuses to write an EDR verdict into a Cloud snapshot', async () => {
    const interner = new SignatureInterner();
    const facts = interner.facts('Signed', 'Apple Inc.', null, null, 'git', null);
    await expect(
      writeSnapshot(join(dir, 'bad.snapshot'), [{ md5: MD5, storedAt: 1, ttlMs: 1, verdict: facts }], 'cloud-process-search'),
    ).rejects.toThrow();
  });

  it.each([
    ['a verdict kind nobody knows', `t:["maybe",null,null,[]]`],
    ['states that are not strings', `t:["signed","x",null,[1]]`],
    ['a missing field', `t:["signed","x",null]`],
    ['an EDR marker', `f:["Signed",null,null,null,null,null]`],
  ])('treats %s as corrupt', async (_what, verdict) => {
    const now = Date.now();
    const file = join(dir, 'corrupt.snapshot');
    await writeFile(file, `signet-cache-snapshot\t2\t1\tcloud-process-search\n${SHA}\t${now}\t600000\t${verdict}\n`);
    const log = recordingLog();
    expect(await readSnapshot(file, now, log, { basis: 'cloud-process-search' })).toEqual([]);
    expect(log.warnings.map((w) => w.msg)).toContain(CORRUPT_WARNING);
  });
});
