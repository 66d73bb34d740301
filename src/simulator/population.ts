import type { BinarySigning, ProcessRow, ProcessRowKey, SearchRecord } from './records.js';

/**
 * A generated population of processes for load tests and benchmarks: entry i
 * is one process row of one binary, derived from i alone. Nothing is stored
 * and nothing is built: the md5 is an invertible function of i, so a lookup by
 * md5 decodes i from it in O(1), and a population of millions costs no start-up
 * time or memory.
 *
 * Entry i:
 *   md5           32 random-looking lowercase hex digits (an md5's shape, not
 *                 an md5 of anything): the first 8 are a 32-bit bijective mix of
 *                 i, the other 24 a further mix of those that acts as a checksum
 *   process_name  `proc-${i}.exe`
 *   signed        unless i % 4 === 3 (those are `Unsigned`)
 *   prog name     `Proc-${i}.exe` when signed: it tokenizes like the process
 *                 name, so the seed join with the process name finds every
 *                 signed entry and no unsigned one.
 */

export const MAX_POPULATION = 20_000_000;

// murmur3's 32-bit finalizer: a bijection on 32-bit integers, so it can be undone.
const MIX_1 = 0x85ebca6b;
const MIX_2 = 0xc2b2ae35;
const INDEX_SALT = 0x5167e75a; // keeps entry 0 from mapping to 0
const CHECK_SALTS = [0x9e3779b9, 0x7f4a7c15, 0x94d049bb] as const;

function inverseOdd(a: number): number {
  // Newton's iteration for the inverse modulo 2^32 (each round doubles the correct bits).
  let x = a;
  for (let round = 0; round < 5; round += 1) x = Math.imul(x, 2 - Math.imul(a, x));
  return x;
}
const MIX_1_INVERSE = inverseOdd(MIX_1);
const MIX_2_INVERSE = inverseOdd(MIX_2);

function mix(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, MIX_1);
  h ^= h >>> 13;
  h = Math.imul(h, MIX_2);
  h ^= h >>> 16;
  return h >>> 0;
}

function unmix(value: number): number {
  let h = value;
  h ^= h >>> 16;
  h = Math.imul(h, MIX_2_INVERSE);
  h ^= (h >>> 13) ^ (h >>> 26);
  h = Math.imul(h, MIX_1_INVERSE);
  h ^= h >>> 16;
  return h >>> 0;
}

const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

export function populationMd5(i: number): string {
  const head = mix((i ^ INDEX_SALT) >>> 0);
  return hex8(head) + CHECK_SALTS.map((salt) => hex8(mix((head ^ salt) >>> 0))).join('');
}

/** The index whose populationMd5 this is (any case), or -1; ignores the population size. */
export function populationIndexOf(md5: string): number {
  if (!/^[0-9a-f]{32}$/iu.test(md5)) return -1;
  const i = (unmix(Number.parseInt(md5.slice(0, 8), 16)) ^ INDEX_SALT) >>> 0;
  return i < MAX_POPULATION && populationMd5(i) === md5.toLowerCase() ? i : -1;
}

export function populationIsSigned(i: number): boolean {
  return i % 4 !== 3;
}

export function populationName(i: number): string {
  return `proc-${i}.exe`;
}

export function populationProgName(i: number): string | undefined {
  return populationIsSigned(i) ? `Proc-${i}.exe` : undefined;
}

export interface PopulationEntry {
  index: number;
  md5: string;
  name: string;
  signed: boolean;
  progName?: string;
}

/** Everything a test or the bench needs to know about entry i, without a simulator. */
export function populationEntry(i: number): PopulationEntry {
  const progName = populationProgName(i);
  return {
    index: i,
    md5: populationMd5(i),
    name: populationName(i),
    signed: populationIsSigned(i),
    ...(progName === undefined ? {} : { progName }),
  };
}

// Entry 0 was last updated at this instant; entry i, i seconds earlier.
const BASE_LAST_UPDATE_MS = Date.parse('2024-01-01T00:00:00.000Z');
const UNSIGNED: BinarySigning = Object.freeze({ result: 'Unsigned' });

