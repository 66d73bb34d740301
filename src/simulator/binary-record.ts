import type { BinaryFieldName } from './fields.js';
import type { BinaryEntry, DigsigResult } from './records.js';

/**
 * A binary's record, as `/api/v1/binary/<md5>/summary` and each row of a
 * binary search show it. The quirks are the real server's (see
 * carbon-black-api.md, "Binary records"):
 * - `md5` is upper case (process rows carry it lower case);
 * - `signed` repeats `digsig_result`; `digsig_result_code` is a string;
 * - digsig_publisher, digsig_issuer, digsig_subject, digsig_prog_name and
 *   digsig_sign_time are there only when the signature carries them: an
 *   unsigned record has none of them, and no key is ever null or empty;
 * - the version-resource keys (original_filename, company_name, ...) are there
 *   only when the file has one, except file_desc, which reads `(unknown)`.
 */

/** The cb_version of records the simulated server (7.7.0) adds. */
export const RECORD_CB_VERSION = 770;

// HRESULTs Windows reports for each verdict, as digsig_result_code strings.
export const RESULT_CODES: Readonly<Record<DigsigResult, string>> = {
  Signed: '0',
  Unsigned: '2148204800', // TRUST_E_NOSIGNATURE
  Expired: '2148204801', // CERT_E_EXPIRED
  'Bad Signature': '2148098064', // TRUST_E_BAD_DIGEST
  'Invalid Signature': '2148204812', // TRUST_E_CERT_SIGNATURE
  'Invalid Chain': '2148204810', // CERT_E_CHAINING
  'Untrusted Root': '2148204809', // CERT_E_UNTRUSTEDROOT
  'Explicit Distrust': '2148204817', // TRUST_E_EXPLICIT_DISTRUST
  '(Unknown)': '2148204547', // TRUST_E_SUBJECT_FORM_UNKNOWN
};

/** The server keeps at most this much of a binary's file (copied_mod_len). */
const MAX_COPIED_BYTES = 25 * 1024 * 1024;
const EVENT_PARTITION_ID = 98_566_909_329_408;

export interface BinaryRecord {
  md5: string;
  original_filename?: string;
  internal_name?: string;
  company_name?: string;
  product_name?: string;
  file_version?: string;
  product_version?: string;
  file_desc: string;
  legal_copyright?: string;
  digsig_result: DigsigResult;
  signed: DigsigResult;
  digsig_result_code: string;
  digsig_publisher?: string;
  digsig_issuer?: string;
  digsig_subject?: string;
  digsig_prog_name?: string;
  digsig_sign_time?: string;
  observed_filename: string[];
  host_count: number;
  os_type: string;
  is_executable_image: boolean;
  is_64bit: boolean;
  orig_mod_len: number;
  copied_mod_len: number;
  server_added_timestamp: string;
  timestamp: string;
  last_seen: string;
  group: string[];
  endpoint: string[];
  event_partition_id: number[];
  watchlists: unknown[];
  cb_version: number;
  facet_id: number;
}

const OS_TYPES: Readonly<Record<string, string>> = { windows: 'Windows', osx: 'OSX', linux: 'Linux' };

function recordOsType(binary: BinaryEntry): string {
  const raw = String(binary.processes[0]?.processField('os_type') ?? 'windows');
  return OS_TYPES[raw.toLowerCase()] ?? raw;
}

function distinct(values: Iterable<unknown>): string[] {
  return [...new Set([...values].map(String))];
}

function hostCount(binary: BinaryEntry): number {
  return new Set(binary.processes.map((p) => p.processField('hostname'))).size;
}

/** The record of one binary, with exactly the keys the real server sends (optional ones only when known). */
export function buildBinaryRecord(binary: BinaryEntry): BinaryRecord {
  const { signing, file, processes } = binary;
  const optional = <K extends string, V>(key: K, value: V | undefined): Partial<Record<K, V>> =>
    value === undefined || value === '' ? {} : ({ [key]: value } as Record<K, V>);
  const firstSeen = new Date(binary.firstSeenMs).toISOString();
  return {
    md5: binary.md5.toUpperCase(),
    ...optional('original_filename', file.originalFilename),
    ...optional('internal_name', file.internalName),
    ...optional('company_name', file.companyName),
    ...optional('product_name', file.productName),
    ...optional('file_version', file.fileVersion),
    ...optional('product_version', file.productVersion),
    file_desc: file.fileDesc ?? '(unknown)',
    ...optional('legal_copyright', file.legalCopyright),
    digsig_result: signing.result,
    signed: signing.result,
    digsig_result_code: RESULT_CODES[signing.result],
    ...optional('digsig_publisher', signing.publisher),
    ...optional('digsig_issuer', signing.issuer),
    ...optional('digsig_subject', signing.subject),
    ...optional('digsig_prog_name', signing.progName),
    ...optional('digsig_sign_time', signing.signTime),
    observed_filename: distinct(processes.map((p) => p.processField('path'))),
    host_count: hostCount(binary),
    os_type: recordOsType(binary),
    is_executable_image: file.isExecutableImage,
    is_64bit: file.is64bit,
    orig_mod_len: file.size,
    copied_mod_len: Math.min(file.size, MAX_COPIED_BYTES),
    server_added_timestamp: firstSeen,
    timestamp: firstSeen,
    last_seen: new Date(binary.lastSeenMs).toISOString(),
    group: distinct(processes.map((p) => p.processField('group'))),
    endpoint: distinct(processes.map((p) => `${String(p.processField('hostname'))}|${String(p.processField('sensor_id'))}`)),
    event_partition_id: [EVENT_PARTITION_ID],
    watchlists: [],
    cb_version: RECORD_CB_VERSION,
    facet_id: Number.parseInt(binary.md5.slice(0, 6), 16),
  };
}

/** A binary-search field's value for one binary, as the query language sees it (undefined: the record lacks the key). */
export function binaryFieldValue(binary: BinaryEntry, field: BinaryFieldName): string | number | undefined {
  switch (field) {
    case 'md5':
      return binary.md5;
    case 'digsig_publisher':
      return binary.signing.publisher;
    case 'digsig_issuer':
      return binary.signing.issuer;
    case 'digsig_subject':
      return binary.signing.subject;
    case 'digsig_prog_name':
      return binary.signing.progName;
    case 'digsig_result':
      return binary.signing.result;
    case 'digsig_sign_time':
      return binary.signing.signTime;
    case 'original_filename':
      return binary.file.originalFilename;
    case 'internal_name':
      return binary.file.internalName;
    case 'company_name':
      return binary.file.companyName;
    case 'product_name':
      return binary.file.productName;
    case 'file_desc':
      return binary.file.fileDesc ?? '(unknown)';
    case 'os_type':
      return recordOsType(binary);
    case 'host_count':
      return hostCount(binary);
  }
}
