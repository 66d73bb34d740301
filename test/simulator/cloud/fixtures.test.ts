import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CloudSimulatorInstance } from '../../../src/simulator/cloud/app.js';
import { CLOUD_FIXTURE_LIST, cloudFixtures, fixtureRowFacts, unseenFixture } from '../../../src/simulator/cloud/fixtures.js';
import { PUBLISHER_STATES, states } from '../../../src/simulator/cloud/states.js';
import { fixtureBinaries, samples } from '../../../src/simulator/fixtures.js';
import { cloudSimulator, search } from './helpers.js';

/** The named fixtures: their data, and that the simulator serves exactly that data for them. */

let app: CloudSimulatorInstance;
beforeAll(async () => {
  app = await cloudSimulator();
});
afterAll(async () => {
  await app.close();
});

const prefixed = (...names: string[]): string[] => names.map((name) => `FILE_SIGNATURE_STATE_${name}`);

describe('fixture data', () => {
  it('has one fixture per state combination the brief asks for', () => {
    const combos = CLOUD_FIXTURE_LIST.flatMap(([, fixture]) =>
      Array.from({ length: fixture.rows }, (_, k) => [...fixtureRowFacts(fixture, k).states].sort().join(' ')),
    );
    for (const wanted of [
      ['OS', 'SIGNED', 'TRUSTED', 'VERIFIED'],
      ['SIGNED', 'VERIFIED'],
      ['SIGNED', 'VERIFIED', 'CHAINED', 'TRUSTED'],
      ['CATALOG_SIGNED', 'VERIFIED', 'OS'],
      ['SIGNED'],
      ['SIGNED', 'CHAINED'],
      ['INVALID'],
      ['SIGNED', 'INVALID'],
      ['NOT_SIGNED'],
      ['UNKNOWN'],
      [],
      ['TRUSTED'],
    ]) {
      expect(combos, wanted.join(',')).toContain(
        prefixed(...wanted)
          .sort()
          .join(' '),
      );
    }
  });

  it('writes every state prefixed, from the nine Cloud values, in alphabetical order', () => {
    for (const [key, fixture] of CLOUD_FIXTURE_LIST) {
      for (let k = 0; k < fixture.rows; k += 1) {
        const rowStates = fixtureRowFacts(fixture, k).states;
        for (const state of rowStates) expect(PUBLISHER_STATES, key).toContain(state);
        expect([...rowStates], key).toEqual([...rowStates].sort());
      }
    }
  });

  it('gives every fixture distinct lower-case md5 and sha256 hashes, none shared with the EDR fixtures', () => {
    const all = [...CLOUD_FIXTURE_LIST.flatMap(([, f]) => [f.md5, f.sha256]), unseenFixture.md5, unseenFixture.sha256];
    expect(new Set(all).size).toBe(all.length);
    for (const [key, fixture] of CLOUD_FIXTURE_LIST) {
      expect(fixture.md5, key).toMatch(/^[0-9a-f]{32}$/);
      expect(fixture.sha256, key).toMatch(/^[0-9a-f]{64}$/);
      expect(fixture.name, key).toBe(fixture.name.toLowerCase());
    }
    const edr = new Set([...fixtureBinaries.map((binary) => binary.md5), ...Object.values(samples).map((sample) => sample.md5)]);
    for (const hash of all) expect(edr.has(hash)).toBe(false);
  });

  it('labels fixtures by what they are, never with a verdict', () => {
    for (const [key, fixture] of CLOUD_FIXTURE_LIST) {
      expect(Object.keys(fixture), key).not.toContain('verdict');
      expect(Object.keys(fixture), key).not.toContain('signed');
      expect(fixture.description, key).not.toMatch(/verdict|should be/i);
    }
  });

  it('builds state lists prefixed and sorted, and refuses a duplicate', () => {
    expect(states('VERIFIED', 'OS')).toEqual(['FILE_SIGNATURE_STATE_OS', 'FILE_SIGNATURE_STATE_VERIFIED']);
    expect(() => states('SIGNED', 'SIGNED')).toThrow(/duplicate/);
  });

  it('keeps the recorded values as recorded', () => {
    expect(cloudFixtures.osBinary.states).toEqual(prefixed('OS', 'SIGNED', 'TRUSTED', 'VERIFIED'));
    expect(cloudFixtures.unsignedRecorded).toMatchObject({
      md5: '285044ad8f8b9322d0cc5e929e2cc18c',
      sha256: '5975d972eea6b1c53ef9a69452797439ed5bf63fae72e1780761ea1c2cb6976a',
      name: '/usr/bin/bash',
      publisher: undefined,
      states: prefixed('NOT_SIGNED'),
    });
  });
});

describe('what the simulator serves for each fixture', () => {
  it.each(CLOUD_FIXTURE_LIST.map(([key]) => key))('%s: every row, with its hashes, name, publisher and states', async (key) => {
    const fixture = cloudFixtures[key];
    const found = await search(app, `process_hash:${fixture.sha256}`);
    expect(found.num_found).toBe(fixture.rows);
    expect(found.results).toHaveLength(fixture.rows);
    const expected = Array.from({ length: fixture.rows }, (_, k) => fixtureRowFacts(fixture, k));
    // Rows come newest first, which for fixtures is row order.
    found.results.forEach((row, k) => {
      const facts = expected[k] as (typeof expected)[number];
      expect([...(row['process_hash'] as string[])].sort()).toEqual([fixture.md5, fixture.sha256].sort());
      expect(row['process_sha256']).toBe(fixture.sha256);
      expect(row['process_name']).toBe(fixture.name);
      expect(row['process_publisher_state']).toEqual([...facts.states]);
      if (facts.publisher === undefined) expect(row).not.toHaveProperty('process_publisher');
      else expect(row['process_publisher']).toEqual([...facts.publisher]);
    });
  });

  it('popular: 2,500 rows, enough to fill a 1,000-row page by itself in a batch with other hashes', async () => {
    const { popular, osBinary } = cloudFixtures;
    const found = await search(app, `process_hash:(${osBinary.md5} OR ${popular.md5})`, { page: '?start=0&rows=1000' });
    expect(found.num_found).toBe(popular.rows + osBinary.rows);
    expect(found.results).toHaveLength(1000);
    const hashes = new Set(found.results.map((row) => row['process_sha256']));
    // The popular binary's rows are the newest here, so the first page holds nothing else.
    expect(hashes).toEqual(new Set([popular.sha256]));
  });

  it('unseen: no rows under either hash', async () => {
    const found = await search(app, `process_hash:(${unseenFixture.md5} OR ${unseenFixture.sha256})`);
    expect(found).toMatchObject({ num_found: 0, results: [] });
  });

  it('shows publisher lists absent, empty and present across the fixtures', async () => {
    const row = async (sha256: string) => (await search(app, `process_hash:${sha256}`)).results[0] as Record<string, unknown>;
    expect(await row(cloudFixtures.invalid.sha256)).not.toHaveProperty('process_publisher');
    expect((await row(cloudFixtures.emptyStates.sha256))['process_publisher']).toEqual([]);
    expect((await row(cloudFixtures.emptyStates.sha256))['process_publisher_state']).toEqual([]);
    expect((await row(cloudFixtures.unknownState.sha256))['process_publisher']).toEqual([]);
  });
});
