/**
 * The simulator's data model: process rows as Carbon Black returns them, and
 * the signing facts of the binary behind each row (which never appear in a
 * row, only through digsig_* query terms, the join).
 */

/**
 * Every digsig_result a record can carry: the eight values the API reference
 * lists, and `(Unknown)`, which the official SDK's changelog mentions.
 */
export const DIGSIG_RESULTS = [
  'Signed',
  'Unsigned',
  'Expired',
  'Bad Signature',
  'Invalid Signature',
  'Invalid Chain',
  'Untrusted Root',
  'Explicit Distrust',
  '(Unknown)',
] as const;

export type DigsigResult = (typeof DIGSIG_RESULTS)[number];

/**
 * Signing facts of one binary. Each optional field is there only when the
 * signature carries it: an unsigned binary has result `Unsigned` and nothing
 * else, a Microsoft driver may have a publisher and a sign time only.
 */
export interface BinarySigning {
  result: DigsigResult;
  progName?: string;
  publisher?: string;
  issuer?: string;
  subject?: string;
  /** ISO-8601 UTC, whole minutes (`2016-04-12T09:21:00Z`). */
  signTime?: string;
}

/**
 * What a binary's file says about itself: the PE version resource and the
 * image header. Every version-resource field is optional (many binaries have
 * none); the record then lacks the key, except file_desc, which reads
 * `(unknown)`.
 */
export interface BinaryFileInfo {
  originalFilename?: string;
  internalName?: string;
  companyName?: string;
  productName?: string;
  fileVersion?: string;
  productVersion?: string;
  fileDesc?: string;
  legalCopyright?: string;
  is64bit: boolean;
  isExecutableImage: boolean;
  /** orig_mod_len, bytes. */
  size: number;
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

/** One binary as the server keeps it: its signing facts, its file facts, and the process rows that ran it. */
export interface BinaryEntry {
  /** Lowercase hex (the record shows it upper case). */
  readonly md5: string;
  readonly signing: BinarySigning;
  readonly file: BinaryFileInfo;
  /** The process rows that ran this binary, newest first; never empty. */
  readonly processes: readonly SearchRecord[];
  /** When the server first saw the binary (server_added_timestamp), epoch ms. */
  readonly firstSeenMs: number;
  /** When a process last ran it (last_seen), epoch ms. */
  readonly lastSeenMs: number;
}
