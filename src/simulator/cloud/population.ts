import { indexOfHead, saltedHex, saltedMix } from '../hash-mix.js';
import type { SignatureFacts } from './fixtures.js';
import { states, type PublisherState, type Reputation } from './states.js';

/**
 * The Cloud simulator's generated population: binary i, for i from 0 to
 * `population` - 1, derived from i alone by `cloudPopulationEntry(i)`, a pure
 * function a soak or a benchmark can call to know the ground truth without
 * asking the simulator. Nothing is stored: both hashes are invertible
 * functions of i, so a lookup by md5 or sha256 decodes i in O(1), and a
 * population of millions costs no start-up time or memory.
 *
 * Hashes (../hash-mix.ts, the EDR population's construction): the first 8
 * hex digits are a 32-bit bijective mix of i with a salt; the rest are
 * further mixes of those 8 with other salts, acting as a checksum. The salts
 * differ from the EDR population's (../population.ts), and an EDR md5 and a
 * Cloud md5 can never be equal: with the same first word their second words
 * are mixes of that word with different salts (its CHECK_SALTS[0], our
 * MD5_CHECK_SALTS[0]; keep those two different), and the mix is a bijection.
 *
 * Binary i runs in 1 to 8 process rows (`rowCount`); all rows of a
 * population binary carry the same signature facts.
 */

export const MAX_CLOUD_POPULATION = 20_000_000;
/** The most process rows a population binary has (the data set encodes rows of binary i as i * 8 + k). */
export const MAX_POPULATION_ROWS = 8;

const MD5_SALT = 0x2c1b3c6d;
const MD5_CHECK_SALTS = [0x1b873593, 0xcc9e2d51, 0xe6546b64] as const;
const SHA256_SALT = 0x6b43a9b5;
const SHA256_CHECK_SALTS = [0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19, 0x428a2f98, 0x71374491, 0xb5c0fbcf] as const;
// An unseen hash uses this salt for its last word instead, so it never passes the check.
const UNSEEN_SALT = 0xe9b5dba5;

export function cloudPopulationMd5(i: number): string {
  return saltedHex(i, MD5_SALT, MD5_CHECK_SALTS);
}

export function cloudPopulationSha256(i: number): string {
  return saltedHex(i, SHA256_SALT, SHA256_CHECK_SALTS);
}

/** The index whose md5 or sha256 this is (any case), or -1; ignores the population size. */
export function cloudPopulationIndexOf(hash: string): number {
  const lower = hash.toLowerCase();
  let salt: number;
  let encode: (i: number) => string;
  if (/^[0-9a-f]{32}$/u.test(lower)) [salt, encode] = [MD5_SALT, cloudPopulationMd5];
  else if (/^[0-9a-f]{64}$/u.test(lower)) [salt, encode] = [SHA256_SALT, cloudPopulationSha256];
  else return -1;
  const i = indexOfHead(lower, salt);
  return i < MAX_CLOUD_POPULATION && encode(i) === lower ? i : -1;
}

/** An md5 and a sha256 in the population's shape that no binary has (distinct for each i). */
export function cloudUnseenHashes(i: number): { md5: string; sha256: string } {
  return {
    md5: saltedHex(i, MD5_SALT, [...MD5_CHECK_SALTS.slice(0, -1), UNSEEN_SALT]),
    sha256: saltedHex(i, SHA256_SALT, [...SHA256_CHECK_SALTS.slice(0, -1), UNSEEN_SALT]),
  };
}

export type PopulationKind =
  | 'os'
  | 'signed-verified'
  | 'signed-verified-chained-trusted'
  | 'catalog-signed'
  | 'signed-unverified'
  | 'signed-chained-unverified'
  | 'signed-invalid'
  | 'invalid'
  | 'not-signed'
  | 'unknown'
  | 'empty'
  | 'trusted-only';

interface Band {
  kind: PopulationKind;
  states: readonly PublisherState[];
  perMille: number;
  /** Who signed it: Microsoft Windows, a vendor drawn per binary, or nobody (no publisher, or an empty list for some). */
  publisher: 'windows' | 'vendor' | 'none';
  reputations: readonly Reputation[];
}

/**
 * The kinds of binary and their shares, per mille, in this order (the first
 * band takes draws 0-299, and so on). Roughly what an enterprise fleet shows:
 * mostly OS and signed third-party software, a sizeable unsigned share, and
 * a little of every odd state.
 */
