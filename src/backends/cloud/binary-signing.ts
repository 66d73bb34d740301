import { rowHashes, rowMd5, rowSha256, type ProcessRow } from './process-row.js';

/** What Cloud says about one binary's signature, over every row read for it. */
export interface CloudBinarySigning {
  /** Lower case, the 32-hex entry of `process_hash`. */
  md5: string | null;
  /** Lower case, `process_sha256` or the 64-hex entry of `process_hash`. */
  sha256: string | null;
  /** Union of `process_publisher` over the rows read for this binary, first-seen order, no duplicates. */
  publishers: string[];
  /** Union of `process_publisher_state` over those rows, first-seen order, no duplicates, raw strings as Cloud sent them. */
  states: string[];
}

interface Gathering {
  md5: string | null;
  sha256: string | null;
  /** Sets keep insertion order: first seen first, duplicates dropped. */
  publishers: Set<string>;
  states: Set<string>;
}

/**
 * Gathers rows into one signing per asked hash, across the pages and jobs of
 * one search. A hash is resolved once a row for it has been read; rows for an
 * already resolved hash still add their publishers and states, because rows
 * for one binary may disagree (the verdict rule decides what a mix means).
 * A row about both an asked md5 and an asked sha256 counts for both.
 */
export class SigningCollector {
  readonly #found = new Map<string, Gathering>();

  /** Adds `row` to each of the `asked` hashes it is about. */
  add(row: ProcessRow, asked: ReadonlySet<string>): void {
    for (const hash of new Set(rowHashes(row))) {
      if (!asked.has(hash)) continue;
      let gathering = this.#found.get(hash);
      if (gathering === undefined) {
        gathering = { md5: null, sha256: null, publishers: new Set(), states: new Set() };
        this.#found.set(hash, gathering);
      }
      gathering.md5 ??= rowMd5(row);
      gathering.sha256 ??= rowSha256(row);
      for (const publisher of row.process_publisher ?? []) gathering.publishers.add(publisher);
      for (const state of row.process_publisher_state ?? []) gathering.states.add(state);
    }
  }

  resolved(hash: string): boolean {
    return this.#found.has(hash);
  }

  /** The signings, keyed by asked hash; a hash with no row read is absent. */
  signings(): Map<string, CloudBinarySigning> {
    const signings = new Map<string, CloudBinarySigning>();
    for (const [hash, { md5, sha256, publishers, states }] of this.#found) {
      signings.set(hash, { md5, sha256, publishers: [...publishers], states: [...states] });
    }
    return signings;
  }
}
