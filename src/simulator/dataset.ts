import { fixtureBinaries, type FixtureBinary } from './fixtures.js';
import { compileQuery } from './matcher.js';
import { PopulationIndex, PopulationRecord } from './population.js';
import type { QueryNode } from './query-parser.js';
import { RowRecord, type BinarySigning, type ProcessRowKey, type SearchRecord } from './records.js';

/**
 * Everything the simulator can find: the fixture binaries plus the generated
 * population, with the indexes that keep a lookup by md5 (or exact process
 * name) from scanning every row.
 */

export interface SortOrder {
  key: ProcessRowKey;
  descending: boolean;
}

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

export interface BinaryFacts {
  md5: string;
  signing: BinarySigning;
  records: SearchRecord[];
}

export class Dataset {
  readonly population: PopulationIndex;
  private readonly fixtureRecords: RowRecord[] = [];
  private readonly fixtureByMd5 = new Map<string, RowRecord[]>();
  private readonly fixtureByName = new Map<string, RowRecord[]>();

  constructor(populationSize: number, fixtures: readonly FixtureBinary[] = fixtureBinaries) {
    for (const binary of fixtures) {
      for (const row of binary.processes) {
        const record = new RowRecord(row, binary.signing);
        this.fixtureRecords.push(record);
        push(this.fixtureByMd5, row.process_md5.toLowerCase(), record);
        push(this.fixtureByName, row.process_name.toLowerCase(), record);
      }
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

  /** The binary with this md5 and the processes that ran it, or undefined. */
  binary(md5: string): BinaryFacts | undefined {
    const records = this.byMd5(md5);
    const first = records[0];
    if (first === undefined) return undefined;
    return { md5: first.md5, signing: first.signing, records };
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
