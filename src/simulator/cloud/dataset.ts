import {
  CLOUD_FIXTURE_LIST,
  fixtureRowFacts,
  type CloudFixture,
  type CloudFixtureKey,
  type DeviceOs,
  type SignatureFacts,
} from './fixtures.js';
import {
  cloudPopulationEntry,
  cloudPopulationIndexOf,
  cloudPopulationIndexOfName,
  MAX_CLOUD_POPULATION,
  MAX_POPULATION_ROWS,
  type CloudPopulationEntry,
} from './population.js';
import type { Reputation } from './states.js';

/**
 * The Cloud simulator's data: the fixtures, then the generated population,
 * as binaries with process rows. A row is named by a number (its ref) so a
 * job can keep up to 10,000 of them in a Uint32Array:
 *
 *   fixture f, row k      f * 4096 + k          (k < 4096)
 *   population i, row k   2^18 + i * 8 + k      (k < 8)
 *
 * Lookups by hash and by process name are O(1) for both parts (the
 * population decodes i from the value); anything else scans.
 */

export const FIXTURE_ROW_SLOTS = 4096;
const POPULATION_BASE = 2 ** 18;

/** One binary and its rows, whichever part of the data it comes from. */
export interface DatasetBinary {
  readonly md5: string;
  readonly sha256: string;
  /** process_name, a full lower-case path. */
  readonly name: string;
  /** The file name part of `name` (after the last \ or /). */
  readonly fileName: string;
  readonly reputation: Reputation;
  readonly os: DeviceOs;
  readonly rowCount: number;
  /** True when every row carries the binary's signature facts (a query can then be decided once per binary). */
  readonly uniform: boolean;
  /** A small number unique to the binary, that seeds its rows' devices, ids and times. */
  readonly serial: number;
  /** Row 0 reached the backend this long before the simulator's start; each next row spacingSeconds earlier. */
  readonly newestAgeSeconds: number;
  readonly spacingSeconds: number;
  /** The fixture's key, for fixture binaries. */
  readonly fixtureKey?: CloudFixtureKey;
  /** The population index, for population binaries. */
  readonly populationIndex?: number;
  facts(k: number): SignatureFacts;
  rowRef(k: number): number;
}

function fileNameOf(path: string): string {
  return path.slice(Math.max(path.lastIndexOf('\\'), path.lastIndexOf('/')) + 1);
}

class FixtureBinary implements DatasetBinary {
  readonly md5: string;
  readonly sha256: string;
  readonly name: string;
  readonly fileName: string;
  readonly reputation: Reputation;
  readonly os: DeviceOs;
  readonly rowCount: number;
  readonly uniform: boolean;
  readonly newestAgeSeconds: number;
  readonly spacingSeconds: number;

  constructor(
    readonly serial: number,
    readonly fixtureKey: CloudFixtureKey,
    private readonly fixture: CloudFixture,
  ) {
    if (fixture.rows >= FIXTURE_ROW_SLOTS) throw new RangeError(`fixture ${fixtureKey} has more than ${FIXTURE_ROW_SLOTS - 1} rows`);
    this.md5 = fixture.md5;
    this.sha256 = fixture.sha256;
    this.name = fixture.name;
    this.fileName = fileNameOf(fixture.name);
    this.reputation = fixture.reputation;
    this.os = fixture.os;
    this.rowCount = fixture.rows;
    this.uniform = fixture.divergentRows === undefined;
    // Fixtures without ages of their own: a day back, an hour apart, rows a minute apart.
    this.newestAgeSeconds = fixture.ages?.newestSeconds ?? 86_400 + serial * 3_607;
    this.spacingSeconds = fixture.ages?.spacingSeconds ?? 59;
  }

  facts(k: number): SignatureFacts {
    return fixtureRowFacts(this.fixture, k);
  }

  rowRef(k: number): number {
    return this.serial * FIXTURE_ROW_SLOTS + k;
  }
}

