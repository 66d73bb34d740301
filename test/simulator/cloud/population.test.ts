import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudSimulatorInstance } from '../../../src/simulator/cloud/app.js';
import { CLOUD_FIXTURE_LIST, unseenFixture } from '../../../src/simulator/cloud/fixtures.js';
import {
  CLOUD_POPULATION_SHARES,
  cloudPopulationEntry,
  cloudPopulationIndexOf,
  cloudPopulationIndexOfName,
  cloudPopulationMd5,
  cloudPopulationSha256,
  cloudUnseenHashes,
  MAX_CLOUD_POPULATION,
  MAX_POPULATION_ROWS,
  type PopulationKind,
} from '../../../src/simulator/cloud/population.js';
import { populationIndexOf, populationMd5 } from '../../../src/simulator/population.js';
import { cloudSimulator, search } from './helpers.js';

/** The generated population: a pure function of the index, hashes that decode back, realistic shares. */

describe('population entries', () => {
  it('derives deterministic, distinct, hash-shaped values from the index', () => {
    expect(cloudPopulationMd5(7)).toMatch(/^[0-9a-f]{32}$/);
    expect(cloudPopulationSha256(7)).toMatch(/^[0-9a-f]{64}$/);
    expect(cloudPopulationEntry(7)).toEqual(cloudPopulationEntry(7));
    const md5s = new Set<string>();
    const sha256s = new Set<string>();
    for (let i = 0; i < 50_000; i += 1) {
      md5s.add(cloudPopulationMd5(i));
      sha256s.add(cloudPopulationSha256(i));
    }
    expect(md5s.size).toBe(50_000);
    expect(sha256s.size).toBe(50_000);
  });

  it('decodes the index from either hash, in any case, and rejects look-alikes', () => {
    for (const i of [0, 1, 999, 123_456, MAX_CLOUD_POPULATION - 1]) {
      expect(cloudPopulationIndexOf(cloudPopulationMd5(i))).toBe(i);
      expect(cloudPopulationIndexOf(cloudPopulationSha256(i).toUpperCase())).toBe(i);
    }
    const md5 = cloudPopulationMd5(5);
    expect(cloudPopulationIndexOf(md5.slice(0, -1) + (md5.endsWith('0') ? '1' : '0'))).toBe(-1);
    expect(cloudPopulationIndexOf('not a hash')).toBe(-1);
    expect(cloudPopulationIndexOf(cloudPopulationMd5(MAX_CLOUD_POPULATION))).toBe(-1);
  });

  it('never collides with the fixtures or the EDR population', () => {
    for (const [, fixture] of CLOUD_FIXTURE_LIST) {
      expect(cloudPopulationIndexOf(fixture.md5)).toBe(-1);
      expect(cloudPopulationIndexOf(fixture.sha256)).toBe(-1);
    }
    expect(cloudPopulationIndexOf(unseenFixture.md5)).toBe(-1);
    for (let i = 0; i < 100_000; i += 1) {
      // Same first word would be needed for equality; the check words then differ by construction.
      expect(populationIndexOf(cloudPopulationMd5(i))).toBe(-1);
      expect(cloudPopulationIndexOf(populationMd5(i))).toBe(-1);
    }
  });

  it('gives unseen hashes that no binary has', () => {
    for (let i = 0; i < 1000; i += 1) {
      const { md5, sha256 } = cloudUnseenHashes(i);
      expect(md5).toMatch(/^[0-9a-f]{32}$/);
      expect(sha256).toMatch(/^[0-9a-f]{64}$/);
      expect(cloudPopulationIndexOf(md5)).toBe(-1);
      expect(cloudPopulationIndexOf(sha256)).toBe(-1);
    }
  });

  it('describes each entry consistently with its kind', () => {
    for (let i = 0; i < 20_000; i += 1) {
      const entry = cloudPopulationEntry(i);
      const band = CLOUD_POPULATION_SHARES.find((share) => share.kind === entry.kind);
      expect(band).toBeDefined();
      expect(entry.states).toEqual(band?.states);
      expect(entry.rowCount).toBeGreaterThanOrEqual(1);
      expect(entry.rowCount).toBeLessThanOrEqual(MAX_POPULATION_ROWS);
      expect(cloudPopulationIndexOfName(entry.name)).toBe(i);
      expect(cloudPopulationIndexOfName(`cproc-${i}.exe`)).toBe(i);
      if (band?.publisher === 'windows') expect(entry.publisher).toEqual(['Microsoft Windows']);
      else if (band?.publisher === 'vendor') expect(entry.publisher).toHaveLength(1);
      else expect(entry.publisher === undefined || entry.publisher.length === 0).toBe(true);
    }
    expect(cloudPopulationIndexOfName('c:\\elsewhere\\cproc-5.exe')).toBe(-1);
    expect(cloudPopulationIndexOfName('cproc-05.exe')).toBe(-1);
  });

  it('spreads kinds by their shares, within a band, over the first 20,000 entries', () => {
    const counts = new Map<PopulationKind, number>();
    const n = 20_000;
    for (let i = 0; i < n; i += 1) {
      const kind = cloudPopulationEntry(i).kind;
      counts.set(kind, (counts.get(kind) ?? 0) + 1);
    }
    expect(CLOUD_POPULATION_SHARES.reduce((sum, share) => sum + share.perMille, 0)).toBe(1000);
    for (const share of CLOUD_POPULATION_SHARES) {
      const expected = (share.perMille / 1000) * n;
      // Four standard deviations of a binomial count: never flaky, still tight.
      const slack = 4 * Math.sqrt(expected * (1 - share.perMille / 1000));
      expect(Math.abs((counts.get(share.kind) ?? 0) - expected), share.kind).toBeLessThan(slack);
    }
  });

  it('has 1 to 8 rows per binary, mostly one', () => {
    let one = 0;
    let total = 0;
    for (let i = 0; i < 10_000; i += 1) {
      const rows = cloudPopulationEntry(i).rowCount;
      total += rows;
      if (rows === 1) one += 1;
    }
    expect(one / 10_000).toBeGreaterThan(0.5);
    expect(one / 10_000).toBeLessThan(0.6);
    expect(total / 10_000).toBeGreaterThan(1.5);
    expect(total / 10_000).toBeLessThan(2);
  });
});

