import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import {
  PopulationIndex,
  populationEntry,
  populationIndexOf,
  populationIsSigned,
  populationMd5,
  populationName,
} from '../../src/simulator/population.js';
import { searchJson, seedQuery, simulator } from './helpers.js';

describe('population entries', () => {
  it('derives a deterministic, md5-shaped, distinct value from the index', () => {
    expect(populationMd5(42)).toMatch(/^[0-9a-f]{32}$/);
    expect(populationMd5(42)).toBe(populationMd5(42));
    const seen = new Set(Array.from({ length: 100_000 }, (_, i) => populationMd5(i)));
    expect(seen.size).toBe(100_000);
    // Neighbours look unrelated.
    expect(populationMd5(0).slice(0, 4)).not.toBe(populationMd5(1).slice(0, 4));
  });

  it('decodes the index back from the md5 and rejects look-alikes', () => {
    for (const i of [0, 1, 2, 999, 123_456, 19_999_999]) expect(populationIndexOf(populationMd5(i))).toBe(i);
    const md5 = populationMd5(77);
    const lastDigit = md5.at(-1) === '0' ? '1' : '0';
    expect(populationIndexOf(md5.slice(0, -1) + lastDigit)).toBe(-1);
    expect(populationIndexOf('82a7bf2b1f51f1988be571b8176aa545')).toBe(-1);
  });

  it('leaves every 4th entry unsigned', () => {
    expect([0, 1, 2, 3, 4, 7].map(populationIsSigned)).toEqual([true, true, true, false, true, false]);
    expect(populationEntry(7)).toEqual({ index: 7, md5: populationMd5(7), name: 'proc-7.exe', signed: false });
    expect(populationEntry(8)).toMatchObject({ name: 'proc-8.exe', signed: true, progName: 'Proc-8.exe' });
  });
});

describe('PopulationIndex', () => {
  const index = new PopulationIndex(5000);

  it('finds every entry by md5, in any case', () => {
    for (let i = 0; i < 5000; i += 1) expect(index.indexOfMd5(populationMd5(i))).toBe(i);
    expect(index.indexOfMd5(populationMd5(17).toUpperCase())).toBe(17);
  });

  it('misses md5s outside the population and non-md5 text', () => {
    expect(index.indexOfMd5(populationMd5(5000))).toBe(-1);
    expect(index.indexOfMd5('82a7bf2b1f51f1988be571b8176aa545')).toBe(-1);
    expect(index.indexOfMd5('not-an-md5')).toBe(-1);
    expect(new PopulationIndex(0).indexOfMd5(populationMd5(0))).toBe(-1);
  });

  it('finds entries by process name', () => {
    expect(index.indexOfName(populationName(123))).toBe(123);
    expect(index.indexOfName('PROC-123.EXE')).toBe(123);
    expect(index.indexOfName('proc-0123.exe')).toBe(-1);
    expect(index.indexOfName('proc-5000.exe')).toBe(-1);
  });

  it('costs nothing to build, even for millions', () => {
    const started = performance.now();
    const big = new PopulationIndex(10_000_000);
    expect(performance.now() - started).toBeLessThan(50);
    expect(big.indexOfMd5(populationMd5(9_999_999))).toBe(9_999_999);
    expect(big.indexOfMd5(populationMd5(10_000_000))).toBe(-1);
  });
});

describe('searching the population', () => {
  let app: SimulatorInstance;
  beforeAll(async () => {
    app = await simulator({ population: 100_000, latencyMs: 50 });
  });
  afterAll(async () => {
    await app.close();
  });

  it('answers the seed join by the signed flag of each entry', async () => {
    for (const i of [0, 1, 3, 99_999]) {
      const entry = populationEntry(i);
      const body = await searchJson(app, { q: seedQuery(entry.md5, entry.name), rows: 1 });
      expect(body.total_results, entry.name).toBe(entry.signed ? 1 : 0);
      if (entry.signed) expect(body.results[0]).toMatchObject({ process_md5: entry.md5, process_name: entry.name });
    }
  });

  it('serves 1000 concurrent distinct lookups correctly and concurrently', async () => {
    app.simulator.resetStats();
    const started = performance.now();
    const entries = Array.from({ length: 1000 }, (_, k) => populationEntry(k * 97));
    const bodies = await Promise.all(entries.map((e) => searchJson(app, { q: seedQuery(e.md5, e.name), rows: 1 })));
    const elapsed = performance.now() - started;
    bodies.forEach((body, k) => expect(body.total_results).toBe(entries[k]!.signed ? 1 : 0));
    expect(app.simulator.stats.processSearches).toBe(1000);
    // They overlapped in the simulator (how many at once depends on the machine's load).
    expect(app.simulator.stats.peakInFlight).toBeGreaterThan(100);
    // Narrowed by the md5 index: nowhere near 1000 scans of 100k rows.
    expect(elapsed).toBeLessThan(10_000);
  });

  it('still answers queries with no md5 by scanning', async () => {
    const body = await searchJson(app, { q: 'process_name:proc-4242.exe digsig_result:Signed', rows: 5 });
    expect(body.total_results).toBe(1);
    // pop-user-1 ran entries 1, 251, 501, ...: 400 of them, and every other one is ≡ 3 (mod 4), unsigned.
    expect((await searchJson(app, { q: 'username:pop-user-1', rows: 0 })).total_results).toBe(400);
    const unsigned = await searchJson(app, { q: 'username:pop-user-1 -digsig_result:Signed', rows: 3 });
    expect(unsigned.total_results).toBe(200);
    expect(unsigned.results.map((r) => r.process_name)).toEqual(['proc-251.exe', 'proc-751.exe', 'proc-1251.exe']);
  });
});
