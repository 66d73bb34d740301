import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SimulatorInstance } from '../../src/simulator/app.js';
import {
  PopulationIndex,
  populationDigsigResult,
  populationEntry,
  populationIndexOf,
  populationIsSigned,
  populationMd5,
  populationName,
  populationProgName,
  unseenMd5,
} from '../../src/simulator/population.js';
import { searchJson, seedQuery, simulator, summary } from './helpers.js';

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

  it('describes entry i consistently: signed means digsig_result Signed, the join finds exactly the name-matching ones', () => {
    for (let i = 0; i < 5000; i += 1) {
      const entry = populationEntry(i);
      expect(entry).toEqual(populationEntry(i));
      expect(entry.index).toBe(i);
      expect(entry.md5).toBe(populationMd5(i));
      expect(entry.name).toBe(populationName(i));
      expect(entry.digsigResult).toBe(populationDigsigResult(i));
      expect(entry.signed).toBe(entry.digsigResult === 'Signed');
      expect(populationIsSigned(i)).toBe(entry.signed);
      expect(entry.verdict).toBe(entry.signed ? 'signed' : 'unsigned');
      expect(entry.programName).toBe(populationProgName(i));
      expect(entry.progName).toBe(entry.programName);
      expect('progName' in entry).toBe(entry.programName !== undefined);
      expect(entry.nameMatchesSignature).toBe(entry.programName === `Proc-${i}.exe`);
      if (entry.digsigResult === 'Unsigned' || entry.digsigResult === '(Unknown)') expect(entry.programName).toBeUndefined();
    }
  });

  it('gives unseenMd5 md5-shaped, distinct values that are never a population md5', () => {
    const unseen = Array.from({ length: 100_000 }, (_, i) => unseenMd5(i));
    expect(new Set(unseen).size).toBe(unseen.length);
    for (const [i, md5] of unseen.entries()) {
      if (i % 997 === 0) expect(md5).toMatch(/^[0-9a-f]{32}$/);
      expect(populationIndexOf(md5)).toBe(-1);
    }
    // Same head as the entry (it looks like one of the population), another tail.
    expect(unseenMd5(42).slice(0, 8)).toBe(populationMd5(42).slice(0, 8));
    expect(unseenMd5(42)).not.toBe(populationMd5(42));
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

  it('answers the seed join by nameMatchesSignature, and digsig_result:Signed by signed', async () => {
    const entries = Array.from({ length: 400 }, (_, i) => populationEntry(i));
    const answers = await Promise.all(
      entries.map(async (entry) => ({
        join: await searchJson(app, { q: seedQuery(entry.md5, entry.name), rows: 1 }),
        signed: await searchJson(app, { q: `process_md5:${entry.md5} digsig_result:Signed`, rows: 0 }),
      })),
    );
    const kinds = new Set<string>();
    answers.forEach(({ join, signed }, i) => {
      const entry = entries[i]!;
      expect(join.total_results, entry.name).toBe(entry.nameMatchesSignature ? 1 : 0);
      if (entry.nameMatchesSignature) expect(join.results[0]).toMatchObject({ process_md5: entry.md5, process_name: entry.name });
      expect(signed.total_results, entry.name).toBe(entry.signed ? 1 : 0);
      kinds.add(`${entry.signed} ${entry.nameMatchesSignature}`);
    });
    // All four combinations occur: signed binaries the join misses, and unsigned ones it finds.
    expect(kinds).toEqual(new Set(['true true', 'true false', 'false true', 'false false']));
  });

  it('has no record and no row for unseen md5s', async () => {
    for (const i of [0, 5, 99_999]) {
      expect((await searchJson(app, { q: `process_md5:${unseenMd5(i)}`, rows: 0 })).total_results).toBe(0);
      expect((await summary(app, unseenMd5(i))).statusCode).toBe(404);
      expect((await summary(app, populationMd5(i))).statusCode).toBe(200);
    }
  });

  it('serves 1000 concurrent distinct lookups correctly and concurrently', async () => {
    app.simulator.resetStats();
    const started = performance.now();
    const entries = Array.from({ length: 1000 }, (_, k) => populationEntry(k * 97));
    const bodies = await Promise.all(entries.map((e) => searchJson(app, { q: seedQuery(e.md5, e.name), rows: 1 })));
    const elapsed = performance.now() - started;
    bodies.forEach((body, k) => expect(body.total_results).toBe(entries[k]!.nameMatchesSignature ? 1 : 0));
    expect(app.simulator.stats.processSearches).toBe(1000);
    // They overlapped in the simulator (how many at once depends on the machine's load).
    expect(app.simulator.stats.peakInFlight).toBeGreaterThan(100);
    // Narrowed by the md5 index: nowhere near 1000 scans of 100k rows.
    expect(elapsed).toBeLessThan(10_000);
  });

  it('still answers queries with no md5 by scanning', async () => {
    const signedOne = Array.from({ length: 100 }, (_, k) => 4242 + k).find(populationIsSigned) as number;
    const unsignedOne = Array.from({ length: 100 }, (_, k) => 4242 + k).find((i) => !populationIsSigned(i)) as number;
    expect((await searchJson(app, { q: `process_name:proc-${signedOne}.exe digsig_result:Signed`, rows: 5 })).total_results).toBe(1);
    expect((await searchJson(app, { q: `process_name:proc-${unsignedOne}.exe digsig_result:Signed`, rows: 5 })).total_results).toBe(0);
    // pop-user-1 ran entries 1, 251, 501, ...: 400 of them.
    expect((await searchJson(app, { q: 'username:pop-user-1', rows: 0 })).total_results).toBe(400);
    const ran = Array.from({ length: 400 }, (_, k) => populationEntry(1 + 250 * k));
    const notSigned = ran.filter((e) => !e.signed);
    expect(notSigned.length).toBeGreaterThan(3);
    const unsigned = await searchJson(app, { q: 'username:pop-user-1 -digsig_result:Signed', rows: 3 });
    expect(unsigned.total_results).toBe(notSigned.length);
    expect(unsigned.results.map((r) => r.process_name)).toEqual(notSigned.slice(0, 3).map((e) => e.name));
  });
});