describe('population through the simulator', () => {
  let app: CloudSimulatorInstance;
  beforeAll(async () => {
    app = await cloudSimulator({ population: 5000 });
  });
  afterAll(async () => {
    await app.close();
  });

  it('serves exactly what cloudPopulationEntry says, for a batch of entries', async () => {
    const indexes = [0, 1, 2, 17, 999, 4999];
    const entries = indexes.map(cloudPopulationEntry);
    const found = await search(app, `process_hash:(${entries.map((entry) => entry.sha256).join(' OR ')})`);
    expect(found.num_found).toBe(entries.reduce((sum, entry) => sum + entry.rowCount, 0));
    for (const entry of entries) {
      const rows = found.results.filter((row) => row['process_sha256'] === entry.sha256);
      expect(rows).toHaveLength(entry.rowCount);
      for (const row of rows) {
        expect(row['process_name']).toBe(entry.name);
        expect(row['process_publisher_state']).toEqual([...entry.states]);
        if (entry.publisher === undefined) expect(row).not.toHaveProperty('process_publisher');
        else expect(row['process_publisher']).toEqual([...entry.publisher]);
        expect([...(row['process_hash'] as string[])].sort()).toEqual([entry.md5, entry.sha256].sort());
      }
    }
  });

  it('knows nothing past the population size', async () => {
    expect((await search(app, `process_hash:${cloudPopulationSha256(5000)}`)).num_found).toBe(0);
  });

  it('is built lazily: a population of 20 million starts at once', async () => {
    const started = performance.now();
    const big = await cloudSimulator({ population: MAX_CLOUD_POPULATION });
    try {
      expect(performance.now() - started).toBeLessThan(2000);
      const entry = cloudPopulationEntry(MAX_CLOUD_POPULATION - 1);
      expect((await search(big, `process_hash:${entry.md5}`)).num_found).toBe(entry.rowCount);
    } finally {
      await big.close();
    }
  });

  it('refuses a population outside 0..MAX_CLOUD_POPULATION', async () => {
    await expect(cloudSimulator({ population: -1 })).rejects.toThrow(RangeError);
    await expect(cloudSimulator({ population: MAX_CLOUD_POPULATION + 1 })).rejects.toThrow(RangeError);
    await expect(cloudSimulator({ population: 1.5 })).rejects.toThrow(RangeError);
  });
});
