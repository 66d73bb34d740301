import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import { fixtureBinaries } from '../../src/simulator/fixtures.js';
import { POPULATION_SHARES, populationEntry, populationMd5 } from '../../src/simulator/population.js';
import { DIGSIG_RESULTS, type DigsigResult } from '../../src/simulator/records.js';
import { binarySearchJson, simulator, summary } from './helpers.js';

/**
 * The generated population's mix, over its first 10,000 entries, against the
 * bands the README states (each share is drawn per entry from a hash, so the
 * counts wander a little around the nominal per-mille shares).
 */

const N = 10_000;
const entries = Array.from({ length: N }, (_, i) => populationEntry(i));
const share = (predicate: (e: (typeof entries)[number]) => boolean): number => entries.filter(predicate).length / N;

// [low, high] as fractions of the population: nominal share ± a margin wide enough for 10,000 draws.
const BANDS: Record<DigsigResult, [number, number]> = {
  Signed: [0.77, 0.83],
  Unsigned: [0.105, 0.135],
  Expired: [0.018, 0.032],
  'Bad Signature': [0.006, 0.014],
  'Invalid Signature': [0.006, 0.014],
  'Invalid Chain': [0.006, 0.014],
  'Untrusted Root': [0.006, 0.014],
  'Explicit Distrust': [0.0025, 0.0075],
  '(Unknown)': [0.006, 0.014],
};

describe('population proportions', () => {
  it('has nominal shares that add up to the whole and name every digsig_result', () => {
    expect(POPULATION_SHARES.reduce((sum, s) => sum + s.perMille, 0)).toBe(1000);
    expect(new Set(POPULATION_SHARES.map((s) => s.result))).toEqual(new Set(DIGSIG_RESULTS));
  });

  it.each(DIGSIG_RESULTS)('has %s within its band', (result) => {
    const [low, high] = BANDS[result];
    const observed = share((e) => e.digsigResult === result);
    expect(observed).toBeGreaterThanOrEqual(low);
    expect(observed).toBeLessThanOrEqual(high);
  });

  it('signs most binaries, with the file name, another program name, or no program name', () => {
    const proc = (e: (typeof entries)[number]) => e.programName === `Proc-${e.index}.exe`;
    const signedByName = share((e) => e.signed && proc(e));
    const signedOther = share((e) => e.signed && e.programName !== undefined && !proc(e));
    const signedNone = share((e) => e.signed && e.programName === undefined);
    expect(signedByName).toBeGreaterThan(0.27);
    expect(signedByName).toBeLessThan(0.33);
    expect(signedOther).toBeGreaterThan(0.27);
    expect(signedOther).toBeLessThan(0.33);
    expect(signedNone).toBeGreaterThan(0.18);
    expect(signedNone).toBeLessThan(0.22);
  });

  it('has the seed join find about a third of the entries, not the signed ones', () => {
    const found = share((e) => e.nameMatchesSignature);
    expect(found).toBeGreaterThan(0.3);
    expect(found).toBeLessThan(0.37);
    // Signed ones the join misses, and not-signed ones it finds (invalid signatures still naming the file).
    expect(share((e) => e.signed && !e.nameMatchesSignature)).toBeGreaterThan(0.45);
    const found404 = share((e) => !e.signed && e.nameMatchesSignature);
    expect(found404).toBeGreaterThan(0.02);
    expect(found404).toBeLessThan(0.06);
    // Unsigned and (Unknown) entries have no program name at all.
    expect(share((e) => (e.digsigResult === 'Unsigned' || e.digsigResult === '(Unknown)') && e.programName !== undefined)).toBe(0);
  });
});

describe('population signing data, through the simulator', () => {
  let app: SimulatorInstance;
  beforeAll(async () => {
    app = await simulator({ population: N });
  });
  afterAll(async () => {
    await app.close();
  });

  it('counts each digsig_result in a binary search as populationEntry does (plus the fixtures)', async () => {
    for (const result of DIGSIG_RESULTS) {
      const body = await binarySearchJson(app, { q: `digsig_result:"${result}"`, rows: 0 });
      const fixtures = fixtureBinaries.filter((b) => b.signing.result === result).length;
      expect(body.total_results, result).toBe(entries.filter((e) => e.digsigResult === result).length + fixtures);
    }
  });

  it('draws publishers, issuers and subjects from a few vendors, so the strings repeat', async () => {
    const q = 'digsig_result:Signed original_filename:proc*';
    const body = await binarySearchJson(app, { q, rows: 1000 });
    const publishers = new Map<string, number>();
    for (const r of body.results) publishers.set(String(r.digsig_publisher), (publishers.get(String(r.digsig_publisher)) ?? 0) + 1);
    expect(publishers.size).toBeGreaterThan(4);
    expect(publishers.size).toBeLessThanOrEqual(12);
    for (const [publisher, n] of publishers) expect(n, publisher).toBeGreaterThan(20);
    const issuers = new Set(body.results.map((r) => r.digsig_issuer).filter((v) => v !== undefined));
    expect(issuers.size).toBeLessThanOrEqual(12);
  });

  it('varies the sign time per binary, in whole minutes, expired ones older', async () => {
    const signed = await binarySearchJson(app, { q: 'digsig_result:Signed original_filename:proc*', rows: 1000 });
    const times = signed.results.map((r) => String(r.digsig_sign_time));
    expect(new Set(times).size).toBeGreaterThan(950);
    for (const t of times) expect(t).toMatch(/^20(1[5-9]|2[0-4])-\d\d-\d\dT\d\d:\d\d:00Z$/);
    const expired = await binarySearchJson(app, { q: 'digsig_result:Expired', rows: 1000 });
    for (const r of expired.results) expect(String(r.digsig_sign_time) < '2015').toBe(true);
  });

  it('has Signed binaries without a program name both with and without issuer and subject', async () => {
    const body = await binarySearchJson(app, { q: 'digsig_result:Signed -digsig_prog_name:* original_filename:proc*', rows: 1000 });
    expect(body.total_results).toBe(entries.filter((e) => e.signed && e.programName === undefined).length);
    const withIssuer = body.results.filter((r) => 'digsig_issuer' in r).length;
    expect(withIssuer).toBeGreaterThan(body.results.length * 0.3);
    expect(withIssuer).toBeLessThan(body.results.length * 0.7);
    for (const r of body.results) {
      expect(r).toHaveProperty('digsig_publisher');
      expect(r).toHaveProperty('digsig_sign_time');
      expect('digsig_issuer' in r).toBe('digsig_subject' in r);
    }
  });

  it('builds any entry on demand, the last one too', async () => {
    const record = (await summary(app, populationMd5(N - 1))).json<Record<string, unknown>>();
    expect(record.digsig_result).toBe(populationEntry(N - 1).digsigResult);
  });
});
