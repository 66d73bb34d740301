/**
 * The Carbon Black Cloud vocabulary the simulator's rows use: signature
 * states and reputations. Every state a row carries is one of these nine,
 * prefixed FILE_SIGNATURE_STATE_ (as the SDK's fixtures and the documented
 * query `process_publisher_state:FILE_SIGNATURE_STATE_SIGNED` spell them).
 */

export const STATE_PREFIX = 'FILE_SIGNATURE_STATE_';

export const PUBLISHER_STATES = [
  'FILE_SIGNATURE_STATE_INVALID',
  'FILE_SIGNATURE_STATE_SIGNED',
  'FILE_SIGNATURE_STATE_VERIFIED',
  'FILE_SIGNATURE_STATE_NOT_SIGNED',
  'FILE_SIGNATURE_STATE_UNKNOWN',
  'FILE_SIGNATURE_STATE_CHAINED',
  'FILE_SIGNATURE_STATE_TRUSTED',
  'FILE_SIGNATURE_STATE_OS',
  'FILE_SIGNATURE_STATE_CATALOG_SIGNED',
] as const;

export type PublisherState = (typeof PUBLISHER_STATES)[number];

/** The state without its prefix, as the fixtures are written ('SIGNED', 'OS', ...). */
export type StateName = PublisherState extends `${typeof STATE_PREFIX}${infer Name}` ? Name : never;

const STATE_SET: ReadonlySet<string> = new Set(PUBLISHER_STATES);

export function isPublisherState(value: string): value is PublisherState {
  return STATE_SET.has(value);
}

/**
 * The full state list of a row, from short names. Lists come out in
 * alphabetical order, the order of the recorded OS binary's list
 * (OS, SIGNED, TRUSTED, VERIFIED); duplicates are a mistake in the data.
 */
export function states(...names: StateName[]): readonly PublisherState[] {
  const full = names.map((name) => `${STATE_PREFIX}${name}` as PublisherState);
  if (new Set(full).size !== full.length) throw new Error(`duplicate signature state in ${names.join(', ')}`);
  return Object.freeze([...full].sort());
}

/** Reputation values seen in process rows (process_reputation, process_effective_reputation). */
export const REPUTATIONS = [
  'TRUSTED_WHITE_LIST',
  'COMMON_WHITE_LIST',
  'ADAPTIVE_WHITE_LIST',
  'LOCAL_WHITE',
  'NOT_LISTED',
  'SUSPECT_MALWARE',
  'KNOWN_MALWARE',
  'PUP',
] as const;

export type Reputation = (typeof REPUTATIONS)[number];
