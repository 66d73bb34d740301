import type { DatasetBinary } from './dataset.js';
import { states, type PublisherState } from './states.js';

/**
 * Process rows as Carbon Black Cloud's process search returns them, shaped
 * after the official SDK's recorded results: lists where Cloud has lists
 * (process_hash, process_pid, process_cmdline, process_username,
 * process_publisher, process_publisher_state), keys in alphabetical order,
 * and keys that a row has no value for left out rather than null.
 *
 * Two quirks on purpose: process_hash holds the sha256 and the md5 in an
 * order that varies from row to row (the recordings show both orders), and
 * an unsigned row may have no process_publisher key at all or an empty list.
 *
 * Everything in a row derives from the binary, the row index and the
 * simulator's org key and anchor time, so the same row always reads the same.
 */

export type RowValue = string | number | boolean | readonly string[] | readonly number[];
export type CloudRow = Record<string, RowValue>;

export interface RowContext {
  orgKey: string;
  /** The instant rows are dated back from (the simulator's start, whole seconds). */
  anchorMs: number;
}

/** Every field a row can carry, alphabetically. */
export const ALL_FIELDS = [
  'backend_timestamp',
  'childproc_count',
  'crossproc_count',
  'device_external_ip',
  'device_group_id',
  'device_id',
  'device_internal_ip',
  'device_location',
  'device_name',
  'device_os',
  'device_os_version',
  'device_policy',
  'device_policy_id',
  'device_target_priority',
  'device_timestamp',
  'document_guid',
  'enriched',
  'enriched_event_type',
  'event_type',
  'filemod_count',
  'ingress_time',
  'legacy',
  'modload_count',
  'netconn_count',
  'org_id',
  'parent_effective_reputation',
  'parent_guid',
  'parent_hash',
  'parent_name',
  'parent_pid',
  'parent_publisher_state',
  'parent_reputation',
  'process_cmdline',
  'process_cmdline_length',
  'process_effective_reputation',
  'process_guid',
  'process_hash',
  'process_name',
  'process_pid',
  'process_publisher',
  'process_publisher_state',
  'process_reputation',
  'process_sha256',
  'process_start_time',
  'process_terminated',
  'process_username',
  'regmod_count',
  'scriptload_count',
] as const;

export type RowField = (typeof ALL_FIELDS)[number];

/**
 * The fields the SDK's recorded process search results do not carry: a job
 * that names no fields, or only "*", gets every other one (DEFAULT_FIELDS).
 * Note process_sha256, process_publisher and process_publisher_state among
 * them: a lookup must ask for those.
 */
const NAMED_ONLY: ReadonlySet<RowField> = new Set<RowField>([
  'device_location',
  'device_os_version',
  'device_policy',
  'device_target_priority',
  'document_guid',
  'parent_effective_reputation',
  'parent_publisher_state',
  'parent_reputation',
  'process_cmdline_length',
  'process_publisher',
  'process_publisher_state',
  'process_sha256',
  'process_start_time',
  'process_terminated',
]);

/** What a row carries when the job did not name its fields, or named only "*": the recorded key set, alphabetically. */
export const DEFAULT_FIELDS: readonly RowField[] = ALL_FIELDS.filter((field) => !NAMED_ONLY.has(field));

/** The fields a job may not sort on: the lists (several values per row) and the three flags. */
const UNSORTABLE: ReadonlySet<RowField> = new Set<RowField>([
  'enriched',
  'enriched_event_type',
  'event_type',
  'legacy',
  'parent_hash',
  'parent_publisher_state',
  'process_cmdline',
  'process_cmdline_length',
  'process_hash',
  'process_pid',
  'process_publisher',
  'process_publisher_state',
  'process_terminated',
  'process_username',
]);

/** Fields a job may sort on: every other one. */
export const SORTABLE_FIELDS: ReadonlySet<string> = new Set<string>(ALL_FIELDS.filter((field) => !UNSORTABLE.has(field)));

/** A 32-bit mix of a number, to spread row attributes (not a hash anyone depends on). */
function spread(value: number): number {
  let h = (value ^ 0x9e3779b9) >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return (h ^ (h >>> 16)) >>> 0;
}

