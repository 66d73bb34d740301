import type { CloudDataset, DatasetBinary } from './dataset.js';
import type { SignatureFacts } from './fixtures.js';
import type { QueryNode, TermNode } from './query.js';
import { backendMs, deviceMs, renderRow, type RowContext, type RowValue } from './rows.js';

/**
 * Runs a parsed query over the data set: which rows match, how many, and
 * the first MAX_AVAILABLE of them in sort order (Cloud never serves rows
 * past that, so they are counted, not kept).
 *
 * A query that can only match rows of certain hashes or names (a
 * process_hash or process_name term, an OR of them, or an AND with one) is
 * answered from those binaries alone; any other query scans every binary.
 */

/** Cloud serves at most this many rows of a search (num_available never exceeds it). */
export const MAX_AVAILABLE = 10_000;

export interface SortKey {
  field: string;
  descending: boolean;
}

/** Newest first, as a search with no sort gets them; ties go by row order in the data set. */
export const DEFAULT_SORT: readonly SortKey[] = [{ field: 'backend_timestamp', descending: true }];

export interface SearchSpec {
  query: QueryNode;
  sort: readonly SortKey[];
  /** Only rows whose device_timestamp is within these bounds (inclusive), when set. */
  fromMs?: number;
  toMs?: number;
}

export interface SearchResult {
  /** Every matching row (num_found). */
  total: number;
  /** The refs of the first min(total, MAX_AVAILABLE) matching rows, in sort order. */
  refs: Uint32Array;
}

function termMatches(term: TermNode, binary: DatasetBinary, facts: SignatureFacts): boolean {
  switch (term.field) {
    case 'process_hash':
      return term.value === binary.md5 || term.value === binary.sha256;
    case 'process_name':
      return term.value === binary.name || term.value === binary.fileName;
    case 'process_publisher_state':
      return facts.states.includes(term.value);
  }
}

/** Whether a row of `binary` with these signature facts matches the query. */
export function matches(node: QueryNode, binary: DatasetBinary, facts: SignatureFacts): boolean {
  switch (node.kind) {
    case 'term':
      return termMatches(node, binary, facts);
    case 'and':
      return node.children.every((child) => matches(child, binary, facts));
    case 'or':
      return node.children.some((child) => matches(child, binary, facts));
    case 'not':
      return !matches(node.child, binary, facts);
  }
}

type Candidate = { kind: 'hash' | 'name'; value: string };

/** Hashes and names one of which every matching row must have, or null when the query is not narrowed that way. */
export function candidates(node: QueryNode): Candidate[] | null {
  switch (node.kind) {
    case 'term':
      if (node.field === 'process_hash') return [{ kind: 'hash', value: node.value }];
      if (node.field === 'process_name') return [{ kind: 'name', value: node.value }];
      return null;
    case 'or': {
      const all: Candidate[] = [];
      for (const child of node.children) {
        const some = candidates(child);
        if (some === null) return null;
        all.push(...some);
      }
      return all;
    }
    case 'and': {
      let best: Candidate[] | null = null;
      for (const child of node.children) {
        const some = candidates(child);
        if (some !== null && (best === null || some.length < best.length)) best = some;
      }
      return best;
    }
    case 'not':
      return null;
  }
}

function* binariesFor(dataset: CloudDataset, query: QueryNode): Generator<DatasetBinary> {
  const narrowed = candidates(query);
  if (narrowed === null) {
    yield* dataset.binaries();
    return;
  }
  const seen = new Set<number>();
  for (const candidate of narrowed) {
    const found = candidate.kind === 'hash' ? [dataset.binaryOfHash(candidate.value)] : dataset.binariesOfName(candidate.value);
    for (const binary of found) {
      if (binary === undefined || seen.has(binary.serial)) continue;
      seen.add(binary.serial);
      yield binary;
    }
  }
}

interface Entry {
  ref: number;
  keys: RowValue[];
}

function compareValues(a: RowValue | undefined, b: RowValue | undefined): number {
  // A row without the field sorts after every row with it, whichever the direction.
  if (a === undefined || b === undefined) return a === b ? 0 : a === undefined ? 1 : -1;
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const left = String(a);
  const right = String(b);
  return left < right ? -1 : left > right ? 1 : 0;
}

function comparator(sort: readonly SortKey[]): (a: Entry, b: Entry) => number {
  return (a, b) => {
    for (let i = 0; i < sort.length; i += 1) {
      const left = a.keys[i];
      const right = b.keys[i];
      let order = compareValues(left, right);
      if (left !== undefined && right !== undefined && (sort[i] as SortKey).descending) order = -order;
      if (order !== 0) return order;
    }
    return a.ref - b.ref;
  };
}

function sortKeys(sort: readonly SortKey[], binary: DatasetBinary, k: number, context: RowContext): RowValue[] {
  // Timestamps as numbers, without building the row: the common case stays cheap on big scans.
  let row: Record<string, RowValue> | undefined;
  return sort.map(({ field }) => {
    if (field === 'backend_timestamp') return backendMs(binary, k, context.anchorMs);
    if (field === 'device_timestamp') return deviceMs(binary, k, context.anchorMs);
    row ??= renderRow(binary, k, context);
    return row[field] as RowValue;
  });
}

export function runSearch(dataset: CloudDataset, spec: SearchSpec, context: RowContext): SearchResult {
  const compare = comparator(spec.sort);
  let kept: Entry[] = [];
  let total = 0;
  const inTime = (binary: DatasetBinary, k: number): boolean => {
    if (spec.fromMs === undefined && spec.toMs === undefined) return true;
    const at = deviceMs(binary, k, context.anchorMs);
    return (spec.fromMs === undefined || at >= spec.fromMs) && (spec.toMs === undefined || at <= spec.toMs);
  };

  for (const binary of binariesFor(dataset, spec.query)) {
    // A uniform binary's rows all match or all fail, so the query is decided once for them.
    const once = binary.uniform ? matches(spec.query, binary, binary.facts(0)) : undefined;
    if (once === false) continue;
    for (let k = 0; k < binary.rowCount; k += 1) {
      if (once === undefined && !matches(spec.query, binary, binary.facts(k))) continue;
      if (!inTime(binary, k)) continue;
      total += 1;
      kept.push({ ref: binary.rowRef(k), keys: sortKeys(spec.sort, binary, k, context) });
      // Keep memory bounded on big scans: trim back to the best MAX_AVAILABLE now and then.
      if (kept.length >= 2 * MAX_AVAILABLE) kept = kept.sort(compare).slice(0, MAX_AVAILABLE);
    }
  }
  kept.sort(compare);
  return { total, refs: Uint32Array.from(kept.slice(0, MAX_AVAILABLE), (entry) => entry.ref) };
}
