/**
 * The query fields the simulator understands and how each one matches. The
 * parser rejects any other field (a real server answers query_syntax_error),
 * which is how a client that misspells a field gets caught.
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

/** Where a field's value comes from: the process row, or the binary behind process_md5 (the join). */
export type FieldSource = 'process' | 'binary';

export interface FieldSpec {
  kind: FieldKind;
  source: FieldSource;
  /** The process-row property (for `process` fields) this field reads. */
  rowKey?: string;
}

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

export type FieldName = keyof typeof FIELDS;

export function isKnownField(name: string): name is FieldName {
  return Object.hasOwn(FIELDS, name);
}