/** When the backend received row k of a binary (see DatasetBinary's newestAgeSeconds and spacingSeconds). */
export function backendMs(binary: DatasetBinary, k: number, anchorMs: number): number {
  return anchorMs - (binary.newestAgeSeconds + k * binary.spacingSeconds) * 1000;
}

/** device_timestamp: the sensor saw the process this long before the backend got it. */
const DEVICE_LAG_MS = 150_000;

export function deviceMs(binary: DatasetBinary, k: number, anchorMs: number): number {
  return backendMs(binary, k, anchorMs) - DEVICE_LAG_MS;
}

interface Device {
  id: number;
  name: string;
  os: 'WINDOWS' | 'LINUX';
  osVersion: string;
  internalIp: string;
  externalIp: string;
  policyId: number;
  policy: string;
}

function deviceFor(binary: DatasetBinary, k: number): Device {
  // Fixture rows spread over 500 devices (the popular fixture's 2,500 rows land on each 5 times); population rows over 1,000.
  const n = binary.populationIndex === undefined ? (binary.serial * 37 + k) % 500 : (spread(binary.populationIndex) + k * 131) % 1000;
  const linux = binary.os === 'LINUX';
  const id = (linux ? 5_200_000 : 4_100_000) + n;
  return {
    id,
    name: linux ? `lnx-srv-${String(n).padStart(4, '0')}` : `desktop-${String(n).padStart(4, '0')}`,
    os: binary.os,
    osVersion: linux ? 'CentOS 7.6-1810' : 'Windows 10 x64',
    internalIp: `10.${20 + (n >>> 8)}.${n & 255}.${10 + (n % 200)}`,
    // TEST-NET-3, the documentation range: never a real address.
    externalIp: `203.0.113.${1 + (n % 250)}`,
    policyId: linux ? 11_200 : 6_525 + (n % 3),
    policy: linux ? 'linux-servers' : (['default', 'workstations', 'developers'][n % 3] as string),
  };
}

interface Parent {
  name: string;
  hash: readonly [string, string];
  states: readonly PublisherState[];
  reputation: string;
  pid: number;
}

const OS_STATES = states('OS', 'SIGNED', 'TRUSTED', 'VERIFIED');
const PARENTS = {
  // services.exe's and systemd's hashes as recorded in the SDK's fixtures; explorer.exe's are made up.
  services: {
    name: 'c:\\windows\\system32\\services.exe',
    hash: ['9090e0e44e14709fb09b23b98572e0e61c810189e2de8f7156021bc81c3b1bb6', 'bccc12eb2ef644e662a63a023fb83f9b'],
    states: OS_STATES,
    reputation: 'TRUSTED_WHITE_LIST',
    pid: 644,
  },
  explorer: {
    name: 'c:\\windows\\explorer.exe',
    hash: ['58fb452d6fe77480f6e3509c45f1377da596adb846e69f48dea51582e998dc8f', 'c1f7ab49a217999f5287befffe99c197'],
    states: OS_STATES,
    reputation: 'TRUSTED_WHITE_LIST',
    pid: 4312,
  },
  systemd: {
    name: '/usr/lib/systemd/systemd',
    hash: ['81b37dcb0321108e564d528df827580153ab64005be3bcafd5162e9e7e707e85', 'e4b9902024ac32b3ca37f6b4c9b841e8'],
    states: states('NOT_SIGNED'),
    reputation: 'NOT_LISTED',
    pid: 1,
  },
} as const satisfies Record<string, Parent>;

function parentFor(binary: DatasetBinary): Parent {
  if (binary.os === 'LINUX') return PARENTS.systemd;
  return binary.name.startsWith('c:\\windows\\') ? PARENTS.services : PARENTS.explorer;
}

const hex = (value: number, width: number): string => value.toString(16).padStart(width, '0');
const iso = (ms: number): string => new Date(ms).toISOString();

