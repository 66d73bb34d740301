import { describe, expect, it } from 'vitest';
import type { CloudBinarySigning } from '../../src/backends/cloud/client.js';
import { cloudVerdictSource } from '../../src/backends/cloud/verdict-source.js';
import { SignatureService } from '../../src/signing/signature-service.js';
import { SignatureInterner } from '../../src/signing/signature-interner.js';
import { verdictFields } from '../../src/signing/verdict.js';

/**
 * The Cloud backend's verdict source under the lookup service: the publisher
 * states decide, both hashes of a binary are cached, misses share a job.
 * The search is a fake here; test/integration/cloud-*.test.ts run it against
 * the Cloud simulator.
 */

const S = 'FILE_SIGNATURE_STATE_';
const OS_MD5 = '5746bd7e255dd6a8afa06f7c42c1ba41';
const OS_SHA = 'a'.repeat(64);
const TOOL_MD5 = '3d485deffe2f74d0c15f1cb23086f936';
const TOOL_SHA = 'b'.repeat(64);
const UNSEEN = 'c'.repeat(64);

const signings: Record<string, CloudBinarySigning> = {
  [OS_MD5]: {
    md5: OS_MD5,
    sha256: OS_SHA,
    publishers: ['Microsoft Corporation', 'Microsoft Windows'],
    states: [`${S}OS`, `${S}SIGNED`, `${S}TRUSTED`, `${S}VERIFIED`],
  },
  [OS_SHA]: {
    md5: OS_MD5,
    sha256: OS_SHA,
    publishers: ['Microsoft Corporation', 'Microsoft Windows'],
    states: [`${S}OS`, `${S}SIGNED`, `${S}TRUSTED`, `${S}VERIFIED`],
  },
  [TOOL_MD5]: { md5: TOOL_MD5, sha256: TOOL_SHA, publishers: [], states: [`${S}NOT_SIGNED`] },
  [TOOL_SHA]: { md5: TOOL_MD5, sha256: TOOL_SHA, publishers: [], states: [`${S}NOT_SIGNED`] },
};

function harness(extra: Record<string, CloudBinarySigning> = {}) {
  const searches: string[][] = [];
  const all = { ...signings, ...extra };
  const service = new SignatureService({
    maxEntries: 100,
    ttlSignedSeconds: 86_400,
    ttlUnsignedSeconds: 3600,
    ttlUnknownSeconds: 600,
    staleIfErrorSeconds: 86_400,
    staleWhileRevalidateSeconds: 0,
    source: cloudVerdictSource({
      search: async (seal) => {
        const hashes = seal();
        searches.push([...hashes]);
        return new Map(hashes.flatMap((hash) => (all[hash] === undefined ? [] : [[hash, all[hash]] as const])));
      },
      batchMaxHashes: 50,
      batchWindowMs: 5,
      interner: new SignatureInterner(),
    }),
  });
  const answer = async (hash: string, name = 'x') => {
    const lookup = await service.lookup(hash, name);
    return {
      ...verdictFields(lookup.entry, name, service.source.nameTested, service.source.basis),
      ...service.hashesOf(hash),
      status: lookup.status,
    };
  };
  return { service, searches, answer };
}

describe('verdict rules, Carbon Black Cloud', () => {
  it('an OS binary is signed, with the publisher and the raw states, and no name test', async () => {
    const { answer } = harness();
    expect(await answer(OS_MD5, 'powershell.exe')).toEqual({
      verdict: 'signed',
      signed: true,
      signature: {
        status: `${S}VERIFIED`,
        publisher: 'Microsoft Corporation',
        issuer: null,
        subject: null,
        programName: null,
        signedAt: null,
        states: [`${S}OS`, `${S}SIGNED`, `${S}TRUSTED`, `${S}VERIFIED`],
      },
      nameMatchesSignature: null,
      basis: 'cloud-process-search',
      md5: OS_MD5,
      sha256: OS_SHA,
      status: 'miss',
    });
  });

  it('NOT_SIGNED is unsigned, with the state shown', async () => {
    const { answer } = harness();
    expect(await answer(TOOL_SHA)).toMatchObject({
      verdict: 'unsigned',
      signed: false,
      signature: { status: `${S}NOT_SIGNED`, publisher: null, states: [`${S}NOT_SIGNED`] },
      md5: TOOL_MD5,
      sha256: TOOL_SHA,
    });
  });

  it('a hash no process has is unknown, on the Cloud basis, with no signature', async () => {
    const { answer } = harness();
    expect(await answer(UNSEEN)).toEqual({
      verdict: 'unknown',
      signed: false,
      signature: null,
      nameMatchesSignature: null,
      basis: 'cloud-process-search',
      md5: null,
      sha256: UNSEEN,
      status: 'miss',
    });
  });

  it('states that decide nothing are unknown, and the answer still shows them', async () => {
    const odd = 'd'.repeat(32);
    const { answer } = harness({ [odd]: { md5: odd, sha256: null, publishers: [], states: [`${S}UNKNOWN`] } });
    expect(await answer(odd)).toMatchObject({ verdict: 'unknown', signature: { status: `${S}UNKNOWN`, states: [`${S}UNKNOWN`] } });
  });

  it('a lookup by md5 caches the sha256 too: the next lookup by either is a hit, with no search', async () => {
    const { service, searches, answer } = harness();
    await answer(OS_MD5);
    expect(await answer(OS_SHA)).toMatchObject({ verdict: 'signed', status: 'hit', md5: OS_MD5, sha256: OS_SHA });
    expect(await answer(OS_MD5)).toMatchObject({ status: 'hit' });
    expect(searches).toEqual([[OS_MD5]]);
    expect(service.stats().size).toBe(2);
  });

  it('forgetting either hash forgets the binary under both', async () => {
    const { service, searches, answer } = harness();
    await answer(OS_SHA);
    service.forget(OS_MD5);
    expect(service.stats().size).toBe(0);
    expect(await answer(OS_SHA)).toMatchObject({ status: 'miss' });
    expect(searches).toHaveLength(2);
  });

  it('misses that arrive together share one search', async () => {
    const { searches, service } = harness();
    const many = Array.from({ length: 20 }, (_, i) => i.toString(16).padStart(32, '0'));
    const answers = await Promise.all([OS_MD5, TOOL_MD5, ...many].map((hash) => service.lookup(hash, 'x')));
    expect(searches).toHaveLength(1);
    expect(searches[0]).toHaveLength(22);
    expect(answers.map((a) => a.status)).toEqual(Array(22).fill('miss'));
  });

  it('binaries with the same publisher and states share one signature object', async () => {
    const other = 'e'.repeat(32);
    const { service } = harness({ [other]: { ...signings[OS_MD5]!, md5: other, sha256: null } });
    const [a, b] = await Promise.all([service.lookup(OS_MD5, 'x'), service.lookup(other, 'x')]);
    expect(a.entry).toBe(b.entry);
  });
});