class PopulationBinary implements DatasetBinary {
  readonly md5: string;
  readonly sha256: string;
  readonly name: string;
  readonly fileName: string;
  readonly reputation: Reputation;
  readonly os: DeviceOs = 'WINDOWS';
  readonly rowCount: number;
  readonly uniform = true;
  readonly serial: number;
  readonly newestAgeSeconds: number;
  readonly spacingSeconds = 3;
  private readonly entry: CloudPopulationEntry;

  constructor(readonly populationIndex: number) {
    this.entry = cloudPopulationEntry(populationIndex);
    this.md5 = this.entry.md5;
    this.sha256 = this.entry.sha256;
    this.name = this.entry.name;
    this.fileName = fileNameOf(this.entry.name);
    this.reputation = this.entry.reputation;
    this.rowCount = this.entry.rowCount;
    this.serial = CLOUD_FIXTURE_LIST.length + populationIndex;
    // Population rows from two days back, entry i five seconds before entry i - 1.
    this.newestAgeSeconds = 2 * 86_400 + populationIndex * 5;
  }

  facts(): SignatureFacts {
    return this.entry;
  }

  rowRef(k: number): number {
    return POPULATION_BASE + this.populationIndex * MAX_POPULATION_ROWS + k;
  }
}

export class CloudDataset {
  private readonly fixtures: readonly FixtureBinary[];
  private readonly byHash = new Map<string, FixtureBinary>();
  private readonly byName = new Map<string, FixtureBinary[]>();

  constructor(readonly population: number) {
    if (!Number.isInteger(population) || population < 0 || population > MAX_CLOUD_POPULATION) {
      throw new RangeError(`cloud simulator population must be an integer from 0 to ${MAX_CLOUD_POPULATION}`);
    }
    this.fixtures = CLOUD_FIXTURE_LIST.map(([key, fixture], serial) => new FixtureBinary(serial, key, fixture));
    for (const binary of this.fixtures) {
      for (const hash of [binary.md5, binary.sha256]) {
        if (this.byHash.has(hash)) throw new Error(`two fixtures share the hash ${hash}`);
        this.byHash.set(hash, binary);
      }
      for (const name of new Set([binary.name, binary.fileName])) this.byName.set(name, [...(this.byName.get(name) ?? []), binary]);
    }
  }

  /** How many binaries there are (fixtures and population). */
  get binaryCount(): number {
    return this.fixtures.length + this.population;
  }

  /** The binary with this md5 or sha256 (lower case), if any. */
  binaryOfHash(hash: string): DatasetBinary | undefined {
    const fixture = this.byHash.get(hash);
    if (fixture !== undefined) return fixture;
    const i = cloudPopulationIndexOf(hash);
    return i >= 0 && i < this.population ? new PopulationBinary(i) : undefined;
  }

  /** The binaries whose process_name or file name is this (lower case). */
  binariesOfName(name: string): DatasetBinary[] {
    const found: DatasetBinary[] = [...(this.byName.get(name) ?? [])];
    const i = cloudPopulationIndexOfName(name);
    if (i >= 0 && i < this.population) found.push(new PopulationBinary(i));
    return found;
  }

  /** Every binary: the fixtures in their order, then the population by index. */
  *binaries(): Generator<DatasetBinary> {
    yield* this.fixtures;
    for (let i = 0; i < this.population; i += 1) yield new PopulationBinary(i);
  }

  /** The binary and row index a ref names (refs come from rowRef, so they are always valid). */
  rowOfRef(ref: number): { binary: DatasetBinary; k: number } {
    if (ref < POPULATION_BASE) {
      const binary = this.fixtures[Math.floor(ref / FIXTURE_ROW_SLOTS)];
      if (binary === undefined) throw new RangeError(`no fixture row ${ref}`);
      return { binary, k: ref % FIXTURE_ROW_SLOTS };
    }
    const offset = ref - POPULATION_BASE;
    return { binary: new PopulationBinary(Math.floor(offset / MAX_POPULATION_ROWS)), k: offset % MAX_POPULATION_ROWS };
  }
}
