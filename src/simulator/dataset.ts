import { fixtureBinaries, type FixtureBinary } from './fixtures.js';
import { compileBinaryQuery, compileQuery } from './matcher.js';
import { PopulationBinary, PopulationIndex, PopulationRecord } from './population.js';
import type { QueryNode } from './query-parser.js';
import { RowRecord, type BinaryEntry, type BinaryFileInfo, type BinarySigning, type ProcessRowKey, type SearchRecord } from './records.js';

/**
 * Everything the simulator can find: the fixture binaries plus the generated
 * population, as process records (the process search) and as binaries (the
 * binary summary and search), with the indexes that keep a lookup by md5 (or
 * exact process name) from scanning every row.
 */

export interface SortOrder<K extends string = ProcessRowKey> {
  key: K;
  descending: boolean;
}

/** What a binary search can sort on. */
export type BinarySortKey = 'server_added_timestamp' | 'last_seen' | 'md5' | 'host_count';
export const BINARY_SORT_KEYS: ReadonlySet<string> = new Set<BinarySortKey>(['server_added_timestamp', 'last_seen', 'md5', 'host_count']);

export interface SearchOptions {
  start: number;
  rows: number;
  sort: SortOrder;
  /** cb.min_last_update / cb.max_last_update, epoch ms. */
  minLastUpdateMs?: number;
  maxLastUpdateMs?: number;
}

export interface SearchResult {
  total: number;
  records: SearchRecord[];
}

export interface BinarySearchOptions {
  start: number;
  rows: number;
  sort: SortOrder<BinarySortKey>;
}

export interface BinarySearchResult {
  total: number;
  binaries: BinaryEntry[];
}

/** A fixture binary with its rows as records, newest first. */
class FixtureEntry implements BinaryEntry {
  readonly md5: string;
  readonly firstSeenMs: number;
  readonly lastSeenMs: number;

  constructor(
    readonly signing: BinarySigning,
    readonly file: BinaryFileInfo,
    readonly processes: readonly RowRecord[],
  ) {
    const first = processes[0];
    if (first === undefined) throw new Error('a fixture binary needs at least one process row');
    this.md5 = first.md5.toLowerCase();
    this.lastSeenMs = Math.max(...processes.map((p) => p.lastUpdateMs));
    this.firstSeenMs = Math.min(...processes.map((p) => Date.parse(String(p.processField('start')))));
  }
}

export class Dataset {
  readonly population: PopulationIndex;
  private readonly fixtureRecords: RowRecord[] = [];
  private readonly fixtureByMd5 = new Map<string, RowRecord[]>();
  private readonly fixtureByName = new Map<string, RowRecord[]>();
  private readonly fixtureEntries: FixtureEntry[] = [];
  private readonly fixtureBinaryByMd5 = new Map<string, FixtureEntry>();

  constructor(populationSize: number, fixtures: readonly FixtureBinary[] = fixtureBinaries) {
    for (const binary of fixtures) {
      const records: RowRecord[] = [];
      for (const row of binary.processes) {
        const record = new RowRecord(row, binary.signing);
        records.push(record);
        this.fixtureRecords.push(record);
        push(this.fixtureByMd5, row.process_md5.toLowerCase(), record);
        push(this.fixtureByName, row.process_name.toLowerCase(), record);
      }
      records.sort((a, b) => b.lastUpdateMs - a.lastUpdateMs);
      const entry = new FixtureEntry(binary.signing, binary.file, records);
      this.fixtureEntries.push(entry);
      this.fixtureBinaryByMd5.set(entry.md5, entry);
    }
    this.population = new PopulationIndex(populationSize);
  }

  /** Records matching `query` (null: everything), sorted and paged; `total` counts every match. */
  search(query: QueryNode | null, options: SearchOptions): SearchResult {
    const predicate = query === null ? () => true : compileQuery(query);
    const { minLastUpdateMs, maxLastUpdateMs } = options;
    const inWindow = (record: SearchRecord): boolean =>
      (minLastUpdateMs === undefined || record.lastUpdateMs >= minLastUpdateMs) &&
      (maxLastUpdateMs === undefined || record.lastUpdateMs <= maxLastUpdateMs);

    const matches: SearchRecord[] = [];
    const consider = (record: SearchRecord): void => {
      if (inWindow(record) && predicate(record)) matches.push(record);
    };
    const candidates = query === null ? null : this.candidates(query);
    if (candidates !== null) {
      for (const record of candidates) consider(record);
    } else {
      // No md5 or exact-name term to narrow on: a full scan, like an unindexed query.
      for (const record of this.fixtureRecords) consider(record);
      for (let i = 0; i < this.population.size; i += 1) consider(new PopulationRecord(i));
    }
    matches.sort(comparator(options.sort));
    return { total: matches.length, records: matches.slice(options.start, options.start + options.rows) };
  }

  /** The binary with this md5 (any case), or undefined when the server never saw it. */
  binary(md5: string): BinaryEntry | undefined {
    const fixture = this.fixtureBinaryByMd5.get(md5.toLowerCase());
    if (fixture !== undefined) return fixture;
    const i = this.population.indexOfMd5(md5);
    return i >= 0 ? new PopulationBinary(i) : undefined;
  }