/** Row k of a binary, every field it has, keys in alphabetical order. */
export function renderRow(binary: DatasetBinary, k: number, context: RowContext): CloudRow {
  const ref = binary.rowRef(k);
  const seed = spread(ref);
  const device = deviceFor(binary, k);
  const parent = parentFor(binary);
  const facts = binary.facts(k);
  const backend = backendMs(binary, k, context.anchorMs);
  const deviceTime = backend - DEVICE_LAG_MS;
  const start = deviceTime - 60_000 - (seed % 3_600) * 1000;
  const pid = 1_000 + (seed % 60_000);
  const windowsSystem = binary.name.startsWith('c:\\windows\\');
  const cmdline = binary.os === 'LINUX' ? `${binary.name} -c 'run ${k}'` : `"${binary.name}" --instance ${k}`;
  // org-device-pid-segment-tail, like Cloud's guids; the tail carries the ref (or the device, for the parent) so guids never repeat.
  const guid = (pidValue: number, tail: number): string =>
    `${context.orgKey}-${hex(device.id, 8)}-${hex(pidValue, 8)}-00000000-1d${hex(tail, 13)}`;

  const row: CloudRow = {
    backend_timestamp: iso(backend),
    childproc_count: seed % 4,
    crossproc_count: (seed >>> 4) % 50,
    device_external_ip: device.externalIp,
    device_group_id: 0,
    device_id: device.id,
    device_internal_ip: device.internalIp,
    device_location: device.os === 'LINUX' ? 'ONSITE' : 'UNKNOWN',
    device_name: device.name,
    device_os: device.os,
    device_os_version: device.osVersion,
    device_policy: device.policy,
    device_policy_id: device.policyId,
    device_target_priority: 'MEDIUM',
    device_timestamp: iso(deviceTime),
    document_guid: `${hex(seed, 8)}-${hex(ref, 8)}`,
    enriched: true,
    enriched_event_type: ['CREATE_PROCESS'],
    event_type: ['childproc'],
    filemod_count: (seed >>> 8) % 30,
    ingress_time: backend - 2_000,
    legacy: true,
    modload_count: 5 + ((seed >>> 12) % 60),
    netconn_count: (seed >>> 16) % 6,
    org_id: context.orgKey,
    parent_effective_reputation: parent.reputation,
    parent_guid: guid(parent.pid, device.id),
    parent_hash: [...parent.hash],
    parent_name: parent.name,
    parent_pid: parent.pid,
    parent_publisher_state: [...parent.states],
    parent_reputation: parent.reputation,
    process_cmdline: [cmdline],
    process_cmdline_length: [cmdline.length],
    process_effective_reputation: binary.reputation,
    process_guid: guid(pid, ref),
    // The recordings show both orders, so a client must not rely on either.
    process_hash: seed % 2 === 0 ? [binary.sha256, binary.md5] : [binary.md5, binary.sha256],
    process_name: binary.name,
    process_pid: [pid],
    ...(facts.publisher === undefined ? {} : { process_publisher: [...facts.publisher] }),
    process_publisher_state: [...facts.states],
    process_reputation: binary.reputation,
    process_sha256: binary.sha256,
    process_start_time: iso(start),
    process_terminated: seed % 3 !== 0,
    process_username: [binary.os === 'LINUX' ? 'root' : windowsSystem ? 'NT AUTHORITY\\SYSTEM' : `CORP\\user${device.id % 1000}`],
    regmod_count: (seed >>> 20) % 9,
    scriptload_count: 0,
  };
  return row;
}

/** Which fields a job's rows carry: its `fields` as Cloud reads them. */
export type FieldSelection = readonly string[];

/**
 * No `fields`, or `["*"]`: the default set. `"*"` with names: the default
 * set plus those. Names without `"*"`: exactly those. A named field the row
 * has no value for (or that the simulator does not know) is simply absent.
 */
export function selectFields(requested: readonly string[] | undefined): FieldSelection {
  if (requested === undefined) return DEFAULT_FIELDS;
  const named = requested.filter((field) => field !== '*');
  const chosen = new Set<string>(requested.includes('*') ? [...DEFAULT_FIELDS, ...named] : named);
  return ALL_FIELDS.filter((field) => chosen.has(field));
}

/** The row with only the selected fields, in the row's key order. */
export function pickFields(row: CloudRow, selection: FieldSelection): CloudRow {
  const picked: CloudRow = {};
  for (const field of selection) {
    const value = row[field];
    if (value !== undefined) picked[field] = value;
  }
  return picked;
}
