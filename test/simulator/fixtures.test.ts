import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import { fixtureBinaries, samples, type Sample } from '../../src/simulator/fixtures.js';
import { populationIndexOf, unseenMd5 } from '../../src/simulator/population.js';
import { DIGSIG_RESULTS } from '../../src/simulator/records.js';
import { searchJson, seedQuery, simulator, summary } from './helpers.js';

const NEW_SAMPLE_KEYS = [
  'microsoftDriver',
  'renamed',
  'unseen',
  'invalidSignature',
  'invalidChain',
  'untrustedRoot',
  'explicitDistrust',
  'unknownResult',
] as const;
const FIRST_SAMPLE_KEYS = [
  'signed',
  'unsigned',
  'nameDiffers',
  'powershell',
  'python',
  'unsignedTool',
  'expired',
  'badSignature',
  'codeHelper',
  'tricky',
];

const allSamples: [string, Sample][] = Object.entries(samples);
const fixtureByMd5 = new Map(fixtureBinaries.map((b) => [b.md5, b]));

describe('the fixture binaries', () => {
  it('cover every digsig_result, the documented eight and (Unknown)', () => {
    const results = new Set(fixtureBinaries.map((b) => b.signing.result));
    expect([...results].sort()).toEqual([...DIGSIG_RESULTS].sort());
    expect(DIGSIG_RESULTS).toHaveLength(9);
    expect(results.has('(Unknown)')).toBe(true);
  });

  it('have distinct lowercase md5s that are neither population md5s nor unseen ones', () => {
    const md5s = fixtureBinaries.map((b) => b.md5);
    expect(new Set(md5s).size).toBe(md5s.length);
    const unseen = new Set(Array.from({ length: 200_000 }, (_, i) => unseenMd5(i)));
    for (const md5 of md5s) {
      expect(md5).toMatch(/^[0-9a-f]{32}$/);
      expect(populationIndexOf(md5), md5).toBe(-1);
      expect(unseen.has(md5), md5).toBe(false);
    }
  });

  it('have rows that all carry their binary md5, and signing data only where a signature has it', () => {
    for (const binary of fixtureBinaries) {
      expect(binary.processes.length, binary.md5).toBeGreaterThan(0);
      for (const row of binary.processes) expect(row.process_md5).toBe(binary.md5);
      if (binary.signing.result === 'Unsigned' || binary.signing.result === '(Unknown)') {
        expect(Object.keys(binary.signing), binary.md5).toEqual(['result']);
      }
    }
  });

  it('include the recorded Microsoft driver: publisher and sign time, no program name, issuer or subject', () => {
    const driver = fixtureByMd5.get('c7f5cae0b450be875eee0e6ddfa771fe');
    expect(driver?.signing).toEqual({ result: 'Signed', publisher: 'Microsoft Corporation', signTime: '2016-04-12T09:21:00Z' });
    expect(driver?.file).toMatchObject({ originalFilename: 'appid.sys', productName: 'Microsoft\u00ae Windows\u00ae Operating System' });
  });
});

describe('samples', () => {
  it('keep the first keys and add one per new fixture', () => {
    expect(Object.keys(samples)).toEqual([...FIRST_SAMPLE_KEYS, ...NEW_SAMPLE_KEYS]);
  });

  it.each(allSamples)('%s agrees with its fixture', (_key, sample) => {
    const binary = fixtureByMd5.get(sample.md5);
    if (sample.verdict === 'unknown') {
      expect(binary).toBeUndefined();
      expect(sample).toMatchObject({ digsigResult: undefined, signed: false, nameMatchesSignature: null, joinFindsRow: false });
      return;
    }
    expect(binary).toBeDefined();
    expect(sample.digsigResult).toBe(binary?.signing.result);
    expect(sample.signed).toBe(binary?.signing.result === 'Signed');
    expect(sample.verdict).toBe(sample.signed ? 'signed' : 'unsigned');
    expect(sample.progName).toBe(binary?.signing.progName);
    expect(sample.joinFindsRow).toBe(sample.nameMatchesSignature);
    expect(binary?.processes.map((r) => r.process_name)).toContain(sample.name);
  });

  it('the unseen md5 is unknown to the simulator too', () => {
    expect(populationIndexOf(samples.unseen.md5)).toBe(-1);
    expect(fixtureByMd5.has(samples.unseen.md5)).toBe(false);
  });
});