  /**
   * Binaries matching `query` (null: every binary), sorted and paged. A query
   * made of md5 terms is answered from the md5 index; anything else scans.
   */
  searchBinaries(query: QueryNode | null, options: BinarySearchOptions): BinarySearchResult {
    const predicate = query === null ? () => true : compileBinaryQuery(query);
    const matches: BinaryEntry[] = [];
    const candidates = query === null ? null : this.binaryCandidates(query);
    if (candidates !== null) {
      for (const binary of candidates) if (predicate(binary)) matches.push(binary);
    } else {
      for (const binary of this.fixtureEntries) if (predicate(binary)) matches.push(binary);
      for (let i = 0; i < this.population.size; i += 1) {
        const binary = new PopulationBinary(i);
        if (predicate(binary)) matches.push(binary);
      }
    }
    matches.sort(binaryComparator(options.sort));
    return { total: matches.length, binaries: matches.slice(options.start, options.start + options.rows) };
  }

  /** Like candidates(), over binaries and md5 terms only: a binary search has no process_name. */
  private binaryCandidates(node: QueryNode): BinaryEntry[] | null {
    switch (node.type) {
      case 'term': {
        if (node.wildcard || node.field !== 'md5') return null;
        const binary = this.binary(node.value);
        return binary === undefined ? [] : [binary];
      }
      case 'not':
        return null;
      case 'and': {
        let best: BinaryEntry[] | null = null;
        for (const child of node.children) {
          const set = this.binaryCandidates(child);
          if (set !== null && (best === null || set.length < best.length)) best = set;
        }
        return best;
      }
      case 'or': {
        // Population binaries are rebuilt per lookup, so dedupe by md5.
        const union = new Map<string, BinaryEntry>();
        for (const child of node.children) {
          const set = this.binaryCandidates(child);
          if (set === null) return null;
          for (const binary of set) union.set(binary.md5, binary);
        }
        return [...union.values()];
      }
    }
  }

  private byMd5(md5: string): SearchRecord[] {
    const found: SearchRecord[] = [...(this.fixtureByMd5.get(md5.toLowerCase()) ?? [])];
    const i = this.population.indexOfMd5(md5);
    if (i >= 0) found.push(new PopulationRecord(i));
    return found;
  }

  private byName(name: string): SearchRecord[] {
    const found: SearchRecord[] = [...(this.fixtureByName.get(name.toLowerCase()) ?? [])];
    const i = this.population.indexOfName(name);
    if (i >= 0) found.push(new PopulationRecord(i));
    return found;
  }

  /**
   * A superset of the records that can match `node`, or null when no index
   * applies. An AND takes its smallest narrowed child (every child is still
   * tested by the predicate); an OR narrows only when all its children do.
   */
  private candidates(node: QueryNode): SearchRecord[] | null {
    switch (node.type) {
      case 'term':
        if (node.wildcard) return null;
        if (node.field === 'process_md5' || node.field === 'md5') return this.byMd5(node.value);
        if (node.field === 'process_name') return this.byName(node.value);
        return null;
      case 'not':
        return null;
      case 'and': {
        let best: SearchRecord[] | null = null;
        for (const child of node.children) {
          const set = this.candidates(child);
          if (set !== null && (best === null || set.length < best.length)) best = set;
        }
        return best;
      }
      case 'or': {
        const union = new Map<unknown, SearchRecord>();
        for (const child of node.children) {
          const set = this.candidates(child);
          if (set === null) return null;
          // Population records are rebuilt per lookup, so dedupe them by index.
          for (const record of set) union.set(record instanceof PopulationRecord ? record.index : record, record);
        }
        return [...union.values()];
      }
    }
  }
}

function push<K, V>(map: Map<K, V[]>, key: K, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}

function binaryComparator(order: SortOrder<BinarySortKey>): (a: BinaryEntry, b: BinaryEntry) => number {
  const sign = order.descending ? -1 : 1;
  const byMd5 = (a: BinaryEntry, b: BinaryEntry): number => (a.md5 < b.md5 ? -1 : a.md5 > b.md5 ? 1 : 0);
  switch (order.key) {
    case 'server_added_timestamp':
      return (a, b) => sign * (a.firstSeenMs - b.firstSeenMs) || byMd5(a, b);
    case 'last_seen':
      return (a, b) => sign * (a.lastSeenMs - b.lastSeenMs) || byMd5(a, b);
    case 'host_count':
      return (a, b) => sign * (hosts(a) - hosts(b)) || byMd5(a, b);
    case 'md5':
      return (a, b) => sign * byMd5(a, b);
  }
}

function hosts(binary: BinaryEntry): number {
  return new Set(binary.processes.map((p) => p.processField('hostname'))).size;
}

function comparator(order: SortOrder): (a: SearchRecord, b: SearchRecord) => number {
  const sign = order.descending ? -1 : 1;
  if (order.key === 'last_update') return (a, b) => sign * (a.lastUpdateMs - b.lastUpdateMs);
  return (a, b) => {
    const x = a.processField(order.key);
    const y = b.processField(order.key);
    if (typeof x === 'number' && typeof y === 'number') return sign * (x - y);
    const sx = String(x);
    const sy = String(y);
    return sign * (sx < sy ? -1 : sx > sy ? 1 : 0);
  };
}