function populationSigning(i: number): BinarySigning {
  if (!populationIsSigned(i)) return UNSIGNED;
  const vendor = `Population Vendor ${i % 50}`;
  return {
    result: 'Signed',
    progName: `Proc-${i}.exe`,
    publisher: vendor,
    issuer: 'Signet Population CA',
    subject: vendor,
    signTime: '2023-06-01T00:00:00Z',
  };
}

/** A population entry as a search record; the md5 and the full row are computed only on demand. */
export class PopulationRecord implements SearchRecord {
  readonly lastUpdateMs: number;
  private cachedMd5: string | undefined;
  private cachedSigning: BinarySigning | undefined;

  constructor(readonly index: number) {
    this.lastUpdateMs = BASE_LAST_UPDATE_MS - index * 1000;
  }

  get md5(): string {
    this.cachedMd5 ??= populationMd5(this.index);
    return this.cachedMd5;
  }

  get signing(): BinarySigning {
    this.cachedSigning ??= populationSigning(this.index);
    return this.cachedSigning;
  }

  processField(key: ProcessRowKey): ProcessRow[ProcessRowKey] {
    // The cheap fields a scan is likely to test, without building the row.
    switch (key) {
      case 'process_name':
        return populationName(this.index);
      case 'process_md5':
        return this.md5;
      case 'hostname':
        return `pop-host-${this.index % 1000}`;
      case 'username':
        return `pop-user-${this.index % 250}`;
      case 'last_update':
        return new Date(this.lastUpdateMs).toISOString();
      default:
        return this.toRow()[key];
    }
  }

  toRow(): ProcessRow {
    const i = this.index;
    const lastUpdate = new Date(this.lastUpdateMs).toISOString();
    const hex = i.toString(16).padStart(12, '0');
    const path = `c:\\program files\\population\\proc-${i}.exe`;
    return {
      childproc_count: i % 3,
      cmdline: `"${path}" --worker ${i % 8}`,
      comms_ip: -1062698981 + (i % 200),
      crossproc_count: 0,
      current_segment: 0,
      emet_config: '',
      emet_count: 0,
      filemod_count: i % 17,
      filtering_known_dlls: false,
      group: 'Population Group',
      host_type: 'workstation',
      hostname: `pop-host-${i % 1000}`,
      id: (-4000000000000000000 + i).toString(),
      interface_ip: 0,
      last_update: lastUpdate,
      modload_count: 20 + (i % 40),
      netconn_count: i % 5,
      os_type: 'windows',
      parent_md5: '00000000000000000000000000000000',
      parent_name: 'services.exe',
      parent_pid: 600 + (i % 100),
      parent_unique_id: `000003e8-0000-0258-01da-${hex}-00000001`,
      path,
      process_md5: this.md5,
      process_name: populationName(i),
      process_pid: 1000 + (i % 60000),
      processblock_count: 0,
      regmod_count: i % 11,
      segment_id: 1,
      sensor_id: 1000 + (i % 1000),
      start: new Date(this.lastUpdateMs - 60_000).toISOString(),
      terminated: i % 2 === 0,
      unique_id: `000003e8-0000-1000-01da-${hex}-00000001`,
      username: `pop-user-${i % 250}`,
    };
  }
}

const NAME_PATTERN = /^proc-(0|[1-9]\d{0,8})\.exe$/iu;

/** Finds entries of a population of `size` by md5 or by process name, in O(1) and with nothing stored. */
export class PopulationIndex {
  constructor(readonly size: number) {
    if (!Number.isInteger(size) || size < 0 || size > MAX_POPULATION) {
      throw new RangeError(`population must be an integer from 0 to ${MAX_POPULATION}`);
    }
  }

  /** The entry whose md5 this is (any case), or -1. */
  indexOfMd5(md5: string): number {
    const i = populationIndexOf(md5);
    return i < this.size ? i : -1;
  }

  /** The entry whose process name this is (case-insensitive), or -1. */
  indexOfName(name: string): number {
    const match = NAME_PATTERN.exec(name);
    if (match === null) return -1;
    const i = Number(match[1]);
    return i < this.size ? i : -1;
  }
}