describe('the seed join over the new fixtures, through the process search', () => {
  let app: SimulatorInstance;
  beforeAll(async () => {
    app = await simulator({ population: 1000 });
  });
  afterAll(async () => {
    await app.close();
  });
  const count = async (q: string) => (await searchJson(app, { q, rows: 1 })).total_results;

  it('answers each sample as nameMatchesSignature says, and digsig_result:Signed as verdict says', async () => {
    for (const [key, sample] of allSamples) {
      expect((await count(seedQuery(sample.md5, sample.name))) > 0, key).toBe(sample.nameMatchesSignature === true);
      expect((await count(`process_md5:${sample.md5} digsig_result:Signed`)) > 0, key).toBe(sample.verdict === 'signed');
    }
  });

  it('renamed: the join with the name it ran under finds no row, the signature name does', async () => {
    const { md5, name } = samples.renamed;
    expect(name).toBe('svchost.exe');
    expect(await count(seedQuery(md5, 'svchost.exe'))).toBe(0);
    expect(await count(`process_md5:${md5} process_name:svchost.exe`)).toBe(1);
    expect(await count(seedQuery(md5, 'Sysinternals PsExec'))).toBe(1);
    expect(await count(`process_md5:${md5} digsig_prog_name:psexec`)).toBe(1);
    expect(await count(`process_md5:${md5} digsig_result:Signed digsig_publisher:"Microsoft Corporation"`)).toBe(1);
  });

  it('Microsoft driver: the join finds no row under any name, other joins do', async () => {
    const { md5 } = samples.microsoftDriver;
    expect(await count(`process_md5:${md5}`)).toBe(1);
    for (const name of [
      'appid.sys',
      'appid',
      'AppID Driver',
      'Microsoft Corporation',
      'Microsoft',
      'Microsoft Windows',
      'svchost.exe',
      'System',
    ]) {
      expect(await count(seedQuery(md5, name)), name).toBe(0);
    }
    expect(await count(`process_md5:${md5} digsig_prog_name:*`)).toBe(0);
    expect(await count(`process_md5:${md5} digsig_issuer:*`)).toBe(0);
    expect(await count(`process_md5:${md5} digsig_result:Signed`)).toBe(1);
    expect(await count(`process_md5:${md5} digsig_publisher:"Microsoft Corporation"`)).toBe(1);
    expect(await count(`process_md5:${md5} digsig_sign_time:2016-04-12`)).toBe(1);
  });

  it('invalid signatures still satisfy the name join when their program name matches', async () => {
    for (const sample of [
      samples.invalidSignature,
      samples.untrustedRoot,
      samples.explicitDistrust,
      samples.expired,
      samples.badSignature,
    ]) {
      expect(await count(seedQuery(sample.md5, sample.name)), sample.name).toBe(1);
      expect(await count(`process_md5:${sample.md5} digsig_result:"${sample.digsigResult}"`), sample.name).toBe(1);
      expect(await count(`process_md5:${sample.md5} digsig_result:Signed`), sample.name).toBe(0);
    }
    expect(await count(seedQuery(samples.invalidChain.md5, samples.invalidChain.name))).toBe(0);
    expect(await count(`process_md5:${samples.unknownResult.md5} digsig_result:"(Unknown)"`)).toBe(1);
  });

  it('unseen: no process row and no record', async () => {
    expect(await count(`process_md5:${samples.unseen.md5}`)).toBe(0);
    expect((await summary(app, samples.unseen.md5)).statusCode).toBe(404);
  });
});
