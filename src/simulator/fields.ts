/**
 * The query fields the simulator understands and how each one matches, per
 * search: FIELDS for the process search, BINARY_FIELDS for the binary search.
 * The parser rejects any other field (a real server answers
 * query_syntax_error), which is how a client that misspells a field, or asks
 * a binary search about a process row, gets caught.
 */

/**
 * - `hash`: exact, case-insensitive hex (`*` wildcards allowed, never narrowed).
 * - `keyword`: the whole value, case-insensitive, `*` wildcards allowed.
 * - `text`: tokenized on whitespace and punctuation; the query's tokens must
 *   appear consecutively and in order (a bare multi-token value is a phrase).
 * - `result`: a digsig_result such as `Signed` or `Bad Signature`, case-insensitive.
 * - `number`: integer equality.
 * - `date`: ISO-8601 text; a value matches as a prefix (`2017-06-23`) or a wildcard.
 */
export type FieldKind = 'hash' | 'keyword' | 'text' | 'result' | 'number' | 'date';

/**
 * Where a field's value comes from. In a process search: the process row, or
 * the binary behind process_md5 (the join). In a binary search every field is
 * read from the binary's record itself.
 */
export type FieldSource = 'process' | 'binary';

export interface FieldSpec {
  kind: FieldKind;
  source: FieldSource;
  /** The process-row property (for `process` fields) this field reads. */
  rowKey?: string;
}

/** Which fields a search knows. */
export type FieldTable = Readonly<Record<string, FieldSpec>>;

export const FIELDS = {
  process_md5: { kind: 'hash', source: 'process', rowKey: 'process_md5' },
  // In a process search `md5` means the process binary's md5, like process_md5.
  md5: { kind: 'hash', source: 'process', rowKey: 'process_md5' },
  parent_md5: { kind: 'hash', source: 'process', rowKey: 'parent_md5' },
  process_name: { kind: 'keyword', source: 'process', rowKey: 'process_name' },
  hostname: { kind: 'keyword', source: 'process', rowKey: 'hostname' },
  username: { kind: 'keyword', source: 'process', rowKey: 'username' },
  path: { kind: 'keyword', source: 'process', rowKey: 'path' },
  parent_name: { kind: 'keyword', source: 'process', rowKey: 'parent_name' },
  group: { kind: 'keyword', source: 'process', rowKey: 'group' },
  os_type: { kind: 'keyword', source: 'process', rowKey: 'os_type' },
  host_type: { kind: 'keyword', source: 'process', rowKey: 'host_type' },
  cmdline: { kind: 'text', source: 'process', rowKey: 'cmdline' },
  sensor_id: { kind: 'number', source: 'process', rowKey: 'sensor_id' },
  process_pid: { kind: 'number', source: 'process', rowKey: 'process_pid' },
  parent_pid: { kind: 'number', source: 'process', rowKey: 'parent_pid' },
  start: { kind: 'date', source: 'process', rowKey: 'start' },
  last_update: { kind: 'date', source: 'process', rowKey: 'last_update' },
  digsig_publisher: { kind: 'text', source: 'binary' },
  digsig_issuer: { kind: 'text', source: 'binary' },
  digsig_subject: { kind: 'text', source: 'binary' },
  digsig_prog_name: { kind: 'text', source: 'binary' },
  digsig_result: { kind: 'result', source: 'binary' },
  digsig_sign_time: { kind: 'date', source: 'binary' },
} as const satisfies Record<string, FieldSpec>;

/**
 * The binary search (`/api/v1/binary`): fields of the record. `md5` is the
 * binary's own md5; the digsig_* fields match exactly as in a process search,
 * but on the record directly, without a join. Process-row fields
 * (process_name, hostname, ...) are unknown here.
 */
export const BINARY_FIELDS = {
  md5: { kind: 'hash', source: 'binary' },
  digsig_publisher: { kind: 'text', source: 'binary' },
  digsig_issuer: { kind: 'text', source: 'binary' },
  digsig_subject: { kind: 'text', source: 'binary' },
  digsig_prog_name: { kind: 'text', source: 'binary' },
  digsig_result: { kind: 'result', source: 'binary' },
  digsig_sign_time: { kind: 'date', source: 'binary' },
  original_filename: { kind: 'keyword', source: 'binary' },
  internal_name: { kind: 'keyword', source: 'binary' },
  company_name: { kind: 'text', source: 'binary' },
  product_name: { kind: 'text', source: 'binary' },
  file_desc: { kind: 'text', source: 'binary' },
  os_type: { kind: 'keyword', source: 'binary' },
  host_count: { kind: 'number', source: 'binary' },
} as const satisfies Record<string, FieldSpec>;

export type ProcessFieldName = keyof typeof FIELDS;
export type BinaryFieldName = keyof typeof BINARY_FIELDS;
export type FieldName = ProcessFieldName | BinaryFieldName;

/** Whether `name` is a field of `table` (the process search's by default). */
export function isKnownField(name: string, table: FieldTable = FIELDS): name is FieldName {
  return Object.hasOwn(table, name);
}
