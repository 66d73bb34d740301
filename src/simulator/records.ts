/**
 * The simulator's data model: process rows as Carbon Black returns them, and
 * the signing facts of the binary behind each row (which never appear in a
 * row, only through digsig_* query terms, the join).
 */

export type DigsigResult =
  'Signed' | 'Unsigned' | 'Expired' | 'Bad Signature' | 'Invalid Signature' | 'Invalid Chain' | 'Untrusted Root' | 'Explicit Distrust';

/** Signing facts of one binary. An unsigned binary has result `Unsigned` and nothing else. */
export interface BinarySigning {
  result: DigsigResult;
  progName?: string;
  publisher?: string;
  issuer?: string;
  subject?: string;
  /** ISO-8601 UTC. */
  signTime?: string;
}

/** One process-search result row, shaped like the seed blog post's row. */
export interface ProcessRow {
  childproc_count: number;
  cmdline: string;
  comms_ip: number;
  crossproc_count: number;
  current_segment: number;
  emet_config: string;
  emet_count: number;
  filemod_count: number;
  filtering_known_dlls: boolean;
  group: string;
  host_type: string;
  hostname: string;
  id: string;
  interface_ip: number;
  last_update: string;
  modload_count: number;
  netconn_count: number;
  os_type: string;
  parent_md5: string;
  parent_name: string;
  parent_pid: number;
  parent_unique_id: string;
  path: string;
  process_md5: string;
  process_name: string;
  process_pid: number;
  processblock_count: number;
  regmod_count: number;
  segment_id: number;
  sensor_id: number;
  start: string;
  terminated: boolean;
  unique_id: string;
  username: string;
}

export type ProcessRowKey = keyof ProcessRow;

/**
 * A searchable process. The population implements it lazily (no md5 is
 * computed and no row is built unless a query or the response needs it).
 */
export interface SearchRecord {
  /** Lowercase hex md5 of the process binary. */
  readonly md5: string;
  /** last_update in epoch milliseconds, for sorting and cb.*_last_update. */
  readonly lastUpdateMs: number;
  /** Signing facts of the binary behind process_md5. */
  readonly signing: BinarySigning;
  /** One row property, as the query language sees it. */
  processField(key: ProcessRowKey): ProcessRow[ProcessRowKey];
  /** The full row, as the response carries it. */
  toRow(): ProcessRow;
}

/** A record over a fully built row (the fixture). */
export class RowRecord implements SearchRecord {
  readonly lastUpdateMs: number;

  constructor(
    private readonly row: ProcessRow,
    readonly signing: BinarySigning,
  ) {
    this.lastUpdateMs = Date.parse(row.last_update);
  }

  get md5(): string {
    return this.row.process_md5;
  }

  processField(key: ProcessRowKey): ProcessRow[ProcessRowKey] {
    return this.row[key];
  }

  toRow(): ProcessRow {
    return { ...this.row };
  }
}

// Every row key, checked complete by the compiler (a missing or extra key fails the Record type).
const rowKeys: Record<ProcessRowKey, true> = {
  childproc_count: true,
  cmdline: true,
  comms_ip: true,
  crossproc_count: true,
  current_segment: true,
  emet_config: true,
  emet_count: true,
  filemod_count: true,
  filtering_known_dlls: true,
  group: true,
  host_type: true,
  hostname: true,
  id: true,
  interface_ip: true,
  last_update: true,
  modload_count: true,
  netconn_count: true,
  os_type: true,
  parent_md5: true,
  parent_name: true,
  parent_pid: true,
  parent_unique_id: true,
  path: true,
  process_md5: true,
  process_name: true,
  process_pid: true,
  processblock_count: true,
  regmod_count: true,
  segment_id: true,
  sensor_id: true,
  start: true,
  terminated: true,
  unique_id: true,
  username: true,
};

export const PROCESS_ROW_KEYS: ReadonlySet<string> = new Set(Object.keys(rowKeys));