export const CLOUD_POPULATION_SHARES: readonly Band[] = [
  {
    kind: 'os',
    states: states('OS', 'SIGNED', 'TRUSTED', 'VERIFIED'),
    perMille: 300,
    publisher: 'windows',
    reputations: ['TRUSTED_WHITE_LIST'],
  },
  {
    kind: 'signed-verified',
    states: states('SIGNED', 'VERIFIED'),
    perMille: 280,
    publisher: 'vendor',
    reputations: ['COMMON_WHITE_LIST', 'ADAPTIVE_WHITE_LIST'],
  },
  {
    kind: 'signed-verified-chained-trusted',
    states: states('CHAINED', 'SIGNED', 'TRUSTED', 'VERIFIED'),
    perMille: 100,
    publisher: 'vendor',
    reputations: ['COMMON_WHITE_LIST'],
  },
  {
    kind: 'catalog-signed',
    states: states('CATALOG_SIGNED', 'OS', 'VERIFIED'),
    perMille: 50,
    publisher: 'windows',
    reputations: ['TRUSTED_WHITE_LIST'],
  },
  {
    kind: 'signed-unverified',
    states: states('SIGNED'),
    perMille: 30,
    publisher: 'vendor',
    reputations: ['NOT_LISTED', 'ADAPTIVE_WHITE_LIST'],
  },
  {
    kind: 'signed-chained-unverified',
    states: states('CHAINED', 'SIGNED'),
    perMille: 20,
    publisher: 'vendor',
    reputations: ['NOT_LISTED'],
  },
  {
    kind: 'signed-invalid',
    states: states('INVALID', 'SIGNED'),
    perMille: 10,
    publisher: 'vendor',
    reputations: ['NOT_LISTED', 'SUSPECT_MALWARE'],
  },
  { kind: 'invalid', states: states('INVALID'), perMille: 10, publisher: 'none', reputations: ['SUSPECT_MALWARE'] },
  {
    kind: 'not-signed',
    states: states('NOT_SIGNED'),
    perMille: 150,
    publisher: 'none',
    reputations: ['NOT_LISTED', 'NOT_LISTED', 'NOT_LISTED', 'PUP'],
  },
  { kind: 'unknown', states: states('UNKNOWN'), perMille: 25, publisher: 'none', reputations: ['NOT_LISTED'] },
  { kind: 'empty', states: states(), perMille: 15, publisher: 'none', reputations: ['NOT_LISTED'] },
  { kind: 'trusted-only', states: states('TRUSTED'), perMille: 10, publisher: 'none', reputations: ['LOCAL_WHITE'] },
];

const VENDORS = [
  'Microsoft Corporation',
  'Google LLC',
  'Adobe Inc.',
  'Oracle America, Inc.',
  'Mozilla Corporation',
  'Zoom Video Communications, Inc.',
  'Citrix Systems, Inc.',
  'Intel Corporation',
  'VMware, Inc.',
  'Dell Inc',
] as const;

const KIND_SALT = 0x3f84d5b5;
const DETAIL_SALT = 0x7fb5d329;
const ROWS_SALT = 0x24e3a0f1;

export interface CloudPopulationEntry extends SignatureFacts {
  index: number;
  md5: string;
  sha256: string;
  /** process_name: a full lower-case path; OS binaries under c:\windows\system32, others under a path with a space. */
  name: string;
  kind: PopulationKind;
  reputation: Reputation;
  /** How many process rows (1..MAX_POPULATION_ROWS) this binary has; all carry the same facts. */
  rowCount: number;
}

function bandOf(i: number): Band {
  const draw = saltedMix(i, KIND_SALT) % 1000;
  let threshold = 0;
  for (const band of CLOUD_POPULATION_SHARES) {
    threshold += band.perMille;
    if (draw < threshold) return band;
  }
  return CLOUD_POPULATION_SHARES[CLOUD_POPULATION_SHARES.length - 1] as Band;
}

/** 55% one row, 25% two, 12% three, 5% four, 3% five to eight. */
function rowCountOf(i: number): number {
  const draw = saltedMix(i, ROWS_SALT);
  const share = draw % 100;
  if (share < 55) return 1;
  if (share < 80) return 2;
  if (share < 92) return 3;
  if (share < 97) return 4;
  return 5 + ((draw >>> 8) % 4);
}

export function cloudPopulationName(i: number, kind: PopulationKind = bandOf(i).kind): string {
  return kind === 'os' || kind === 'catalog-signed'
    ? `c:\\windows\\system32\\cproc-${i}.exe`
    : `c:\\program files\\cloud population\\cproc-${i}.exe`;
}

const NAME_PATTERN = /^cproc-(0|[1-9]\d{0,8})\.exe$/u;

/** The index whose process_name (full path) or file name this is (any case), or -1; ignores the population size. */
export function cloudPopulationIndexOfName(name: string): number {
  const lower = name.toLowerCase();
  const file = lower.slice(lower.lastIndexOf('\\') + 1);
  const match = NAME_PATTERN.exec(file);
  if (match === null) return -1;
  const i = Number(match[1]);
  if (i >= MAX_CLOUD_POPULATION) return -1;
  return file === lower || cloudPopulationName(i) === lower ? i : -1;
}

/** Everything about binary i, computed from i alone. */
export function cloudPopulationEntry(i: number): CloudPopulationEntry {
  const band = bandOf(i);
  const detail = saltedMix(i, DETAIL_SALT);
  let publisher: readonly string[] | undefined;
  if (band.publisher === 'windows') publisher = ['Microsoft Windows'];
  else if (band.publisher === 'vendor') publisher = [VENDORS[detail % VENDORS.length] as string];
  // Unsigned binaries: mostly no publisher key at all, a quarter an empty list (both occur in the wild).
  else publisher = (detail >>> 8) % 4 === 0 ? [] : undefined;
  return {
    index: i,
    md5: cloudPopulationMd5(i),
    sha256: cloudPopulationSha256(i),
    name: cloudPopulationName(i, band.kind),
    kind: band.kind,
    states: band.states,
    publisher,
    reputation: band.reputations[(detail >>> 12) % band.reputations.length] as Reputation,
    rowCount: rowCountOf(i),
  };
}
